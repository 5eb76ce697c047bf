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
from numba import njit

from . import winograd
from .window_max import max2x2_knockout, max2x2_scan
from .winograd import TILE


@njit(inline="always")
def _pool_row(r0, r1, bias, out, where, zero):
    """out[px] = relu(the max of r0[2px:2px+2] and r1[2px:2px+2], + bias), where[px] = its code, for every window
    of the pair of rows (window_max.max2x2_knockout, which vectorises over 2-D row slices); returns whether a NaN was
    seen, in which case the caller takes :func:`_scan_row`."""
    nan = False
    for px in range(out.shape[0]):
        a0, a1 = r0[2 * px] + bias, r0[2 * px + 1] + bias
        a2, a3 = r1[2 * px] + bias, r1[2 * px + 1] + bias
        nan |= (a0 != a0) | (a1 != a1) | (a2 != a2) | (a3 != a3)
        best, code = max2x2_knockout(a0, a1, a2, a3)
        out[px] = zero if best < zero else best
        where[px] = code
    return nan


@njit(inline="always")
def _scan_row(r0, r1, bias, out, where, zero):
    """:func:`_pool_row` by max2x2_scan: the last NaN wins."""
    for px in range(out.shape[0]):
        best, code = max2x2_scan(r0[2 * px] + bias, r0[2 * px + 1] + bias, r1[2 * px] + bias,
                                      r1[2 * px + 1] + bias)
        out[px] = zero if best < zero else best
        where[px] = code


@njit(inline="always")
def _pool_rows(r0, r1, bias, out, where, zero):
    if _pool_row(r0, r1, bias, out, where, zero):
        _scan_row(r0, r1, bias, out, where, zero)


@njit(nogil=True, cache=True)
def from_maps(y, b0, bias, pooled, codes):
    """Pool relu(y[co, b, oy, ox] + bias[co]) into image b0 + b: ``y`` is the chunk's conv output as a (cout,
    chunk, oh, ow) view, whatever its memory order (the NCHW GEMM's (cout, pixels) rows, or the channels-last
    GEMM's (pixels, cout) rows transposed)."""
    zero = np.zeros(1, y.dtype)[0]
    for co in range(y.shape[0]):
        for b in range(y.shape[1]):
            for py in range(pooled.shape[2]):
                _pool_rows(y[co, b, 2 * py], y[co, b, 2 * py + 1], bias[co], pooled[b0 + b, co, py],
                           codes[b0 + b, co, py], zero)


@njit(nogil=True, cache=True, fastmath={"contract"})
def from_tiles(m, tiles_h, tiles_w, b0, bias, pooled, codes):
    """Pool relu(A^T m A + bias) of the chunk's Winograd tiles (backends/cpu/winograd.py) into images b0 + b: a
    4x4 tile holds 2x2 whole windows (tiles start at multiples of 4)."""
    cout, ph = pooled.shape[1], pooled.shape[2]
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
                for i in range(0, min(TILE, 2 * (ph - th * 2)), 2):
                    py = th * 2 + i // 2
                    _pool_rows(rows[i, :, k], rows[i + 1, :, k], bias[k], pooled[b0 + b, k, py],
                               codes[b0 + b, k, py], zero)


@njit(inline="always")
def _unpool_row(grad, pooled, codes, dy, out, zero, izero):
    """out[2px + dx] = grad[px] where codes[px] == 2*dy + dx and pooled[px] is > 0 or NaN, else +0, out[2*pw:] = +0,
    on integer views of the float bit patterns (``grad``, ``out``): selections by masks, which vectorise and
    never mispredict (branches on the codes did, 3-5x slower)."""
    pw = grad.shape[0]
    for px in range(pw):
        p = pooled[px]
        kept = grad[px] & (izero - ((p > zero) | (p != p)))
        code = codes[px] - 2 * dy
        out[2 * px] = kept & (izero - (code == 0))
        out[2 * px + 1] = kept & (izero - (code == 1))
    for x in range(2 * pw, out.shape[0]):
        out[x] = izero


def to_channel_rows(grad, pooled, codes, b0, b1, oh, ow, g, bias_sum):
    """g[co, (b-b0)*oh*ow + y*ow + x] = the conv's output gradient of images b0..b1-1 (the layout of conv.py's
    patch paths); bias_sum[co] += its sum. ``grad`` and ``g`` C-contiguous."""
    bits = f"i{g.dtype.itemsize}"  # the float's bit pattern as an integer of its width
    _to_channel_rows(grad.view(bits), pooled, codes, b0, b1, oh, ow, g.view(bits), g, bias_sum)


@njit(nogil=True, cache=True, fastmath={"reassoc", "nsz"})
def _to_channel_rows(grad, pooled, codes, b0, b1, oh, ow, g_bits, g, bias_sum):
    """``g_bits`` and ``g`` are two views of one buffer: each row is written through the first and summed through
    the second (Numba's arguments may alias, so the sum reads what was written)."""
    cout, ph = pooled.shape[1], pooled.shape[2]
    g4 = g.reshape(cout, b1 - b0, oh, ow)
    bits4 = g_bits.reshape(cout, b1 - b0, oh, ow)
    zero = np.zeros(1, g.dtype)[0]
    izero = np.zeros(1, g_bits.dtype)[0]
    for co in range(cout):
        acc = 0.0
        for b in range(b0, b1):
            for y in range(2 * ph):
                _unpool_row(grad[b, co, y // 2], pooled[b, co, y // 2], codes[b, co, y // 2], y % 2,
                            bits4[co, b - b0, y], zero, izero)
                row = g4[co, b - b0, y]
                for x in range(ow):
                    acc += row[x]
            for y in range(2 * ph, oh):
                bits4[co, b - b0, y] = izero
        bias_sum[co] += acc


def to_tiles(grad, pooled, codes, b0, b1, tiles_h, tiles_w, dm, bias_sum):
    """dm[t, xi, co] = (A dY A^T)[xi] for the 4x4 tiles dY of the conv's output gradient of images b0..b1-1 (as
    winograd.grad_tiles); bias_sum[co] += its sum. ``grad`` C-contiguous."""
    bits = f"i{dm.dtype.itemsize}"
    rows = np.zeros((TILE, tiles_w * TILE, pooled.shape[1]), dm.dtype)
    _to_tiles(grad.view(bits), pooled, codes, b0, b1, tiles_h, tiles_w, rows, rows.view(bits), dm, bias_sum)


@njit(nogil=True, cache=True, fastmath={"contract"})
def _to_tiles(grad, pooled, codes, b0, b1, tiles_h, tiles_w, rows, row_bits, dm, bias_sum):
    """``rows`` (TILE, tiles_w*TILE, cout), zeros, and ``row_bits`` its integer view: rows are written through
    the view and read through ``rows`` (Numba's arguments may alias, so the reads see the writes)."""
    cout, ph = pooled.shape[1], pooled.shape[2]
    tmp = np.empty(winograd.ALPHA * TILE * cout, dm.dtype)
    flat = rows.reshape(rows.size)
    dst = dm.reshape(dm.size)
    kc = winograd.constants(dm)
    zero = np.zeros(1, dm.dtype)[0]
    izero = np.zeros(1, row_bits.dtype)[0]
    for b in range(b0, b1):
        for th in range(tiles_h):
            for i in range(TILE):
                y = th * TILE + i
                if y >= 2 * ph:
                    rows[i] = 0
                    continue
                for k in range(cout):
                    _unpool_row(grad[b, k, y // 2], pooled[b, k, y // 2], codes[b, k, y // 2], y % 2,
                                row_bits[i, :, k], zero, izero)
                for x in range(rows.shape[1]):
                    for k in range(cout):
                        bias_sum[k] += rows[i, x, k]
            winograd.grad_row(flat, ((b - b0) * tiles_h + th) * tiles_w, tiles_w, cout, tmp, dst, kc)
