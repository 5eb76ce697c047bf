"""Channels-last patch kernels for conv2d on the CPU (torch.nn.functional.unfold / fold, NHWC order).

For a chunk of images b0..b1-1 the input is first copied into a zero-padded channels-last scratch
``xp[b-b0, y, x, c]`` (:func:`pad_nhwc`); each output pixel's patch is then a few contiguous runs of it:
``col[(b-b0)*L + oy*ow + ox, (i*kw + j)*c + ci] = xp[b-b0, oy*sh + i*dh, ox*sw + j*dw, ci]`` (L = oh*ow),
one run of kw*c values per kernel row when dw == 1. One GEMM ``col @ w2.T`` (w2 = weight in (cout, kh, kw, c)
order) gives the chunk's output as (pixels, cout), which :func:`bias_relu_from_rows` writes out as NCHW.
Measured on 64-channel 16x16 layers: the NCHW im2col spent its time in per-output-row loops of 16 values,
~10x slower than these copies of 64-192 values.
Kernels are serial and release the GIL; the threads of backends/cpu/conv.py run them on their own chunks.
"""
from numba import njit, uint64


@njit(nogil=True, cache=True)
def pad_nhwc(x, b0, b1, pt, pl, xp):
    """xp[b-b0, pt + y, pl + x, c] = x[b, c, y, x]; the rest of ``xp`` is zero.

    Written pixel by pixel with the channels innermost (strided loads, contiguous stores): 2-3x faster here
    than walking x's rows and storing with a stride of c.
    """
    n, c, h, w = x.shape
    hp, wp = xp.shape[1], xp.shape[2]
    for b in range(b1 - b0):
        for y in range(hp):
            for xx in range(wp):
                ys, xs = y - pt, xx - pl
                if 0 <= ys < h and 0 <= xs < w:
                    for ci in range(c):
                        xp[b, y, xx, ci] = x[b0 + b, ci, ys, xs]
                else:
                    for ci in range(c):
                        xp[b, y, xx, ci] = 0


@njit(nogil=True, cache=True)
def unpad_nchw(gp, b0, b1, pt, pl, out):
    """out[b, c, y, x] = gp[b-b0, pt + y, pl + x, c] (the inverse of pad_nhwc's copy)."""
    n, c, h, w = out.shape
    hp, wp = gp.shape[1], gp.shape[2]
    src = gp.reshape(gp.size)
    dst = out.reshape(out.size)
    for b in range(b1 - b0):
        for ci in range(c):
            for y in range(h):
                row = uint64(((b * hp + pt + y) * wp + pl) * c + ci)
                d0 = uint64((((b0 + b) * c + ci) * h + y) * w)
                for xx in range(uint64(w)):
                    dst[d0 + xx] = src[row + xx * c]


@njit(nogil=True, cache=True)
def im2col_nhwc(xp, kh, kw, sh, sw, dh, dw, oh, ow, col):
    """Fill ``col`` (chunk*oh*ow, kh*kw*c) with the patches of the padded channels-last chunk ``xp``."""
    chunk, hp, wp, c = xp.shape
    src = xp.reshape(xp.size)
    dst = col.reshape(col.size)
    k_size = col.shape[1]
    run = kw * c if dw == 1 else c
    runs = 1 if dw == 1 else kw
    for b in range(chunk):
        for oy in range(oh):
            for ox in range(ow):
                d0 = ((b * oh + oy) * ow + ox) * k_size
                for i in range(kh):
                    s0 = ((b * hp + oy * sh + i * dh) * wp + ox * sw) * c
                    for j in range(runs):
                        s = uint64(s0 + j * dw * c)
                        d = uint64(d0 + (i * kw + j) * c)
                        for k in range(uint64(run)):
                            dst[d + k] = src[s + k]


@njit(nogil=True, cache=True)
def col2im_nhwc(col, kh, kw, sh, sw, dh, dw, oh, ow, gp):
    """Overwrite the padded channels-last chunk ``gp`` with the sums of ``col``'s patches (fold, NHWC)."""
    chunk, hp, wp, c = gp.shape
    dst = gp.reshape(gp.size)
    src = col.reshape(col.size)
    dst[:] = 0
    k_size = col.shape[1]
    run = kw * c if dw == 1 else c
    runs = 1 if dw == 1 else kw
    for b in range(chunk):
        for oy in range(oh):
            for ox in range(ow):
                s0 = ((b * oh + oy) * ow + ox) * k_size
                for i in range(kh):
                    d0 = ((b * hp + oy * sh + i * dh) * wp + ox * sw) * c
                    for j in range(runs):
                        d = uint64(d0 + j * dw * c)
                        s = uint64(s0 + (i * kw + j) * c)
                        for k in range(uint64(run)):
                            dst[d + k] += src[s + k]


@njit(nogil=True, cache=True)
def bias_relu_from_rows(y, b0, bias, relu, out):
    """out[b0 + b, co, l] = y[b*L + l, co] + bias[co], then max(., 0) when ``relu`` (epilogue, pixels x cout)."""
    cout = y.shape[1]
    length = out.shape[2]
    src = y.reshape(y.size)
    dst = out.reshape(out.size)
    for b in range(y.shape[0] // length):
        for co in range(cout):
            bv = bias[co]
            d0 = uint64(((b0 + b) * cout + co) * length)
            s0 = uint64(b * length * cout + co)
            for k in range(uint64(length)):
                v = src[s0 + k * cout] + bv
                if relu and v < 0:
                    v = 0
                dst[d0 + k] = v
