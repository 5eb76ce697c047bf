"""Max, average and adaptive-average 2-D pooling, forward and backward, as Numba parallel kernels (on the calling
thread alone below threads.PARALLEL_MIN elements, threads.launch).

Each thread owns whole (n, c) planes, so backward scatters never race. Max pooling keeps compact int32
in-plane indices (h * W + w, PyTorch's convention) for its backward. Same names and argument order as the
CUDA twin (backends/cuda/pool.py); ``kernel``, ``stride``, ``padding`` and ``dilation`` are (h, w) pairs.
"""
import functools

import numpy as np
from numba import njit, prange

from .. import window_shapes
from ..window_shapes import pool_output_size
from . import threads
from .window_max import max2x2_knockout, max2x2_scan

_avg_window = njit(inline="always")(window_shapes.avg_window)
_adaptive_window = njit(inline="always")(window_shapes.adaptive_window)


@njit(parallel=True, cache=True)
def _max_fwd(x, out, indices, kh, kw, sh, sw, ph, pw, dh, dw):
    planes, h, w = x.shape
    oh, ow = out.shape[1], out.shape[2]
    for p in prange(planes):
        for oy in range(oh):
            y0 = oy * sh - ph
            for ox in range(ow):
                x0 = ox * sw - pw
                best = -np.inf
                where = -1
                for i in range(kh):
                    y = y0 + i * dh
                    if y < 0 or y >= h:
                        continue
                    for j in range(kw):
                        c = x0 + j * dw
                        if c < 0 or c >= w:
                            continue
                        v = x[p, y, c]
                        if v > best or v != v or where < 0:
                            best = v
                            where = y * w + c
                            if v != v:
                                break
                    if best != best:
                        break
                out[p, oy, ox] = best
                indices[p, oy, ox] = where


@njit(parallel=True, cache=True)
def _max_fwd_2x2(x, out, indices):
    planes, h, w = x.shape
    oh, ow = out.shape[1], out.shape[2]
    for p in prange(planes):
        for oy in range(oh):
            y = 2 * oy
            for ox in range(ow):
                c = 2 * ox
                best = x[p, y, c]
                where = y * w + c
                v = x[p, y, c + 1]
                if v > best or v != v:
                    best, where = v, y * w + c + 1
                v = x[p, y + 1, c]
                if v > best or v != v:
                    best, where = v, (y + 1) * w + c
                v = x[p, y + 1, c + 1]
                if v > best or v != v:
                    best, where = v, (y + 1) * w + c + 1
                out[p, oy, ox] = best
                indices[p, oy, ox] = where


@njit(parallel=True, cache=True)
def _max_fwd_2x2_knockout(x, out, indices):
    """_max_fwd_2x2 by max2x2_knockout over 2-D row slices; a row holding a NaN is done again by max2x2_scan.
    Its comparisons do not mispredict where _max_fwd_2x2's stay scalar: 3.5x faster at 30x30 and 13x13 planes, 4x
    at 8x8, 2 threads of a Zen 3; slower where _max_fwd_2x2 vectorises, output rows of a multiple of 8 (16x16:
    0.69 against 0.39 ms)."""
    planes, h, w = x.shape
    oh, ow = out.shape[1], out.shape[2]
    for p in prange(planes):
        for oy in range(oh):
            r0, r1 = x[p, 2 * oy], x[p, 2 * oy + 1]
            values, where = out[p, oy], indices[p, oy]
            base = 2 * oy * w
            nan = False
            for ox in range(ow):
                a0, a1, a2, a3 = r0[2 * ox], r0[2 * ox + 1], r1[2 * ox], r1[2 * ox + 1]
                nan |= (a0 != a0) | (a1 != a1) | (a2 != a2) | (a3 != a3)
                values[ox], code = max2x2_knockout(a0, a1, a2, a3)
                where[ox] = base + 2 * ox + (code >> 1) * w + (code & 1)
            if nan:
                for ox in range(ow):
                    values[ox], code = max2x2_scan(r0[2 * ox], r0[2 * ox + 1], r1[2 * ox], r1[2 * ox + 1])
                    where[ox] = base + 2 * ox + (code >> 1) * w + (code & 1)


@njit(parallel=True, cache=True)
def _max_bwd(grad, indices, grad_x):
    """grad, indices: (planes, oh * ow); grad_x: (planes, h * w), written whole."""
    planes, outputs = grad.shape
    for p in prange(planes):
        grad_x[p] = 0
        for q in range(outputs):
            k = indices[p, q]
            if k >= 0:
                grad_x[p, k] += grad[p, q]


@njit(parallel=True, cache=True)
def _max_bwd_2x2(grad, indices, grad_x):
    """_max_bwd for 2x2 stride-2 windows: each window written once (gradient at its argmax, zeros elsewhere),
    so grad_x needs no zeroing pass; rows/columns no window covers (odd sizes) are zeroed, element by element (a
    row slice assigned per plane had made airbench94's (1024, 256, 7, 7) gradient 11.0 instead of 6.2 ms, its
    (1024, 64, 31, 31) one 32.3 instead of 18.9, 2 threads of a Zen 5 EPYC)."""
    planes, oh, ow = grad.shape
    h, w = grad_x.shape[1], grad_x.shape[2]
    for p in prange(planes):
        for oy in range(oh):
            for dy in range(2):
                y = 2 * oy + dy
                for ox in range(ow):
                    k = indices[p, oy, ox] - y * w - 2 * ox
                    g = grad[p, oy, ox]
                    grad_x[p, y, 2 * ox] = g if k == 0 else 0
                    grad_x[p, y, 2 * ox + 1] = g if k == 1 else 0
                for c in range(2 * ow, w):
                    grad_x[p, y, c] = 0
        for y in range(2 * oh, h):
            for c in range(w):
                grad_x[p, y, c] = 0


@njit(parallel=True, cache=True)
def _max_bwd_2x2_masks(grad, indices, grad_x):
    """_max_bwd_2x2 on integer views of the float bit patterns (``grad``, ``grad_x``), each value selected by a mask
    instead of a branch (those stay scalar and mispredict unless the output rows are a multiple of 16 values):
    2 threads of a Zen 3, float32, 4096x30x30 6.25 -> 1.56 ms, 8192x16x16 3.54 -> 1.13, 8192x24x24 8.0 -> 3.7;
    32x32 planes 2.4-3.0 against 2.9-3.4, so those keep _max_bwd_2x2."""
    planes, oh, ow = grad.shape
    h, w = grad_x.shape[1], grad_x.shape[2]
    zero = np.zeros(1, grad_x.dtype)[0]
    for p in prange(planes):
        for oy in range(oh):
            values, where = grad[p, oy], indices[p, oy]
            for dy in range(2):
                row = grad_x[p, 2 * oy + dy]
                start = (2 * oy + dy) * w
                for ox in range(ow):
                    k = where[ox] - start - 2 * ox
                    row[2 * ox] = values[ox] & (zero - (k == 0))
                    row[2 * ox + 1] = values[ox] & (zero - (k == 1))
                for c in range(2 * ow, w):
                    row[c] = zero
        for y in range(2 * oh, h):
            for c in range(w):
                grad_x[p, y, c] = zero


@njit(parallel=True, cache=True)
def _window_mean(x, out, rows, cols, backward):
    """Mean over windows given per axis as (start, stop, divisor-factor) rows of ``rows``/``cols``.

    Forward: out[p, i, j] = sum of x[p] over the window / (rows[i, 2] * cols[j, 2]).
    Backward (x is the output gradient): out[p] = each gradient spread back over its window.
    """
    planes = x.shape[0]
    for p in prange(planes):
        if backward:
            out[p] = 0
        for i in range(rows.shape[0]):
            for j in range(cols.shape[0]):
                count = rows[i, 2] * cols[j, 2]
                if backward:
                    share = x[p, i, j] / count
                    for y in range(rows[i, 0], rows[i, 1]):
                        for c in range(cols[j, 0], cols[j, 1]):
                            out[p, y, c] += share
                else:
                    total = 0.0
                    for y in range(rows[i, 0], rows[i, 1]):
                        for c in range(cols[j, 0], cols[j, 1]):
                            total += x[p, y, c]
                    out[p, i, j] = total / count


@njit(parallel=True, cache=True, fastmath={"reassoc"})
def _plane_means(x, out):
    """out[p] = mean of row p of x (planes, elements), summed in float64 with reassociation (SIMD lanes)."""
    count = x.shape[1]
    for p in prange(x.shape[0]):
        total = 0.0
        for k in range(count):
            total += x[p, k]
        out[p] = total / count


@njit(parallel=True, cache=True)
def _fill_planes(values, out, scale):
    """out[p, :] = values[p] * scale: global average pooling's gradient."""
    for p in prange(out.shape[0]):
        share = values[p] * scale
        for k in range(out.shape[1]):
            out[p, k] = share


@njit(parallel=True, cache=True)
def _mean_2x2(x, out, backward):
    """_window_mean's fast path for 2x2 stride-2 unpadded windows (out of the forward is x's half size)."""
    planes = x.shape[0]
    oh, ow = (x.shape[1], x.shape[2]) if backward else (out.shape[1], out.shape[2])
    for p in prange(planes):
        for i in range(oh):
            for j in range(ow):
                if backward:
                    share = x[p, i, j] * 0.25
                    out[p, 2 * i, 2 * j] = share
                    out[p, 2 * i, 2 * j + 1] = share
                    out[p, 2 * i + 1, 2 * j] = share
                    out[p, 2 * i + 1, 2 * j + 1] = share
                else:
                    out[p, i, j] = (x[p, 2 * i, 2 * j] + x[p, 2 * i, 2 * j + 1]
                                    + x[p, 2 * i + 1, 2 * j] + x[p, 2 * i + 1, 2 * j + 1]) * 0.25


@njit(cache=True)
def _avg_windows(out, size, kernel, stride, padding, count_include_pad):
    """(start, stop, count) rows per output position of one axis, PyTorch's avg_pool2d rules."""
    table = np.empty((out, 3), np.int64)
    for i in range(out):
        table[i, 0], table[i, 1], table[i, 2] = _avg_window(i, size, kernel, stride, padding, count_include_pad)
    return table


@njit(cache=True)
def _adaptive_windows(size, out):
    """(start, stop, count) rows per output position of one axis, PyTorch's adaptive_avg_pool2d rules."""
    table = np.empty((out, 3), np.int64)
    for i in range(out):
        table[i, 0], table[i, 1], table[i, 2] = _adaptive_window(i, size, out)
    return table


def _avg_tables(shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
    oh = pool_output_size(shape[2], kernel[0], stride[0], padding[0], 1, ceil_mode)
    ow = pool_output_size(shape[3], kernel[1], stride[1], padding[1], 1, ceil_mode)
    rows = _avg_windows(oh, shape[2], kernel[0], stride[0], padding[0], bool(count_include_pad))
    cols = _avg_windows(ow, shape[3], kernel[1], stride[1], padding[1], bool(count_include_pad))
    if divisor_override:
        rows[:, 2], cols[:, 2] = divisor_override, 1
    return rows, cols


@functools.lru_cache(maxsize=256)
def _avg_plan(h, w, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
    """(rows, cols, whether they are the plain 2x2 windows) of avg_pool2d over an h x w map, built once per
    geometry (a training loop asks for the same ones every step; building them cost more than a small map's
    pooling); the cached tables are only read."""
    rows, cols = _avg_tables((0, 0, h, w), kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
    return rows, cols, _is_2x2(rows, cols, h, w)


@functools.lru_cache(maxsize=256)
def _adaptive_plan(h, w, oh, ow):
    """(rows, cols, whether they are the plain 2x2 windows) of adaptive_avg_pool2d from h x w to oh x ow."""
    rows, cols = _adaptive_windows(h, oh), _adaptive_windows(w, ow)
    return rows, cols, _is_2x2(rows, cols, h, w)


def _is_2x2(rows, cols, h, w):
    """Whether the (start, stop, count) tables are non-overlapping 2x2 windows at stride 2 from the corner."""
    return (len(rows) == h // 2 and len(cols) == w // 2 and len(rows) > 0 and len(cols) > 0
            and np.array_equal(rows, _pairs(len(rows))) and np.array_equal(cols, _pairs(len(cols))))


def _pairs(count):
    start = 2 * np.arange(count)
    return np.stack([start, start + 2, np.full(count, 2)], axis=1)


def _planes(array):
    n, c, h, w = array.shape
    return np.ascontiguousarray(array).reshape(n * c, h, w)


def max_pool2d_forward(x, kernel, stride, padding, dilation=(1, 1), ceil_mode=False):
    """(values, int32 flat in-plane argmax indices) of 2-D max pooling (torch.nn.functional.max_pool2d)."""
    n, c, h, w = x.shape
    oh = pool_output_size(h, kernel[0], stride[0], padding[0], dilation[0], ceil_mode)
    ow = pool_output_size(w, kernel[1], stride[1], padding[1], dilation[1], ceil_mode)
    out = np.empty((n * c, oh, ow), x.dtype)
    indices = np.empty((n * c, oh, ow), np.int32)
    if out.size:
        if kernel == stride == (2, 2) and padding == (0, 0) and dilation == (1, 1) and 2 * oh <= h and 2 * ow <= w:
            threads.launch(_max_fwd_2x2 if ow % 8 == 0 else _max_fwd_2x2_knockout, x.size, _planes(x), out, indices)
        else:
            threads.launch(_max_fwd, x.size, _planes(x), out, indices, *kernel, *stride, *padding, *dilation)
    return out.reshape(n, c, oh, ow), indices.reshape(n, c, oh, ow)


def max_pool2d_backward(grad, indices, x_shape, disjoint_2x2=False):
    """Gradient of max pooling: each output gradient added at its window's argmax.

    ``disjoint_2x2``: the windows were 2x2 at stride 2 without padding or dilation (one write per element).
    """
    n, c, h, w = x_shape
    grad_x = np.empty((n * c, h * w), grad.dtype)
    planes = grad.shape[0] * grad.shape[1]
    grad = np.ascontiguousarray(grad)
    if disjoint_2x2 and grad.shape[3] % 16 == 0:
        threads.launch(_max_bwd_2x2, grad_x.size, grad.reshape(planes, *grad.shape[2:]),
                       indices.reshape(planes, *grad.shape[2:]), grad_x.reshape(planes, h, w))
    elif disjoint_2x2:
        bits = f"i{grad.dtype.itemsize}"  # the float's bit pattern as an integer of its width
        threads.launch(_max_bwd_2x2_masks, grad_x.size, grad.reshape(planes, *grad.shape[2:]).view(bits),
                       indices.reshape(planes, *grad.shape[2:]), grad_x.reshape(planes, h, w).view(bits))
    else:
        threads.launch(_max_bwd, grad_x.size, grad.reshape(planes, -1), indices.reshape(planes, -1), grad_x)
    return grad_x.reshape(x_shape)


def avg_pool2d_forward(x, kernel, stride, padding, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """2-D average pooling (torch.nn.functional.avg_pool2d)."""
    plan = _avg_plan(*x.shape[2:], tuple(kernel), tuple(stride), tuple(padding), bool(ceil_mode),
                     bool(count_include_pad), divisor_override)
    return _mean_forward(x, *plan)


def avg_pool2d_backward(grad, x_shape, kernel, stride, padding, ceil_mode=False, count_include_pad=True,
                        divisor_override=None):
    """Gradient of avg_pool2d_forward."""
    plan = _avg_plan(*x_shape[2:], tuple(kernel), tuple(stride), tuple(padding), bool(ceil_mode),
                     bool(count_include_pad), divisor_override)
    return _mean_backward(grad, x_shape, *plan)


def adaptive_avg_pool2d_forward(x, output_size):
    """Adaptive average pooling to ``output_size`` (oh, ow) (torch.nn.functional.adaptive_avg_pool2d).

    Global pooling (output 1x1) is a plain per-plane reduction, vectorised, instead of a one-window loop.
    """
    n, c, h, w = x.shape
    if tuple(output_size) == (1, 1):
        out = np.empty(n * c, x.dtype)
        threads.launch(_plane_means, x.size, _planes(x).reshape(n * c, h * w), out)
        return out.reshape(n, c, 1, 1)
    return _mean_forward(x, *_adaptive_plan(h, w, *output_size))


def adaptive_avg_pool2d_backward(grad, x_shape):
    """Gradient of adaptive_avg_pool2d_forward."""
    n, c, h, w = x_shape
    if grad.shape[2:] == (1, 1):
        grad_x = np.empty((n * c, h * w), grad.dtype)
        threads.launch(_fill_planes, grad_x.size, np.ascontiguousarray(grad).reshape(n * c), grad_x, 1.0 / (h * w))
        return grad_x.reshape(x_shape)
    return _mean_backward(grad, x_shape, *_adaptive_plan(h, w, *grad.shape[2:]))


def _mean_forward(x, rows, cols, plain_2x2):
    n, c = x.shape[:2]
    out = np.empty((n * c, len(rows), len(cols)), x.dtype)
    if out.size:
        if plain_2x2:
            threads.launch(_mean_2x2, x.size, _planes(x), out, False)
        else:
            threads.launch(_window_mean, x.size, _planes(x), out, rows, cols, False)
    return out.reshape(n, c, len(rows), len(cols))


def _mean_backward(grad, x_shape, rows, cols, plain_2x2):
    n, c, h, w = x_shape
    if plain_2x2:
        grad_x = np.zeros((n * c, h, w), grad.dtype) if h % 2 or w % 2 else np.empty((n * c, h, w), grad.dtype)
        threads.launch(_mean_2x2, grad_x.size, _planes(grad), grad_x, True)
    else:
        grad_x = np.empty((n * c, h, w), grad.dtype)
        threads.launch(_window_mean, grad_x.size, _planes(grad), grad_x, rows, cols, True)
    return grad_x.reshape(x_shape)
