"""The CUDA array namespace: the names and signatures of backends/cpu/array_api.py on GPU arrays.

Arrays are ``CudaArray``: a flat, C-contiguous numba device array plus a shape. Reshape and leading-dim
slices are zero-copy views (they share memory, as in numpy); other views (transpose, broadcast_to, strided
slices) are materialised by one strided-copy kernel, so every kernel sees contiguous operands. CudaArray
carries the numpy operators the ops' backward rules use (``grad * b``, ``a > b``, ``1 - out``) and exposes
``__cuda_array_interface__`` for zero-copy exchange with PyTorch/CuPy.
"""
import builtins
import math

import numpy as np

from .. import is_basic_index
from . import elementwise as _ew
from . import gemm as _gemm
from . import reduce as _red
from .launch import SIMULATED, cuda, device_empty, keep_alive


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
            return {"shape": self.shape, "strides": None, "data": (pointer, False), "typestr": self.dtype.str, "version": 3}
        interface = dict(self.flat.__cuda_array_interface__)
        interface.update(shape=self.shape, strides=None)
        return interface

    def __array__(self, dtype=None, copy=None):
        raise TypeError("implicit host copy of a cuda array; call to_host() (or Tensor.numpy()) explicitly")

    def copy_to_host(self):
        return self.flat.copy_to_host().reshape(self.shape)

    def reshape(self, *shape):
        return reshape(self, shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape)

    def copy(self):
        return copy(self)

    def astype(self, dtype, copy=True):
        return astype(self, dtype)

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __getitem__(self, index):
        return getitem(self, index)

    def __setitem__(self, index, values):
        setitem(self, index, values)

    def __repr__(self):
        return f"CudaArray(shape={self.shape}, dtype={self.dtype})"

    def __bool__(self):
        raise TypeError("the truth value of a cuda array needs a host copy; call to_host() first")

    __add__ = lambda self, other: add(self, other)  # noqa: E731
    __radd__ = lambda self, other: add(other, self)  # noqa: E731
    __sub__ = lambda self, other: subtract(self, other)  # noqa: E731
    __rsub__ = lambda self, other: subtract(other, self)  # noqa: E731
    __mul__ = lambda self, other: multiply(self, other)  # noqa: E731
    __rmul__ = lambda self, other: multiply(other, self)  # noqa: E731
    __truediv__ = lambda self, other: divide(self, other)  # noqa: E731
    __rtruediv__ = lambda self, other: divide(other, self)  # noqa: E731
    __pow__ = lambda self, other: power(self, other)  # noqa: E731
    __rpow__ = lambda self, other: power(other, self)  # noqa: E731
    __matmul__ = lambda self, other: matmul(self, other)  # noqa: E731
    __neg__ = lambda self: negative(self)  # noqa: E731
    __abs__ = lambda self: abs(self)  # noqa: E731
    __lt__ = lambda self, other: less(self, other)  # noqa: E731
    __le__ = lambda self, other: less_equal(self, other)  # noqa: E731
    __gt__ = lambda self, other: greater(self, other)  # noqa: E731
    __ge__ = lambda self, other: greater_equal(self, other)  # noqa: E731
    __eq__ = lambda self, other: equal(self, other)  # noqa: E731
    __ne__ = lambda self, other: not_equal(self, other)  # noqa: E731
    __and__ = __rand__ = lambda self, other: _binary("logical_and", self, other, np.bool_)  # noqa: E731
    __or__ = __ror__ = lambda self, other: _binary("logical_or", self, other, np.bool_)  # noqa: E731
    __invert__ = lambda self: _unary("logical_not", self, np.bool_)  # noqa: E731
    __hash__ = object.__hash__


ndarray = CudaArray


# ---- allocation and host exchange --------------------------------------------------------------
def empty(shape, dtype=np.float64):
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(n) for n in shape)
    return CudaArray(device_empty((math.prod(shape),), dtype), shape)


def full(shape, fill_value, dtype=None):
    dtype = np.dtype(dtype) if dtype is not None else np.result_type(fill_value)
    out = empty(shape, dtype)
    _ew.fill(out.flat, _scalar(fill_value, dtype))
    return out


def zeros(shape, dtype=np.float64):
    return full(shape, 0, dtype)


def ones(shape, dtype=np.float64):
    return full(shape, 1, dtype)


def arange(start, stop=None, step=1, dtype=None):
    if stop is None:
        start, stop = 0, start
    dtype = np.dtype(dtype) if dtype is not None else np.result_type(start, stop, step)
    out = empty((builtins.max(0, math.ceil((stop - start) / step)),), dtype)
    _ew.arange(out.flat, _scalar(start, dtype), _scalar(step, dtype))
    return out


def asarray(data, dtype=None):
    """Host data, a CudaArray or any ``__cuda_array_interface__`` object as a CudaArray (host data is copied)."""
    if isinstance(data, CudaArray):
        return data if dtype is None else astype(data, dtype)
    if hasattr(data, "__cuda_array_interface__"):
        device = cuda.as_cuda_array(data)
        shape = device.shape
        array = CudaArray(device.reshape(math.prod(shape)) if device.is_c_contiguous() else None, shape)
        if array.flat is None:
            raise ValueError(f"asarray: only C-contiguous device arrays can be shared, got strides {device.strides}")
        return array if dtype is None else astype(array, dtype)
    host = np.ascontiguousarray(data, dtype=dtype)
    return CudaArray(cuda.to_device(host.reshape(-1)), host.shape)


def to_host(array):
    """The array as a numpy array (one device-to-host copy)."""
    return array.copy_to_host()


def copy(array):
    out = empty(array.shape, array.dtype)
    if array.size:
        out.flat.copy_to_device(array.flat)
    return out


def add_into(dst, src):
    """dst += src in place (how a leaf's ``.grad`` accumulates); the CPU twin's signature."""
    setitem(dst, Ellipsis, add(dst, src))


def astype(array, dtype):
    dtype = np.dtype(dtype)
    if dtype == array.dtype:
        return array
    out = empty(array.shape, dtype)
    _ew.gather(out.flat, array.flat, 0, (builtins.max(array.size, 1),), (1,))
    return out


def ascontiguousarray(array):
    return array


# ---- helpers -----------------------------------------------------------------------------------
def _scalar(value, dtype):
    return dtype.type(value) if dtype.kind != "b" else bool(value)


def _is_scalar(value):
    return not isinstance(value, CudaArray)


def _c_strides(shape):
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= n
    return tuple(reversed(strides))


def _broadcast_strides(shape, target):
    """Element strides that read an array of ``shape`` as ``target`` (0 on stretched or new dims)."""
    strides = _c_strides(shape)
    lead = len(target) - len(shape)
    return tuple(0 if i < lead or shape[i - lead] == 1 else strides[i - lead] for i in range(len(target)))


def _at_least_1d(shape, *strides):
    if shape:
        return (shape,) + strides
    return ((1,),) + tuple((0,) for _ in strides)


def _geometry(shape, index):
    """(shape, element strides, element offset) of ``array[index]`` for a basic index (numpy does the parsing)."""
    fake = np.lib.stride_tricks.as_strided(np.zeros(1, np.uint8), shape=shape, strides=_c_strides(shape))
    view = fake[index]
    offset = view.__array_interface__["data"][0] - fake.__array_interface__["data"][0]
    return view.shape, view.strides, offset


def _strided_copy(array, shape, strides, offset):
    """A contiguous copy of the strided view (shape, strides, offset) of ``array``; a free view when possible."""
    size = math.prod(shape)
    if all(s == c or n == 1 for s, c, n in zip(strides, _c_strides(shape), shape)):
        view = keep_alive(array.flat[offset : offset + size], array.flat) if size else device_empty((0,), array.dtype)
        return CudaArray(view, shape)
    out = empty(shape, array.dtype)
    if size:
        shape1, strides1 = _at_least_1d(shape, strides)
        _ew.gather(out.flat, array.flat, offset, shape1, strides1)
    return out


def _view(array, transform):
    fake = np.lib.stride_tricks.as_strided(np.zeros(1, np.uint8), shape=array.shape, strides=_c_strides(array.shape))
    view = transform(fake)
    offset = view.__array_interface__["data"][0] - fake.__array_interface__["data"][0]
    return _strided_copy(array, view.shape, view.strides, offset)


def _operand(value):
    if isinstance(value, np.ndarray):
        return asarray(value) if value.ndim else value[()]
    return value


# ---- elementwise -------------------------------------------------------------------------------
_COMPARISONS = {"equal", "not_equal", "less", "less_equal", "greater", "greater_equal"}


def _binary(name, a, b, dtype=None):
    a, b = _operand(a), _operand(b)
    if _is_scalar(a) and _is_scalar(b):
        return asarray(getattr(np, name)(a, b))
    da = a.dtype if isinstance(a, CudaArray) else a
    db = b.dtype if isinstance(b, CudaArray) else b
    if dtype is None:
        dtype = np.bool_ if name in _COMPARISONS else np.result_type(da, db)
        if name == "divide" and np.dtype(dtype).kind in "iub":
            dtype = np.float64
    dtype = np.dtype(dtype)
    compute = dtype if dtype.kind == "f" else np.result_type(da, db)
    if _is_scalar(b):
        out = empty(a.shape, dtype)
        _ew.binary_scalar_right(name, out.flat, a.flat, _scalar(b, compute))
        return out
    if _is_scalar(a):
        out = empty(b.shape, dtype)
        _ew.binary_scalar_left(name, out.flat, _scalar(a, compute), b.flat)
        return out
    if a.shape == b.shape:
        out = empty(a.shape, dtype)
        _ew.binary_flat(name, out.flat, a.flat, b.flat)
        return out
    shape = np.broadcast_shapes(a.shape, b.shape)
    out = empty(shape, dtype)
    if out.size:
        _ew.binary_strided(name, out.flat, a.flat, b.flat, *_at_least_1d(
            shape, _broadcast_strides(a.shape, shape), _broadcast_strides(b.shape, shape)))
    return out


def _make_binary(name):
    def op(a, b):
        return _binary(name, a, b)

    op.__name__ = name
    op.__doc__ = f"numpy.{name} with broadcasting, on the GPU."
    return op


add = _make_binary("add")
subtract = _make_binary("subtract")
multiply = _make_binary("multiply")
divide = _make_binary("divide")
power = _make_binary("power")
maximum = _make_binary("maximum")
minimum = _make_binary("minimum")
equal = _make_binary("equal")
not_equal = _make_binary("not_equal")
less = _make_binary("less")
less_equal = _make_binary("less_equal")
greater = _make_binary("greater")
greater_equal = _make_binary("greater_equal")


def _unary(name, a, dtype):
    out = empty(a.shape, dtype)
    _ew.unary(name, out.flat, a.flat)
    return out


def _float_of(a):
    return a.dtype if a.dtype.kind == "f" else np.dtype(np.float64)


def exp(a):
    return _unary("exp", a, _float_of(a))


def log(a):
    return _unary("log", a, _float_of(a))


def sqrt(a):
    return _unary("sqrt", a, _float_of(a))


def tanh(a):
    return _unary("tanh", a, _float_of(a))


def sigmoid(array):
    return _unary("sigmoid", array, _float_of(array))


def negative(a):
    return _unary("negative", a, a.dtype)


def abs(a):  # noqa: A001  (numpy's name)
    return _unary("abs", a, a.dtype)


def sign(a):
    return _unary("sign", a, a.dtype)


def relu(array):
    return _unary("relu", array, array.dtype)


def isfinite(a):
    return _unary("isfinite", a, np.bool_)


def clip(array, low, high):
    out = empty(array.shape, array.dtype)
    dtype = array.dtype
    _ew.clip(out.flat, array.flat, _scalar(0 if low is None else low, dtype), _scalar(0 if high is None else high, dtype),
             low is not None, high is not None)
    return out


def where(condition, a, b):
    condition, a, b = (_operand(v) for v in (condition, a, b))
    if _is_scalar(condition):
        condition = full((), bool(condition), np.bool_)
    da = a.dtype if isinstance(a, CudaArray) else a
    db = b.dtype if isinstance(b, CudaArray) else b
    dtype = np.result_type(da, db)
    a = a if isinstance(a, CudaArray) else full((), a, dtype)
    b = b if isinstance(b, CudaArray) else full((), b, dtype)
    shape = np.broadcast_shapes(condition.shape, a.shape, b.shape)
    out = empty(shape, dtype)
    if out.size:
        _ew.where(out.flat, condition.flat, a.flat, b.flat, *_at_least_1d(
            shape, *(_broadcast_strides(x.shape, shape) for x in (condition, a, b))))
    return out


# ---- reductions --------------------------------------------------------------------------------
def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    for ax in axes:
        if not -builtins.max(ndim, 1) <= ax < builtins.max(ndim, 1):
            raise np.exceptions.AxisError(ax, ndim)
    return tuple(sorted({int(ax) % builtins.max(ndim, 1) for ax in axes}))


def _reduce(op, a, axis, keepdims, dtype):
    axes = _axes(axis, a.ndim)
    strides = _c_strides(a.shape)
    kept = [i for i in range(a.ndim) if i not in axes]
    out_shape = tuple(1 if i in axes else n for i, n in enumerate(a.shape)) if keepdims else tuple(a.shape[i] for i in kept)
    count = math.prod(a.shape[i] for i in axes)
    if count == 0:
        if op != "sum":
            raise ValueError(f"zero-size array to reduction operation {op} which has no identity")
        return zeros(out_shape, dtype)
    out = empty(out_shape, dtype)
    if out.size:
        kept_shape, kept_strides = _at_least_1d(tuple(a.shape[i] for i in kept), tuple(strides[i] for i in kept))
        red_shape, red_strides = _at_least_1d(tuple(a.shape[i] for i in axes), tuple(strides[i] for i in axes))
        _red.reduce(op, out.flat, a.flat, kept_shape, kept_strides, red_shape, red_strides, count)
    return out


def sum(a, axis=None, keepdims=False, dtype=None):  # noqa: A001
    dtype = np.dtype(dtype) if dtype is not None else (np.dtype(np.int64) if a.dtype.kind in "biu" else a.dtype)
    return _reduce("sum", a, axis, keepdims, dtype)


def max(a, axis=None, keepdims=False):  # noqa: A001
    return _reduce("max", a, axis, keepdims, a.dtype)


def min(a, axis=None, keepdims=False):  # noqa: A001
    return _reduce("min", a, axis, keepdims, a.dtype)


def argmax(a, axis=None):
    if a.size == 0:
        raise ValueError("attempt to get argmax of an empty sequence")
    if axis is None:
        out = empty((), np.int64)
        _red.argmax(out.flat, a.flat, (1,), (0,), 1, a.size)
        return out
    (axis,) = _axes(axis, a.ndim)
    strides = _c_strides(a.shape)
    kept = [i for i in range(a.ndim) if i != axis]
    out = empty(tuple(a.shape[i] for i in kept), np.int64)
    kept_shape, kept_strides = _at_least_1d(tuple(a.shape[i] for i in kept), tuple(strides[i] for i in kept))
    _red.argmax(out.flat, a.flat, kept_shape, kept_strides, strides[axis], a.shape[axis])
    return out


# ---- shape and movement ------------------------------------------------------------------------
def reshape(array, shape):
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(n) for n in shape)
    if shape.count(-1) == 1:
        known = math.prod(n for n in shape if n != -1)
        if known == 0 or array.size % known:
            raise ValueError(f"cannot reshape array of size {array.size} into shape {shape}")
        shape = tuple(array.size // known if n == -1 else n for n in shape)
    if math.prod(shape) != array.size or any(n < 0 for n in shape):
        raise ValueError(f"cannot reshape array of size {array.size} into shape {shape}")
    return CudaArray(array.flat, shape)


def transpose(array, axes=None):
    return _view(array, lambda fake: fake.transpose(axes))


def swapaxes(array, axis1, axis2):
    return _view(array, lambda fake: np.swapaxes(fake, axis1, axis2))


def broadcast_to(array, shape):
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if tuple(array.shape) == shape:
        return array
    return _view(array, lambda fake: np.broadcast_to(fake, shape))


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


def getitem(array, index):
    if is_basic_index(index):
        return _strided_copy(array, *_geometry(array.shape, index))
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


def index_add(shape, dtype, index, values):
    """Zeros of ``shape`` with ``values`` added at ``index`` (repeated indices add up): gather's adjoint."""
    out = zeros(shape, dtype)
    if is_basic_index(index):
        setitem(out, index, values)
        return out
    values = _operand(values)
    rows, cols = _advanced(index, len(shape))
    if cols is None:
        values = broadcast_to(values, rows.shape + tuple(shape[1:]))
        _ew.put_add_rows(out.flat, rows.flat, shape[0], math.prod(shape[1:]), values.flat, values.size)
    else:
        count = math.prod(np.broadcast_shapes(rows.shape, cols.shape))
        _ew.put_add2d(out.flat, rows.flat, cols.flat, shape[1], values.flat, count)
    return out


def setitem(array, index, values):
    if not is_basic_index(index):
        raise NotImplementedError(f"cuda setitem supports basic indices only, got {index!r}")
    shape, strides, offset = _geometry(array.shape, index)
    count = math.prod(shape)
    if not count:
        return
    shape1, strides1 = _at_least_1d(shape, strides)
    values = _operand(values)
    if _is_scalar(values):
        _ew.scatter_scalar(array.flat, offset, shape1, strides1, _scalar(values, array.dtype), count)
        return
    try:
        src_strides = _broadcast_strides(values.shape, shape)
        np.broadcast_shapes(values.shape, shape)
    except ValueError as error:
        raise ValueError(f"could not broadcast input array from shape {values.shape} into shape {shape}") from error
    if values.shape != shape and np.broadcast_shapes(values.shape, shape) != tuple(shape):
        raise ValueError(f"could not broadcast input array from shape {values.shape} into shape {shape}")
    _ew.scatter(array.flat, offset, shape1, strides1, values.flat, _at_least_1d(shape, src_strides)[1], count)


def concatenate(arrays, axis=0):
    arrays = list(arrays)
    axis = _axes(axis, arrays[0].ndim)[0]
    shape = list(arrays[0].shape)
    shape[axis] = builtins.sum(a.shape[axis] for a in arrays)
    for a in arrays:
        if a.ndim != len(shape) or any(n != m for i, (n, m) in enumerate(zip(a.shape, shape)) if i != axis):
            raise ValueError(f"concatenate: shapes {[a.shape for a in arrays]} differ outside axis {axis}")
    dtype = np.result_type(*(a.dtype for a in arrays))
    out = empty(tuple(shape), dtype)
    start = 0
    for a in arrays:
        index = (slice(None),) * axis + (slice(start, start + a.shape[axis]),)
        setitem(out, index, a)
        start += a.shape[axis]
    return out


def stack(arrays, axis=0):
    arrays = list(arrays)
    axis = _axes(axis, arrays[0].ndim + 1)[0]
    return concatenate([reshape(a, a.shape[:axis] + (1,) + a.shape[axis:]) for a in arrays], axis)


def pad(array, pad_width, mode="constant", constant_values=0):
    if mode != "constant":
        raise NotImplementedError(f"pad: mode {mode!r} is not supported on cuda; only 'constant'")
    widths = [(int(lo), int(hi)) for lo, hi in pad_width]
    out = full(tuple(n + lo + hi for n, (lo, hi) in zip(array.shape, widths)), constant_values, array.dtype)
    setitem(out, tuple(slice(lo, lo + n) for n, (lo, _) in zip(array.shape, widths)), array)
    return out


# ---- matmul ------------------------------------------------------------------------------------
_dummy = {}


def dummy(dtype):
    """A one-element device array standing in for an absent kernel operand (no bias)."""
    dtype = np.dtype(dtype)
    if dtype not in _dummy:
        _dummy[dtype] = device_empty((1,), dtype)
    return _dummy[dtype]


def _batch_stride(array, batch, rows, cols):
    lead = array.shape[:-2]
    if lead == batch:
        return array, rows * cols
    if math.prod(lead) == 1:
        return array, 0
    return broadcast_to(array, batch + (rows, cols)), rows * cols


def matmul(a, b):
    """numpy.matmul on the GPU: tiled shared-memory GEMM over broadcast batches (torch.matmul)."""
    a2 = reshape(a, (1,) + a.shape) if a.ndim == 1 else a
    b2 = reshape(b, b.shape + (1,)) if b.ndim == 1 else b
    (M, K), (K2, N) = a2.shape[-2:], b2.shape[-2:]
    if K != K2:
        raise ValueError(f"matmul: inner dimensions differ: {a.shape} @ {b.shape}")
    batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    a2, stride_a = _batch_stride(a2, batch, M, K)
    b2, stride_b = _batch_stride(b2, batch, K, N)
    dtype = np.result_type(a.dtype, b.dtype)
    if a2.dtype != dtype:
        a2 = astype(a2, dtype)
    if b2.dtype != dtype:
        b2 = astype(b2, dtype)
    out = empty(batch + (M, N), dtype)
    if out.size:
        if K == 0:
            _ew.fill(out.flat, _scalar(0, dtype))
        else:
            p = _gemm.params((stride_a, K, 1, stride_b, N, 1, M * N, N, 1))
            _gemm.launch("matmul", out.flat, a2.flat, b2.flat, dummy(dtype), M, N, K, math.prod(batch), p)
    shape = out.shape
    if a.ndim == 1:
        shape = shape[:-2] + shape[-1:]
    if b.ndim == 1:
        shape = shape[:-1]
    return reshape(out, shape)


