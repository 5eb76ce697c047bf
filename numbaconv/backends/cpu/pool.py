"""Max, average and adaptive-average 2-D pooling, forward and backward, as Numba parallel kernels.

Each thread owns whole (n, c) planes, so backward scatters never race. Max pooling keeps compact int32
in-plane indices (h * W + w, PyTorch's convention) for its backward. Same names and argument order as the
CUDA twin (backends/cuda/pool.py); ``kernel``, ``stride``, ``padding`` and ``dilation`` are (h, w) pairs.
"""
import numpy as np
from numba import njit, prange

from ..pool_shapes import pool_output_size


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
def _avg(x, out, kh, kw, sh, sw, ph, pw, include_pad, divisor, backward):
    """Forward: out = window means of x. Backward (x is the output gradient): out += spread of x."""
    planes = x.shape[0]
    h, w = (out.shape[1], out.shape[2]) if backward else (x.shape[1], x.shape[2])
    oh, ow = (x.shape[1], x.shape[2]) if backward else (out.shape[1], out.shape[2])
    for p in prange(planes):
        if backward:
            out[p] = 0
        for oy in range(oh):
            y0 = oy * sh - ph
            y1 = min(y0 + kh, h + ph)
            for ox in range(ow):
                x0 = ox * sw - pw
                x1 = min(x0 + kw, w + pw)
                count = (y1 - y0) * (x1 - x0)
                ya, yb, xa, xb = max(y0, 0), min(y1, h), max(x0, 0), min(x1, w)
                if divisor > 0:
                    count = divisor
                elif not include_pad:
                    count = (yb - ya) * (xb - xa)
                if backward:
                    share = x[p, oy, ox] / count
                    for y in range(ya, yb):
                        for c in range(xa, xb):
                            out[p, y, c] += share
                else:
                    total = 0.0
                    for y in range(ya, yb):
                        for c in range(xa, xb):
                            total += x[p, y, c]
                    out[p, oy, ox] = total / count


@njit(parallel=True, cache=True)
def _adaptive(x, out, backward):
    """Forward: out = adaptive window means of x. Backward (x is the output gradient): out = their spread."""
    planes = x.shape[0]
    h, w = (out.shape[1], out.shape[2]) if backward else (x.shape[1], x.shape[2])
    oh, ow = (x.shape[1], x.shape[2]) if backward else (out.shape[1], out.shape[2])
    for p in prange(planes):
        if backward:
            out[p] = 0
        for oy in range(oh):
            ya, yb = (oy * h) // oh, -((-(oy + 1) * h) // oh)
            for ox in range(ow):
                xa, xb = (ox * w) // ow, -((-(ox + 1) * w) // ow)
                count = (yb - ya) * (xb - xa)
                if backward:
                    share = x[p, oy, ox] / count
                    for y in range(ya, yb):
                        for c in range(xa, xb):
                            out[p, y, c] += share
                else:
                    total = 0.0
                    for y in range(ya, yb):
                        for c in range(xa, xb):
                            total += x[p, y, c]
                    out[p, oy, ox] = total / count


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
            _max_fwd_2x2(_planes(x), out, indices)
        else:
            _max_fwd(_planes(x), out, indices, *kernel, *stride, *padding, *dilation)
    return out.reshape(n, c, oh, ow), indices.reshape(n, c, oh, ow)


def max_pool2d_backward(grad, indices, x_shape):
    """Gradient of max pooling: each output gradient added at its window's argmax."""
    n, c, h, w = x_shape
    grad_x = np.empty((n * c, h * w), grad.dtype)
    planes = grad.shape[0] * grad.shape[1]
    _max_bwd(np.ascontiguousarray(grad).reshape(planes, -1), indices.reshape(planes, -1), grad_x)
    return grad_x.reshape(x_shape)


def avg_pool2d_forward(x, kernel, stride, padding, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """2-D average pooling (torch.nn.functional.avg_pool2d)."""
    n, c, h, w = x.shape
    oh = pool_output_size(h, kernel[0], stride[0], padding[0], 1, ceil_mode)
    ow = pool_output_size(w, kernel[1], stride[1], padding[1], 1, ceil_mode)
    out = np.empty((n * c, oh, ow), x.dtype)
    if out.size:
        _avg(_planes(x), out, *kernel, *stride, *padding, bool(count_include_pad), int(divisor_override or 0), False)
    return out.reshape(n, c, oh, ow)


def avg_pool2d_backward(grad, x_shape, kernel, stride, padding, ceil_mode=False, count_include_pad=True,
                        divisor_override=None):
    """Gradient of avg_pool2d_forward."""
    n, c, h, w = x_shape
    grad_x = np.empty((n * c, h, w), grad.dtype)
    _avg(_planes(grad), grad_x, *kernel, *stride, *padding, bool(count_include_pad), int(divisor_override or 0), True)
    return grad_x.reshape(x_shape)


def adaptive_avg_pool2d_forward(x, output_size):
    """Adaptive average pooling to ``output_size`` (oh, ow) (torch.nn.functional.adaptive_avg_pool2d)."""
    n, c, h, w = x.shape
    out = np.empty((n * c,) + tuple(output_size), x.dtype)
    if out.size:
        _adaptive(_planes(x), out, False)
    return out.reshape((n, c) + tuple(output_size))


def adaptive_avg_pool2d_backward(grad, x_shape):
    """Gradient of adaptive_avg_pool2d_forward."""
    n, c, h, w = x_shape
    grad_x = np.empty((n * c, h, w), grad.dtype)
    _adaptive(_planes(grad), grad_x, True)
    return grad_x.reshape(x_shape)
