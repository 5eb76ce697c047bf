"""Tensor: an array on a device plus what autograd needs (torch.Tensor)."""
import numpy as np

from . import backends
from .grad_mode import is_grad_enabled


class Tensor:
    """An n-dimensional array with reverse-mode autodiff (torch.Tensor).

    Build one with ``nc.tensor(data)``; ``Tensor(array)`` wraps a backend array without copying. This file
    holds the data and metadata; each op module attaches its methods (``x.exp()``, ``x + y``, ``x.reshape``)
    and autograd.py attaches ``backward``.
    """

    __slots__ = ("data", "_requires_grad", "grad", "grad_fn", "_version", "__weakref__")
    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False, _version=None):
        self.data = np.asarray(data) if isinstance(data, np.generic) else data
        self.grad = None
        self.grad_fn = None
        self._version = _version if _version is not None else [0]
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ---- metadata -------------------------------------------------------------------------------
    @property
    def shape(self):
        return tuple(self.data.shape)

    @property
    def dtype(self):
        return np.dtype(self.data.dtype)

    @property
    def device(self):
        return backends.device_of(self.data)

    @property
    def ndim(self):
        return len(self.data.shape)

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def T(self):
        return self.permute(*reversed(range(self.ndim)))

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def numel(self):
        return int(np.prod(self.shape, dtype=np.int64))

    def dim(self):
        return self.ndim

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    # ---- autograd -------------------------------------------------------------------------------
    @property
    def requires_grad(self):
        """Whether autograd records ops on this tensor; only floating tensors may (torch.Tensor.requires_grad)."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, requires_grad):
        self.requires_grad_(requires_grad)

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.dtype.kind != "f":
            raise RuntimeError(f"only floating point tensors can require gradients, got dtype {self.dtype}")
        self._requires_grad = bool(requires_grad)
        return self

    def detach(self):
        """The same data, cut from the graph (shares memory, as torch.Tensor.detach)."""
        return Tensor(self.data, _version=self._version)

    def zero_(self):
        self._check_inplace("zero_")
        self.data[...] = 0
        self._version[0] += 1
        return self

    # ---- conversion -----------------------------------------------------------------------------
    def numpy(self):
        """A numpy array of the data (host copy for cuda tensors); refuses tensors that require grad."""
        if self.requires_grad:
            raise RuntimeError("numpy(): the tensor requires grad; call tensor.detach().numpy()")
        return self._host()

    def _host(self):
        return backends.to_host(self.data)

    def __array__(self, dtype=None, copy=None):
        array = self._host()
        return array if dtype is None else array.astype(dtype)

    def item(self):
        if self.numel() != 1:
            raise ValueError(f"item(): only one-element tensors can be converted, got shape {self.shape}")
        return self._host().reshape(()).item()

    def tolist(self):
        return self._host().tolist()

    def __repr__(self):
        body = np.array2string(self._host(), separator=", ", prefix="tensor(", precision=4, threshold=200)
        extras = []
        if self.device != backends.DEFAULT_DEVICE:
            extras.append(f"device='{self.device}'")
        if self.dtype != np.float32:
            extras.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError(f"the truth value of a tensor with shape {self.shape} is ambiguous")
        return bool(self.item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.kind not in "iu":
            raise TypeError(f"only integer tensors can be used as an index, got {self.dtype}")
        return int(self.item())

    __hash__ = object.__hash__

    # ---- in-place (refused where autograd needs the old value) -----------------------------------
    def _check_inplace(self, name):
        if self.requires_grad and is_grad_enabled():
            raise RuntimeError(
                f"{name}: in-place operation on a tensor that requires grad (shape {self.shape}); "
                "use an out-of-place op, or do it under nc.no_grad()"
            )

    def __setitem__(self, index, value):
        self._check_inplace("__setitem__")
        value = value.data if isinstance(value, Tensor) else value
        if isinstance(index, Tensor):
            index = index.data
        self.data[index] = value
        self._version[0] += 1
