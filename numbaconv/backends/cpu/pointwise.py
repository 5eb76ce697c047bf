"""Elementwise maps as Numba parallel loops on large arrays, numpy below ``PARALLEL_MIN`` elements.

numpy runs a ufunc on one thread; above the threshold these loops split the array over Numba's threads (not for
tanh: numpy's vectorised tanh beats two threads of scalar libm calls, measured 44 vs 132 ms at 8.4M floats), and
each backward is one fused pass (relu's from the output's sign, sigmoid's and tanh's from the output), where
numpy would take two to four passes and temporaries. Every function returns what its numpy spelling returns:
the same dtype and NaN/Inf behaviour (the loops use no fast-math), values equal up to the last bit's rounding
(float32 exp and sigmoid through backends/cpu/vector_exp.py, within one ulp like numpy's SIMD exp), so callers
need not know which path ran.
The parallel path takes C-contiguous float32/float64 operands of one shape and dtype; anything else goes to numpy.
"""

import numpy as np
from numba import njit, prange

from . import threads, vector_exp

PARALLEL_MIN = 1 << 16  # elements; smaller arrays stay on numpy's single-threaded loop
LOOP_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))  # the loops' dtypes; float16 and longdouble stay on numpy


@njit(inline="always")
def _sigmoid(v, one):
    """1 / (1 + e^-v), from e^-|v| so that neither branch overflows; ``one`` is 1 in v's dtype."""
    e = vector_exp.exp(-abs(v))
    return one / (one + e) if v >= 0 else e / (one + e)


@njit(parallel=True, cache=True)
def _exp(x, out):
    for i in prange(x.size):
        out[i] = vector_exp.exp(x[i])


@njit(parallel=True, cache=True, error_model="numpy")
def _sigmoid_map(x, out):
    """error_model numpy: Python's zero-division check on each ``/`` kept the loop scalar (30 vs 1.5 ms per 4M
    floats on one core, with float32 arithmetic instead of the int literals' float64)."""
    one = np.ones(1, x.dtype)[0]
    for i in prange(x.size):
        out[i] = _sigmoid(x[i], one)


@njit(parallel=True, cache=True)
def _relu(x, out):
    for i in prange(x.size):
        v = x[i]
        out[i] = 0 if v <= 0 else v


@njit(parallel=True, cache=True)
def _relu_backward(grad, out, result):
    for i in prange(grad.size):
        result[i] = 0 if out[i] <= 0 else grad[i]


@njit(parallel=True, cache=True)
def _sigmoid_backward(grad, out, result):
    for i in prange(grad.size):
        s = out[i]
        result[i] = grad[i] * s * (1 - s)


@njit(parallel=True, cache=True)
def _tanh_backward(grad, out, result):
    for i in prange(grad.size):
        t = out[i]
        result[i] = grad[i] * (1 - t * t)


@njit(parallel=True, cache=True)
def _add(a, b, out):
    for i in prange(a.size):
        out[i] = a[i] + b[i]


@njit(parallel=True, cache=True)
def _subtract(a, b, out):
    for i in prange(a.size):
        out[i] = a[i] - b[i]


@njit(parallel=True, cache=True)
def _multiply(a, b, out):
    for i in prange(a.size):
        out[i] = a[i] * b[i]


@njit(parallel=True, cache=True)
def _select(condition, a, b, out):
    for i in prange(condition.size):
        out[i] = a[i] if condition[i] else b[i]


@njit(parallel=True, cache=True)
def _select_or_value(condition, a, value, value_where_true, out):
    for i in prange(condition.size):
        out[i] = value if condition[i] == value_where_true else a[i]


_UNARY = {"exp": _exp, "relu": _relu, "sigmoid": _sigmoid_map}
_BINARY = {"add": _add, "subtract": _subtract, "multiply": _multiply, "relu_backward": _relu_backward,
           "sigmoid_backward": _sigmoid_backward, "tanh_backward": _tanh_backward}


def _small(array):
    return type(array) is not np.ndarray or array.size < PARALLEL_MIN


def _parallel(*arrays, strided=False):
    """Whether the loops may take ``arrays``: large, one shape, one floating dtype, C-contiguous (or any layout
    when ``strided``: the caller copies them first). Callers test ``_small`` first, the cheap common answer."""
    first = arrays[0]
    if _small(first) or first.dtype not in LOOP_DTYPES:
        return False
    return all(isinstance(a, np.ndarray) and a.shape == first.shape and a.dtype == first.dtype
               and (strided or a.flags.c_contiguous) for a in arrays)


def unary(name, x, small):
    """``name`` of x elementwise: the parallel loop when x is large, else ``small(x)`` (numpy)."""
    if _small(x) or not _parallel(x):
        return small(x)
    out = np.empty_like(x)
    threads.start()
    _UNARY[name](x.reshape(-1), out.reshape(-1))
    return out


def binary(name, a, b, small, strided=False):
    """``name`` of a and b elementwise: the parallel loop when both are large and alike, else ``small(a, b)``.
    ``strided``: strided operands are copied and taken too (where ``small`` needs several passes)."""
    if _small(a) or not _parallel(a, b, strided=strided):
        return small(a, b)
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    out = np.empty_like(a)
    threads.start()
    _BINARY[name](a.reshape(-1), b.reshape(-1), out.reshape(-1))
    return out


def exp(x):
    return unary("exp", x, np.exp)


def relu(x):
    return unary("relu", x, lambda v: np.maximum(v, 0))


def sigmoid(x):
    return unary("sigmoid", x, _numpy_sigmoid)


def _numpy_sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def add(a, b):
    return binary("add", a, b, np.add)


def subtract(a, b):
    return binary("subtract", a, b, np.subtract)


def multiply(a, b):
    return binary("multiply", a, b, np.multiply)


def relu_backward(grad, out):
    """0 where relu's output is <= 0 (NaN gradients included), else grad (a NaN output passes it), as torch's
    threshold_backward."""
    return binary("relu_backward", grad, out, lambda g, o: np.where(o <= 0, 0, g).astype(g.dtype, copy=False),
                  strided=True)


def sigmoid_backward(grad, out):
    """grad * s * (1 - s) from the output s."""
    return binary("sigmoid_backward", grad, out, lambda g, s: g * s * (1 - s), strided=True)


def tanh_backward(grad, out):
    """grad * (1 - t^2) from the output t."""
    return binary("tanh_backward", grad, out, lambda g, t: g * (1 - t * t), strided=True)


def where(condition, a, b):
    """``a`` where ``condition`` holds, else ``b`` (numpy.where): the parallel loop for a large C-contiguous bool
    condition with float arrays of its shape and dtype, or one such array and a python number (a gradient's
    zeros), else numpy."""
    arrays = [v for v in (a, b) if type(v) is not float and type(v) is not int]
    if (_small(condition) or condition.dtype != np.bool_ or not arrays or not _parallel(*arrays)
            or arrays[0].shape != condition.shape or not condition.flags.c_contiguous):
        return np.where(condition, a, b)
    out = np.empty_like(arrays[0])
    threads.start()
    flat = condition.reshape(-1)
    if len(arrays) == 2:
        _select(flat, a.reshape(-1), b.reshape(-1), out.reshape(-1))
    elif arrays[0] is a:
        _select_or_value(flat, a.reshape(-1), b, False, out.reshape(-1))
    else:
        _select_or_value(flat, b.reshape(-1), a, True, out.reshape(-1))
    return out
