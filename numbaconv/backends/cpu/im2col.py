"""im2col / col2im Numba kernels for NCHW convolution (the unfold / fold of torch.nn.functional).

Layout, for a chunk of images b0..b1-1: ``col[(c*kh + i)*kw + j, (n-b0)*L + oy*ow + ox] =
x[n, c, oy*sh - pt + i*dh, ox*sw - pl + j*dw]`` (zero outside the input), L = oh*ow. One GEMM
``w(cout, c*kh*kw) @ col`` then covers the chunk. The kernels are serial and release the GIL: each worker
thread of backends/cpu/conv.py fills, multiplies and folds its own cache-sized chunks (measured: a whole-batch
col was 3x slower to fill and to multiply; parallel-over-rows chunks bounced between the two cores' caches).
Scratch buffers are per thread.
"""
import math
import threading

import numpy as np
from numba import njit

_scratch = threading.local()


def scratch(name, shape, dtype):
    """A reusable buffer of ``shape``/``dtype`` for ``name`` (contents undefined); grows, never shrinks."""
    buffers = _scratch.__dict__
    size = math.prod(shape)
    key = (name, dtype)
    buffer = buffers.get(key)
    if buffer is None or buffer.size < size:
        buffer = np.empty(size, dtype)
        buffers[key] = buffer
    return buffer[:size].reshape(shape)


@njit(inline="always")
def _valid_range(o_size, stride, offset, size):
    """First and one-past-last output index o with 0 <= o*stride + offset < size."""
    lo = 0
    if offset < 0:
        lo = (-offset + stride - 1) // stride
    hi = 0
    if size - offset > 0:
        hi = (size - offset - 1) // stride + 1
    if hi > o_size:
        hi = o_size
    if lo > hi:
        lo = hi
    return lo, hi


@njit(inline="always")
def _fill_row_flat(x, ci, b0, b1, y_lo, y_hi, x_lo, x_hi, sh, y_off, x_off, oh, ow, dst):
    """One col row when output and input rows have the same width (stride 1 across): the valid rows of each
    image are one contiguous run of the flattened input plane, copied at once; the few columns that fell
    outside the input are then zeroed."""
    h = x.shape[2]
    plane = h * ow
    length = oh * ow
    for b in range(b0, b1):
        base = (b - b0) * length
        src = x[b, ci].reshape(plane)
        for k in range(base, base + y_lo * ow):
            dst[k] = 0
        for k in range(base + y_hi * ow, base + length):
            dst[k] = 0
        if y_hi <= y_lo:
            continue
        first = y_lo * ow
        shift = (y_lo * sh + y_off) * ow + x_off - first
        lo = max(first, -shift)
        hi = min(y_hi * ow, plane - shift)
        if sh == 1:
            for k in range(lo, hi):
                dst[base + k] = src[k + shift]
        else:
            for oy in range(y_lo, y_hi):
                row_shift = (oy * sh + y_off) * ow + x_off - oy * ow
                for k in range(oy * ow + x_lo, oy * ow + x_hi):
                    dst[base + k] = src[k + row_shift]
        for oy in range(y_lo, y_hi):
            for ox in range(x_lo):
                dst[base + oy * ow + ox] = 0
            for ox in range(x_hi, ow):
                dst[base + oy * ow + ox] = 0


@njit(nogil=True, cache=True)
def im2col(x, b0, b1, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow, col):
    """Fill ``col`` (c*kh*kw, (b1-b0)*oh*ow) from images b0..b1-1 of ``x`` (torch.nn.functional.unfold)."""
    n, c, h, w = x.shape
    length = oh * ow
    for row in range(c * kh * kw):
        ci = row // (kh * kw)
        i = (row // kw) % kh
        j = row % kw
        y_lo, y_hi = _valid_range(oh, sh, i * dh - pt, h)
        x_lo, x_hi = _valid_range(ow, sw, j * dw - pl, w)
        if sw == 1 and ow == w:
            _fill_row_flat(x, ci, b0, b1, y_lo, y_hi, x_lo, x_hi, sh, i * dh - pt, j * dw - pl, oh, ow, col[row])
            continue
        for b in range(b0, b1):
            base = (b - b0) * length
            for oy in range(oh):
                start = base + oy * ow
                if oy < y_lo or oy >= y_hi:
                    for ox in range(ow):
                        col[row, start + ox] = 0
                    continue
                iy = oy * sh - pt + i * dh
                for ox in range(x_lo):
                    col[row, start + ox] = 0
                for ox in range(x_lo, x_hi):
                    col[row, start + ox] = x[b, ci, iy, ox * sw - pl + j * dw]
                for ox in range(x_hi, ow):
                    col[row, start + ox] = 0


@njit(nogil=True, cache=True)
def col2im(col, b0, b1, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow, out):
    """Overwrite images b0..b1-1 of ``out`` (n, c, h, w) with the sums of ``col`` (torch.nn.functional.fold)."""
    n, c, h, w = out.shape
    length = oh * ow
    for ci in range(c):
        for b in range(b0, b1):
            out[b, ci] = 0
        for i in range(kh):
            y_lo, y_hi = _valid_range(oh, sh, i * dh - pt, h)
            for j in range(kw):
                row = (ci * kh + i) * kw + j
                x_lo, x_hi = _valid_range(ow, sw, j * dw - pl, w)
                for b in range(b0, b1):
                    base = (b - b0) * length
                    for oy in range(y_lo, y_hi):
                        start = base + oy * ow
                        iy = oy * sh - pt + i * dh
                        for ox in range(x_lo, x_hi):
                            out[b, ci, iy, ox * sw - pl + j * dw] += col[row, start + ox]
