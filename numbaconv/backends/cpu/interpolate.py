"""Upsampling on the CPU (torch.nn.functional.interpolate, nearest and bilinear): a gather through per-axis
tables (backends/interpolate_rules.py) forward, its scatter-add backward, the planes (n*c) split across threads.
The CUDA twin (backends/cuda/interpolate.py) has the same names and argument order.
"""
import numpy as np
from numba import njit, prange

from ..interpolate_rules import axis_table
from . import threads


@njit(parallel=True, cache=True)
def _forward(x, rows, row_w, cols, col_w, linear, out):
    planes, oh, ow = out.shape
    for p in prange(planes):
        for i in range(oh):
            r0, r1, a0, a1 = rows[0, i], rows[1, i], row_w[0, i], row_w[1, i]
            for j in range(ow):
                c0, c1, b0, b1 = cols[0, j], cols[1, j], col_w[0, j], col_w[1, j]
                if not linear:
                    out[p, i, j] = x[p, r0, c0]
                    continue
                out[p, i, j] = a0 * (b0 * x[p, r0, c0] + b1 * x[p, r0, c1]) + a1 * (b0 * x[p, r1, c0]
                                                                                      + b1 * x[p, r1, c1])


@njit(parallel=True, cache=True)
def _backward(grad, rows, row_w, cols, col_w, linear, out):
    planes, oh, ow = grad.shape
    for p in prange(planes):
        for i in range(oh):
            r0, r1, a0, a1 = rows[0, i], rows[1, i], row_w[0, i], row_w[1, i]
            for j in range(ow):
                c0, c1, b0, b1 = cols[0, j], cols[1, j], col_w[0, j], col_w[1, j]
                g = grad[p, i, j]
                if not linear:
                    out[p, r0, c0] += g
                    continue
                out[p, r0, c0] += a0 * b0 * g
                out[p, r0, c1] += a0 * b1 * g
                out[p, r1, c0] += a1 * b0 * g
                out[p, r1, c1] += a1 * b1 * g


def _tables(in_hw, out_hw, scales, mode, align_corners, dtype):
    rows = axis_table(in_hw[0], out_hw[0], scales[0], mode, align_corners, dtype)
    cols = axis_table(in_hw[1], out_hw[1], scales[1], mode, align_corners, dtype)
    return (*rows, *cols)


def upsample_forward(x, size, scales, mode, align_corners):
    """x (n, c, h, w) resampled to ``size`` (oh, ow); ``scales`` the scale factors (or None each) that set torch's
    index arithmetic, ``mode`` 'nearest', 'nearest-exact' or 'bilinear'."""
    n, c, h, w = x.shape
    out = np.empty((n, c) + tuple(size), x.dtype)
    if out.size:
        tables = _tables((h, w), size, scales, mode, align_corners, x.dtype)
        threads.launch(_forward, out.size, np.ascontiguousarray(x).reshape(n * c, h, w), *tables, mode == "bilinear",
                       out.reshape(n * c, *size))
    return out


def upsample_backward(grad, in_shape, scales, mode, align_corners):
    """The gradient of upsample_forward with respect to its input of ``in_shape`` (n, c, h, w)."""
    n, c, h, w = in_shape
    out = np.zeros(tuple(in_shape), grad.dtype)
    if grad.size and out.size:
        tables = _tables((h, w), grad.shape[2:], scales, mode, align_corners, grad.dtype)
        threads.launch(_backward, grad.size, np.ascontiguousarray(grad).reshape(n * c, *grad.shape[2:]), *tables,
                       mode == "bilinear", out.reshape(n * c, h, w))
    return out
