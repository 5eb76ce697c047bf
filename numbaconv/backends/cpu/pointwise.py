"""Elementwise maps as Numba parallel loops on large arrays, numpy below ``PARALLEL_MIN`` elements, except where
numpy takes several passes (relu, sigmoid and the three backwards): there a serial Numba loop (one pass, no
temporaries) serves the small arrays, e.g. relu's backward over 8,192 floats 1.8 against np.where's 10.6 us.

numpy runs a ufunc on one thread; above the threshold these loops split the array over Numba's threads (not for
tanh: numpy's vectorised tanh beats two threads of scalar libm calls, measured 44 vs 132 ms at 8.4M floats), and
each backward is one fused pass (relu's from the output's sign, sigmoid's and tanh's from the output), where
numpy would take two to four passes and temporaries. Every function returns what its numpy spelling returns:
the same dtype and NaN/Inf behaviour (the loops use no fast-math), values equal up to the last bit's rounding
(float32 exp and sigmoid through backends/cpu/vector_exp.py, within one ulp like numpy's SIMD exp), so callers
need not know which path ran.
The loops take float32/float64 operands of one shape and dtype, C-contiguous (the backwards copy strided ones
first); anything else goes to numpy. One value broadcast (a zero-stride view: the gradient that ``x.sum()``
hands back) is read as that value, never made dense: a backward's grad, either factor of a multiply, or what a
leaf's ``.grad`` copies; a python number times a large array is one scaling pass too.
"""

import numpy as np
from numba import njit, prange

from . import broadcast_binary, split_ufunc, threads, vector_exp

PARALLEL_MIN = threads.PARALLEL_MIN  # elements; smaller arrays stay on numpy's single-threaded loop
LOOP_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))  # the loops' dtypes; float16 and longdouble stay on numpy
EXACT_INT = 2**24  # python ints a float32 holds exactly: larger ones stay on numpy's own conversion


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


@njit(cache=True, error_model="numpy")
def _sigmoid_map_serial(x, out):
    one = np.ones(1, x.dtype)[0]
    for i in range(x.size):
        out[i] = _sigmoid(x[i], one)


@njit(inline="always")
def _relu_at(v):
    return 0 if v <= 0 else v


@njit(parallel=True, cache=True)
def _relu(x, out):
    for i in prange(x.size):
        out[i] = _relu_at(x[i])


@njit(cache=True)
def _relu_serial(x, out):
    for i in range(x.size):
        out[i] = _relu_at(x[i])


@njit(inline="always")
def _relu_grad(g, o):
    return 0 if o <= 0 else g


@njit(parallel=True, cache=True)
def _relu_backward(grad, out, result):
    for i in prange(grad.size):
        result[i] = _relu_grad(grad[i], out[i])


@njit(cache=True)
def _relu_backward_serial(grad, out, result):
    for i in range(grad.size):
        result[i] = _relu_grad(grad[i], out[i])


@njit(inline="always")
def _sigmoid_grad(g, s):
    return g * s * (1 - s)


@njit(parallel=True, cache=True)
def _sigmoid_backward(grad, out, result):
    for i in prange(grad.size):
        result[i] = _sigmoid_grad(grad[i], out[i])


@njit(cache=True)
def _sigmoid_backward_serial(grad, out, result):
    for i in range(grad.size):
        result[i] = _sigmoid_grad(grad[i], out[i])


@njit(inline="always")
def _tanh_grad(g, t):
    return g * (1 - t * t)


@njit(parallel=True, cache=True)
def _tanh_backward(grad, out, result):
    for i in prange(grad.size):
        result[i] = _tanh_grad(grad[i], out[i])


@njit(cache=True)
def _tanh_backward_serial(grad, out, result):
    for i in range(grad.size):
        result[i] = _tanh_grad(grad[i], out[i])


@njit(parallel=True, cache=True)
def _relu_backward_constant(g, out, result):
    for i in prange(out.size):
        result[i] = _relu_grad(g, out[i])


@njit(parallel=True, cache=True)
def _sigmoid_backward_constant(g, out, result):
    for i in prange(out.size):
        result[i] = _sigmoid_grad(g, out[i])


@njit(parallel=True, cache=True)
def _tanh_backward_constant(g, out, result):
    for i in prange(out.size):
        result[i] = _tanh_grad(g, out[i])


@njit(inline="always")
def _sqrt_grad(g, o, half):
    return g * half / o


@njit(inline="always")
def _abs_grad(g, v, one):
    """g * numpy.sign(v): 1, -1, 0 (an infinite g gives NaN there, as in numpy) or NaN."""
    return g * (one if v > 0 else -one if v < 0 else v - v if v == 0 else v)


@njit(inline="always")
def _square_grad(g, v, two):
    return g * two * v


@njit(parallel=True, cache=True, error_model="numpy")
def _sqrt_backward(grad, constant, out, result):
    """error_model numpy: a division by a zero output gives inf as in numpy, with no zero check in the loop."""
    half = np.ones(1, out.dtype)[0] / 2
    if constant:
        for i in prange(out.size):
            result[i] = _sqrt_grad(grad[0], out[i], half)
    else:
        for i in prange(out.size):
            result[i] = _sqrt_grad(grad[i], out[i], half)


@njit(parallel=True, cache=True)
def _abs_backward(grad, constant, x, result):
    one = np.ones(1, x.dtype)[0]
    if constant:
        for i in prange(x.size):
            result[i] = _abs_grad(grad[0], x[i], one)
    else:
        for i in prange(x.size):
            result[i] = _abs_grad(grad[i], x[i], one)


@njit(parallel=True, cache=True)
def _square_backward(grad, constant, x, result):
    two = np.ones(1, x.dtype)[0] * 2
    if constant:
        for i in prange(x.size):
            result[i] = _square_grad(grad[0], x[i], two)
    else:
        for i in prange(x.size):
            result[i] = _square_grad(grad[i], x[i], two)


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
def _copy(x, out):
    for i in prange(x.size):
        out[i] = x[i]


@njit(parallel=True, cache=True)
def _fill(value, out):
    for i in prange(out.size):
        out[i] = value


@njit(parallel=True, cache=True)
def _scale(a, s, out):
    for i in prange(a.size):
        out[i] = a[i] * s


@njit(parallel=True, cache=True)
def _select(condition, a, b, out):
    for i in prange(condition.size):
        out[i] = a[i] if condition[i] else b[i]


@njit(parallel=True, cache=True)
def _select_values(condition, value_if_true, value_if_false, out):
    for i in prange(condition.size):
        out[i] = value_if_true if condition[i] else value_if_false


@njit(parallel=True, cache=True)
def _select_or_value(condition, a, value, value_where_true, out):
    for i in prange(condition.size):
        out[i] = value if condition[i] == value_where_true else a[i]


def _small(array):
    return type(array) is not np.ndarray or array.size < PARALLEL_MIN


def _alike(arrays, strided=False):
    """Whether the loops may take ``arrays``: numpy arrays of one shape and one floating dtype, C-contiguous (or
    any layout when ``strided``: the caller copies them first)."""
    first = arrays[0]
    if type(first) is not np.ndarray or first.dtype not in LOOP_DTYPES:
        return False
    return all(isinstance(a, np.ndarray) and a.shape == first.shape and a.dtype == first.dtype
               and (strided or a.flags.c_contiguous) for a in arrays)


def _parallel(*arrays, strided=False):
    """Whether the parallel loops may take ``arrays``: large and :func:`_alike`."""
    return not _small(arrays[0]) and _alike(arrays, strided)


def _contiguous(array):
    """``array`` itself when C-contiguous (a 0-d one too: np.ascontiguousarray would make it 1-d), else a copy."""
    return array if array.flags.c_contiguous else np.ascontiguousarray(array)


def _unary_map(loop, small, doc, serial=None):
    """The map of x: ``loop(x, out)`` over flat views when x is large, ``serial(x, out)`` when x is small and a
    serial loop is given (maps whose numpy spelling takes several passes), ``small(x)`` (numpy) otherwise or when
    x is not :func:`_alike`. Built once per map, so a small array's call costs one Python frame above the kernel."""
    def run(x):
        if type(x) is np.ndarray and (x.size >= PARALLEL_MIN or serial is not None) and _alike((x,)):
            out = np.empty_like(x)
            if x.size >= PARALLEL_MIN:
                threads.start()
                loop(x.reshape(-1), out.reshape(-1))
            else:
                serial(x.reshape(-1), out.reshape(-1))
            return out
        return small(x)

    run.__doc__ = doc
    return run


def _binary_map(loop, small, doc, strided=False, serial=None, constant=None, large=None):
    """The map of a and b, chosen as in :func:`_unary_map`; ``strided``: strided operands are copied and taken by
    the loops too (where ``small`` needs several passes); ``constant(value, b, out)``, when given, takes a large
    ``a`` that is one value broadcast (a full sum's gradient: read in place, never copied to a dense array);
    ``large``, when given, takes a large ``a`` that the loops do not (a broadcast bias)."""
    def run(a, b):
        if type(a) is np.ndarray and (a.size >= PARALLEL_MIN or serial is not None):
            if constant is not None and a.size >= PARALLEL_MIN and not any(a.strides):
                value = _constant_value(a, b)
                if value is not None:
                    b = _contiguous(b)
                    out = np.empty_like(b)
                    threads.start()
                    constant(value, b.reshape(-1), out.reshape(-1))
                    return out
            if _alike((a, b), strided):
                a, b = _contiguous(a), _contiguous(b)
                out = np.empty_like(a)
                if a.size >= PARALLEL_MIN:
                    threads.start()
                    loop(a.reshape(-1), b.reshape(-1), out.reshape(-1))
                else:
                    serial(a.reshape(-1), b.reshape(-1), out.reshape(-1))
                return out
            if large is not None:
                return large(a, b)
        return small(a, b)

    run.__doc__ = doc
    return run


def _constant_value(array, like):
    """The one value of ``array`` when it is a zero-stride view (one value broadcast: the gradient of a full
    reduction) of ``like``'s shape and dtype, and ``like`` is large enough for the loops; else None."""
    if (type(array) is np.ndarray and type(like) is np.ndarray and array.size >= PARALLEL_MIN
            and array.shape == like.shape and array.dtype == like.dtype and like.dtype in LOOP_DTYPES
            and not any(array.strides)):
        return array[(0,) * array.ndim]
    return None


def _exact_number(value):
    """Whether ``value`` is a python float, or an int that float32 holds exactly (numpy casts both to the array's
    dtype first)."""
    return type(value) is float or (type(value) is int and -EXACT_INT <= value <= EXACT_INT)


def _scale_operands(a, b):
    """(s, x) when one operand is a python float or small int or one value broadcast (s) and the other a large
    C-contiguous float array (x): then a * b is x * s, s cast to x's dtype first, as numpy casts a python number;
    else None."""
    for s, x in ((b, a), (a, b)):
        if (type(x) is np.ndarray and x.size >= PARALLEL_MIN and x.dtype in LOOP_DTYPES
                and x.flags.c_contiguous):
            if _exact_number(s):
                return x.dtype.type(s), x
            value = _constant_value(s, x)
            if value is not None:
                return value, x
    return None


def _broadcasting(code, ufunc):
    """``ufunc`` of a large ``a`` and a ``b`` that the same-shape loops do not take: broadcast_binary's loop where
    it takes them (``x + bias.reshape(-1, 1, 1)``), else ``ufunc`` split over the threads."""
    split = split_ufunc.split(ufunc)

    def run(a, b):
        out = broadcast_binary.binary(code, a, b)
        return split(a, b) if out is None else out

    return run


_broadcast_multiply = _broadcasting(broadcast_binary.MULTIPLY, np.multiply)


def multiply(a, b):
    """a * b (numpy.multiply); a python number or one value broadcast times a large array runs as one parallel
    scaling pass (``x * 0.5``, the gradient of x * y under a full sum), one value broadcast times a number as one
    parallel fill (the gradient of x * 0.5 under a full sum)."""
    if not ((type(a) is np.ndarray and a.size >= PARALLEL_MIN) or (type(b) is np.ndarray and b.size >= PARALLEL_MIN)):
        return np.multiply(a, b)
    for constant, number in ((a, b), (b, a)):
        value = _constant_value(constant, constant)
        if value is not None and _exact_number(number):
            out = np.empty(constant.shape, value.dtype)
            threads.start()
            _fill(value * value.dtype.type(number), out.reshape(-1))
            return out
    scaled = _scale_operands(a, b)
    if scaled is not None:
        s, x = scaled
        out = np.empty_like(x)
        threads.start()
        _scale(x.reshape(-1), s, out.reshape(-1))
        return out
    if not _alike((a, b)):
        return _broadcast_multiply(a, b)
    out = np.empty_like(a)
    threads.start()
    _multiply(a.reshape(-1), b.reshape(-1), out.reshape(-1))
    return out


_split_power = split_ufunc.split(np.power)


def power(a, b):
    """a ** b (numpy.power); a large float array squared (b == 2: ``x ** 2``) is the parallel product a * a,
    the correctly rounded square that numpy's power gives too."""
    if (type(b) is int or type(b) is float) and b == 2 and _parallel(a):
        out = np.empty_like(a)
        threads.start()
        _multiply(a.reshape(-1), a.reshape(-1), out.reshape(-1))
        return out
    return _split_power(a, b)


def copy(array):
    """A C-contiguous copy (numpy's ``array.copy()``): the parallel loops for a large float array that is
    C-contiguous or one value broadcast (a full reduction's gradient reaching a leaf), a split numpy copy for
    another large strided one (a mean's gradient, broadcast per plane), numpy otherwise."""
    if type(array) is not np.ndarray or array.size < PARALLEL_MIN:
        return array.copy()
    value = _constant_value(array, array)
    if value is not None:
        out = np.empty(array.shape, array.dtype)
        threads.start()
        _fill(value, out.reshape(-1))
        return out
    if _parallel(array):
        out = np.empty_like(array)
        threads.start()
        _copy(array.reshape(-1), out.reshape(-1))
        return out
    return split_ufunc.ascontiguousarray(array) if not array.flags.c_contiguous else array.copy()


def _numpy_relu(x):
    return np.maximum(x, 0)


def _numpy_sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


exp = _unary_map(_exp, np.exp, "e**x (numpy.exp).")
relu = _unary_map(_relu, _numpy_relu, "max(x, 0).", serial=_relu_serial)
sigmoid = _unary_map(_sigmoid_map, _numpy_sigmoid, "1 / (1 + e**-x), overflow-safe.", serial=_sigmoid_map_serial)
add = _binary_map(_add, np.add, "a + b (numpy.add).", large=_broadcasting(broadcast_binary.ADD, np.add))
subtract = _binary_map(_subtract, np.subtract, "a - b (numpy.subtract).",
                       large=_broadcasting(broadcast_binary.SUBTRACT, np.subtract))
relu_backward = _binary_map(
    _relu_backward, lambda g, o: np.where(o <= 0, 0, g).astype(g.dtype, copy=False),
    "0 where relu's output is <= 0 (NaN gradients included), else grad (a NaN output passes it), as torch's "
    "threshold_backward.", strided=True, serial=_relu_backward_serial, constant=_relu_backward_constant)
sigmoid_backward = _binary_map(_sigmoid_backward, lambda g, s: g * s * (1 - s), "grad * s * (1 - s) from the "
                               "output s.", strided=True, serial=_sigmoid_backward_serial,
                               constant=_sigmoid_backward_constant)
tanh_backward = _binary_map(_tanh_backward, lambda g, t: g * (1 - t * t), "grad * (1 - t^2) from the output t.",
                            strided=True, serial=_tanh_backward_serial, constant=_tanh_backward_constant)


def _grad_map(loop, small, doc):
    """A backward's map of ``grad`` and one saved array ``x``: ``loop(grad, constant, x, out)`` over flat views
    when x is large (a strided x is copied first) and grad is of x's shape and dtype, C-contiguous or one value
    broadcast (``constant``: a full sum's gradient, read as grad[0], never made dense); ``small(grad, x)``, the
    numpy spelling of two or more passes, otherwise."""
    def run(grad, x):
        if _parallel(x, strided=True) and type(grad) is np.ndarray and grad.shape == x.shape and grad.dtype == x.dtype:
            constant = not any(grad.strides)
            if constant or grad.flags.c_contiguous:
                x = _contiguous(x)
                out = np.empty_like(x)
                threads.start()
                loop(grad.reshape(-1)[:1] if constant else grad.reshape(-1), constant, x.reshape(-1), out.reshape(-1))
                return out
        return small(grad, x)

    run.__doc__ = doc
    return run


sqrt_backward = _grad_map(_sqrt_backward, lambda g, o: g * 0.5 / o, "grad * 0.5 / s from the output s of sqrt.")
abs_backward = _grad_map(_abs_backward, lambda g, x: g * np.sign(x), "grad * sign(x), abs's gradient (torch's).")
square_backward = _grad_map(_square_backward, lambda g, x: g * 2 * x, "grad * 2 * x, the gradient of x ** 2.")


def where(condition, a, b):
    """``a`` where ``condition`` holds, else ``b`` (numpy.where): the parallel loop for a large C-contiguous bool
    condition with float arrays of its shape and dtype, or one such array (or one value broadcast to that shape:
    a full sum's gradient) and a python number (a gradient's zeros), else numpy."""
    arrays = [v for v in (a, b) if type(v) is not float and type(v) is not int]
    if (_small(condition) or condition.dtype != np.bool_ or not arrays or type(arrays[0]) is not np.ndarray
            or arrays[0].shape != condition.shape or not condition.flags.c_contiguous):
        return np.where(condition, a, b)
    flat = condition.reshape(-1)
    if len(arrays) == 1:
        value = _constant_value(arrays[0], arrays[0])
        number = b if arrays[0] is a else a
        if value is not None and _exact_number(number):
            out = np.empty(condition.shape, value.dtype)
            threads.start()
            if arrays[0] is a:
                _select_values(flat, value, value.dtype.type(b), out.reshape(-1))
            else:
                _select_values(flat, value.dtype.type(a), value, out.reshape(-1))
            return out
    if not _parallel(*arrays):
        return np.where(condition, a, b)
    out = np.empty_like(arrays[0])
    threads.start()
    if len(arrays) == 2:
        _select(flat, a.reshape(-1), b.reshape(-1), out.reshape(-1))
    elif arrays[0] is a:
        _select_or_value(flat, a.reshape(-1), b, False, out.reshape(-1))
    else:
        _select_or_value(flat, b.reshape(-1), a, True, out.reshape(-1))
    return out
