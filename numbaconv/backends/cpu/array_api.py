"""The CPU array namespace: numpy itself wherever numpy already does the job, the parallel loops of
pointwise.py (numpy below their size threshold) for the elementwise maps the nets use most, numpy's ufuncs and
strided copies split over the threads for large arrays (split_ufunc.py), and a threaded full sum (summation.py).

The CUDA twin (backends/cuda/array_api.py) exposes the same names with the same signatures
(tests/test_backend_contract.py holds the two to it).
"""
import numpy as np
from numpy import (
    arange,
    argmax,
    empty,
    equal,
    floor_divide,
    full,
    greater,
    greater_equal,
    isfinite,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    max,
    maximum,
    may_share_memory,
    min,
    minimum,
    not_equal,
    ones,
    remainder,
    reshape,
    stack,
    swapaxes,
    transpose,
    zeros,
)

from .. import is_basic_index
from .extreme import extreme_backward
from .linalg import matmul
from .pad_planes import pad_planes
from .pointwise import (
    abs_backward,
    add,
    copy,
    exp,
    multiply,
    power,
    relu,
    relu_backward,
    sigmoid,
    sigmoid_backward,
    sqrt_backward,
    square_backward,
    subtract,
    tanh_backward,
    where,
)
from .split_ufunc import ascontiguousarray, concatenate, split
from .summation import squared_difference_sum, sum

__all__ = [
    "abs", "abs_backward", "add", "add_into", "arange", "argmax", "asarray", "ascontiguousarray", "astype",
    "broadcast_to", "clip", "concatenate", "copy", "divide", "empty", "equal", "exp", "extreme_backward",
    "floor_divide", "full", "getitem", "greater", "greater_equal", "index_add", "isfinite", "less", "less_equal",
    "log", "logical_and", "logical_not", "logical_or", "logical_xor", "matmul", "max", "maximum",
    "may_share_memory", "min", "minimum", "multiply", "ndarray", "negative", "not_equal", "ones", "pad", "power",
    "relu", "relu_backward", "remainder", "reshape", "scatter_add_along", "setitem", "sigmoid", "sigmoid_backward",
    "sign", "sqrt", "sqrt_backward", "square_backward", "squared_difference_sum", "stable_sort", "stack",
    "subtract", "sum", "swapaxes", "take_along", "tanh", "tanh_backward", "to_host", "transpose", "where", "zeros",
]

ndarray = np.ndarray
abs = split(np.absolute)
divide = split(np.divide)
log = split(np.log)
negative = split(np.negative)
sign = split(np.sign)
sqrt = split(np.sqrt)
tanh = split(np.tanh)


def asarray(data, dtype=None):
    """Host data (array, list, scalar) as an array of this backend."""
    return np.asarray(data, dtype=dtype)


def to_host(array):
    """The array as a numpy array (a no-op copy-free view here)."""
    return array


def pad(array, pad_width, mode="constant", constant_values=0):
    """numpy.pad; the constant mode as one fill and one copy (numpy's general pad took ~20 us a call), or for a
    large float array padded in its last two dims, pad_planes.py's one parallel pass."""
    if mode != "constant":
        return np.pad(array, pad_width, mode=mode)
    widths = [(int(lo), int(hi)) for lo, hi in pad_width]
    out = pad_planes(array, widths, constant_values)
    if out is not None:
        return out
    out = np.full(tuple(n + lo + hi for n, (lo, hi) in zip(array.shape, widths)), constant_values, array.dtype)
    out[tuple(slice(lo, lo + n) for n, (lo, _) in zip(array.shape, widths))] = array
    return out


def broadcast_to(array, shape):
    """numpy.broadcast_to, a read-only view; a one-element array (a full reduction's gradient) becomes the
    zero-stride view directly, without numpy's Python-level broadcasting (0.7 against 2.1 us)."""
    if type(array) is np.ndarray and array.size == 1:
        shape = tuple(shape)
        view = np.ndarray(shape, array.dtype, array, 0, (0,) * len(shape))
        view.flags.writeable = False
        return view
    return np.broadcast_to(array, shape)


def add_into(dst, src):
    """dst += src in place, no temporary (how a leaf's ``.grad`` accumulates, as torch's AccumulateGrad)."""
    np.add(dst, src, out=dst)


def astype(array, dtype):
    return array.astype(dtype, copy=False)


def clip(array, low, high):
    return np.clip(array, low, high)


def getitem(array, index):
    return array[index]


def index_add(shape, dtype, index, values):
    """Zeros of ``shape`` with ``values`` added at ``index`` (repeated indices add up): gather's adjoint."""
    out = np.zeros(shape, dtype)
    if is_basic_index(index):
        out[index] = values
    else:
        np.add.at(out, index, values)
    return out


def setitem(array, index, values):
    array[index] = values


def _along(axis, index):
    """The full index of ``index`` read along ``axis``: the index array there, open aranges on the other dims."""
    grids = list(np.ogrid[tuple(slice(n) for n in index.shape)])
    grids[axis] = index
    return tuple(grids)


def _check_along(op, shape, axis, index):
    if index.size and (index.min() < 0 or index.max() >= shape[axis]):
        bad = index.min() if index.min() < 0 else index.max()
        raise IndexError(f"{op}: index {bad} is out of bounds for dimension {axis} with size {shape[axis]}")


def take_along(array, axis, index):
    """out[i][j] = array[index[i][j]][j] for axis 0 (torch.gather); ``index`` may be smaller than ``array``
    outside ``axis``."""
    _check_along("gather", array.shape, axis, index)
    return array[_along(axis, index)]


def scatter_add_along(array, axis, index, values):
    """A copy of ``array`` with values[i][j] added at [index[i][j]][j] for axis 0 (torch.scatter_add); repeated
    indices add up, ``values`` is read over ``index``'s shape."""
    _check_along("scatter_add", array.shape, axis, index)
    out = array.copy()
    np.add.at(out, _along(axis, index), values[tuple(slice(n) for n in index.shape)])
    return out


def stable_sort(array, axis, descending):
    """(values, int64 indices) sorted along ``axis``; equal values keep their order, NaN sorts as the largest
    (torch.sort(stable=True))."""
    if descending:
        order = np.argsort(np.flip(array, axis), axis=axis, kind="stable")
        indices = array.shape[axis] - 1 - np.flip(order, axis)
    else:
        indices = np.argsort(array, axis=axis, kind="stable")
    indices = indices.astype(np.int64, copy=False)
    return np.take_along_axis(array, indices, axis), indices
