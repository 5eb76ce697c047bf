"""Indexing CUDA arrays: getitem, setitem and their adjoint index_add (numpy's a[index], torch.index_put).

Basic indices (ints, slices, None, Ellipsis) are views parsed by numpy (shapes.py); advanced indices are one
integer array on dim 0, or a pair of them on a 2-D array.
"""
import math

import numpy as np

from .. import is_basic_index
from . import elementwise as _ew
from .array import CudaArray, at_least_1d, broadcast_strides, c_strides, is_scalar, scalar
from .creation import as_operand, asarray, astype, copy, empty, zeros
from .shapes import broadcast_to, strided_copy, view_geometry
from .ufuncs import add


def _index_array(value):
    value = value if isinstance(value, CudaArray) else asarray(np.asarray(value))
    if value.dtype.kind not in "iu":
        raise NotImplementedError(f"cuda indexing supports integer index arrays only, got dtype {value.dtype}")
    return value if value.dtype == np.int64 else astype(value, np.int64)


def _advanced(index, ndim):
    """(rows, cols) for a 2-D pair of index arrays, or (rows, None) for one index array on dim 0."""
    items = index if isinstance(index, tuple) else (index,)
    if len(items) == 2 and ndim == 2:
        return _index_array(items[0]), _index_array(items[1])
    if len(items) == 1:
        return _index_array(items[0]), None
    raise NotImplementedError(f"cuda indexing: unsupported advanced index {index!r} on {ndim} dims")


def _basic(shape, index):
    """(shape, element strides, element offset) of ``a[index]`` for a basic index.

    A trailing Ellipsis keeps numpy returning a view when every dim is indexed by an int (a 0-d result),
    where it would otherwise return a scalar copy that has no offset in ``a``.
    """
    items = index if isinstance(index, tuple) else (index,)
    if not any(item is Ellipsis for item in items):
        items = items + (Ellipsis,)
    return view_geometry(shape, lambda fake: fake[items])


def getitem(array, index):
    if is_basic_index(index):
        return strided_copy(array, *_basic(array.shape, index))
    rows, cols = _advanced(index, array.ndim)
    if cols is None:
        row_size = math.prod(array.shape[1:])
        out = empty(rows.shape + array.shape[1:], array.dtype)
        if out.size:
            _ew.take_rows(out.flat, array.flat, rows.flat, array.shape[0], row_size)
        return out
    shape = np.broadcast_shapes(rows.shape, cols.shape)
    out = empty(shape, array.dtype)
    if out.size:
        _ew.take2d(out.flat, array.flat, rows.flat, cols.flat, array.shape[1])
    return out


def setitem(array, index, values):
    if not is_basic_index(index):
        raise NotImplementedError(f"cuda setitem supports basic indices only, got {index!r}")
    shape, strides, offset = _basic(array.shape, index)
    count = math.prod(shape)
    if not count:
        return
    shape1, strides1 = at_least_1d(shape, strides)
    values = as_operand(values)
    if is_scalar(values):
        _ew.scatter_scalar(array.flat, offset, shape1, strides1, scalar(values, array.dtype), count)
        return
    source = values.shape
    while len(source) > len(shape) and source[0] == 1:  # numpy drops the values' extra leading 1s
        source = source[1:]
    try:
        fits = np.broadcast_shapes(source, shape) == tuple(shape)
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"could not broadcast input array from shape {values.shape} into shape {shape}")
    src_strides = at_least_1d(shape, broadcast_strides(source, shape))[1]
    _ew.scatter(array.flat, offset, shape1, strides1, values.flat, src_strides, count)


def add_into(dst, src):
    """dst += src in place (how a leaf's ``.grad`` accumulates); the CPU twin's signature."""
    setitem(dst, Ellipsis, add(dst, src))


def index_add(shape, dtype, index, values):
    """Zeros of ``shape`` with ``values`` added at ``index`` (repeated indices add up): gather's adjoint."""
    out = zeros(shape, dtype)
    if is_basic_index(index):
        setitem(out, index, values)
        return out
    values = as_operand(values)
    rows, cols = _advanced(index, len(shape))
    if cols is None:
        values = broadcast_to(values, rows.shape + tuple(shape[1:]))
        _ew.put_add_rows(out.flat, rows.flat, shape[0], math.prod(shape[1:]), values.flat, values.size)
    else:
        count = math.prod(np.broadcast_shapes(rows.shape, cols.shape))
        _ew.put_add2d(out.flat, rows.flat, cols.flat, shape[1], values.flat, count)
    return out


def _along_strides(shape, axis):
    """(C strides of ``shape`` with 0 on ``axis``, the stride of ``axis``)."""
    strides = list(c_strides(shape))
    axis_stride = strides[axis]
    strides[axis] = 0
    return tuple(strides), axis_stride


def take_along(array, axis, index):
    """out[i][j] = array[index[i][j]][j] for axis 0 (torch.gather); indices are not bounds-checked on the GPU."""
    index = _index_array(index)
    out = empty(index.shape, array.dtype)
    if out.size:
        strides, axis_stride = _along_strides(array.shape, axis)
        _ew.take_along(out.flat, array.flat, index.flat, *at_least_1d(index.shape, strides), axis_stride)
    return out


def scatter_add_along(array, axis, index, values):
    """A copy of ``array`` with values[i][j] added at [index[i][j]][j] for axis 0, atomically (torch.scatter_add);
    ``values`` is read over ``index``'s shape; indices are not bounds-checked on the GPU."""
    index = _index_array(index)
    out = copy(array)
    if index.size:
        strides, axis_stride = _along_strides(array.shape, axis)
        shape, dst_strides, value_strides = at_least_1d(index.shape, strides, c_strides(values.shape))
        _ew.scatter_add_along(out.flat, index.flat, values.flat, shape, dst_strides, value_strides, axis_stride,
                              index.size)
    return out
