"""CudaArray, the CUDA backend's ndarray, and the shape and stride arithmetic the namespace's functions share.

A CudaArray is a flat, C-contiguous numba device array plus a shape. Reshape and leading-dim slices are
zero-copy views (they share memory, as in numpy); other views are materialised (shapes.py), so every kernel
sees contiguous operands. Its numpy operators (``grad * b``, ``a > b``, ``1 - out``) call the namespace's
functions, and ``__cuda_array_interface__`` gives zero-copy exchange with PyTorch/CuPy.
"""
import builtins
import functools
import importlib
import math

import numpy as np

from .launch import SIMULATED


@functools.cache
def _function(module, name):
    """``name`` of backends/cuda/<module>.py, imported on first use (those modules import this one)."""
    return getattr(importlib.import_module(f"{__package__}.{module}"), name)


def _method(module, name, reflected=False):
    """A CudaArray method calling ``module.name(self, *others)``, or ``name(other, self)`` when ``reflected``."""

    def method(self, *others):
        function = _function(module, name)
        return function(*others, self) if reflected else function(self, *others)

    method.__name__ = name
    return method


class CudaArray:
    """A C-contiguous device array of ``shape`` over the 1-D numba device array ``flat``."""

    __slots__ = ("flat", "shape")
    __array_priority__ = 1000

    def __init__(self, flat, shape):
        self.flat = flat
        self.shape = tuple(int(n) for n in shape)

    dtype = property(lambda self: np.dtype(self.flat.dtype))
    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: math.prod(self.shape))
    nbytes = property(lambda self: self.size * self.dtype.itemsize)

    @property
    def __cuda_array_interface__(self):
        if SIMULATED:
            pointer = self.flat._ary.__array_interface__["data"][0]
            return {"shape": self.shape, "strides": None, "data": (pointer, False), "typestr": self.dtype.str,
                    "version": 3}
        interface = dict(self.flat.__cuda_array_interface__)
        interface.update(shape=self.shape, strides=None)
        return interface

    def __array__(self, dtype=None, copy=None):
        raise TypeError("implicit host copy of a cuda array; call to_host() (or Tensor.numpy()) explicitly")

    def copy_to_host(self):
        return self.flat.copy_to_host().reshape(self.shape)

    def reshape(self, *shape):
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = shape[0]
        return _function("shapes", "reshape")(self, shape)

    def astype(self, dtype, copy=True):
        return _function("creation", "astype")(self, dtype)

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __repr__(self):
        return f"CudaArray(shape={self.shape}, dtype={self.dtype})"

    def __bool__(self):
        raise TypeError("the truth value of a cuda array needs a host copy; call to_host() first")

    copy = _method("creation", "copy")
    __getitem__ = _method("indexing", "getitem")
    __setitem__ = _method("indexing", "setitem")
    __matmul__ = _method("linalg", "matmul")
    __add__, __radd__ = _method("ufuncs", "add"), _method("ufuncs", "add", reflected=True)
    __sub__, __rsub__ = _method("ufuncs", "subtract"), _method("ufuncs", "subtract", reflected=True)
    __mul__, __rmul__ = _method("ufuncs", "multiply"), _method("ufuncs", "multiply", reflected=True)
    __truediv__, __rtruediv__ = _method("ufuncs", "divide"), _method("ufuncs", "divide", reflected=True)
    __pow__, __rpow__ = _method("ufuncs", "power"), _method("ufuncs", "power", reflected=True)
    __neg__ = _method("ufuncs", "negative")
    __abs__ = _method("ufuncs", "abs")
    __lt__ = _method("ufuncs", "less")
    __le__ = _method("ufuncs", "less_equal")
    __gt__ = _method("ufuncs", "greater")
    __ge__ = _method("ufuncs", "greater_equal")
    __eq__ = _method("ufuncs", "equal")
    __ne__ = _method("ufuncs", "not_equal")
    __and__ = __rand__ = _method("ufuncs", "logical_and")
    __or__ = __ror__ = _method("ufuncs", "logical_or")
    __invert__ = _method("ufuncs", "logical_not")
    __hash__ = object.__hash__


ndarray = CudaArray


def as_shape(shape):
    """``shape`` (an int or a sequence of ints) as a tuple of ints."""
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(n) for n in shape)


def scalar(value, dtype):
    """A python/numpy scalar as a kernel argument of ``dtype``."""
    return dtype.type(value) if dtype.kind != "b" else bool(value)


def is_scalar(value):
    return not isinstance(value, CudaArray)


def c_strides(shape):
    """Element strides of a C-contiguous array of ``shape``."""
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= n
    return tuple(reversed(strides))


def broadcast_strides(shape, target):
    """Element strides that read an array of ``shape`` as ``target`` (0 on stretched or new dims)."""
    strides = c_strides(shape)
    lead = len(target) - len(shape)
    return tuple(0 if i < lead or shape[i - lead] == 1 else strides[i - lead] for i in range(len(target)))


def at_least_1d(shape, *strides):
    """(shape, *strides) with a 0-d shape read as one element, for the kernels' shape tuples."""
    if shape:
        return (shape,) + strides
    return ((1,),) + tuple((0,) for _ in strides)


def normalize_axes(axis, ndim):
    """Sorted non-negative axes of ``axis`` (None: all; an int or a sequence), numpy's AxisError when out of range."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    for ax in axes:
        if not -builtins.max(ndim, 1) <= ax < builtins.max(ndim, 1):
            raise np.exceptions.AxisError(ax, ndim)
    return tuple(sorted({int(ax) % builtins.max(ndim, 1) for ax in axes}))
