"""conv2d forward and backward for 3x3, stride-1, undilated, ungrouped convs through Winograd F(4x4, 3x3).

The same threading as backends/cpu/conv.py: the batch is split between the threads, each walks its images in
chunks whose transformed input and output tiles take about ``CHUNK_BYTES`` together, and per chunk runs the
serial Numba transforms of backends/cpu/winograd.py around one stacked single-threaded BLAS matmul (36
products, one per tile position): forward ``m = v @ u^T``; backward ``dv = dm @ u`` (grad input) and
``du += dm^T @ v`` (grad weight). Measured on the Torch-net layers and a 256-channel one (2 threads, fwd+bwd):
4 MB chunks 5-20 % faster than 1-2 MB, 8 MB slower on 64-channel layers. A chunk also holds at least
``MIN_CHUNK_TILES`` tiles (more bytes where the maps are small and the channels many): each of the 36 products
packs the (cin, cout) weight matrix anew inside OpenBLAS, which a product of few tile rows does not repay.
airbench94's layers at batch 1024, fwd+bwd, 2 threads of a Zen 5 EPYC, 4 MB alone -> at least 128 / 256 / 512
tiles: 256->256 at 7x7 552 -> 480 / 449 / 431 ms, at 3x3 151 -> 121 / 120 / 119, 64->64 at 15x15 237 -> 226 /
202 / 251, 64->256 at 15x15 597 -> 624 / 633 / 628 (within this machine's run-to-run noise), 24->64 at 31x31
402 -> 390 / 393 / 436.
``padding`` is (top, bottom, left, right).

The transforms mix every pixel of a 6x6 tile into all 16 outputs and scale by up to ~10 per axis, so a NaN or
Inf input would spread to outputs the direct sum leaves finite, and magnitudes far below overflow for the direct
sum would overflow here. Each pass therefore bounds its intermediates from the operands' max |.|
(winograd.FORWARD_GAIN ...) and refuses when the bound fails (forward: False, backward: None); conv.py then takes
the patch GEMM, whose sums
are the direct ones. A NaN or Inf weight is refused before any work; the input's and the output gradient's max
|.| are taken chunk by chunk just before the tile kernels read the chunk (:func:`_extent`, one vectorised integer
pass over the bit patterns, which also brings the chunk into the cache), instead of two numpy reductions over
each whole operand beforehand, which had cost ~115 ms of airbench94's 2.6 s step at batch 1024. The products run
under ``np.errstate(all="ignore")``: a pass that overflows is thrown away.
"""
import numpy as np
from numba import njit

from . import threads, winograd
from .im2col import scratch

CHUNK_BYTES = 4 << 20
MIN_CHUNK_TILES = 256
POSITIONS = winograd.ALPHA * winograd.ALPHA


def _geometry(x, cout, oh, ow):
    tiles_h, tiles_w = winograd.tiles(oh), winograd.tiles(ow)
    per_image = POSITIONS * tiles_h * tiles_w * (x.shape[1] + cout) * x.itemsize
    fewest = -(-MIN_CHUNK_TILES // (tiles_h * tiles_w))
    chunk = max(1, min(x.shape[0], max(CHUNK_BYTES // per_image, fewest)))
    return tiles_h, tiles_w, chunk


_BITS = {np.dtype(np.float32): np.int32, np.dtype(np.float64): np.int64}


@njit(nogil=True, cache=True)
def _max_bits(bits, mask):
    """max(bits & mask) over a 1-D integer array (0 when empty): an integer reduction, so it vectorises."""
    top = bits.dtype.type(0)
    for i in range(bits.size):
        b = bits[i] & mask
        if b > top:
            top = b
    return top


def _extent(a):
    """max |a| of a C-contiguous float array from its bit patterns with the sign cleared (for finite values
    ordered as their magnitudes; NaN and Inf above them all); Inf when ``a`` holds a NaN or an Inf."""
    itype = _BITS[a.dtype]
    mask = np.iinfo(itype).max
    top = np.array(_max_bits(a.reshape(-1).view(itype), itype(mask)), itype).view(a.dtype)
    return float(top) if np.isfinite(top) else np.inf


def _fits(gain, terms, a, b, dtype):
    """Whether intermediates up to gain * terms * a * b (a and b: the operands' max |.|) stay finite in ``dtype``
    (with a factor 2 to spare for rounding); False when an operand holds a NaN or an Inf."""
    return gain * terms * a * b <= float(np.finfo(dtype).max) / 2


def forward(x, w, padding, oh, ow, output):
    """Cross-correlation of x (n, c, h, w) with a (cout, c, 3, 3) weight, each chunk's tiles handed to ``output``
    (backends/cpu/conv_epilogue.py); False when the operands' magnitudes (a NaN, an Inf, or values near overflow)
    would make it differ from the direct sum."""
    n, cin, cout = x.shape[0], x.shape[1], w.shape[0]
    w_size = _extent(w)
    if not np.isfinite(w_size):
        return False
    tiles_h, tiles_w, chunk = _geometry(x, cout, oh, ow)
    u = winograd.transform_weight(w, inputs_first=True)

    def work(start, stop):
        x_size = 0.0
        for b0 in range(start, stop, chunk):
            b1 = min(stop, b0 + chunk)
            tiles = (b1 - b0) * tiles_h * tiles_w
            v = scratch("col", (tiles, POSITIONS, cin), x.dtype)
            x_size = max(x_size, _extent(x[b0:b1]))
            winograd.input_tiles(x, b0, b1, padding[0], padding[2], tiles_h, tiles_w, v)
            m = scratch("gemm", (tiles, POSITIONS, cout), x.dtype)
            with np.errstate(all="ignore"):
                np.matmul(v.transpose(1, 0, 2), u, out=m.transpose(1, 0, 2))
            output.tiles(m, tiles_h, tiles_w, b0)
        return x_size

    x_size = max(threads.run_split(work, n, 2 * n * oh * ow * cout * cin * 9))
    return _fits(winograd.FORWARD_GAIN, cin, x_size, w_size, x.dtype)


def backward(source, x, w, padding, oh, ow, needs):
    """(grad input, grad weight, grad bias) of :func:`forward`, the output gradient read from ``source``
    (backends/cpu/conv_epilogue.py) chunk by chunk. None when the magnitudes of the output gradient, the weight
    (for grad input) or the input (for grad weight) would make a gradient in ``needs`` differ from the direct
    sum."""
    n, cin = x.shape[:2]
    cout = w.shape[0]
    w_size = _extent(w) if needs[0] else 0.0
    if not np.isfinite(w_size):
        return None
    tiles_h, tiles_w, chunk = _geometry(x, cout, oh, ow)
    u = winograd.transform_weight(w)
    grad_input = np.empty(x.shape, x.dtype) if needs[0] else None

    def work(start, stop):
        bias_sum = np.zeros(cout, np.float64)
        grad_u = None
        grad_size = x_size = 0.0
        for b0 in range(start, stop, chunk):
            b1 = min(stop, b0 + chunk)
            tiles = (b1 - b0) * tiles_h * tiles_w
            dm = scratch("gemm", (tiles, POSITIONS, cout), x.dtype)
            grad_size = max(grad_size, _extent(source.values(b0, b1)))
            source.tiles(b0, b1, tiles_h, tiles_w, dm, bias_sum)
            v = scratch("col", (tiles, POSITIONS, cin), x.dtype)
            dm_xi, v_xi = dm.transpose(1, 0, 2), v.transpose(1, 0, 2)
            with np.errstate(all="ignore"):
                if needs[1]:
                    x_size = max(x_size, _extent(x[b0:b1]))
                    winograd.input_tiles(x, b0, b1, padding[0], padding[2], tiles_h, tiles_w, v)
                    if grad_u is None:
                        # returned: not a scratch another call may reuse
                        grad_u = np.matmul(dm_xi.transpose(0, 2, 1), v_xi)
                    else:
                        part = scratch("grad_weight", u.shape, x.dtype)
                        np.matmul(dm_xi.transpose(0, 2, 1), v_xi, out=part)
                        grad_u += part
                if needs[0]:
                    np.matmul(dm_xi, u, out=v_xi)
                    winograd.input_grad_tiles(v, tiles_h, tiles_w, b0, padding[0], padding[2], grad_input)
        return grad_u, bias_sum, grad_size, x_size

    parts = threads.run_split(work, n, 2 * n * oh * ow * cout * cin * 9 * (needs[0] + needs[1]))
    grad_size, x_size = max(p[2] for p in parts), max(p[3] for p in parts)
    tiles = n * tiles_h * tiles_w
    if ((needs[0] and not _fits(winograd.INPUT_GRAD_GAIN, cout, grad_size, w_size, x.dtype))
            or (needs[1] and not _fits(winograd.WEIGHT_GRAD_GAIN, tiles, grad_size, x_size, x.dtype))):
        return None
    grad_weight = None
    if needs[1]:
        grad_u = parts[0][0]
        for part in parts[1:]:
            grad_u += part[0]
        grad_weight = winograd.weight_grad(grad_u)
    grad_bias = sum(p[1] for p in parts).astype(x.dtype) if needs[2] else None
    return grad_input, grad_weight, grad_bias
