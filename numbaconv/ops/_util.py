"""Helpers shared by the ops: backend lookup for raw operands, gradient un-broadcasting, dim checks."""
import importlib

import numpy as np

from ..backends import get_backend
from ..backends.cpu import array_api as _cpu


def backend_of(*operands):
    """The array namespace of the first array among ``operands`` (python scalars are skipped)."""
    for operand in operands:
        if type(operand) is np.ndarray:
            return _cpu
        if hasattr(operand, "__cuda_array_interface__"):
            return get_backend("cuda")
    return _cpu


def kernels_of(array, name):
    """The ``name`` kernel module of ``array``'s backend (backends/cpu/<name>.py or its CUDA twin)."""
    package = backend_of(array).__name__.rsplit(".", 1)[0]
    try:
        return importlib.import_module(f"{package}.{name}")
    except ModuleNotFoundError:
        raise NotImplementedError(f"{name} kernels are not available on the {package.rsplit('.', 1)[1]} backend") from None


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
