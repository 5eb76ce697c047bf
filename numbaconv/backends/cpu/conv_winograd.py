"""conv2d forward and backward for 3x3, stride-1, undilated, ungrouped convs through Winograd F(4x4, 3x3).

The same threading as backends/cpu/conv.py: the batch is split between the threads, each walks its images in
chunks whose transformed input and output tiles take about ``CHUNK_BYTES`` together, and per chunk runs the
serial Numba transforms of backends/cpu/winograd.py around one stacked single-threaded BLAS matmul (36
products, one per tile position): forward ``m = v @ u^T``; backward ``dv = dm @ u`` (grad input) and
``du += dm^T @ v`` (grad weight). Measured on the Torch-net layers and a 256-channel one (2 threads, fwd+bwd):
4 MB chunks 5-20 % faster than 1-2 MB, 8 MB slower on 64-channel layers.
``padding`` is (top, bottom, left, right).

The transforms mix every pixel of a 6x6 tile into all 16 outputs and scale by up to ~10 per axis, so a NaN or
Inf input would spread to outputs the direct sum leaves finite, and magnitudes far below overflow for the direct
sum would overflow here. :func:`fits_forward` and :func:`fits_backward` bound each pass's intermediates from the
operands' max |.| (winograd.FORWARD_GAIN ...; two numpy reductions per operand, about 1 % of the conv's time on
the Torch-net layers); conv.py sends the pass to the patch GEMM, whose sums are the direct ones, when they fail.
"""
import numpy as np

from . import threads, winograd
from .im2col import scratch

CHUNK_BYTES = 4 << 20
POSITIONS = winograd.ALPHA * winograd.ALPHA


def _geometry(x, cout, oh, ow):
    tiles_h, tiles_w = winograd.tiles(oh), winograd.tiles(ow)
    per_image = POSITIONS * tiles_h * tiles_w * (x.shape[1] + cout) * x.itemsize
    chunk = max(1, min(x.shape[0], CHUNK_BYTES // per_image))
    return tiles_h, tiles_w, chunk


def _magnitude(a):
    """max |a| (0 when empty) in two SIMD reductions without a temporary; NaN when ``a`` holds one."""
    return float(np.maximum(a.max(initial=0), -a.min(initial=0)))


def _fits(gain, terms, a, b, dtype):
    """Whether intermediates up to gain * terms * a * b (a and b: the operands' max |.|) stay finite in ``dtype``
    (with a factor 2 to spare for rounding); False when an operand holds a NaN or an Inf."""
    return gain * terms * a * b <= float(np.finfo(dtype).max) / 2


def fits_forward(x, w):
    """Whether :func:`forward` gives the direct sum's values for x and w (finite, far enough from overflow)."""
    return _fits(winograd.FORWARD_GAIN, x.shape[1], _magnitude(x), _magnitude(w), x.dtype)


def fits_backward(grad3, x, w, ow, needs):
    """Whether :func:`backward` gives the direct sums' values for the gradients in ``needs`` (grad3 as there)."""
    if not (needs[0] or needs[1]):
        return True
    g = _magnitude(grad3)
    if needs[0] and not _fits(winograd.INPUT_GRAD_GAIN, w.shape[0], g, _magnitude(w), x.dtype):
        return False
    tiles = x.shape[0] * winograd.tiles(grad3.shape[2] // ow) * winograd.tiles(ow)
    return not needs[1] or _fits(winograd.WEIGHT_GRAD_GAIN, tiles, g, _magnitude(x), x.dtype)


def forward(x, w, bias, padding, oh, ow, relu):
    """Cross-correlation of x (n, c, h, w) with a (cout, c, 3, 3) weight, plus ``bias`` (cout,), optional ReLU."""
    n, cout = x.shape[0], w.shape[0]
    tiles_h, tiles_w, chunk = _geometry(x, cout, oh, ow)
    u_t = winograd.transform_weight(w).transpose(0, 2, 1)
    out = np.empty((n, cout, oh, ow), x.dtype)

    def work(start, stop):
        for b0 in range(start, stop, chunk):
            b1 = min(stop, b0 + chunk)
            tiles = (b1 - b0) * tiles_h * tiles_w
            v = scratch("col", (POSITIONS, tiles, x.shape[1]), x.dtype)
            winograd.input_tiles(x, b0, b1, padding[0], padding[2], tiles_h, tiles_w, v)
            m = scratch("gemm", (POSITIONS, tiles, cout), x.dtype)
            np.matmul(v, u_t, out=m)
            winograd.output_tiles(m, tiles_h, tiles_w, b0, bias, relu, out)

    threads.run_split(work, n)
    return out


def backward(grad3, out3, x, w, padding, ow, relu, needs):
    """(grad input, grad weight, grad bias) of :func:`forward`; grad3/out3 are (n, cout, oh*ow)."""
    n, cin = x.shape[:2]
    cout = w.shape[0]
    tiles_h, tiles_w, chunk = _geometry(x, cout, grad3.shape[2] // ow, ow)
    u = winograd.transform_weight(w)
    grad_input = np.empty(x.shape, x.dtype) if needs[0] else None

    def work(start, stop):
        bias_sum = np.zeros(cout, np.float64)
        grad_u = None
        for b0 in range(start, stop, chunk):
            b1 = min(stop, b0 + chunk)
            tiles = (b1 - b0) * tiles_h * tiles_w
            dm = scratch("gemm", (POSITIONS, tiles, cout), x.dtype)
            winograd.grad_tiles(grad3, out3, b0, b1, relu, tiles_h, tiles_w, ow, dm, bias_sum)
            v = scratch("col", (POSITIONS, tiles, cin), x.dtype)
            if needs[1]:
                winograd.input_tiles(x, b0, b1, padding[0], padding[2], tiles_h, tiles_w, v)
                if grad_u is None:
                    grad_u = np.matmul(dm.transpose(0, 2, 1), v)  # returned: not a scratch another call may reuse
                else:
                    part = scratch("grad_weight", u.shape, x.dtype)
                    np.matmul(dm.transpose(0, 2, 1), v, out=part)
                    grad_u += part
            if needs[0]:
                np.matmul(dm, u, out=v)
                winograd.input_grad_tiles(v, tiles_h, tiles_w, b0, padding[0], padding[2], grad_input)
        return grad_u, bias_sum

    parts = threads.run_split(work, n)
    grad_weight = None
    if needs[1]:
        grad_u = parts[0][0]
        for part in parts[1:]:
            grad_u += part[0]
        grad_weight = winograd.weight_grad(grad_u)
    grad_bias = sum(p[1] for p in parts).astype(x.dtype) if needs[2] else None
    return grad_input, grad_weight, grad_bias
