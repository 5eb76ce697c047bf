"""conv2d forward and backward on the CPU (torch.nn.functional.conv2d and its gradients).

The batch is split between the threads (threads.run_split; a call under its SPLIT_MIN_FLOPS stays on the
calling thread); each thread walks its images in chunks whose patch matrix is about ``CHUNK_BYTES``, and per
chunk runs serial GIL-free Numba kernels around one single-threaded BLAS GEMM (the pixel-major forward below
builds its patches so, then runs one GEMM over the batch on BLAS's threads), with a fused epilogue
(backends/cpu/conv_epilogue.py) that adds the bias, applies ReLU and writes NCHW, or also max-pools 2x2
(conv2d_relu_max_pool2d_forward, backends/cpu/relu_pool.py).
3x3 stride-1 convs with 16+ input channels go to Winograd F(4x4, 3x3) instead (backends/cpu/conv_winograd.py:
4x fewer multiply-adds; the Torch-net layers 2.0-2.6x faster than through the patch GEMM, `python -m
bench.conv_parts`; from 8 to 12 channels the two paths measured even), unless an operand holds a NaN, an Inf or
magnitudes the transforms could overflow (conv_winograd.forward / backward then refuse): the patch GEMM
gives the direct sum's values and its NaN/Inf pattern. Three patch layouts otherwise:

- pixel-major (the forward of ungrouped convs with few output pixels per part of the split against their output
  channels, as at batch 1 and 8: see :func:`_pixel_major`; backends/cpu/pixel_patches.py): patches are (pixels,
  c*kh*kw) rows in the weight's own order, built for the whole batch, then one GEMM on BLAS's threads ``y =
  w.reshape(cout, -1) @ col.T`` (cout, pixels) and the NCHW epilogue; the weight is read in place. Maps
  ``TAP_ROWS_MIN_WIDTH`` wide take im2col's (c*kh*kw, pixels) rows of taps instead, and ``y = w2 @ col``.
- channels-last (groups == 1 and at least ``CHANNELS_LAST_MIN`` input channels; backends/cpu/patches.py):
  the chunk is copied into a zero-padded NHWC scratch, patches are (pixels, kh*kw*c) rows of contiguous runs,
  ``y = col @ w2.T`` (pixels, cout; with OpenBLAS's AVX-512 kernels 1.35x faster than ``w2 @ col.T``, equal
  with its AVX2 ones), then an epilogue that transposes to NCHW. Backward: grad weight += g @ col, grad input =
  fold(g.T @ w2) back to NCHW, with g (cout, pixels) as on the NCHW path (BLAS reads transposes in place).
- NCHW (grouped convs, the first RGB layer; backends/cpu/im2col.py): col is (c*kh*kw, pixels), one GEMM per
  group ``w @ col``; backward grad weight += g @ col.T, grad input = col2im(w.T @ g).

The backward passes read the output gradient through conv_epilogue's Gradient or, for the pooled forward,
PooledGradient (which rebuilds it from the pooled one). Grad bias is the sum of the (ReLU-masked) output
gradient; per-thread partial sums are added at the end.
``padding`` is (top, bottom, left, right).
"""
import numpy as np

from ..window_shapes import conv_output_size
from . import conv_epilogue, conv_winograd, patches, pixel_patches, threads, winograd
from .im2col import col2im, im2col, scratch

CHUNK_BYTES = 1 << 20
CHANNELS_LAST_MIN = 8
WINOGRAD_MIN_CHANNELS = 16
WINOGRAD_MIN_TILES = 32
PIXEL_MAJOR_PER_CHANNEL = 3  # pixels per part per output channel up to which pixel-major beats channels-last
PIXEL_MAJOR_BEFORE_WINOGRAD = 0.8  # ... and up to which it beats Winograd
TAP_ROWS_MIN_WIDTH = 12  # output width from which pixel-major takes im2col's (c*kh*kw, pixels) rows of taps


def _geometry(x, w_shape, stride, padding, dilation):
    oh = conv_output_size(x.shape[2], w_shape[2], stride[0], padding[0], padding[1], dilation[0])
    ow = conv_output_size(x.shape[3], w_shape[3], stride[1], padding[2], padding[3], dilation[1])
    rows = x.shape[1] * w_shape[2] * w_shape[3]
    chunk = max(1, min(x.shape[0], CHUNK_BYTES // (rows * oh * ow * x.itemsize)))
    args = (w_shape[2], w_shape[3], stride[0], stride[1], padding[0], padding[2], dilation[0], dilation[1], oh, ow)
    return oh, ow, chunk, args


def _flops(x, w_shape, oh, ow):
    """The direct sum's floating-point operations of the forward (threads.run_split's ``flops``)."""
    return 2 * x.shape[0] * oh * ow * w_shape[0] * w_shape[1] * w_shape[2] * w_shape[3]


def _grouped(w2, col, groups, y):
    """y = block-diagonal(w2 by groups) @ col."""
    cout_g, k = w2.shape[0] // groups, w2.shape[1]
    for gi in range(groups):
        np.matmul(w2[gi * cout_g:(gi + 1) * cout_g], col[gi * k:(gi + 1) * k], out=y[gi * cout_g:(gi + 1) * cout_g])


def _channels_last(x, groups):
    """Whether the channels-last patch path (backends/cpu/patches.py) serves this conv: measured faster from
    8 input channels up; grouped convs and the first RGB layer keep the NCHW path."""
    return groups == 1 and x.shape[1] >= CHANNELS_LAST_MIN


def _winograd(x, w_shape, stride, dilation, groups, oh, ow):
    """Whether Winograd F(4x4, 3x3) (backends/cpu/conv_winograd.py) serves this conv: 3x3, stride 1, undilated,
    ungrouped, from ``WINOGRAD_MIN_CHANNELS`` input channels (4x fewer multiply-adds than the patch GEMM), over
    at least ``WINOGRAD_MIN_TILES`` 4x4 output tiles in the batch: below that the weight transform costs more
    than Winograd saves, so small batches and maps take the patch GEMM. Measured with the tile-major tiles (2
    threads of a Zen 3, fwd + bwd, patch against Winograd): 128->128 at 4x4, 64 tiles: 9.6 against 5.4 ms, 32:
    5.4 against 4.4, 16: 3.1 against 3.4; 256->256 at 7x7, batch 8 (32 tiles): 14.8 against 12.5 (forward alone
    4.6 against 4.2; before the tile-major layout 4.7 against 5.1); 64->64 at 15x15, batch 1 (16 tiles): 0.8
    against 1.2; 256->256 at 3x3, batch 1: 3.2 against 11.9."""
    return (tuple(w_shape[2:]) == (3, 3) and tuple(stride) == (1, 1) and tuple(dilation) == (1, 1)
            and groups == 1 and x.shape[1] >= WINOGRAD_MIN_CHANNELS
            and x.shape[0] * winograd.tiles(oh) * winograd.tiles(ow) >= WINOGRAD_MIN_TILES)


def _pixel_major(x, w_shape, groups, oh, ow, per_channel=1):
    """Whether the pixel-major patches (backends/cpu/pixel_patches.py) serve this forward: ungrouped, with no more
    output pixels per part of threads.run_split's split than ``per_channel`` times the output channels (1: no larger
    patches than the weight the channels-last path would copy into its order). Measured (2 threads of a Zen 3,
    float32, conv + ReLU + 2x2 pool, pixel-major against channels-last): 256->512 at 4x4, batch 1: 0.44 against 1.47
    ms; 128->128 at 4x4: 93 against 149 us; 64->128 at 8x8: 130 against 150; at 256 pixels per part and 256 channels
    even (64->256 at 16x16, batch 1: 0.79 against 0.89 ms; 128->256 at 8x8, batch 8: 2.27 against 2.24); 64->64 at
    16x16, batch 1 (256 pixels, 64 channels): 256 against 227. It serves a forward before Winograd does up to
    ``PIXEL_MAJOR_BEFORE_WINOGRAD`` pixels per channel (2 threads of a Zen 4, conv alone, one GEMM over the batch,
    pixel-major against Winograd with its weight C-contiguous: 256->256 at 7x7, batch 8, 0.77 pixels per channel:
    3.2-3.5 against 3.3-3.4 ms, batch 2: 0.96-1.04 against 1.5-2.0; at one pixel per channel, 128->256 at 8x8, batch
    8: 2.1-2.4 against 1.3-1.6, 128->128 at 8x8, batch 4: 0.79-0.81 against 0.68-0.71); against channels-last it
    wins up to ``PIXEL_MAJOR_PER_CHANNEL``
    pixels per channel (same machine, conv + ReLU + pool, batch 1: 32->64 at 15x15 valid, 169 pixels: 117 against
    138 us; 64->128 at 16x16: 387 against 410; 128->128 at 16x16: 732 against 719; 16->32 at 32x32, 1024 pixels: 229
    against 159)."""
    share = -(-x.shape[0] // threads.split_count(x.shape[0], _flops(x, w_shape, oh, ow)))
    return groups == 1 and share * oh * ow <= per_channel * w_shape[0]


def _padded_shape(x, padding):
    return x.shape[2] + padding[0] + padding[1], x.shape[3] + padding[2] + padding[3], x.shape[1]


def _forward_operands(x, w, bias):
    x = np.ascontiguousarray(x)
    bias = np.zeros(w.shape[0], x.dtype) if bias is None else np.ascontiguousarray(bias, dtype=x.dtype)
    return x, np.ascontiguousarray(w), bias


def conv2d_forward(x, w, bias, stride, padding, dilation, groups, relu=False):
    """Cross-correlation of x (n, c, h, w) with w (cout, c/groups, kh, kw), plus bias (None: zeros), optional ReLU."""
    x, w, bias = _forward_operands(x, w, bias)
    geometry = _geometry(x, w.shape, stride, padding, dilation)
    output = conv_epilogue.Output((x.shape[0], w.shape[0], *geometry[:2]), x.dtype, bias, relu)
    return _forward(x, w, stride, padding, dilation, groups, output, geometry)


def conv2d_relu_max_pool2d_forward(x, w, bias, stride, padding, dilation, groups):
    """(pooled, codes): max_pool2d(relu(conv2d_forward(...)), 2) without the conv's output ever written whole
    (backends/cpu/relu_pool.py); ``codes`` (uint8, the pooled shape) is what the backward needs besides."""
    x, w, bias = _forward_operands(x, w, bias)
    geometry = _geometry(x, w.shape, stride, padding, dilation)
    output = conv_epilogue.PooledOutput((x.shape[0], w.shape[0], *geometry[:2]), x.dtype, bias)
    return _forward(x, w, stride, padding, dilation, groups, output, geometry)


def _forward(x, w, stride, padding, dilation, groups, output, geometry):
    """Run the conv through the path that serves it; each chunk's result goes to ``output``
    (conv_epilogue.Output or PooledOutput), whose result this returns. ``geometry``: :func:`_geometry`'s."""
    oh, ow, chunk, args = geometry
    winograd = _winograd(x, w.shape, stride, dilation, groups, oh, ow)
    wide = not winograd and _channels_last(x, groups)
    if wide:
        per_channel = PIXEL_MAJOR_PER_CHANNEL
    elif winograd:
        per_channel = PIXEL_MAJOR_BEFORE_WINOGRAD
    else:
        per_channel = 1
    if _pixel_major(x, w.shape, groups, oh, ow, per_channel):
        _forward_pixel_major(x, w, stride, padding, dilation, output, geometry)
        return output.result()
    if winograd and conv_winograd.forward(x, w, padding, oh, ow, output):
        return output.result()
    if _channels_last(x, groups):
        _forward_channels_last(x, w, stride, padding, dilation, output, geometry)
        return output.result()
    n = x.shape[0]
    cout = w.shape[0]
    w2 = w.reshape(cout, -1)
    rows = w2.shape[1] * groups

    def work(start, stop):
        for b0 in range(start, stop, chunk):
            b1 = min(stop, b0 + chunk)
            col = scratch("col", (rows, (b1 - b0) * oh * ow), x.dtype)
            im2col(x, b0, b1, *args, col)
            y = scratch("gemm", (cout, col.shape[1]), x.dtype)
            _grouped(w2, col, groups, y)
            output.channel_rows(y, b0)

    threads.run_split(work, n, _flops(x, w.shape, oh, ow))
    return output.result()


def _forward_pixel_major(x, w, stride, padding, dilation, output, geometry):
    """The patches of the whole batch, built by images in run_split's parts, then one GEMM on BLAS's own threads,
    ``y = w.reshape(cout, -1) @ col.T`` (cout, pixels), the weight read in place as the left operand: with as few
    pixels as this path serves, that GEMM ran up to 2x faster than ``col @ w2.T`` (2 threads of a Zen 4: 16x2304
    patches by a 512-channel weight 0.32 against 0.63 ms), and a part of the pixels per thread, each GEMM on one
    thread, was slower still (64x1152 patches by 256 channels: 0.52 against 0.27). Its BLAS threads split the
    output, not the sums: the same bits on one thread and two in the shapes tried. From ``TAP_ROWS_MIN_WIDTH``
    output columns the patches are im2col's (c*kh*kw, pixels) rows, copied as runs of output rows, and the GEMM
    ``w2 @ col`` reads both operands untransposed (same bits; batch 1, conv + ReLU + pool: 32->64 at 15x15 valid
    161 -> 141 us, 64->128 at 16x16 453 -> 388; batch 1 conv, 64->64 at 15x15 359 -> 309); on narrower maps
    those runs are too short (7x7: 0.68 -> 0.73 ms at 256->256, 4x4: 0.51 -> 0.58 at 256->512)."""
    cout, c, kh, kw = w.shape
    oh, ow, _, im2col_args = geometry
    n, length = x.shape[0], oh * ow
    tap_rows = ow >= TAP_ROWS_MIN_WIDTH
    col = scratch("col", (c * kh * kw, n * length) if tap_rows else (n * length, c * kh * kw), x.dtype)

    def patches_of(start, stop):
        if tap_rows:
            im2col(x, start, stop, *im2col_args, col[:, start * length:stop * length])
            return
        xp = x[start:stop]
        if any(padding):
            xp = scratch("padded", (stop - start, c, *_padded_shape(x, padding)[:2]), x.dtype)
            pixel_patches.pad_nchw(x, start, stop, padding[0], padding[2], xp)
        pixel_patches.im2col_pixels(xp, kh, kw, stride[0], stride[1], dilation[0], dilation[1], oh, ow,
                                    col[start * length:stop * length])

    flops = _flops(x, w.shape, oh, ow)
    threads.run_split(patches_of, n, flops)
    y = scratch("gemm", (cout, n * length), x.dtype)
    threads.matmul(w.reshape(cout, -1), col if tap_rows else col.T, y, flops)
    output.channel_rows(y, 0)


def _forward_channels_last(x, w, stride, padding, dilation, output, geometry):
    """Per chunk of images b0..b1-1: the NHWC patch rows (pixels, kh*kw*c), their GEMM with the weight in the
    same column order, and the epilogue of the (pixels, cout) result."""
    cout, c, kh, kw = w.shape
    oh, ow, chunk = geometry[:3]
    padded = _padded_shape(x, padding)
    args = (kh, kw, stride[0], stride[1], dilation[0], dilation[1], oh, ow)
    w2 = np.ascontiguousarray(w.transpose(0, 2, 3, 1)).reshape(cout, -1)

    def work(start, stop):
        for b0 in range(start, stop, chunk):
            b1 = min(stop, b0 + chunk)
            xp = scratch("padded", (b1 - b0, *padded), x.dtype)
            patches.pad_nhwc(x, b0, b1, padding[0], padding[2], xp)
            col = scratch("col", ((b1 - b0) * oh * ow, c * kh * kw), x.dtype)
            patches.im2col_nhwc(xp, *args, col)
            y = scratch("gemm", (col.shape[0], cout), x.dtype)
            np.matmul(col, w2.T, out=y)
            output.pixel_rows(y, b0)

    threads.run_split(work, x.shape[0], _flops(x, w.shape, oh, ow))


def _backward_channels_last(source, x, w, stride, padding, dilation, needs):
    n = x.shape[0]
    cout, c, kh, kw = w.shape
    oh, ow, chunk, _ = _geometry(x, w.shape, stride, padding, dilation)
    length = oh * ow
    w2 = np.ascontiguousarray(w.transpose(0, 2, 3, 1)).reshape(cout, -1)
    grad_input = np.empty(x.shape, x.dtype) if needs[0] else None
    padded = _padded_shape(x, padding)
    args = (kh, kw, stride[0], stride[1], dilation[0], dilation[1], oh, ow)

    def work(start, stop):
        bias_sum = np.zeros(cout, np.float64)
        grad_weight = np.zeros(w2.shape, x.dtype) if needs[1] else None
        for b0 in range(start, stop, chunk):
            b1 = min(stop, b0 + chunk)
            g = scratch("gemm", (cout, (b1 - b0) * length), x.dtype)
            source.channel_rows(b0, b1, g, bias_sum)
            col = scratch("col", (g.shape[1], w2.shape[1]), x.dtype)
            xp = scratch("padded", (b1 - b0, *padded), x.dtype)
            if needs[1]:
                patches.pad_nhwc(x, b0, b1, padding[0], padding[2], xp)
                patches.im2col_nhwc(xp, *args, col)
                part = scratch("grad_weight", w2.shape, x.dtype)
                np.matmul(g, col, out=part)
                grad_weight += part
            if needs[0]:
                np.matmul(g.T, w2, out=col)
                patches.col2im_nhwc(col, *args, xp)
                patches.unpad_nchw(xp, b0, b1, padding[0], padding[2], grad_input)
        return grad_weight, bias_sum

    parts = threads.run_split(work, n, _flops(x, w.shape, oh, ow) * (needs[0] + needs[1]))
    grad_weight = None
    if needs[1]:
        grad_weight = np.ascontiguousarray(sum(p[0] for p in parts).reshape(cout, kh, kw, c).transpose(0, 3, 1, 2))
    grad_bias = sum(p[1] for p in parts).astype(x.dtype) if needs[2] else None
    return grad_input, grad_weight, grad_bias


def conv2d_backward(grad, x, w, out, stride, padding, dilation, groups, relu, needs=(True, True, True)):
    """(grad input, grad weight, grad bias) of conv2d_forward; ``out`` is its output (used when ``relu``).

    ``x``'s values are read only for the weight gradient (``needs[1]``); otherwise only its shape and dtype.
    """
    n, cout = x.shape[0], w.shape[0]
    oh, ow, _, _ = _geometry(x, w.shape, stride, padding, dilation)
    grad3 = np.ascontiguousarray(grad, dtype=x.dtype).reshape(n, cout, oh * ow)
    out3 = grad3 if out is None else np.ascontiguousarray(out).reshape(n, cout, oh * ow)
    source = conv_epilogue.Gradient(grad3, out3, relu, ow)
    return _backward(source, x, w, stride, padding, dilation, groups, needs)


def conv2d_relu_max_pool2d_backward(grad, x, w, pooled, codes, stride, padding, dilation, groups,
                                    needs=(True, True, True)):
    """(grad input, grad weight, grad bias) of conv2d_relu_max_pool2d_forward, from the gradient of its pooled
    output and its (pooled, codes)."""
    oh, ow, _, _ = _geometry(x, w.shape, stride, padding, dilation)
    source = conv_epilogue.PooledGradient(grad, pooled, codes, oh, ow)
    return _backward(source, x, w, stride, padding, dilation, groups, needs)


def _backward(source, x, w, stride, padding, dilation, groups, needs):
    """conv2d's gradients from the output gradient ``source`` (conv_epilogue.Gradient or PooledGradient)."""
    x = np.ascontiguousarray(x) if needs[1] else x
    w = np.ascontiguousarray(w)
    n = x.shape[0]
    cout = w.shape[0]
    oh, ow, chunk, args = _geometry(x, w.shape, stride, padding, dilation)
    length = oh * ow
    if _winograd(x, w.shape, stride, dilation, groups, oh, ow):
        grads = conv_winograd.backward(source, x, w, padding, oh, ow, needs)
        if grads is not None:
            return grads
    if _channels_last(x, groups):
        return _backward_channels_last(source, x, w, stride, padding, dilation, needs)
    cout_g = cout // groups
    k = w.shape[1] * w.shape[2] * w.shape[3]
    w2 = w.reshape(cout, k)
    grad_input = np.empty(x.shape, x.dtype) if needs[0] else None

    def work(start, stop):
        bias_sum = np.zeros(cout, np.float64)
        grad_weight = np.zeros((cout, k), x.dtype) if needs[1] else None
        for b0 in range(start, stop, chunk):
            b1 = min(stop, b0 + chunk)
            g = scratch("gemm", (cout, (b1 - b0) * length), x.dtype)
            source.channel_rows(b0, b1, g, bias_sum)
            col = scratch("col", (k * groups, g.shape[1]), x.dtype)
            if needs[1]:
                im2col(x, b0, b1, *args, col)
                part = scratch("grad_weight", (cout_g, k), x.dtype)
                for gi in range(groups):
                    rows = slice(gi * cout_g, (gi + 1) * cout_g)
                    np.matmul(g[rows], col[gi * k:(gi + 1) * k].T, out=part)
                    grad_weight[rows] += part
            if needs[0]:
                for gi in range(groups):
                    rows = slice(gi * cout_g, (gi + 1) * cout_g)
                    np.matmul(w2[rows].T, g[rows], out=col[gi * k:(gi + 1) * k])
                col2im(col, b0, b1, *args, grad_input)
        return grad_weight, bias_sum

    parts = threads.run_split(work, n, _flops(x, w.shape, oh, ow) * (needs[0] + needs[1]))
    grad_weight = sum(p[0] for p in parts).reshape(w.shape) if needs[1] else None
    grad_bias = sum(p[1] for p in parts).astype(x.dtype) if needs[2] else None
    return grad_input, grad_weight, grad_bias


def conv2d_backward_input(grad, x_shape, w, stride, padding, dilation, groups):
    """The gradient of conv2d_forward with respect to an input of ``x_shape`` alone: conv_transpose2d's forward
    (torch.nn.functional.conv_transpose2d). conv2d_backward's input path, with a zero-stride stand-in for the
    input, whose values that path never reads."""
    stand_in = np.broadcast_to(np.zeros((), grad.dtype), tuple(x_shape))
    return conv2d_backward(grad, stand_in, w, None, stride, padding, dilation, groups, False, (True, False, False))[0]
