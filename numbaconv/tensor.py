"""Tensor: an array on a device plus what autograd needs (torch.Tensor)."""
import numpy as np

from . import autograd as _autograd

_CUDA_NAMES = ("cuda", "cuda:0")


def normalize_device(device):
    """'cpu' or 'cuda' from what a user may write ("cuda:0", a Tensor's device)."""
    name = str(device)
    if name == "cpu":
        return "cpu"
    if name in _CUDA_NAMES:
        return "cuda"
    raise ValueError(f"unknown device {device!r}; expected 'cpu' or 'cuda'")


class Tensor:
    """An n-dimensional array with reverse-mode autodiff (torch.Tensor).

    Build one with ``nc.tensor(data)``; ``Tensor(array)`` wraps a backend array without copying.
    """

    __slots__ = ("data", "requires_grad", "grad", "grad_fn", "_version", "__weakref__")
    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False, _version=None):
        self.data = np.asarray(data) if isinstance(data, np.generic) else data
        self.grad = None
        self.grad_fn = None
        self._version = _version if _version is not None else [0]
        self.requires_grad = False
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
        return "cpu" if isinstance(self.data, np.ndarray) else "cuda"

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
    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.dtype.kind != "f":
            raise RuntimeError(f"only floating point tensors can require gradients, got dtype {self.dtype}")
        self.requires_grad = bool(requires_grad)
        return self

    def backward(self, gradient=None, retain_graph=False):
        """Accumulate gradients of this tensor into the leaves' ``.grad`` (torch.Tensor.backward)."""
        _autograd.backward(self, gradient, retain_graph)

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
        if self.device == "cpu":
            return self.data
        return self.data.copy_to_host()

    def __array__(self, dtype=None, copy=None):
        array = self._host()
        return array if dtype is None else array.astype(dtype)

    def item(self):
        if self.numel() != 1:
            raise ValueError(f"item(): only one-element tensors can be converted, got shape {self.shape}")
        return self._host().reshape(()).item()

    def tolist(self):
        return self._host().tolist()

    def to(self, target=None, dtype=None):
        """Move to a device and/or cast (torch.Tensor.to); differentiable."""
        from .ops import movement

        result = self
        if target is not None and not isinstance(target, str) and not isinstance(target, Tensor):
            dtype, target = target, None
        if isinstance(target, Tensor):
            target, dtype = target.device, target.dtype
        if dtype is not None and np.dtype(dtype) != self.dtype:
            result = movement.cast(result, np.dtype(dtype))
        if target is not None and normalize_device(target) != result.device:
            result = movement.to_device(result, normalize_device(target))
        return result

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def long(self):
        return self.to(np.int64)

    def clone(self):
        from .ops import movement

        return movement.clone(self)

    def contiguous(self):
        from .ops import movement

        return movement.contiguous(self)

    def __repr__(self):
        body = np.array2string(self._host(), separator=", ", prefix="tensor(", precision=4, threshold=200)
        extras = []
        if self.device != "cpu":
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
        if self.requires_grad and _autograd.is_grad_enabled():
            raise RuntimeError(
                f"{name}: in-place operation on a tensor that requires grad (shape {self.shape}); "
                "use an out-of-place op, or do it under nc.no_grad()"
            )

    def _inplace(self, name, op, other):
        self._check_inplace(name)
        result = op(self, other)
        if result.shape != self.shape:
            raise RuntimeError(f"{name}: result of shape {result.shape} cannot be written into shape {self.shape}")
        self.data[...] = result.data
        self._version[0] += 1
        return self

    def __iadd__(self, other):
        return self._inplace("__iadd__", _elementwise.add, other)

    def __isub__(self, other):
        return self._inplace("__isub__", _elementwise.sub, other)

    def __imul__(self, other):
        return self._inplace("__imul__", _elementwise.mul, other)

    def __itruediv__(self, other):
        return self._inplace("__itruediv__", _elementwise.div, other)

    def __setitem__(self, index, value):
        self._check_inplace("__setitem__")
        value = value.data if isinstance(value, Tensor) else value
        if isinstance(index, Tensor):
            index = index.data
        self.data[index] = value
        self._version[0] += 1

    # ---- arithmetic -----------------------------------------------------------------------------
    def __add__(self, other):
        return _elementwise.add(self, other)

    def __radd__(self, other):
        return _elementwise.add(other, self)

    def __sub__(self, other):
        return _elementwise.sub(self, other)

    def __rsub__(self, other):
        return _elementwise.sub(other, self)

    def __mul__(self, other):
        return _elementwise.mul(self, other)

    def __rmul__(self, other):
        return _elementwise.mul(other, self)

    def __truediv__(self, other):
        return _elementwise.div(self, other)

    def __rtruediv__(self, other):
        return _elementwise.div(other, self)

    def __pow__(self, other):
        return _elementwise.pow(self, other)

    def __rpow__(self, other):
        return _elementwise.pow(other, self)

    def __neg__(self):
        return _elementwise.neg(self)

    def __abs__(self):
        return _elementwise.abs(self)

    def __matmul__(self, other):
        return _matmul.matmul(self, other)

    def __rmatmul__(self, other):
        return _matmul.matmul(other, self)

    def __lt__(self, other):
        return _elementwise.compare("less", self, other)

    def __le__(self, other):
        return _elementwise.compare("less_equal", self, other)

    def __gt__(self, other):
        return _elementwise.compare("greater", self, other)

    def __ge__(self, other):
        return _elementwise.compare("greater_equal", self, other)

    def __eq__(self, other):
        return _elementwise.compare("equal", self, other)

    def __ne__(self, other):
        return _elementwise.compare("not_equal", self, other)

    def __getitem__(self, index):
        return _movement.getitem(self, index)

    # ---- methods mirroring the functional ops ---------------------------------------------------
    def exp(self):
        return _elementwise.exp(self)

    def log(self):
        return _elementwise.log(self)

    def sqrt(self):
        return _elementwise.sqrt(self)

    def tanh(self):
        return _elementwise.tanh(self)

    def sigmoid(self):
        return _elementwise.sigmoid(self)

    def relu(self):
        return _elementwise.relu(self)

    def abs(self):
        return _elementwise.abs(self)

    def clamp(self, min=None, max=None):
        return _elementwise.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        return _elementwise.maximum(self, other)

    def minimum(self, other):
        return _elementwise.minimum(self, other)

    def sum(self, dim=None, keepdim=False, axis=None):
        return _reduce.sum(self, dim if axis is None else axis, keepdim)

    def mean(self, dim=None, keepdim=False, axis=None):
        return _reduce.mean(self, dim if axis is None else axis, keepdim)

    def max(self, dim=None, keepdim=False, axis=None):
        return _reduce.max(self, dim if axis is None else axis, keepdim)

    def min(self, dim=None, keepdim=False, axis=None):
        return _reduce.min(self, dim if axis is None else axis, keepdim)

    def var(self, dim=None, keepdim=False, unbiased=True, axis=None):
        return _reduce.var(self, dim if axis is None else axis, keepdim, unbiased)

    def argmax(self, dim=None, keepdim=False):
        return _reduce.argmax(self, dim, keepdim)

    def logsumexp(self, dim, keepdim=False):
        return _softmax.logsumexp(self, dim, keepdim)

    def softmax(self, dim):
        return _softmax.softmax(self, dim)

    def log_softmax(self, dim):
        return _softmax.log_softmax(self, dim)

    def reshape(self, *shape):
        return _movement.reshape(self, *shape)

    def view(self, *shape):
        return _movement.reshape(self, *shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return _movement.flatten(self, start_dim, end_dim)

    def transpose(self, dim0, dim1):
        return _movement.transpose(self, dim0, dim1)

    def permute(self, *dims):
        return _movement.permute(self, *dims)

    def squeeze(self, dim=None):
        return _movement.squeeze(self, dim)

    def unsqueeze(self, dim):
        return _movement.unsqueeze(self, dim)

    def expand(self, *shape):
        return _movement.expand(self, *shape)

    def matmul(self, other):
        return _matmul.matmul(self, other)


from .ops import elementwise as _elementwise  # noqa: E402  (ops import this module)
from .ops import matmul as _matmul  # noqa: E402
from .ops import movement as _movement  # noqa: E402
from .ops import reduce as _reduce  # noqa: E402
from .ops import softmax as _softmax  # noqa: E402
