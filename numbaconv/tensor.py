"""Tensor: an array on a device plus what autograd needs (torch.Tensor)."""
import math

import numpy as np

from . import backends
from . import devices as _device

# torch's legacy type names (Tensor.type()), by numpy dtype
_TYPE_NAMES = {np.dtype(np.float32): "FloatTensor", np.dtype(np.float64): "DoubleTensor",
               np.dtype(np.float16): "HalfTensor", np.dtype(np.int64): "LongTensor", np.dtype(np.int32): "IntTensor",
               np.dtype(np.int16): "ShortTensor", np.dtype(np.int8): "CharTensor", np.dtype(np.uint8): "ByteTensor",
               np.dtype(np.bool_): "BoolTensor"}
_TYPES_BY_NAME = {f"torch.{name}": dtype for dtype, name in _TYPE_NAMES.items()}


class Size(tuple):
    """A tensor's shape: a tuple of ints that prints like torch's, ``torch.Size([2, 3])`` (torch.Size).

    ``str``/``repr``/``print`` give torch's text; ``format`` and f-strings give the plain tuple ``(2, 3)``, the
    form numbaconv's error messages quote (torch's f-strings show ``torch.Size([2, 3])`` there too).
    """

    def __repr__(self):
        return f"torch.Size({list(self)})"

    __str__ = __repr__

    def __format__(self, spec):
        return format(tuple(self), spec)

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def numel(self):
        """The product of the sizes (torch.Size.numel)."""
        return math.prod(self)


class Tensor:
    """An n-dimensional array with reverse-mode autodiff (torch.Tensor).

    Build one with ``nc.tensor(data)``; ``Tensor(array)`` wraps a backend array without copying (``.array``;
    ``.data`` is torch's, a Tensor sharing that memory). This file
    holds the data and metadata; each op module attaches its methods (``x.exp()``, ``x + y``, ``x.reshape``)
    and autograd.py attaches ``backward``.
    """

    __slots__ = ("array", "_requires_grad", "grad", "grad_fn", "_version", "__weakref__")
    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False, _version=None):
        if isinstance(data, Tensor):
            raise TypeError("Tensor(data): data must be a backend array, got a Tensor (use tensor.detach() to share "
                            "its memory, or nc.tensor(tensor) to copy it)")
        self.array = np.asarray(data) if isinstance(data, np.generic) else data
        self.grad = None
        self.grad_fn = None
        self._version = _version if _version is not None else [0]
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ---- metadata -------------------------------------------------------------------------------
    @property
    def shape(self):
        return Size(self.array.shape)

    @property
    def dtype(self):
        return np.dtype(self.array.dtype)

    @property
    def device(self):
        """The device holding the data, a ``numbaconv.device`` (a str subclass: 'cpu' or 'cuda')."""
        return _device.of(backends.device_of(self.array))

    @property
    def is_cuda(self):
        return backends.device_of(self.array) != backends.DEFAULT_DEVICE

    def is_floating_point(self):
        return self.dtype.kind == "f"

    def element_size(self):
        """Bytes per element (torch.Tensor.element_size)."""
        return self.dtype.itemsize

    @property
    def ndim(self):
        return len(self.array.shape)

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def T(self):
        return self.permute(*reversed(range(self.ndim)))

    def size(self, dim=None):
        """The shape as a Size, or the length of dim ``dim`` (torch.Tensor.size)."""
        return self.shape if dim is None else self.array.shape[dim]

    def numel(self):
        return math.prod(self.array.shape)

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
        return Tensor(self.array, _version=self._version)

    @property
    def data(self):
        """The same memory as a Tensor outside the graph whose writes autograd does not see (torch.Tensor.data:
        ``nn.init.normal_(m.weight.data)``); ``x.array`` is the backend array itself."""
        return Tensor(self.array)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data: expected a Tensor to take the memory of, got {type(value).__name__}")
        if value.device != self.device:
            raise RuntimeError(f"data: cannot assign a tensor on {value.device} to a tensor on {self.device}")
        self.array = value.array

    # ---- conversion -----------------------------------------------------------------------------
    def numpy(self):
        """A numpy array of the data (host copy for cuda tensors); refuses tensors that require grad."""
        if self.requires_grad:
            raise RuntimeError("numpy(): the tensor requires grad; call tensor.detach().numpy()")
        return self._host()

    def _host(self):
        return backends.to_host(self.array)

    def __array__(self, dtype=None, copy=None):
        array = self._host()
        return array if dtype is None else array.astype(dtype)

    def item(self):
        if self.numel() != 1:
            raise ValueError(f"item(): only one-element tensors can be converted, got shape {self.shape}")
        return self._host().reshape(()).item()

    def tolist(self):
        return self._host().tolist()

    def int(self):
        """Cast to int32 (torch.Tensor.int)."""
        return self.to(np.int32)

    def bool(self):
        """Cast to bool (torch.Tensor.bool)."""
        return self.to(np.bool_)

    def half(self):
        raise TypeError("half(): numbaconv has no float16 tensors (its kernels run float32 and float64); "
                        "use .float()")

    def type(self, dtype=None, non_blocking=False):
        """Without ``dtype`` the legacy type name ('torch.FloatTensor'); with one, a cast (torch.Tensor.type)."""
        if dtype is None:
            return f"torch.{_TYPE_NAMES.get(self.dtype, self.dtype.name)}"
        if isinstance(dtype, str):
            if dtype not in _TYPES_BY_NAME:
                raise ValueError(f"type(): unknown type name {dtype!r}; expected one of {sorted(_TYPES_BY_NAME)}")
            dtype = _TYPES_BY_NAME[dtype]
        return self.to(np.dtype(dtype))

    def type_as(self, other):
        """Cast to ``other``'s dtype (torch.Tensor.type_as)."""
        return self.to(other.dtype)

    def __format__(self, spec):
        """0-d tensors format like their number (f"{loss:6.2f}"); others only with an empty spec, as in torch."""
        if self.ndim == 0:
            return format(self.item(), spec)
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return str(self)

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


def wrap(array):
    """A Tensor around the array an op returned: ``Tensor(array)`` without its argument checks on the hot path."""
    if type(array) is not np.ndarray:
        return Tensor(array)
    tensor = object.__new__(Tensor)
    tensor.array = array
    tensor.grad = None
    tensor.grad_fn = None
    tensor._version = [0]
    tensor._requires_grad = False
    return tensor
