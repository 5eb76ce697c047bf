"""Reductions of CUDA arrays over any axes (numpy.sum / max / min / argmax, torch.sum / amax / amin / argmax).

The kernels of backends/cuda/reduce.py read the source through (kept shape, strides) and (reduced shape,
strides) tuples, so no transposed copy is made first.
"""
import math

import numpy as np

from . import reduce as _red
from .array import at_least_1d, c_strides, normalize_axes
from .creation import empty, zeros
from .shapes import transpose
from .ufuncs import divide, equal, multiply, subtract


def _dims(array, dims):
    """(shape, element strides) of ``array`` restricted to ``dims``, read as 1-d when ``dims`` is empty."""
    strides = c_strides(array.shape)
    return at_least_1d(tuple(array.shape[i] for i in dims), tuple(strides[i] for i in dims))


def _reduce(op, a, axis, keepdims, dtype):
    axes = normalize_axes(axis, a.ndim)
    kept = [i for i in range(a.ndim) if i not in axes]
    if keepdims:
        out_shape = tuple(1 if i in axes else n for i, n in enumerate(a.shape))
    else:
        out_shape = tuple(a.shape[i] for i in kept)
    count = math.prod(a.shape[i] for i in axes)
    if count == 0:
        if op != "sum":
            raise ValueError(f"zero-size array to reduction operation {op} which has no identity")
        return zeros(out_shape, dtype)
    out = empty(out_shape, dtype)
    if out.size:
        _red.reduce(op, out.flat, a.flat, *_dims(a, kept), *_dims(a, axes), count)
    return out


def sum(a, axis=None, keepdims=False, dtype=None):
    dtype = np.dtype(dtype) if dtype is not None else (np.dtype(np.int64) if a.dtype.kind in "biu" else a.dtype)
    return _reduce("sum", a, axis, keepdims, dtype)


def squared_difference_sum(a, b):
    """(a - b, the sum of its squares): mse_loss's forward."""
    difference = subtract(a, b)
    return difference, sum(multiply(difference, difference))


def extreme_backward(grad, a, out, dims):
    """d(max or min of ``a`` over ``dims``)/d(a): ties share ``grad`` (of the reduced shape, dims kept) equally."""
    hit = equal(a, out)
    return divide(multiply(grad, hit), sum(hit, axis=dims, keepdims=True))


def max(a, axis=None, keepdims=False):
    return _reduce("max", a, axis, keepdims, a.dtype)


def min(a, axis=None, keepdims=False):
    return _reduce("min", a, axis, keepdims, a.dtype)


def argmax(a, axis=None):
    if a.size == 0:
        raise ValueError("attempt to get argmax of an empty sequence")
    if axis is None:
        out = empty((), np.int64)
        _red.argmax(out.flat, a.flat, (1,), (0,), 1, a.size)
        return out
    (axis,) = normalize_axes(axis, a.ndim)
    kept = [i for i in range(a.ndim) if i != axis]
    out = empty(tuple(a.shape[i] for i in kept), np.int64)
    _red.argmax(out.flat, a.flat, *_dims(a, kept), c_strides(a.shape)[axis], a.shape[axis])
    return out


def stable_sort(array, axis, descending):
    """(values, int64 indices) sorted along ``axis``; equal values keep their order, NaN sorts as the largest
    (torch.sort(stable=True)). The axis is moved last (one strided copy), each row ranked, then moved back."""
    (axis,) = normalize_axes(axis, array.ndim)
    order = [d for d in range(array.ndim) if d != axis] + [axis]
    rows = transpose(array, order)
    values, indices = empty(rows.shape, array.dtype), empty(rows.shape, np.int64)
    if rows.size:
        _red.rank_sort(values.flat, indices.flat, rows.flat, array.shape[axis], descending)
    back = tuple(int(d) for d in np.argsort(order))
    return transpose(values, back), transpose(indices, back)
