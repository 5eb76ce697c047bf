"""Helpers shared by the ops: gradient un-broadcasting, dim checks, operand shapes, kernel dtypes."""
import numpy as np

KERNEL_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def shape_of(operand):
    return tuple(operand.shape) if hasattr(operand, "shape") else ()


def unbroadcast(xp, grad, shape):
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving it ``shape``."""
    if tuple(grad.shape) == shape:
        return grad
    extra = len(grad.shape) - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1
    )
    if axes:
        grad = xp.sum(grad, axis=axes, keepdims=True)
    return xp.reshape(grad, shape)


def normalize_dim(op, dim, ndim):
    """``dim`` (int, may be negative) as an axis in range, or a clear IndexError."""
    if not -ndim <= dim < max(ndim, 1):
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dimensions")
    return dim % max(ndim, 1)


def normalize_dims(op, dim, ndim):
    """``dim`` (None, int or tuple) as a sorted tuple of axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    return tuple(sorted({normalize_dim(op, d, ndim) for d in dims}))


def pair(op, name, value, minimum):
    """``value`` (an int or a pair of ints, each >= ``minimum``) as a pair, or a TypeError/ValueError naming it."""
    if type(value) is int and value >= minimum:  # the common cases first: a plain int or a pair of them
        return value, value
    if (type(value) is tuple and len(value) == 2 and type(value[0]) is int and type(value[1]) is int
            and min(value) >= minimum):
        return value
    values = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in values):
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return int(values[0]), int(values[1])


def check_kernel_dtype(op, dtype, floating=False):
    """A one-line TypeError unless the compiled kernels take ``dtype``: float32 or float64, or (unless
    ``floating``) a bool or integer dtype. Numba compiles no float16, long double or complex kernels here."""
    if dtype in KERNEL_FLOATS or (not floating and dtype.kind in "biu"):
        return
    raise TypeError(f"{op}: dtype {dtype} is not supported; expected float32 or float64"
                    + ("" if floating else " (or an integer dtype)"))
