"""Tensor factories (torch.tensor, as_tensor, zeros, ones, full, empty, arange, linspace, eye, rand, randn, randint,
randperm, *_like) and the dtypes with torch's aliases (long, double, short)."""
import numpy as np

from . import backends
from . import random as _random
from .tensor import Tensor

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)
int16 = np.dtype(np.int16)
int8 = np.dtype(np.int8)
# torch's aliases; numbaconv/__init__.py also exports float32/int32/bool_ as numbaconv.float, .int and .bool
long, double, short = int64, float64, int16


def _place(array, device, requires_grad):
    return Tensor(backends.namespace(device).asarray(array), requires_grad=requires_grad)


def _default_dtype(array):
    return float32 if array.dtype.kind == "f" else array.dtype


def tensor(data, dtype=None, device="cpu", requires_grad=False):
    """A new tensor holding a copy of ``data``; python floats become float32 (torch.tensor)."""
    if isinstance(data, Tensor):
        data = np.array(data)
    elif isinstance(data, np.ndarray):
        return _place(np.array(data, dtype=dtype, order="C"), device, requires_grad)
    array = np.array(data)
    if array.dtype == object:
        raise TypeError(f"tensor: cannot build a tensor from {type(data).__name__} with ragged or mixed content")
    array = array.astype(dtype if dtype is not None else _default_dtype(array), copy=False)
    return _place(array, device, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing memory when it already is one (or a numpy array) of that dtype and device
    (torch.as_tensor)."""
    if isinstance(data, Tensor):
        result = data if dtype is None else data.to(np.dtype(dtype))
        return result if device is None else result.to(device)
    if isinstance(data, np.ndarray) and (device is None or backends.normalize(device) == backends.device_of(data)):
        return Tensor(data if dtype is None else data.astype(dtype, copy=False))
    return tensor(data, dtype=dtype, device=device or "cpu")


def from_numpy(array):
    """A tensor sharing memory with a numpy array (torch.from_numpy)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy ndarray, got {type(array).__name__}")
    return Tensor(array)


def _shape(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def zeros(*shape, dtype=float32, device="cpu", requires_grad=False):
    """Zeros of ``shape`` (torch.zeros)."""
    return _place(np.zeros(_shape(shape), dtype), device, requires_grad)


def ones(*shape, dtype=float32, device="cpu", requires_grad=False):
    """Ones of ``shape`` (torch.ones)."""
    return _place(np.ones(_shape(shape), dtype), device, requires_grad)


def full(shape, fill_value, dtype=float32, device="cpu", requires_grad=False):
    """``fill_value`` everywhere (torch.full)."""
    return _place(np.full(_shape((shape,)), fill_value, dtype), device, requires_grad)


def empty(*shape, dtype=float32, device="cpu", requires_grad=False):
    """Uninitialised memory of ``shape`` (torch.empty)."""
    return _place(np.empty(_shape(shape), dtype), device, requires_grad)


def arange(start, end=None, step=1, dtype=None, device="cpu", requires_grad=False):
    """Evenly spaced values in [start, end) (torch.arange); int64 for integer arguments."""
    if end is None:
        start, end = 0, start
    values = np.arange(start, end, step)
    return _place(values.astype(dtype if dtype is not None else _default_dtype(values)), device, requires_grad)


def linspace(start, end, steps, dtype=float32, device="cpu", requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (torch.linspace)."""
    return _place(np.linspace(start, end, steps).astype(dtype), device, requires_grad)


def eye(n, m=None, dtype=float32, device="cpu", requires_grad=False):
    """The identity matrix, n x m (torch.eye)."""
    return _place(np.eye(n, m, dtype=dtype), device, requires_grad)


def rand(*shape, generator=None, dtype=float32, device="cpu", requires_grad=False):
    """Uniform [0, 1) samples from ``generator`` or the seeded default one (torch.rand)."""
    rng = _random.numpy_generator(generator)
    return _place(rng.random(_shape(shape)).astype(dtype), device, requires_grad)


def randn(*shape, generator=None, dtype=float32, device="cpu", requires_grad=False):
    """Standard normal samples from ``generator`` or the seeded default one (torch.randn)."""
    rng = _random.numpy_generator(generator)
    return _place(rng.standard_normal(_shape(shape)).astype(dtype), device, requires_grad)


def randint(low, high=None, size=None, generator=None, dtype=int64, device="cpu"):
    """Integers uniform in [low, high) (torch.randint(low=0, high, size)); ``randint(high, size)`` too."""
    if size is None:
        low, high, size = 0, low, high
    if high is None or size is None:
        raise TypeError("randint: expected randint(high, size) or randint(low, high, size)")
    if high <= low:
        raise ValueError(f"randint: high must be > low, got low={low}, high={high}")
    rng = _random.numpy_generator(generator)
    return _place(rng.integers(low, high, _shape((size,))).astype(dtype), device, False)


def randperm(n, generator=None, dtype=int64, device="cpu"):
    """A random permutation of 0..n-1 (torch.randperm)."""
    return _place(_random.numpy_generator(generator).permutation(n).astype(dtype), device, False)


def zeros_like(other, dtype=None, requires_grad=False):
    """Zeros with ``other``'s shape, dtype and device (torch.zeros_like)."""
    return zeros(other.shape, dtype=dtype or other.dtype, device=other.device, requires_grad=requires_grad)


def ones_like(other, dtype=None, requires_grad=False):
    """Ones with ``other``'s shape, dtype and device (torch.ones_like)."""
    return ones(other.shape, dtype=dtype or other.dtype, device=other.device, requires_grad=requires_grad)


def full_like(other, fill_value, dtype=None, requires_grad=False):
    """``fill_value`` with ``other``'s shape, dtype and device (torch.full_like)."""
    return full(other.shape, fill_value, dtype=dtype or other.dtype, device=other.device, requires_grad=requires_grad)


def empty_like(other, dtype=None, requires_grad=False):
    """Uninitialised memory with ``other``'s shape, dtype and device (torch.empty_like)."""
    return empty(other.shape, dtype=dtype or other.dtype, device=other.device, requires_grad=requires_grad)


def rand_like(other, dtype=None, requires_grad=False):
    """Uniform [0, 1) samples with ``other``'s shape, dtype and device (torch.rand_like)."""
    return rand(other.shape, dtype=dtype or other.dtype, device=other.device, requires_grad=requires_grad)


def randn_like(other, dtype=None, requires_grad=False):
    """Standard normal samples with ``other``'s shape, dtype and device (torch.randn_like)."""
    return randn(other.shape, dtype=dtype or other.dtype, device=other.device, requires_grad=requires_grad)
