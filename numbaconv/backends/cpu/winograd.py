"""Winograd F(4x4, 3x3) tile transforms for 3x3 stride-1 conv2d on the CPU (what oneDNN/cuDNN call Winograd).

Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks" (2015): a 4x4 output tile of a 3x3
cross-correlation is ``Y = A^T [(G g G^T) * (B^T d B)] A`` for its 6x6 input tile ``d``; summed over input
channels, the elementwise product becomes 36 GEMMs (one per tile position xi) of (tiles, cin) x (cin, cout),
4x fewer multiply-adds than the direct (im2col) GEMM. The backward passes are the adjoints of the same
linear maps: ``dM = A dY A^T``, grad input tiles ``B (dM U) B^T`` (overlapping tiles add up), grad of the
transformed weight ``dM^T V``, and grad weight ``G^T dU G``.

Layouts (per chunk of images, channels last so every transform's inner loop runs over contiguous channels):
input tiles ``v[t, xi, ci]``, products ``m[t, xi, co]``, with ``t = (b*tiles_h + th)*tiles_w + tw`` and
``xi = 6*r + s``; the GEMMs read them as (36, tiles, c) views with a leading dimension of 36*c. Tile-major, a
tile's 36 transformed vectors are one contiguous block: position-major (``v[xi, t, ci]``), they went to 36
streams a multiple of 4 KiB apart, and the transform of a tile ran 3-4x slower (19-25 against 5-7 ns per tile
and channel, L1-resident, Zen 3), for GEMMs that measured the same in both layouts. The transforms index flat
uint64 offsets (the ``_*_run`` helpers), which keeps their loops over channels free of wraparound checks.
Tile (th, tw) reads the padded channels-last input rows 4*th..4*th+5, columns 4*tw..4*tw+5.
Tile kernels are serial and release the GIL, like the rest of backends/cpu/conv.py's pipeline. The weight transform
(once per pass, outside the per-thread chunks) splits the output channels between Numba's threads (256x256: 0.49-0.68
ms instead of 0.70-1.02; below threads.PARALLEL_MIN values, threads.launch keeps it on one thread); the same split
gained the weight gradient's transform nothing, so that one stays serial.
"""
import numpy as np
from numba import njit, prange, uint64

from . import threads

TILE = 4
ALPHA = TILE + 2

B_T = np.array([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
                [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]], np.float64)
G = np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
              [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]], np.float64)
A_T = np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]], np.float64)


def _gain(m):
    """The most a 2-D transform ``m d m^T`` can grow max |d|: the largest row sum of |m|, squared."""
    return float(np.abs(m).sum(axis=1).max()) ** 2


# Bounds on |every intermediate| / (max |a| * max |b| * summed terms) of each pass, the transforms' gains
# multiplied (row sums of |B^T| up to 10, |A^T| 19, |G| 1; of their transposes 16, 15, 5/3): 36100, 230400 and
# 62500, where the direct sum's factors are 9, 9 and 1. Forward: terms = input channels, a = x, b = w.
# Grad input: terms = output channels, a = grad, b = w, and a pixel sums up to 4 overlapping tiles.
# Grad weight: terms = tiles, a = grad, b = x.
FORWARD_GAIN = _gain(B_T) * _gain(G) * _gain(A_T)
INPUT_GRAD_GAIN = 4 * _gain(A_T.T) * _gain(G) * _gain(B_T.T)
WEIGHT_GRAD_GAIN = _gain(A_T.T) * _gain(B_T) * _gain(G.T)


def tiles(size):
    """Number of 4-wide tiles covering ``size`` outputs."""
    return -(-size // TILE)


def transform_weight(w, inputs_first=False):
    """u[xi, co, ci] = (G w[co, ci] G^T)[xi] for a (cout, cin, 3, 3) weight; ``inputs_first``: u[xi, ci, co]
    instead, the forward GEMMs' right operand (BLAS reading the transpose in place ran them 1.6x slower: 36
    products of 16x256 by 256x256, one thread each of two of a Zen 4).
    The kernel reads the weight through a transposed view: a transposed copy first took longer than the
    transform (256x256, inputs first: 0.50 against 0.33 ms)."""
    order = (1, 2, 3, 0) if inputs_first else (0, 2, 3, 1)
    w_t = w.transpose(order)
    u = np.empty((ALPHA * ALPHA, w_t.shape[0], w_t.shape[3]), w.dtype)
    threads.launch(_transform_weight, u.size, w_t, G.astype(w.dtype), u)
    return u


def weight_grad(du):
    """grad w[co, ci] = G^T du[xi, co, ci] G (the adjoint of transform_weight)."""
    dw = np.empty((du.shape[1], 3, 3, du.shape[2]), du.dtype)
    _weight_grad(du, G.astype(du.dtype), dw)
    return np.ascontiguousarray(dw.transpose(0, 3, 1, 2))


@njit(parallel=True, cache=True, fastmath={"contract"})
def _transform_weight(w, g, u):
    """u[xi, o, i] from a weight view w[o, :, :, i] ((cout, 3, 3, cin) or (cin, 3, 3, cout), any strides), its taps
    gathered per ``o`` into a contiguous buffer first; ``o`` in parallel."""
    outer, inner = w.shape[0], w.shape[3]
    for o in prange(outer):
        taps = np.empty((3, 3, inner), u.dtype)
        for i in range(inner):
            for k in range(3):
                for j in range(3):
                    taps[k, j, i] = w[o, k, j, i]
        rows = np.empty((ALPHA, 3, inner), u.dtype)
        for a in range(ALPHA):
            for j in range(3):
                for i in range(inner):
                    rows[a, j, i] = g[a, 0] * taps[0, j, i] + g[a, 1] * taps[1, j, i] + g[a, 2] * taps[2, j, i]
        for a in range(ALPHA):
            for b in range(ALPHA):
                for i in range(inner):
                    u[a * ALPHA + b, o, i] = (rows[a, 0, i] * g[b, 0] + rows[a, 1, i] * g[b, 1]
                                              + rows[a, 2, i] * g[b, 2])


@njit(nogil=True, cache=True, fastmath={"contract"})
def _weight_grad(du, g, dw):
    """dw in (cout, 3, 3, cin) order."""
    cout, cin = dw.shape[0], dw.shape[3]
    rows = np.empty((ALPHA, 3, cin), dw.dtype)
    for co in range(cout):
        for a in range(ALPHA):
            for j in range(3):
                for ci in range(cin):
                    acc = du[a * ALPHA, co, ci] * g[0, j]
                    for b in range(1, ALPHA):
                        acc += du[a * ALPHA + b, co, ci] * g[b, j]
                    rows[a, j, ci] = acc
        for i in range(3):
            for j in range(3):
                for ci in range(cin):
                    acc = g[0, i] * rows[0, j, ci]
                    for a in range(1, ALPHA):
                        acc += g[a, i] * rows[a, j, ci]
                    dw[co, i, j, ci] = acc


@njit(inline="always")
def constants(a):
    """2, 4, 5 and 8 in ``a``'s dtype (integer literals would promote float32 arithmetic to float64)."""
    k = np.empty(4, a.dtype)
    k[0], k[1], k[2], k[3] = 2, 4, 5, 8
    return k[0], k[1], k[2], k[3]


@njit(inline="always")
def _bt(d0, d1, d2, d3, d4, d5, k):
    """B^T d for one 6-vector; ``k`` = constants."""
    k2, k4, k5 = k[0], k[1], k[2]
    return (k4 * d0 - k5 * d2 + d4, d3 + d4 - k4 * (d1 + d2), k4 * (d1 - d2) + d4 - d3,
            k2 * (d3 - d1) + d4 - d2, k2 * (d1 - d3) + d4 - d2, k4 * d1 - k5 * d3 + d5)


@njit(inline="always")
def _b(x0, x1, x2, x3, x4, x5, k):
    """B x for one 6-vector (the adjoint of _bt)."""
    k2, k4, k5 = k[0], k[1], k[2]
    return (k4 * x0, k4 * (x2 - x1) + k2 * (x4 - x3) + k4 * x5, -k5 * x0 - k4 * (x1 + x2) - x3 - x4,
            x1 - x2 + k2 * (x3 - x4) - k5 * x5, x0 + x1 + x2 + x3 + x4, x5)


@njit(inline="always")
def _at(m0, m1, m2, m3, m4, m5, k):
    """A^T m: a 6-vector to 4 outputs."""
    k2, k4, k8 = k[0], k[1], k[3]
    return (m0 + m1 + m2 + m3 + m4, m1 - m2 + k2 * (m3 - m4), m1 + m2 + k4 * (m3 + m4), m1 - m2 + k8 * (m3 - m4) + m5)


@njit(inline="always")
def _a(y0, y1, y2, y3, k):
    """A y: 4 values to a 6-vector (the adjoint of _at)."""
    k2, k4, k8 = k[0], k[1], k[3]
    return (y0, y0 + y1 + y2 + y3, y0 - y1 + y2 - y3, y0 + k2 * y1 + k4 * y2 + k8 * y3,
            y0 - k2 * y1 + k4 * y2 - k8 * y3, y3)


@njit(inline="always")
def _offsets(base, stride):
    """The six flat indices base + i*stride as uint64 (unsigned: no negative-index wraparound in the loops)."""
    return (uint64(base), uint64(base + stride), uint64(base + 2 * stride), uint64(base + 3 * stride),
            uint64(base + 4 * stride), uint64(base + 5 * stride))


@njit(inline="always")
def _bt_run(src, o, so, dst, p, sp, n, kc):
    """dst[p + i*sp + k] = (B^T d)[i] with d[j] = src[o + j*so + k], for k < n (flat arrays: the loop over k
    vectorises)."""
    o0, o1, o2, o3, o4, o5 = _offsets(o, so)
    p0, p1, p2, p3, p4, p5 = _offsets(p, sp)
    for k in range(uint64(n)):
        r = _bt(src[o0 + k], src[o1 + k], src[o2 + k], src[o3 + k], src[o4 + k], src[o5 + k], kc)
        dst[p0 + k], dst[p1 + k], dst[p2 + k] = r[0], r[1], r[2]
        dst[p3 + k], dst[p4 + k], dst[p5 + k] = r[3], r[4], r[5]


@njit(inline="always")
def _b_run(src, o, so, dst, p, sp, n, kc, add):
    """dst[p + i*sp + k] = (B d)[i] (``add``: +=) with d[j] = src[o + j*so + k], for k < n."""
    o0, o1, o2, o3, o4, o5 = _offsets(o, so)
    p0, p1, p2, p3, p4, p5 = _offsets(p, sp)
    for k in range(uint64(n)):
        r = _b(src[o0 + k], src[o1 + k], src[o2 + k], src[o3 + k], src[o4 + k], src[o5 + k], kc)
        if add:
            dst[p0 + k] += r[0]
            dst[p1 + k] += r[1]
            dst[p2 + k] += r[2]
            dst[p3 + k] += r[3]
            dst[p4 + k] += r[4]
            dst[p5 + k] += r[5]
        else:
            dst[p0 + k], dst[p1 + k], dst[p2 + k] = r[0], r[1], r[2]
            dst[p3 + k], dst[p4 + k], dst[p5 + k] = r[3], r[4], r[5]


@njit(inline="always")
def _at_run(src, o, so, dst, p, sp, n, kc):
    """dst[p + i*sp + k] = (A^T m)[i] (i < 4) with m[j] = src[o + j*so + k], for k < n."""
    o0, o1, o2, o3, o4, o5 = _offsets(o, so)
    p0, p1, p2, p3, _, _ = _offsets(p, sp)
    for k in range(uint64(n)):
        r = _at(src[o0 + k], src[o1 + k], src[o2 + k], src[o3 + k], src[o4 + k], src[o5 + k], kc)
        dst[p0 + k], dst[p1 + k], dst[p2 + k], dst[p3 + k] = r[0], r[1], r[2], r[3]


@njit(inline="always")
def _a_run(src, o, so, dst, p, sp, n, kc):
    """dst[p + i*sp + k] = (A y)[i] with y[j] = src[o + j*so + k] (j < 4), for k < n."""
    o0, o1, o2, o3, _, _ = _offsets(o, so)
    p0, p1, p2, p3, p4, p5 = _offsets(p, sp)
    for k in range(uint64(n)):
        r = _a(src[o0 + k], src[o1 + k], src[o2 + k], src[o3 + k], kc)
        dst[p0 + k], dst[p1 + k], dst[p2 + k] = r[0], r[1], r[2]
        dst[p3 + k], dst[p4 + k], dst[p5 + k] = r[3], r[4], r[5]


@njit(inline="always")
def output_row(src, t0, tiles_w, cout, tmp, dst, kc):
    """dst (as rows[i, x, co], TILE x tiles_w*TILE x cout) = the A^T m A of the row of tiles t0..t0+tiles_w-1 of
    the flat products ``src``, before the bias; ``tmp``: TILE*ALPHA*cout scratch."""
    width = tiles_w * TILE
    for tw in range(tiles_w):
        t = t0 + tw
        for s in range(ALPHA):
            _at_run(src, (t * ALPHA * ALPHA + s) * cout, ALPHA * cout, tmp, s * cout, ALPHA * cout, cout, kc)
        for i in range(TILE):
            _at_run(tmp, i * ALPHA * cout, cout, dst, (i * width + tw * TILE) * cout, cout, cout, kc)


@njit(inline="always")
def grad_row(src, t0, tiles_w, cout, tmp, dst, kc):
    """dst[t, xi, co] (flat) = (A dY A^T)[xi] for the row of tiles t0..t0+tiles_w-1, dY read from ``src`` (as
    rows[i, x, co], TILE x tiles_w*TILE x cout); ``tmp``: ALPHA*TILE*cout scratch."""
    width = tiles_w * TILE
    for tw in range(tiles_w):
        t = t0 + tw
        for j in range(TILE):
            _a_run(src, (tw * TILE + j) * cout, width * cout, tmp, j * cout, TILE * cout, cout, kc)
        for i in range(ALPHA):
            _a_run(tmp, i * TILE * cout, cout, dst, (t * ALPHA + i) * ALPHA * cout, cout, cout, kc)


@njit(nogil=True, cache=True, fastmath={"contract"})
def input_tiles(x, b0, b1, pt, pl, tiles_h, tiles_w, v):
    """v[t, xi, :] = (B^T d B)[xi] for every tile t of images b0..b1-1 of x (n, c, h, w), zero-padded by pt, pl.

    Each row of tiles first gathers its 6 padded input rows channels-last into ``rows`` (the last two are the
    next row of tiles' first two), so the transforms run over contiguous channels.
    """
    n, c, h, w = x.shape
    width = tiles_w * TILE + 2
    rows = np.empty((ALPHA, width, c), v.dtype)
    tmp = np.empty(ALPHA * ALPHA * c, v.dtype)
    src = rows.reshape(rows.size)
    dst = v.reshape(v.size)
    kc = constants(v)
    for b in range(b1 - b0):
        for th in range(tiles_h):
            first = 0
            if th > 0:
                rows[0] = rows[TILE]
                rows[1] = rows[TILE + 1]
                first = 2
            for i in range(first, ALPHA):
                ys = th * TILE + i - pt
                for xx in range(width):
                    xs = xx - pl
                    if 0 <= ys < h and 0 <= xs < w:
                        for k in range(c):
                            rows[i, xx, k] = x[b0 + b, k, ys, xs]
                    else:
                        for k in range(c):
                            rows[i, xx, k] = 0
            for tw in range(tiles_w):
                t = (b * tiles_h + th) * tiles_w + tw
                for s in range(ALPHA):
                    _bt_run(src, (tw * TILE + s) * c, width * c, tmp, s * c, ALPHA * c, c, kc)
                for i in range(ALPHA):
                    _bt_run(tmp, i * ALPHA * c, c, dst, (t * ALPHA + i) * ALPHA * c, c, c, kc)


@njit(nogil=True, cache=True, fastmath={"contract"})
def output_tiles(m, tiles_h, tiles_w, b0, bias, relu, out):
    """out[b0 + b, co, y, x] = (A^T m A)[...] + bias[co] (then ReLU) for the chunk's tiles; out is (n, cout, oh, ow).

    A row of tiles is first transformed into ``rows[i, x, co]`` (vector work over channels), then copied out
    along x (contiguous NCHW stores).
    """
    n, cout, oh, ow = out.shape
    chunk = m.shape[0] // (tiles_h * tiles_w)
    width = tiles_w * TILE
    tmp = np.empty(TILE * ALPHA * cout, m.dtype)
    rows = np.empty((TILE, width, cout), m.dtype)
    src = m.reshape(m.size)
    dst = rows.reshape(rows.size)
    kc = constants(m)
    for b in range(chunk):
        for th in range(tiles_h):
            output_row(src, (b * tiles_h + th) * tiles_w, tiles_w, cout, tmp, dst, kc)
            for k in range(cout):
                bk = bias[k]
                for i in range(min(TILE, oh - th * TILE)):
                    y = th * TILE + i
                    for x in range(ow):
                        value = rows[i, x, k] + bk
                        if relu and value < 0:
                            value = 0
                        out[b0 + b, k, y, x] = value


@njit(nogil=True, cache=True, fastmath={"contract"})
def grad_tiles(grad3, out3, b0, b1, relu, tiles_h, tiles_w, ow, dm, bias_sum):
    """dm[t, xi, co] = (A dY A^T)[xi] for the 4x4 tiles dY of grad3[b0:b1] (n, cout, oh*ow), zero where the
    fused ReLU's output ``out3`` <= 0 (not where it is NaN, as torch's threshold_backward) and beyond the image;
    bias_sum[co] += the masked gradient's sum, added up along the gathered rows, where the loop over channels
    vectorises (one float64 sum per channel along x had made the gather 1.6x slower)."""
    n, cout, length = grad3.shape
    oh = length // ow
    width = tiles_w * TILE
    rows = np.zeros((TILE, width, cout), dm.dtype)
    tmp = np.empty(ALPHA * TILE * cout, dm.dtype)
    src = rows.reshape(rows.size)
    dst = dm.reshape(dm.size)
    kc = constants(dm)
    zero = np.zeros(1, dm.dtype)[0]
    for b in range(b1 - b0):
        for th in range(tiles_h):
            height = min(TILE, oh - th * TILE)
            for i in range(TILE):
                if i < height:
                    base = (th * TILE + i) * ow
                    for k in range(cout):
                        for x in range(ow):
                            value = grad3[b0 + b, k, base + x]
                            if relu and out3[b0 + b, k, base + x] <= 0:
                                value = zero
                            rows[i, x, k] = value
                    for x in range(ow):
                        for k in range(cout):
                            bias_sum[k] += rows[i, x, k]
                else:
                    rows[i] = 0
            grad_row(src, (b * tiles_h + th) * tiles_w, tiles_w, cout, tmp, dst, kc)


@njit(nogil=True, cache=True, fastmath={"contract"})
def input_grad_tiles(dv, tiles_h, tiles_w, b0, pt, pl, grad_input):
    """grad_input[b0 + b] = the sum over tiles of B dv B^T (overlapping tiles add up), cropped by pt, pl.

    Each row of tiles accumulates into 6 padded channels-last rows; its first 4 are then complete and are
    written out along x (contiguous NCHW stores), the last 2 carry over to the next row of tiles.
    """
    n, c, h, w = grad_input.shape
    chunk = dv.shape[0] // (tiles_h * tiles_w)
    width = tiles_w * TILE + 2
    rows = np.empty((ALPHA, width, c), dv.dtype)
    tmp = np.empty(ALPHA * ALPHA * c, dv.dtype)
    src = dv.reshape(dv.size)
    acc = rows.reshape(rows.size)
    kc = constants(dv)
    for b in range(chunk):
        rows[:] = 0
        for th in range(tiles_h):
            for tw in range(tiles_w):
                t = (b * tiles_h + th) * tiles_w + tw
                for s in range(ALPHA):
                    _b_run(src, (t * ALPHA * ALPHA + s) * c, ALPHA * c, tmp, s * c, ALPHA * c, c, kc, False)
                for i in range(ALPHA):
                    _b_run(tmp, i * ALPHA * c, c, acc, (i * width + tw * TILE) * c, c, c, kc, True)
            for i in range(TILE):
                _store_row(rows[i], th * TILE + i - pt, pl, grad_input[b0 + b])
            rows[0] = rows[TILE]
            rows[1] = rows[TILE + 1]
            rows[2:] = 0
        for i in range(2):
            _store_row(rows[i], tiles_h * TILE + i - pt, pl, grad_input[b0 + b])


@njit(inline="always")
def _store_row(row, y, pl, image):
    """image[:, y, :] = row[pl:pl + w, :].T when 0 <= y < h (row is one padded channels-last row)."""
    c, h, w = image.shape
    if 0 <= y < h:
        for k in range(c):
            for x in range(w):
                image[k, y, x] = row[x + pl, k]
