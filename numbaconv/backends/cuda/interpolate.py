"""Upsampling on the GPU (torch.nn.functional.interpolate, nearest and bilinear): the CUDA twin of
backends/cpu/interpolate.py. One thread per output element gathers forward; backward scatters with atomic adds
(so float sums may round in a different order from run to run, as PyTorch's CUDA upsampling backward does).
The per-axis tables (backends/interpolate_rules.py) are uploaded once per geometry.
"""
import functools

from ..interpolate_rules import axis_table
from .array_api import ascontiguousarray, empty, zeros
from .launch import THREADS, blocks, cached, cuda


@functools.lru_cache(maxsize=256)
def _device_table(in_size, out_size, scale, mode, align_corners, dtype):
    index, weight = axis_table(in_size, out_size, scale, mode, align_corners, dtype)
    return cuda.to_device(index), cuda.to_device(weight)


def _tables(in_hw, out_hw, scales, mode, align_corners, dtype):
    rows = _device_table(in_hw[0], out_hw[0], scales[0], mode, align_corners, dtype)
    cols = _device_table(in_hw[1], out_hw[1], scales[1], mode, align_corners, dtype)
    return (*rows, *cols)


@cached
def _kernels():
    @cuda.jit
    def forward(x, rows, row_w, cols, col_w, h, w, oh, ow, linear, out):
        k = cuda.grid(1)
        if k < out.size:
            j = k % ow
            i = (k // ow) % oh
            base = (k // (ow * oh)) * h * w
            r0, r1, a0, a1 = rows[0, i], rows[1, i], row_w[0, i], row_w[1, i]
            c0, c1, b0, b1 = cols[0, j], cols[1, j], col_w[0, j], col_w[1, j]
            if not linear:
                out[k] = x[base + r0 * w + c0]
                return
            out[k] = a0 * (b0 * x[base + r0 * w + c0] + b1 * x[base + r0 * w + c1]) + a1 * (
                b0 * x[base + r1 * w + c0] + b1 * x[base + r1 * w + c1])

    @cuda.jit
    def backward(grad, rows, row_w, cols, col_w, h, w, oh, ow, linear, out):
        k = cuda.grid(1)
        if k < grad.size:
            j = k % ow
            i = (k // ow) % oh
            base = (k // (ow * oh)) * h * w
            r0, r1, a0, a1 = rows[0, i], rows[1, i], row_w[0, i], row_w[1, i]
            c0, c1, b0, b1 = cols[0, j], cols[1, j], col_w[0, j], col_w[1, j]
            g = grad[k]
            if not linear:
                cuda.atomic.add(out, base + r0 * w + c0, g)
                return
            cuda.atomic.add(out, base + r0 * w + c0, a0 * b0 * g)
            cuda.atomic.add(out, base + r0 * w + c1, a0 * b1 * g)
            cuda.atomic.add(out, base + r1 * w + c0, a1 * b0 * g)
            cuda.atomic.add(out, base + r1 * w + c1, a1 * b1 * g)

    return forward, backward


def upsample_forward(x, size, scales, mode, align_corners):
    """x (n, c, h, w) resampled to ``size`` (oh, ow); ``scales`` the scale factors (or None each) that set torch's
    index arithmetic, ``mode`` 'nearest', 'nearest-exact' or 'bilinear'."""
    x = ascontiguousarray(x)
    n, c, h, w = x.shape
    oh, ow = size
    out = empty((n, c, oh, ow), x.dtype)
    if out.size:
        tables = _tables((h, w), size, scales, mode, align_corners, x.dtype)
        _kernels()[0][blocks(out.size), THREADS](x.flat, *tables, h, w, oh, ow, mode == "bilinear", out.flat)
    return out


def upsample_backward(grad, in_shape, scales, mode, align_corners):
    """The gradient of upsample_forward with respect to its input of ``in_shape`` (n, c, h, w)."""
    grad = ascontiguousarray(grad)
    n, c, h, w = in_shape
    oh, ow = grad.shape[2:]
    out = zeros(tuple(in_shape), grad.dtype)
    if grad.size and out.size:
        tables = _tables((h, w), (oh, ow), scales, mode, align_corners, grad.dtype)
        _kernels()[1][blocks(grad.size), THREADS](grad.flat, *tables, h, w, oh, ow, mode == "bilinear", out.flat)
    return out
