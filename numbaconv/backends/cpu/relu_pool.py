"""conv2d's fused ReLU + 2x2 stride-2 max pool on the CPU (torch's ``max_pool2d(relu(conv2d(...)), 2)``): the
epilogues that pool the conv's output as it leaves the GEMM or the Winograd tiles, and the gathers that rebuild
the conv's output gradient from the pooled one.

The conv's output is never written whole. Each epilogue reduces its 2x2 windows of conv + bias to their maximum and
a uint8 code, its position (2*dy + dx): the first maximum in row-major order, the last NaN where there is one (as
torch's and backends/cpu/pool.py's max pool). The ReLU comes after the maximum: it is monotone, so the pooled
values are the same, and the codes too wherever the maximum is > 0. A gather puts a window's gradient at its code's
position and zeros elsewhere, and zeros it where the pooled value is <= 0: the maximum of ReLU'd values is > 0
exactly when the ReLU passed the one at the argmax (not where it is NaN, as torch's threshold_backward). Rows and
columns no window covers (odd sizes) get zero gradient. ``pooled``, ``codes`` and ``grad`` are (n, cout, oh//2,
ow//2). Serial kernels that release the GIL, for the threads of backends/cpu/conv.py.
"""
import numpy as np
from numba import njit, uint64

from . import winograd
from .winograd import TILE


@njit(inline="always")
def _relu(v, zero):
    """max(v, 0), NaN kept; ``zero`` in v's dtype (an integer 0 would promote float32 to float64)."""
    return zero if v < zero else v


@njit(inline="always")
def _first_max(a, b, c, d):
    best, code = a, 0
    if b > best or b != b:
        best, code = b, 1
    if c > best or c != c:
        best, code = c, 2
    if d > best or d != d:
        best, code = d, 3
    return best, np.uint8(code)


@njit(inline="always")
def _max4(a0, a1, a2, a3):
    """(max, code) of a 2x2 window's values in row-major order: the first maximum, or the last NaN. A knockout
    of selects, without branches (the comparisons of a sequential scan mispredict on data like this: 3-4x
    slower), which keeps the first maximum; a window with a NaN takes the scan."""
    p1 = a1 > a0
    p3 = a3 > a2
    m01 = a1 if p1 else a0
    m23 = a3 if p3 else a2
    top = m23 > m01
    if (a0 != a0) | (a1 != a1) | (a2 != a2) | (a3 != a3):
        return _first_max(a0, a1, a2, a3)
    return m23 if top else m01, np.uint8(2 * top + p1 + top * (p3 - p1))


@njit(nogil=True, cache=True)
def from_channel_rows(y, b0, bias, oh, ow, pooled, codes):
    """Pool relu(y[co, b*oh*ow + oy*ow + ox] + bias[co]) into image b0 + b (the NCHW patch GEMM's output)."""
    cout, width = y.shape
    length = oh * ow
    ph, pw = pooled.shape[2], pooled.shape[3]
    src = y.reshape(y.size)
    values = pooled.reshape(pooled.size)
    where = codes.reshape(codes.size)
    zero = np.zeros(1, y.dtype)[0]
    for co in range(cout):
        bv = bias[co]
        for b in range(width // length):
            for py in range(ph):
                r0 = uint64(co * width + b * length + 2 * py * ow)
                r1 = r0 + uint64(ow)
                d = uint64((((b0 + b) * cout + co) * ph + py) * pw)
                for px in range(uint64(pw)):
                    q = 2 * px
                    best, code = _max4(src[r0 + q] + bv, src[r0 + q + 1] + bv,
                                       src[r1 + q] + bv, src[r1 + q + 1] + bv)
                    values[d + px] = _relu(best, zero)
                    where[d + px] = code


@njit(nogil=True, cache=True)
def from_pixel_rows(y, b0, bias, oh, ow, pooled, codes):
    """Pool relu(y[b*oh*ow + oy*ow + ox, co] + bias[co]) into image b0 + b (the channels-last GEMM's output)."""
    cout = y.shape[1]
    length = oh * ow
    ph, pw = pooled.shape[2], pooled.shape[3]
    zero = np.zeros(1, y.dtype)[0]
    for b in range(y.shape[0] // length):
        for co in range(cout):
            bv = bias[co]
            for py in range(ph):
                r = b * length + 2 * py * ow
                for px in range(pw):
                    q = r + 2 * px
                    best, code = _max4(y[q, co] + bv, y[q + 1, co] + bv,
                                       y[q + ow, co] + bv, y[q + ow + 1, co] + bv)
                    pooled[b0 + b, co, py, px] = _relu(best, zero)
                    codes[b0 + b, co, py, px] = code


@njit(nogil=True, cache=True, fastmath={"contract"})
def from_tiles(m, tiles_h, tiles_w, b0, bias, pooled, codes):
    """Pool relu(A^T m A + bias) of the chunk's Winograd tiles (backends/cpu/winograd.py) into images b0 + b: a
    4x4 tile holds 2x2 whole windows (tiles start at multiples of 4)."""
    cout, ph, pw = pooled.shape[1], pooled.shape[2], pooled.shape[3]
    chunk = m.shape[0] // (tiles_h * tiles_w)
    tmp = np.empty(TILE * winograd.ALPHA * cout, m.dtype)
    rows = np.empty((TILE, tiles_w * TILE, cout), m.dtype)
    src = m.reshape(m.size)
    dst = rows.reshape(rows.size)
    kc = winograd.constants(m)
    zero = np.zeros(1, m.dtype)[0]
    for b in range(chunk):
        for th in range(tiles_h):
            winograd.output_row(src, (b * tiles_h + th) * tiles_w, tiles_w, cout, tmp, dst, kc)
            for k in range(cout):
                bk = bias[k]
                for i in range(0, min(TILE, 2 * (ph - th * 2)), 2):
                    py = th * 2 + i // 2
                    for px in range(pw):
                        x = 2 * px
                        best, code = _max4(rows[i, x, k] + bk, rows[i, x + 1, k] + bk,
                                           rows[i + 1, x, k] + bk,
                                           rows[i + 1, x + 1, k] + bk)
                        pooled[b0 + b, k, py, px] = _relu(best, zero)
                        codes[b0 + b, k, py, px] = code


_BITS = {np.dtype(np.float32): np.int32, np.dtype(np.float64): np.int64}


@njit(inline="always")
def _kept_bits(grad_bits, pooled, i, zero, izero):
    """The bit pattern of gradient i where the pooled value is > 0 or NaN (the ReLU passed), else of +0."""
    p = pooled[i]
    return grad_bits[i] & (izero - ((p > zero) | (p != p)))


def to_channel_rows(grad, pooled, codes, b0, b1, oh, ow, g, bias_sum):
    """g[co, (b-b0)*oh*ow + y*ow + x] = the conv's output gradient of images b0..b1-1 (the layout of conv.py's
    patch paths); bias_sum[co] += its sum. ``grad`` and ``g`` C-contiguous.

    The selections are integer masks on the bit patterns (branches on the codes mispredict; float selects
    compiled to branches here): 2.5x faster at 64 channels of 32x32."""
    bits = _BITS[g.dtype]
    _to_channel_rows(grad.reshape(-1).view(bits), pooled.reshape(-1), codes.reshape(-1), pooled.shape, b0, b1,
                     oh, ow, g.reshape(-1).view(bits), g.reshape(-1), g.shape[1], bias_sum)


@njit(nogil=True, cache=True, fastmath={"reassoc", "nsz"})
def _to_channel_rows(src, pv, cd, shape, b0, b1, oh, ow, dst, values, width, bias_sum):
    cout, ph, pw = shape[1], shape[2], shape[3]
    length = oh * ow
    zero = np.zeros(1, pv.dtype)[0]
    izero = np.zeros(1, dst.dtype)[0]
    for co in range(cout):
        acc = 0.0
        for b in range(b0, b1):
            s = co * width + (b - b0) * length
            for py in range(ph):
                r0 = uint64(s + 2 * py * ow)
                r1 = r0 + uint64(ow)
                w0 = uint64(((b * cout + co) * ph + py) * pw)
                for px in range(uint64(pw)):
                    kept = _kept_bits(src, pv, w0 + px, zero, izero)
                    k = cd[w0 + px]
                    q = 2 * px
                    dst[r0 + q] = kept & (izero - (k == 0))
                    dst[r0 + q + 1] = kept & (izero - (k == 1))
                    dst[r1 + q] = kept & (izero - (k == 2))
                    dst[r1 + q + 1] = kept & (izero - (k == 3))
                for x in range(uint64(2 * pw)):
                    acc += values[r0 + x] + values[r1 + x]
                for x in range(uint64(2 * pw), uint64(ow)):
                    dst[r0 + x] = izero
                    dst[r1 + x] = izero
            for q in range(uint64(s + 2 * ph * ow), uint64(s + length)):
                dst[q] = izero
        bias_sum[co] += acc


def to_tiles(grad, pooled, codes, b0, b1, tiles_h, tiles_w, dm, bias_sum):
    """dm[t, xi, co] = (A dY A^T)[xi] for the 4x4 tiles dY of the conv's output gradient of images b0..b1-1 (as
    winograd.grad_tiles); bias_sum[co] += its sum. ``grad`` C-contiguous; masks as :func:`to_channel_rows`."""
    bits = _BITS[dm.dtype]
    rows = np.zeros((TILE, tiles_w * TILE, pooled.shape[1]), dm.dtype)
    _to_tiles(grad.reshape(-1).view(bits), pooled.reshape(-1), codes.reshape(-1), pooled.shape, b0, b1, tiles_h,
              tiles_w, rows, rows.reshape(-1).view(bits), dm, bias_sum)


@njit(nogil=True, cache=True, fastmath={"contract"})
def _to_tiles(src, pv, cd, shape, b0, b1, tiles_h, tiles_w, rows, row_bits, dm, bias_sum):
    """``rows`` (TILE, tiles_w*TILE, cout), zeros, and ``row_bits`` its integer view."""
    cout, ph, pw = shape[1], shape[2], shape[3]
    width = tiles_w * TILE
    tmp = np.empty(winograd.ALPHA * TILE * cout, dm.dtype)
    flat = rows.reshape(rows.size)
    dst = dm.reshape(dm.size)
    kc = winograd.constants(dm)
    zero = np.zeros(1, dm.dtype)[0]
    izero = np.zeros(1, row_bits.dtype)[0]
    for b in range(b0, b1):
        for th in range(tiles_h):
            for i in range(TILE):
                py = th * 2 + i // 2
                if py >= ph:
                    rows[i] = 0
                    continue
                dy = 2 * (i % 2)
                for k in range(cout):
                    w0 = uint64(((b * cout + k) * ph + py) * pw)
                    for px in range(uint64(pw)):
                        kept = _kept_bits(src, pv, w0 + px, zero, izero)
                        code = cd[w0 + px] - dy
                        o = uint64((i * width + 2 * px) * cout + k)
                        row_bits[o] = kept & (izero - (code == 0))
                        row_bits[o + uint64(cout)] = kept & (izero - (code == 1))
                    for x in range(2 * pw, width):
                        row_bits[uint64((i * width + x) * cout + k)] = izero
                for x in range(2 * pw):
                    for k in range(cout):
                        bias_sum[k] += rows[i, x, k]
            winograd.grad_row(flat, ((b - b0) * tiles_h + th) * tiles_w, tiles_w, cout, tmp, dst, kc)
