"""Broadcasting elementwise kernels (torch.add, torch.exp, torch.where, ...): flat, scalar and strided forms.

Shapes and element strides travel as tuple kernel arguments, so launches copy nothing from the host.
"""
import math

from .launch import THREADS, blocks, cached, cuda, device


def strided_offset(i, shape, strides, base):
    """``base`` plus the offset through element ``strides`` of the i-th element, in C order, of ``shape``."""
    for d in range(len(shape) - 1, -1, -1):
        n = shape[d]
        base += (i % n) * strides[d]
        i //= n
    return base


def strided_offsets(i, shape, strides_a, strides_b):
    """strided_offset of the i-th element of ``shape`` through two stride tuples at once (one index decode)."""
    off_a = 0
    off_b = 0
    for d in range(len(shape) - 1, -1, -1):
        n = shape[d]
        k = i % n
        i //= n
        off_a += k * strides_a[d]
        off_b += k * strides_b[d]
    return off_a, off_b


def _add(x, y):
    return x + y


def _subtract(x, y):
    return x - y


def _multiply(x, y):
    return x * y


def _divide(x, y):
    return x / y


def _floor_divide(x, y):
    return x // y


def _remainder(x, y):
    return x % y


def _power(x, y):
    return x**y


def _maximum(x, y):
    return x if (x > y or x != x) else y


def _minimum(x, y):
    return x if (x < y or x != x) else y


def _equal(x, y):
    return x == y


def _not_equal(x, y):
    return x != y


def _less(x, y):
    return x < y


def _less_equal(x, y):
    return x <= y


def _greater(x, y):
    return x > y


def _greater_equal(x, y):
    return x >= y


def _logical_and(x, y):
    return bool(x) and bool(y)


def _logical_or(x, y):
    return bool(x) or bool(y)


def _logical_xor(x, y):
    return bool(x) != bool(y)


BINARY = {
    f.__name__[1:]: f
    for f in (
        _add, _subtract, _multiply, _divide, _floor_divide, _remainder, _power, _maximum, _minimum, _equal,
        _not_equal, _less, _less_equal, _greater, _greater_equal, _logical_and, _logical_or, _logical_xor,
    )
}


def _negative(x):
    return -x


def _exp(x):
    return math.exp(x)


def _log(x):
    return math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan)


def _sqrt(x):
    return math.sqrt(x) if x >= 0 else math.nan


def _tanh(x):
    return math.tanh(x)


def _abs(x):
    return abs(x)


def _sign(x):
    if x > 0:
        return x * 0 + 1
    if x < 0:
        return x * 0 - 1
    return x


def _isfinite(x):
    return not (math.isinf(x) or math.isnan(x))


def _sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _relu(x):
    return x if x > 0 else x * 0


def _logical_not(x):
    return not x


UNARY = {
    f.__name__[1:]: f
    for f in (_negative, _exp, _log, _sqrt, _tanh, _abs, _sign, _isfinite, _sigmoid, _relu, _logical_not)
}


@cached
def _binary_kernels(name):
    fn = cuda.jit(device=True)(BINARY[name])

    @cuda.jit
    def flat(out, a, b):
        i = cuda.grid(1)
        if i < out.size:
            out[i] = fn(a[i], b[i])

    @cuda.jit
    def scalar_right(out, a, s):
        i = cuda.grid(1)
        if i < out.size:
            out[i] = fn(a[i], s)

    @cuda.jit
    def scalar_left(out, s, b):
        i = cuda.grid(1)
        if i < out.size:
            out[i] = fn(s, b[i])

    offsets = device(strided_offsets)

    @cuda.jit
    def strided(out, a, b, shape, stride_a, stride_b):
        i = cuda.grid(1)
        if i < out.size:
            off_a, off_b = offsets(i, shape, stride_a, stride_b)
            out[i] = fn(a[off_a], b[off_b])

    return flat, scalar_right, scalar_left, strided


@cached
def _unary_kernel(name):
    fn = cuda.jit(device=True)(UNARY[name])

    @cuda.jit
    def flat(out, a):
        i = cuda.grid(1)
        if i < out.size:
            out[i] = fn(a[i])

    return flat


def binary_flat(name, out, a, b):
    _binary_kernels(name)[0][blocks(out.size), THREADS](out, a, b)


def binary_scalar_right(name, out, a, s):
    _binary_kernels(name)[1][blocks(out.size), THREADS](out, a, s)


def binary_scalar_left(name, out, s, b):
    _binary_kernels(name)[2][blocks(out.size), THREADS](out, s, b)


def binary_strided(name, out, a, b, shape, stride_a, stride_b):
    _binary_kernels(name)[3][blocks(out.size), THREADS](out, a, b, shape, stride_a, stride_b)


def unary(name, out, a):
    _unary_kernel(name)[blocks(out.size), THREADS](out, a)


@cached
def _where_kernel():
    offset = device(strided_offset)
    offsets = device(strided_offsets)

    @cuda.jit
    def where(out, cond, a, b, shape, stride_c, stride_a, stride_b):
        i = cuda.grid(1)
        if i < out.size:
            oa, ob = offsets(i, shape, stride_a, stride_b)
            out[i] = a[oa] if cond[offset(i, shape, stride_c, 0)] else b[ob]

    return where


def where(out, cond, a, b, shape, stride_c, stride_a, stride_b):
    _where_kernel()[blocks(out.size), THREADS](out, cond, a, b, shape, stride_c, stride_a, stride_b)


@cached
def _clip_kernel():
    @cuda.jit
    def clip(out, a, low, high, has_low, has_high):
        i = cuda.grid(1)
        if i < out.size:
            x = a[i]
            if has_low and x < low:
                x = low
            if has_high and x > high:
                x = high
            out[i] = x

    return clip


def clip(out, a, low, high, has_low, has_high):
    _clip_kernel()[blocks(out.size), THREADS](out, a, low, high, has_low, has_high)


@cached
def _fill_kernel():
    @cuda.jit
    def fill(out, value):
        i = cuda.grid(1)
        if i < out.size:
            out[i] = value

    return fill


def fill(out, value):
    _fill_kernel()[blocks(out.size), THREADS](out, value)


@cached
def _arange_kernel():
    @cuda.jit
    def arange(out, start, step):
        i = cuda.grid(1)
        if i < out.size:
            out[i] = start + i * step

    return arange


def arange(out, start, step):
    _arange_kernel()[blocks(out.size), THREADS](out, start, step)


@cached
def _copy_kernels():
    at = device(strided_offset)
    offsets = device(strided_offsets)

    @cuda.jit
    def gather(out, src, offset, shape, strides):
        i = cuda.grid(1)
        if i < out.size:
            out[i] = src[at(i, shape, strides, offset)]

    @cuda.jit
    def scatter(dst, offset, shape, strides, src, src_strides, count):
        i = cuda.grid(1)
        if i < count:
            off, soff = offsets(i, shape, strides, src_strides)
            dst[offset + off] = src[soff]

    @cuda.jit
    def scatter_scalar(dst, offset, shape, strides, value, count):
        i = cuda.grid(1)
        if i < count:
            dst[at(i, shape, strides, offset)] = value

    return gather, scatter, scatter_scalar


def gather(out, src, offset, shape, strides):
    """out (flat, C order over ``shape``) = src[offset + index . strides]."""
    _copy_kernels()[0][blocks(out.size), THREADS](out, src, offset, shape, strides)


def scatter(dst, offset, shape, strides, src, src_strides, count):
    """dst[offset + index . strides] = src[index . src_strides] for every index of ``shape``."""
    _copy_kernels()[1][blocks(count), THREADS](dst, offset, shape, strides, src, src_strides, count)


def scatter_scalar(dst, offset, shape, strides, value, count):
    _copy_kernels()[2][blocks(count), THREADS](dst, offset, shape, strides, value, count)


@cached
def _take_kernels():
    @cuda.jit
    def take2d(out, src, rows, cols, ncols, row_len, col_len):
        i = cuda.grid(1)
        if i < out.size:
            r = rows[i % row_len]
            c = cols[i % col_len]
            if c < 0:
                c += ncols
            out[i] = src[r * ncols + c]

    @cuda.jit
    def put_add2d(dst, rows, cols, ncols, values, count, row_len, col_len, val_len):
        i = cuda.grid(1)
        if i < count:
            c = cols[i % col_len]
            if c < 0:
                c += ncols
            cuda.atomic.add(dst, rows[i % row_len] * ncols + c, values[i % val_len])

    @cuda.jit
    def take_rows(out, src, rows, nrows, row_size):
        i = cuda.grid(1)
        if i < out.size:
            r = rows[i // row_size]
            if r < 0:
                r += nrows
            out[i] = src[r * row_size + i % row_size]

    @cuda.jit
    def put_add_rows(dst, rows, nrows, row_size, values, count):
        i = cuda.grid(1)
        if i < count:
            r = rows[i // row_size]
            if r < 0:
                r += nrows
            cuda.atomic.add(dst, r * row_size + i % row_size, values[i])

    return take2d, put_add2d, take_rows, put_add_rows


def take2d(out, src, rows, cols, ncols):
    _take_kernels()[0][blocks(out.size), THREADS](out, src, rows, cols, ncols, rows.size, cols.size)


def put_add2d(dst, rows, cols, ncols, values, count):
    _take_kernels()[1][blocks(count), THREADS](dst, rows, cols, ncols, values, count, rows.size, cols.size, values.size)


def take_rows(out, src, rows, nrows, row_size):
    _take_kernels()[2][blocks(out.size), THREADS](out, src, rows, nrows, row_size)


def put_add_rows(dst, rows, nrows, row_size, values, count):
    _take_kernels()[3][blocks(count), THREADS](dst, rows, nrows, row_size, values, count)


@cached
def _along_kernels():
    at = device(strided_offset)
    offsets = device(strided_offsets)

    @cuda.jit
    def take_along(out, src, index, shape, src_strides, axis_stride):
        i = cuda.grid(1)
        if i < out.size:
            out[i] = src[at(i, shape, src_strides, 0) + index[i] * axis_stride]

    @cuda.jit
    def scatter_add_along(dst, index, values, shape, dst_strides, value_strides, axis_stride, count):
        i = cuda.grid(1)
        if i < count:
            off, voff = offsets(i, shape, dst_strides, value_strides)
            cuda.atomic.add(dst, off + index[i] * axis_stride, values[voff])

    return take_along, scatter_add_along


def take_along(out, src, index, shape, src_strides, axis_stride):
    """out[i] = src[i's offset through ``src_strides`` (0 on the axis) + index[i] * axis_stride] (torch.gather)."""
    _along_kernels()[0][blocks(out.size), THREADS](out, src, index, shape, src_strides, axis_stride)


def scatter_add_along(dst, index, values, shape, dst_strides, value_strides, axis_stride, count):
    """dst[i's offset (0 on the axis) + index[i] * axis_stride] += values[i's offset], atomically."""
    _along_kernels()[1][blocks(count), THREADS](dst, index, values, shape, dst_strides, value_strides, axis_stride,
                                                count)
