"""Where conv2d's CPU time goes: each kernel of both 3x3 pipelines alone, and the BLAS GEMM layouts.

    python -m bench.conv_parts [--repeat 9]

For the 64+-channel Torch-net layers at batch 128: conv2d_forward/backward on 1 and 2 threads through
Winograd (what the dispatcher picks for these layers) and through the channels-last patch GEMM (Winograd
turned off), then, on one thread, each pipeline's kernels looped over the batch chunk by chunk as
backends/cpu/conv.py and conv_winograd.py run them, in ms per batch: patch path pad, im2col, GEMM, epilogue;
backward masked gradient rows, the two GEMMs, col2im, unpad. Winograd path: input tiles, the 36 stacked
GEMMs, output tiles; backward gradient tiles, the two stacked GEMMs, input-gradient tiles. Last, the GFLOP/s
of each patch-GEMM layout numpy's BLAS could be given. Medians. Run it with and without
``OPENBLAS_CORETYPE`` set to compare OpenBLAS's kernels.
"""
import numbaconv as nc  # noqa: I001  (first: sets OPENBLAS_THREAD_TIMEOUT before numpy loads OpenBLAS)
from numbaconv.backends.cpu import conv, conv_epilogue, conv_winograd, patches, threads, winograd

import argparse
import os
import time

import numpy as np

LAYERS = [(64, 64, 16), (64, 128, 8), (128, 128, 4)]
STRIDE, PADDING, DILATION = (1, 1), (1, 1, 1, 1), (1, 1)


def median_ms(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def whole_op(x, w, b, grad, out, repeat):
    """{(path, threads): (fwd, bwd) ms} of conv2d, path "winograd" or "patch" (Winograd turned off)."""
    rows = {}
    default = conv.WINOGRAD_MIN_CHANNELS
    try:
        for path, min_channels in (("winograd", default), ("patch", x.shape[1] + 1)):
            conv.WINOGRAD_MIN_CHANNELS = min_channels
            for count in (1, 2):
                nc.set_num_threads(count)
                rows[path, count] = (
                    median_ms(lambda: conv.conv2d_forward(x, w, b, STRIDE, PADDING, DILATION, 1, True), repeat),
                    median_ms(lambda: conv.conv2d_backward(grad, x, w, out, STRIDE, PADDING, DILATION, 1, True),
                              repeat))
    finally:
        conv.WINOGRAD_MIN_CHANNELS = default
    return rows


def winograd_parts(x, w, b, grad, out, repeat):
    """ms per batch of each Winograd kernel on one thread, chunk by chunk."""
    n, cin, size = x.shape[0], x.shape[1], x.shape[2]
    cout = w.shape[0]
    tiles_h, tiles_w, chunk = conv_winograd._geometry(x, cout, size, size)
    chunk = max(c for c in (1, 2, 4, 8, 16, 32, 64, 128) if c <= chunk)
    tiles = chunk * tiles_h * tiles_w
    u = winograd.transform_weight(w)
    v = np.empty((tiles, conv_winograd.POSITIONS, cin), x.dtype)
    m = np.empty((tiles, conv_winograd.POSITIONS, cout), x.dtype)
    v_xi, m_xi = v.transpose(1, 0, 2), m.transpose(1, 0, 2)
    grad_u = np.empty(u.shape, x.dtype)
    out3, grad3 = out.reshape(n, cout, -1), grad.reshape(n, cout, -1)
    result, bias_sum, grad_input = np.empty_like(out), np.zeros(cout), np.empty_like(x)
    starts = range(0, n - n % chunk, chunk)
    steps = {
        "weight": lambda b0: winograd.transform_weight(w),
        "input tiles": lambda b0: winograd.input_tiles(x, b0, b0 + chunk, 1, 1, tiles_h, tiles_w, v),
        "gemm fwd": lambda b0: np.matmul(v_xi, u.transpose(0, 2, 1), out=m_xi),
        "output tiles": lambda b0: winograd.output_tiles(m, tiles_h, tiles_w, b0, b, True, result),
        "grad tiles": lambda b0: winograd.grad_tiles(grad3, out3, b0, b0 + chunk, True, tiles_h, tiles_w, size, m,
                                                     bias_sum),
        "gemm grad w": lambda b0: np.matmul(m_xi.transpose(0, 2, 1), v_xi, out=grad_u),
        "gemm grad x": lambda b0: np.matmul(m_xi, u, out=v_xi),
        "input-grad tiles": lambda b0: winograd.input_grad_tiles(v, tiles_h, tiles_w, b0, 1, 1, grad_input),
        "weight grad": lambda b0: winograd.weight_grad(grad_u),
    }
    once = {"weight", "weight grad"}
    return chunk, {name: median_ms(lambda step=step, name=name: [step(b0) for b0 in (starts[:1] if name in once
                                                                                       else starts)], repeat)
                   for name, step in steps.items()}


def kernel_parts(x, w, b, grad, out, repeat):
    """ms per batch of each pipeline kernel on one thread, chunk by chunk."""
    n, cout = x.shape[0], w.shape[0]
    oh, ow, chunk, _ = conv._geometry(x, w.shape, STRIDE, PADDING, DILATION)
    length = oh * ow
    w2 = np.ascontiguousarray(w.transpose(0, 2, 3, 1)).reshape(cout, -1)
    geometry = (3, 3, 1, 1, 1, 1, oh, ow)
    xp = np.empty((chunk, *conv._padded_shape(x, PADDING)), x.dtype)
    col = np.empty((chunk * length, w2.shape[1]), x.dtype)
    rows = np.empty((chunk * length, cout), x.dtype)
    g = np.empty((cout, chunk * length), x.dtype)
    part = np.empty(w2.shape, x.dtype)
    out3, grad3 = out.reshape(n, cout, length), grad.reshape(n, cout, length)
    result, bias_sum, grad_input = np.empty_like(out3), np.zeros(cout), np.empty_like(x)
    starts = range(0, n - n % chunk, chunk)
    steps = {
        "pad": lambda b0: patches.pad_nhwc(x, b0, b0 + chunk, 1, 1, xp),
        "im2col": lambda b0: patches.im2col_nhwc(xp, *geometry, col),
        "gemm fwd": lambda b0: np.matmul(col, w2.T, out=rows),
        "epilogue": lambda b0: patches.bias_relu_from_rows(rows, b0, b, True, result),
        "grad rows": lambda b0: conv_epilogue._grad_rows(grad3, out3, b0, b0 + chunk, True, g, bias_sum),
        "gemm grad w": lambda b0: np.matmul(g, col, out=part),
        "gemm grad x": lambda b0: np.matmul(g.T, w2, out=col),
        "col2im": lambda b0: patches.col2im_nhwc(col, *geometry, xp),
        "unpad": lambda b0: patches.unpad_nchw(xp, b0, b0 + chunk, 1, 1, grad_input),
    }
    return chunk, {name: median_ms(lambda step=step: [step(b0) for b0 in starts], repeat)
                   for name, step in steps.items()}


def gemm_layouts(x, w, repeat):
    """GFLOP/s of the conv GEMM (one image chunk) in each operand layout, one thread."""
    rng = np.random.default_rng(1)
    cout, k = w.shape[0], w[0].size
    pixels = conv._geometry(x, w.shape, STRIDE, PADDING, DILATION)[2] * x.shape[2] * x.shape[3]
    w2 = rng.standard_normal((cout, k), dtype=np.float32)
    col = rng.standard_normal((pixels, k), dtype=np.float32)
    g = rng.standard_normal((cout, pixels), dtype=np.float32)
    layouts = {"col @ w2.T": lambda: col @ w2.T, "w2 @ col.T": lambda: w2 @ col.T,
               "g @ col": lambda: g @ col, "g.T @ w2": lambda: g.T @ w2}
    flops = 2 * cout * k * pixels
    return {name: flops / median_ms(fn, repeat) / 1e6 for name, fn in layouts.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args(argv)
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}, batch 128, float32, medians in ms")
    rng = np.random.default_rng(0)
    for cin, cout, size in LAYERS:
        x = rng.standard_normal((128, cin, size, size), dtype=np.float32)
        w = rng.standard_normal((cout, cin, 3, 3), dtype=np.float32)
        b = np.zeros(cout, np.float32)
        out = conv.conv2d_forward(x, w, b, STRIDE, PADDING, DILATION, 1, True)
        grad = rng.standard_normal(out.shape, dtype=np.float32)
        whole = whole_op(x, w, b, grad, out, args.repeat)
        threads._set_blas_threads(1)
        chunk, parts = kernel_parts(x, w, b, grad, out, args.repeat)
        wino_chunk, wino_parts = winograd_parts(x, w, b, grad, out, args.repeat)
        layouts = gemm_layouts(x, w, args.repeat)
        print(f"{cin}->{cout} @{size}: fwd / bwd ms, 1 thread | 2 threads: "
              + "; ".join(f"{path} {whole[path, 1][0]:.1f} / {whole[path, 1][1]:.1f} | "
                          f"{whole[path, 2][0]:.1f} / {whole[path, 2][1]:.1f}" for path in ("winograd", "patch")))
        print(f"  winograd, one thread, chunk {wino_chunk}: "
              + ", ".join(f"{name} {ms:.2f}" for name, ms in wino_parts.items()))
        print(f"  patch, one thread, chunk {chunk}: " + ", ".join(f"{name} {ms:.2f}" for name, ms in parts.items()))
        print("  patch GEMM GFLOP/s, one thread: " + ", ".join(f"{name} {rate:.0f}" for name, rate in layouts.items()))


if __name__ == "__main__":
    main()
