"""Reshaping and strided views of CUDA arrays (numpy.reshape / transpose / swapaxes / broadcast_to).

numpy parses every view on a stand-in array of one byte per element, so its strides and offset are element
counts; a view that is contiguous stays a zero-copy view, any other is copied by one strided gather.
"""
import math

import numpy as np

from . import elementwise as _ew
from .array import CudaArray, as_shape, at_least_1d, c_strides
from .creation import empty
from .launch import device_empty, keep_alive


def view_geometry(shape, view):
    """(shape, element strides, element offset) of ``view(a)`` for a C-contiguous array ``a`` of ``shape``."""
    fake = np.lib.stride_tricks.as_strided(np.zeros(1, np.uint8), shape=shape, strides=c_strides(shape))
    result = view(fake)
    offset = result.__array_interface__["data"][0] - fake.__array_interface__["data"][0]
    return result.shape, result.strides, offset


def strided_copy(array, shape, strides, offset):
    """A contiguous copy of the strided view (shape, strides, offset) of ``array``; a free view when possible."""
    size = math.prod(shape)
    if all(s == c or n == 1 for s, c, n in zip(strides, c_strides(shape), shape)):
        view = keep_alive(array.flat[offset : offset + size], array.flat) if size else device_empty((0,), array.dtype)
        return CudaArray(view, shape)
    out = empty(shape, array.dtype)
    if size:
        _ew.gather(out.flat, array.flat, offset, *at_least_1d(shape, strides))
    return out


def _view(array, view):
    return strided_copy(array, *view_geometry(array.shape, view))


def reshape(array, shape):
    shape = as_shape(shape)
    if shape.count(-1) == 1:
        known = math.prod(n for n in shape if n != -1)
        if known == 0 or array.size % known:
            raise ValueError(f"cannot reshape array of size {array.size} into shape {shape}")
        shape = tuple(array.size // known if n == -1 else n for n in shape)
    if math.prod(shape) != array.size or any(n < 0 for n in shape):
        raise ValueError(f"cannot reshape array of size {array.size} into shape {shape}")
    return CudaArray(array.flat, shape)


def transpose(array, axes=None):
    return _view(array, lambda fake: fake.transpose(axes))


def swapaxes(array, axis1, axis2):
    return _view(array, lambda fake: np.swapaxes(fake, axis1, axis2))


def broadcast_to(array, shape):
    shape = as_shape(shape)
    if tuple(array.shape) == shape:
        return array
    return _view(array, lambda fake: np.broadcast_to(fake, shape))


def may_share_memory(a, b):
    """Whether the memory of two arrays overlaps (numpy.may_share_memory)."""
    if not (isinstance(a, CudaArray) and isinstance(b, CudaArray)) or not (a.size and b.size):
        return False
    start_a, start_b = a.__cuda_array_interface__["data"][0], b.__cuda_array_interface__["data"][0]
    return start_a < start_b + b.nbytes and start_b < start_a + a.nbytes
