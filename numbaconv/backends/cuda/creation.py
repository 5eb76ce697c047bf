"""Making CUDA arrays and moving data on and off the device (numpy.empty / full / arange / asarray, torch.Tensor.to)."""
import builtins
import math

import numpy as np

from . import elementwise as _ew
from .array import CudaArray, as_shape, scalar
from .launch import cuda, device_empty


def empty(shape, dtype=np.float64):
    shape = as_shape(shape)
    return CudaArray(device_empty((math.prod(shape),), dtype), shape)


def full(shape, fill_value, dtype=None):
    dtype = np.dtype(dtype) if dtype is not None else np.result_type(fill_value)
    out = empty(shape, dtype)
    _ew.fill(out.flat, scalar(fill_value, dtype))
    return out


def zeros(shape, dtype=np.float64):
    return full(shape, 0, dtype)


def ones(shape, dtype=np.float64):
    return full(shape, 1, dtype)


def arange(start, stop=None, step=1, dtype=None):
    if stop is None:
        start, stop = 0, start
    dtype = np.dtype(dtype) if dtype is not None else np.result_type(start, stop, step)
    out = empty((builtins.max(0, math.ceil((stop - start) / step)),), dtype)
    _ew.arange(out.flat, scalar(start, dtype), scalar(step, dtype))
    return out


def asarray(data, dtype=None):
    """Host data, a CudaArray or any ``__cuda_array_interface__`` object as a CudaArray (host data is copied)."""
    if isinstance(data, CudaArray):
        return data if dtype is None else astype(data, dtype)
    if hasattr(data, "__cuda_array_interface__"):
        device = cuda.as_cuda_array(data)
        if not device.is_c_contiguous():
            raise ValueError(f"asarray: only C-contiguous device arrays can be shared, got strides {device.strides}")
        array = CudaArray(device.reshape(math.prod(device.shape)), device.shape)
        return array if dtype is None else astype(array, dtype)
    host = np.asarray(data, dtype=dtype, order="C")  # not ascontiguousarray: it turns 0-d into shape (1,)
    return CudaArray(cuda.to_device(host.reshape(-1)), host.shape)


def as_operand(value):
    """A kernel operand: numpy arrays moved to the device (0-d ones as scalars), anything else as it is."""
    if isinstance(value, np.ndarray):
        return asarray(value) if value.ndim else value[()]
    return value


def to_host(array):
    """The array as a numpy array (one device-to-host copy)."""
    return array.copy_to_host()


def copy(array):
    out = empty(array.shape, array.dtype)
    if array.size:
        out.flat.copy_to_device(array.flat)
    return out


def astype(array, dtype):
    dtype = np.dtype(dtype)
    if dtype == array.dtype:
        return array
    out = empty(array.shape, dtype)
    _ew.gather(out.flat, array.flat, 0, (builtins.max(array.size, 1),), (1,))
    return out


def ascontiguousarray(array):
    return array
