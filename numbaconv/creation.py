"""Tensor factories (torch.tensor, zeros, ones, full, empty, arange, rand, randn, *_like)."""
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


def rand(*shape, dtype=float32, device="cpu", requires_grad=False):
    """Uniform [0, 1) samples from the seeded generator (torch.rand)."""
    return _place(_random.generator().random(_shape(shape)).astype(dtype), device, requires_grad)


def randn(*shape, dtype=float32, device="cpu", requires_grad=False):
    """Standard normal samples from the seeded generator (torch.randn)."""
    return _place(_random.generator().standard_normal(_shape(shape)).astype(dtype), device, requires_grad)


def zeros_like(other, dtype=None, requires_grad=False):
    """Zeros with ``other``'s shape, dtype and device (torch.zeros_like)."""
    return zeros(other.shape, dtype=dtype or other.dtype, device=other.device, requires_grad=requires_grad)


def ones_like(other, dtype=None, requires_grad=False):
    """Ones with ``other``'s shape, dtype and device (torch.ones_like)."""
    return ones(other.shape, dtype=dtype or other.dtype, device=other.device, requires_grad=requires_grad)
