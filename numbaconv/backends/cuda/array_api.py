"""The CUDA array namespace: the names and signatures of backends/cpu/array_api.py on GPU arrays.

Arrays are ``CudaArray`` (array.py): a flat, C-contiguous numba device array plus a shape. The functions live
by job: creation.py (allocation, host exchange, dtype casts), shapes.py (reshape and strided views),
ufuncs.py (elementwise arithmetic), reductions.py, indexing.py, joining.py (concatenate, stack, pad) and
linalg.py (matmul); this module gathers them into the one namespace the registry hands out.
"""
from .array import CudaArray, ndarray
from .creation import arange, asarray, ascontiguousarray, astype, copy, empty, full, ones, to_host, zeros
from .indexing import add_into, getitem, index_add, scatter_add_along, setitem, take_along
from .joining import concatenate, pad, stack
from .linalg import matmul
from .reductions import argmax, extreme_backward, max, min, squared_difference_sum, stable_sort, sum
from .shapes import broadcast_to, may_share_memory, reshape, swapaxes, transpose
from .ufuncs import (
    abs,
    abs_backward,
    add,
    clip,
    divide,
    equal,
    exp,
    floor_divide,
    greater,
    greater_equal,
    isfinite,
    less,
    less_equal,
    log,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    maximum,
    minimum,
    multiply,
    negative,
    not_equal,
    power,
    relu,
    relu_backward,
    remainder,
    sigmoid,
    sigmoid_backward,
    sign,
    sqrt,
    sqrt_backward,
    square_backward,
    subtract,
    tanh,
    tanh_backward,
    where,
)

__all__ = [
    "CudaArray", "ndarray",
    "arange", "asarray", "ascontiguousarray", "astype", "copy", "empty", "full", "ones", "to_host", "zeros",
    "add_into", "getitem", "index_add", "scatter_add_along", "setitem", "take_along",
    "concatenate", "pad", "stack",
    "matmul",
    "argmax", "extreme_backward", "max", "min", "squared_difference_sum", "stable_sort", "sum",
    "broadcast_to", "may_share_memory", "reshape", "swapaxes", "transpose",
    "abs", "abs_backward", "add", "clip", "divide", "equal", "exp", "floor_divide", "greater", "greater_equal",
    "isfinite", "less", "less_equal", "log", "logical_and", "logical_not", "logical_or", "logical_xor", "maximum",
    "minimum", "multiply", "negative", "not_equal", "power", "relu", "relu_backward", "remainder", "sigmoid",
    "sigmoid_backward", "sign", "sqrt", "sqrt_backward", "square_backward", "subtract", "tanh", "tanh_backward",
    "where",
]
