"""numpy's elementwise functions on CUDA arrays, with its broadcasting and result dtypes (torch.add, torch.exp, ...).

Each picks the kernel form of backends/cuda/elementwise.py: flat, scalar on either side, or strided
(broadcast) operands.
"""
import numpy as np

from . import elementwise as _ew
from .array import CudaArray, at_least_1d, broadcast_strides, is_scalar, scalar
from .creation import as_operand, asarray, empty, full

_COMPARISONS = {"equal", "not_equal", "less", "less_equal", "greater", "greater_equal"}


def _dtype_of(value):
    return value.dtype if isinstance(value, CudaArray) else value


def _binary(name, a, b, dtype=None):
    a, b = as_operand(a), as_operand(b)
    if is_scalar(a) and is_scalar(b):
        return asarray(getattr(np, name)(a, b))
    da, db = _dtype_of(a), _dtype_of(b)
    if dtype is None:
        dtype = np.bool_ if name in _COMPARISONS else np.result_type(da, db)
        if name == "divide" and np.dtype(dtype).kind in "iub":
            dtype = np.float64
    dtype = np.dtype(dtype)
    compute = dtype if dtype.kind == "f" else np.result_type(da, db)
    if is_scalar(b):
        out = empty(a.shape, dtype)
        _ew.binary_scalar_right(name, out.flat, a.flat, scalar(b, compute))
        return out
    if is_scalar(a):
        out = empty(b.shape, dtype)
        _ew.binary_scalar_left(name, out.flat, scalar(a, compute), b.flat)
        return out
    if a.shape == b.shape:
        out = empty(a.shape, dtype)
        _ew.binary_flat(name, out.flat, a.flat, b.flat)
        return out
    shape = np.broadcast_shapes(a.shape, b.shape)
    out = empty(shape, dtype)
    if out.size:
        _ew.binary_strided(name, out.flat, a.flat, b.flat, *at_least_1d(
            shape, broadcast_strides(a.shape, shape), broadcast_strides(b.shape, shape)))
    return out


def _make_binary(name, dtype=None):
    def op(a, b):
        return _binary(name, a, b, dtype)

    op.__name__ = name
    op.__doc__ = f"numpy.{name} with broadcasting, on the GPU."
    return op


add = _make_binary("add")
subtract = _make_binary("subtract")
multiply = _make_binary("multiply")
divide = _make_binary("divide")
floor_divide = _make_binary("floor_divide")
remainder = _make_binary("remainder")
power = _make_binary("power")
maximum = _make_binary("maximum")
minimum = _make_binary("minimum")
equal = _make_binary("equal")
not_equal = _make_binary("not_equal")
less = _make_binary("less")
less_equal = _make_binary("less_equal")
greater = _make_binary("greater")
greater_equal = _make_binary("greater_equal")
logical_and = _make_binary("logical_and", np.bool_)
logical_or = _make_binary("logical_or", np.bool_)
logical_xor = _make_binary("logical_xor", np.bool_)


def _float_result(a):
    return a.dtype if a.dtype.kind == "f" else np.dtype(np.float64)


def _same_result(a):
    return a.dtype


def _bool_result(a):
    return np.dtype(np.bool_)


def _make_unary(name, result):
    """numpy.``name`` of one array, into a new array of dtype ``result(a)``."""

    def op(a):
        out = empty(a.shape, result(a))
        _ew.unary(name, out.flat, a.flat)
        return out

    op.__name__ = name
    op.__doc__ = f"numpy.{name} on the GPU."
    return op


exp = _make_unary("exp", _float_result)
log = _make_unary("log", _float_result)
sqrt = _make_unary("sqrt", _float_result)
tanh = _make_unary("tanh", _float_result)
sigmoid = _make_unary("sigmoid", _float_result)
negative = _make_unary("negative", _same_result)
abs = _make_unary("abs", _same_result)
sign = _make_unary("sign", _same_result)
relu = _make_unary("relu", _same_result)
isfinite = _make_unary("isfinite", _bool_result)
logical_not = _make_unary("logical_not", _bool_result)


def relu_backward(grad, out):
    """0 where relu's output is <= 0, else grad (backends/cpu/pointwise.py's rule, torch's threshold_backward)."""
    return where(less_equal(out, 0), 0, grad)


def sigmoid_backward(grad, out):
    """grad * s * (1 - s) from the output s."""
    return multiply(multiply(grad, out), subtract(1, out))


def sqrt_backward(grad, out):
    """grad * 0.5 / s from the output s of sqrt."""
    return divide(multiply(grad, 0.5), out)


def abs_backward(grad, x):
    """grad * sign(x), abs's gradient."""
    return multiply(grad, sign(x))


def square_backward(grad, x):
    """grad * 2 * x, the gradient of x ** 2."""
    return multiply(multiply(grad, 2), x)


def tanh_backward(grad, out):
    """grad * (1 - t^2) from the output t."""
    return multiply(grad, subtract(1, multiply(out, out)))


def clip(array, low, high):
    out = empty(array.shape, array.dtype)
    dtype = array.dtype
    _ew.clip(out.flat, array.flat, scalar(0 if low is None else low, dtype), scalar(0 if high is None else high, dtype),
             low is not None, high is not None)
    return out


def where(condition, a, b):
    condition, a, b = (as_operand(v) for v in (condition, a, b))
    if is_scalar(condition):
        condition = full((), bool(condition), np.bool_)
    dtype = np.result_type(_dtype_of(a), _dtype_of(b))
    a = a if isinstance(a, CudaArray) else full((), a, dtype)
    b = b if isinstance(b, CudaArray) else full((), b, dtype)
    shape = np.broadcast_shapes(condition.shape, a.shape, b.shape)
    out = empty(shape, dtype)
    if out.size:
        _ew.where(out.flat, condition.flat, a.flat, b.flat, *at_least_1d(
            shape, *(broadcast_strides(x.shape, shape) for x in (condition, a, b))))
    return out
