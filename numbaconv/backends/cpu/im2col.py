"""im2col / col2im Numba kernels for NCHW convolution (the unfold / fold of torch.nn.functional).

Layout, for a chunk of images b0..b1-1: ``col[(c*kh + i)*kw + j, (n-b0)*L + oy*ow + ox] =
x[n, c, oy*sh - pt + i*dh, ox*sw - pl + j*dw]`` (zero outside the input), L = oh*ow. One GEMM
``w(cout, c*kh*kw) @ col`` then covers the chunk. The kernels are serial and release the GIL: each worker
thread of backends/cpu/conv.py fills, multiplies and folds its own cache-sized chunks (measured: a whole-batch
col was 3x slower to fill and to multiply; parallel-over-rows chunks bounced between the two cores' caches),
except for conv.py's pixel-major forward of wide maps, whose few pixels make one col for the whole batch.
Scratch buffers are per thread.
"""
import math
import threading

import numpy as np
from numba import njit, uint64

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


@njit(nogil=True, cache=True)
def im2col(x, b0, b1, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow, col):
    """Fill ``col`` (c*kh*kw, (b1-b0)*oh*ow) from images b0..b1-1 of ``x`` (torch.nn.functional.unfold).

    Each output row's valid run is copied through unsigned flat indices (Numba then skips the negative-index
    wraparound): 4x faster than through signed 4-D indices (3->32 at 32x32, one image: 27 -> 6 us).
    """
    n, c, h, w = x.shape
    length = oh * ow
    src = x.reshape(x.size)
    for row in range(c * kh * kw):
        ci = row // (kh * kw)
        i = (row // kw) % kh
        j = row % kw
        y_lo, y_hi = _valid_range(oh, sh, i * dh - pt, h)
        x_lo, x_hi = _valid_range(ow, sw, j * dw - pl, w)
        dst = col[row]
        step = uint64(sw)
        for b in range(b0, b1):
            for oy in range(oh):
                start = uint64((b - b0) * length + oy * ow)
                if oy < y_lo or oy >= y_hi:
                    for ox in range(uint64(ow)):
                        dst[start + ox] = 0
                    continue
                for ox in range(uint64(x_lo)):
                    dst[start + ox] = 0
                first = start + uint64(x_lo)
                s0 = uint64(((b * c + ci) * h + oy * sh - pt + i * dh) * w + x_lo * sw - pl + j * dw)
                for k in range(uint64(x_hi - x_lo)):
                    dst[first + k] = src[s0 + k * step]
                for ox in range(uint64(x_hi), uint64(ow)):
                    dst[start + ox] = 0


@njit(nogil=True, cache=True)
def col2im(col, b0, b1, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow, out):
    """Overwrite images b0..b1-1 of ``out`` (n, c, h, w) with the sums of ``col`` (torch.nn.functional.fold);
    unsigned flat indices, as in :func:`im2col`."""
    n, c, h, w = out.shape
    length = oh * ow
    dst = out.reshape(out.size)
    step = uint64(sw)
    for ci in range(c):
        for b in range(b0, b1):
            out[b, ci] = 0
        for i in range(kh):
            y_lo, y_hi = _valid_range(oh, sh, i * dh - pt, h)
            for j in range(kw):
                src = col[(ci * kh + i) * kw + j]
                x_lo, x_hi = _valid_range(ow, sw, j * dw - pl, w)
                for b in range(b0, b1):
                    for oy in range(y_lo, y_hi):
                        first = uint64((b - b0) * length + oy * ow + x_lo)
                        d0 = uint64(((b * c + ci) * h + oy * sh - pt + i * dh) * w + x_lo * sw - pl + j * dw)
                        for k in range(uint64(x_hi - x_lo)):
                            dst[d0 + k * step] += src[first + k]
