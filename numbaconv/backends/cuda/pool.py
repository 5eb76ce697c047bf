"""Max, average and adaptive-average 2-D pooling, forward and backward, on the GPU (torch.nn.functional).

One thread per output element. Max pooling returns the flat in-plane index (h * W + w) of each window's
maximum, as PyTorch's ``return_indices``; its backward adds each gradient at that index (atomically, so
overlapping windows are right). ``kernel``, ``stride``, ``padding`` and ``dilation`` are (h, w) pairs.
"""
import numpy as np

from .. import window_shapes
from ..window_shapes import pool_output_size
from .array_api import ascontiguousarray, empty, zeros
from .launch import THREADS, blocks, cached, cuda


@cached
def _kernels():
    avg_window = cuda.jit(device=True)(window_shapes.avg_window)
    adaptive_window = cuda.jit(device=True)(window_shapes.adaptive_window)

    @cuda.jit(device=True)
    def position(i, oh, ow):
        """(plane, output row, output column) of flat output index i."""
        plane = i // (oh * ow)
        q = i - plane * (oh * ow)
        y = q // ow
        return plane, y, q - y * ow

    @cuda.jit(device=True)
    def window(i, h, w, oh, ow, adaptive, kh, kw, sh, sw, ph, pw, inclusive, divisor):
        """(plane, r0, r1, c0, c1, divisor) of output i's average window (avg_pool2d's or adaptive's rule)."""
        plane, y, xo = position(i, oh, ow)
        if adaptive:
            r0, r1, rows = adaptive_window(y, h, oh)
            c0, c1, cols = adaptive_window(xo, w, ow)
        else:
            r0, r1, rows = avg_window(y, h, kh, sh, ph, inclusive)
            c0, c1, cols = avg_window(xo, w, kw, sw, pw, inclusive)
        return plane, r0, r1, c0, c1, divisor if divisor > 0 else rows * cols

    @cuda.jit
    def max_fwd(x, out, indices, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw):
        i = cuda.grid(1)
        if i < out.size:
            plane, y, xo = position(i, oh, ow)
            best = x[0] * 0
            best_i = -1
            for a in range(kh):
                r = y * sh - ph + a * dh
                if r >= 0 and r < h:
                    for b in range(kw):
                        c = xo * sw - pw + b * dw
                        if c >= 0 and c < w:
                            v = x[plane * h * w + r * w + c]
                            if best_i < 0 or v > best or v != v:
                                best = v
                                best_i = r * w + c
            out[i] = best
            indices[i] = best_i

    @cuda.jit
    def max_bwd(grad, indices, grad_x, hw, ohw):
        i = cuda.grid(1)
        if i < grad.size:
            k = indices[i]
            if k >= 0:
                cuda.atomic.add(grad_x, (i // ohw) * hw + k, grad[i])

    @cuda.jit
    def mean_fwd(x, out, h, w, oh, ow, adaptive, kh, kw, sh, sw, ph, pw, inclusive, divisor):
        i = cuda.grid(1)
        if i < out.size:
            plane, r0, r1, c0, c1, count = window(i, h, w, oh, ow, adaptive, kh, kw, sh, sw, ph, pw, inclusive, divisor)
            acc = x[0] * 0
            for r in range(r0, r1):
                for c in range(c0, c1):
                    acc += x[plane * h * w + r * w + c]
            out[i] = acc / count

    @cuda.jit
    def mean_bwd(grad, grad_x, h, w, oh, ow, adaptive, kh, kw, sh, sw, ph, pw, inclusive, divisor):
        i = cuda.grid(1)
        if i < grad.size:
            plane, r0, r1, c0, c1, count = window(i, h, w, oh, ow, adaptive, kh, kw, sh, sw, ph, pw, inclusive, divisor)
            g = grad[i] / count
            for r in range(r0, r1):
                for c in range(c0, c1):
                    cuda.atomic.add(grad_x, plane * h * w + r * w + c, g)

    return max_fwd, max_bwd, mean_fwd, mean_bwd


def _mean_forward(x, oh, ow, window):
    """Average of x over each output's window; ``window`` is (adaptive, kh, kw, sh, sw, ph, pw, count_include_pad,
    divisor): adaptive_avg_pool2d's windows when ``adaptive``, else avg_pool2d's."""
    x = ascontiguousarray(x)
    n, c, h, w = x.shape
    out = empty((n, c, oh, ow), x.dtype)
    if out.size:
        _kernels()[2][blocks(out.size), THREADS](x.flat, out.flat, h, w, oh, ow, *window)
    return out


def _mean_backward(grad, x_shape, window):
    """Gradient of _mean_forward: each output gradient spread over its window (atomically: windows overlap)."""
    grad = ascontiguousarray(grad)
    grad_x = zeros(x_shape, grad.dtype)
    if grad.size:
        _kernels()[3][blocks(grad.size), THREADS](grad.flat, grad_x.flat, x_shape[2], x_shape[3], grad.shape[2],
                                                  grad.shape[3], *window)
    return grad_x


def _avg_params(kernel, stride, padding, count_include_pad, divisor_override):
    return (False, *kernel, *stride, *padding, bool(count_include_pad), int(divisor_override or 0))


_ADAPTIVE = (True, 0, 0, 1, 1, 0, 0, False, 0)


def max_pool2d_forward(x, kernel, stride, padding, dilation=(1, 1), ceil_mode=False):
    """(values, flat in-plane argmax indices) of 2-D max pooling (torch.nn.functional.max_pool2d)."""
    x = ascontiguousarray(x)
    n, c, h, w = x.shape
    oh = pool_output_size(h, kernel[0], stride[0], padding[0], dilation[0], ceil_mode)
    ow = pool_output_size(w, kernel[1], stride[1], padding[1], dilation[1], ceil_mode)
    out = empty((n, c, oh, ow), x.dtype)
    indices = empty((n, c, oh, ow), np.int64)
    if out.size:
        _kernels()[0][blocks(out.size), THREADS](x.flat, out.flat, indices.flat, h, w, oh, ow, kernel[0], kernel[1],
                                                 stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1])
    return out, indices


def max_pool2d_backward(grad, indices, x_shape, disjoint_2x2=False):
    """Gradient of max pooling: each output gradient added at its window's argmax (one thread per output, so
    ``disjoint_2x2``, the CPU twin's fast-path hint, changes nothing here)."""
    grad = ascontiguousarray(grad)
    grad_x = zeros(x_shape, grad.dtype)
    if grad.size:
        _kernels()[1][blocks(grad.size), THREADS](grad.flat, indices.flat, grad_x.flat, x_shape[2] * x_shape[3],
                                                  grad.shape[2] * grad.shape[3])
    return grad_x


def avg_pool2d_forward(x, kernel, stride, padding, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """2-D average pooling (torch.nn.functional.avg_pool2d)."""
    oh = pool_output_size(x.shape[2], kernel[0], stride[0], padding[0], 1, ceil_mode)
    ow = pool_output_size(x.shape[3], kernel[1], stride[1], padding[1], 1, ceil_mode)
    return _mean_forward(x, oh, ow, _avg_params(kernel, stride, padding, count_include_pad, divisor_override))


def avg_pool2d_backward(grad, x_shape, kernel, stride, padding, ceil_mode=False, count_include_pad=True,
                        divisor_override=None):
    """Gradient of avg_pool2d_forward."""
    return _mean_backward(grad, x_shape, _avg_params(kernel, stride, padding, count_include_pad, divisor_override))


def adaptive_avg_pool2d_forward(x, output_size):
    """Adaptive average pooling to ``output_size`` (oh, ow) (torch.nn.functional.adaptive_avg_pool2d)."""
    return _mean_forward(x, *output_size, _ADAPTIVE)


def adaptive_avg_pool2d_backward(grad, x_shape):
    """Gradient of adaptive_avg_pool2d_forward."""
    return _mean_backward(grad, x_shape, _ADAPTIVE)
