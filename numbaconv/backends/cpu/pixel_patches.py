"""Pixel-major patches in the weight's own (c, kh, kw) order, for convs with more weight than patches
(torch.nn.functional.unfold, transposed).

For a chunk of images b0..b1-1, ``col[(b-b0)*L + oy*ow + ox, (ci*kh + i)*kw + j] = x[b, ci, oy*sh - pt + i*dh,
ox*sw - pl + j*dw]`` (zero outside the input, L = oh*ow): the transpose of backends/cpu/im2col.py's layout, and
the rows of the channels-last path's (backends/cpu/patches.py) in another column order. One GEMM
``w.reshape(cout, -1) @ col.T`` reads the weight as it is, where the channels-last path first copies it into
(cout, kh, kw, c) order: at batch 1 that copy cost more than the patches (128->128 at 4x4: 52 us against 10 for
these patches, 2 threads of a Zen 3). The input is zero-padded into an NCHW scratch first (:func:`pad_nchw`), so
the copies need no bounds tests; indices are unsigned (Numba then skips the negative-index wraparound).
Kernels are serial and release the GIL; the threads of backends/cpu/conv.py run them on their own images.
"""
from numba import njit, uint64


@njit(nogil=True, cache=True)
def pad_nchw(x, b0, b1, pt, pl, xp):
    """xp[b-b0, c, pt + y, pl + x] = x[b, c, y, x]; the rest of ``xp`` is zero."""
    n, c, h, w = x.shape
    for b in range(b1 - b0):
        for ci in range(c):
            xp[b, ci] = 0
            xp[b, ci, pt:pt + h, pl:pl + w] = x[b0 + b, ci]


@njit(nogil=True, cache=True)
def im2col_pixels(xp, kh, kw, sh, sw, dh, dw, oh, ow, col):
    """Fill ``col`` (chunk*oh*ow, c*kh*kw) with the patches of the padded NCHW chunk ``xp``; a 3x3 undilated
    kernel copies its nine values per channel written out (1.7x faster than the loops over i and j)."""
    chunk, c, hp, wp = xp.shape
    src = xp.reshape(xp.size)
    dst = col.reshape(col.size)
    plane, row = uint64(hp * wp), uint64(wp)
    d = uint64(0)
    for b in range(chunk):
        for oy in range(oh):
            for ox in range(ow):
                s = uint64((b * c * hp + oy * sh) * wp + ox * sw)
                if kh == 3 and kw == 3 and dh == 1 and dw == 1:
                    for _ in range(c):
                        dst[d] = src[s]
                        dst[d + 1] = src[s + 1]
                        dst[d + 2] = src[s + 2]
                        dst[d + 3] = src[s + row]
                        dst[d + 4] = src[s + row + 1]
                        dst[d + 5] = src[s + row + 2]
                        dst[d + 6] = src[s + 2 * row]
                        dst[d + 7] = src[s + 2 * row + 1]
                        dst[d + 8] = src[s + 2 * row + 2]
                        d += uint64(9)
                        s += plane
                    continue
                for _ in range(c):
                    for i in range(uint64(kh)):
                        for j in range(uint64(kw)):
                            dst[d] = src[s + i * uint64(dh) * row + j * uint64(dw)]
                            d += uint64(1)
                    s += plane
