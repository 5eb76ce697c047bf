"""conv2d forward and backward on the GPU (torch.nn.functional.conv2d and its gradients).

Twin of backends/cpu/conv.py (same names and argument order). All three products are implicit GEMMs of
gemm.py, so no im2col columns are stored: forward is W (cout, c*kh*kw) @ cols(x) with the bias + ReLU
epilogue fused into the store; grad input is W.T @ grad gathered back through the convolution's geometry;
grad weight is grad @ cols(x).T with the long n*oh*ow axis split across blocks. ``padding`` is
(top, bottom, left, right).
"""
import math

import numpy as np

from ..window_shapes import conv_output_size
from . import gemm, pool
from .array_api import ascontiguousarray, empty, zeros
from .launch import cached, cuda, multiprocessors

# _grad_rows: threads per block (and its shared reduction buffer; 32 on planes under 256 pixels), blocks in all.
ROW_THREADS, SMALL_ROW_THREADS, ROW_BLOCKS = 256, 32, 4096
# Grad weight's split of K = n * oh * ow across blocks: about SPLIT_WAVES waves of tiles per multiprocessor,
# at most MAX_SPLITS, at least MIN_SPLIT_K values of k per block.
SPLIT_WAVES, MAX_SPLITS, MIN_SPLIT_K = 8, 256, 1024


def _sizes(x_shape, w_shape, stride, padding, dilation):
    oh = conv_output_size(x_shape[2], w_shape[2], stride[0], padding[0], padding[1], dilation[0])
    ow = conv_output_size(x_shape[3], w_shape[3], stride[1], padding[2], padding[3], dilation[1])
    return oh, ow


def _conv_params(x_shape, w_shape, oh, ow, stride, padding, dilation, groups, bias=0, relu=0):
    n, c, h, w = x_shape
    cout, cg, kh, kw = w_shape
    return gemm.params("conv", bias, relu, Nb=n, Cin=c, H=h, W=w, O=cout, OH=oh, OW=ow, KH=kh, KW=kw, SH=stride[0],
                       SW=stride[1], PH=padding[0], PW=padding[2], DH=dilation[0], DW=dilation[1], Cg=cg,
                       Og=cout // groups)


def _fwd_table(x_shape, w_shape, dilation):
    """Per k = (c, i, j): (i * dh, j * dw, offset of that tap in an image) for the forward loader."""
    h, w = x_shape[2:]
    cg, kh, kw = w_shape[1:]
    key = ("fwd", h, w, cg, kh, kw, tuple(dilation))

    def build():
        c, i, j = np.meshgrid(np.arange(cg), np.arange(kh), np.arange(kw), indexing="ij")
        di, dj = (i * dilation[0]).ravel(), (j * dilation[1]).ravel()
        return np.concatenate([di, dj, c.ravel() * h * w + di * w + dj])

    return gemm.table(key, build)


def _dx_tables(w_shape, og, oh, ow, dilation):
    """Per k = (o, i, j): the weight offset (table a) and (i * dh, j * dw, o * oh * ow) (table b)."""
    cg, kh, kw = w_shape[1:]
    key = ("dx", og, cg, kh, kw, oh, ow, tuple(dilation))

    def build_a():
        o, r = np.meshgrid(np.arange(og), np.arange(kh * kw), indexing="ij")
        return (o * cg * kh * kw + r).ravel()

    def build_b():
        o, i, j = np.meshgrid(np.arange(og), np.arange(kh), np.arange(kw), indexing="ij")
        return np.concatenate([(i * dilation[0]).ravel(), (j * dilation[1]).ravel(), (o * oh * ow).ravel()])

    return gemm.table(key + ("a",), build_a), gemm.table(key + ("b",), build_b)


def conv2d_forward(x, w, bias, stride, padding, dilation, groups, relu=False):
    """Cross-correlation of x (n, c, h, w) with w (cout, c/groups, kh, kw), plus bias, optional ReLU."""
    x, w = ascontiguousarray(x), ascontiguousarray(w)
    n = x.shape[0]
    cout, cg, kh, kw = w.shape
    oh, ow = _sizes(x.shape, w.shape, stride, padding, dilation)
    out = empty((n, cout, oh, ow), x.dtype)
    if out.size == 0:
        return out
    p = _conv_params(x.shape, w.shape, oh, ow, stride, padding, dilation, groups, bias is not None, relu)
    bias_flat = bias.flat if bias is not None else gemm.dummy(x.dtype)
    gemm.launch("conv_fwd", out.flat, w.flat, x.flat, bias_flat, cout // groups, n * oh * ow, cg * kh * kw, groups, p,
                a_k_fast=True, b_k_fast=False, tab_b=_fwd_table(x.shape, w.shape, dilation))
    return out


@cached
def _grad_rows_kernel():
    @cuda.jit
    def kernel(grad, out, relu, g, dbias, plane, cout, want_bias):
        # grid (cout, batch chunks); g = grad masked by the fused ReLU, dbias[c] += its sum.
        c = cuda.blockIdx.x
        t = cuda.threadIdx.x
        n = grad.size // (plane * cout)
        per = (n + cuda.gridDim.y - 1) // cuda.gridDim.y
        n0 = cuda.blockIdx.y * per
        n1 = min(n, n0 + per)
        acc = 0.0
        for b in range(n0, n1):
            base = (b * cout + c) * plane
            for q in range(t, plane, cuda.blockDim.x):
                v = grad[base + q]
                if relu and out[base + q] <= 0:
                    v = v * 0
                g[base + q] = v
                acc += v
        if want_bias:
            shared = cuda.shared.array(ROW_THREADS, np.float64)
            shared[t] = acc
            cuda.syncthreads()
            step = cuda.blockDim.x // 2
            while step > 0:
                if t < step:
                    shared[t] += shared[t + step]
                cuda.syncthreads()
                step //= 2
            if t == 0:
                cuda.atomic.add(dbias, c, shared[0])

    return kernel


def _grad_rows(grad, out, relu, want_bias):
    """(grad masked by the fused ReLU, bias gradient or None) in one pass."""
    n, cout, oh, ow = grad.shape
    if not relu and not want_bias:
        return grad, None
    g = empty(grad.shape, grad.dtype) if relu else grad
    dbias = zeros((cout,), np.float64)
    threads = ROW_THREADS if oh * ow >= ROW_THREADS else SMALL_ROW_THREADS
    chunks = max(1, min(n, ROW_BLOCKS // max(cout, 1)))
    mask = out if relu else grad
    _grad_rows_kernel()[(cout, chunks), threads](grad.flat, mask.flat, bool(relu), g.flat, dbias.flat, oh * ow, cout,
                                                bool(want_bias))
    return g, (dbias.astype(grad.dtype) if want_bias else None)


def _split(k_total, outputs):
    """How many blocks share the K axis: about SPLIT_WAVES waves of the GPU's multiprocessors' worth of tiles
    (on the H100, 132 SMs, the 64->64 layer's grad weight ran 2.35 ms with 32 splits, 1.65 ms with 128)."""
    tiles = max(1, math.ceil(outputs / (gemm.DEFAULT[0] * gemm.DEFAULT[1])))
    return max(1, min(MAX_SPLITS, SPLIT_WAVES * multiprocessors() // tiles, k_total // MIN_SPLIT_K))


def conv2d_backward(grad, x, w, out, stride, padding, dilation, groups, relu, needs=(True, True, True)):
    """(grad input, grad weight, grad bias) of conv2d_forward; ``out`` is its output (used when ``relu``)."""
    x, w, grad = ascontiguousarray(x), ascontiguousarray(w), ascontiguousarray(grad)
    n, c, h, wd = x.shape
    cout, cg, kh, kw = w.shape
    oh, ow = grad.shape[2:]
    g, grad_bias = _grad_rows(grad, out, relu and out is not None, needs[2])
    if needs[2] and grad_bias is None:
        grad_bias = zeros((cout,), grad.dtype)
    p = _conv_params(x.shape, w.shape, oh, ow, stride, padding, dilation, groups)
    og = cout // groups
    no_bias = gemm.dummy(x.dtype)
    grad_input = grad_weight = None
    if needs[1]:
        grad_weight = zeros(w.shape, x.dtype)
        k_total = n * oh * ow
        ksplit = _split(k_total, og * cg * kh * kw)
        gemm.launch("conv_dw", grad_weight.flat, g.flat, x.flat, no_bias, og, cg * kh * kw, k_total, groups, p,
                    a_k_fast=True, b_k_fast=True, ksplit=ksplit)
    if needs[0]:
        grad_input = _backward_input(g, x.shape, w, stride, padding, dilation, groups)
    return grad_input, grad_weight, grad_bias


def _backward_input(g, x_shape, w, stride, padding, dilation, groups):
    """W.T @ g gathered back through the convolution's geometry: the gradient of an input of ``x_shape``."""
    n, c, h, wd = x_shape
    cout, cg, kh, kw = w.shape
    oh, ow = g.shape[2:]
    og = cout // groups
    grad_input = empty(tuple(x_shape), w.dtype)
    if grad_input.size == 0:
        return grad_input
    p = _conv_params(x_shape, w.shape, oh, ow, stride, padding, dilation, groups)
    tab_a, tab_b = _dx_tables(w.shape, og, oh, ow, dilation)
    gemm.launch("conv_dx", grad_input.flat, w.flat, g.flat, gemm.dummy(w.dtype), cg, n * h * wd, og * kh * kw,
                groups, p, a_k_fast=True, b_k_fast=False, tab_a=tab_a, tab_b=tab_b, unit_stride=tuple(stride) == (1, 1))
    return grad_input


def conv2d_backward_input(grad, x_shape, w, stride, padding, dilation, groups):
    """The gradient of conv2d_forward with respect to an input of ``x_shape`` alone: conv_transpose2d's forward
    (torch.nn.functional.conv_transpose2d)."""
    return _backward_input(ascontiguousarray(grad), tuple(x_shape), ascontiguousarray(w), stride, padding, dilation,
                           groups)


def conv2d_relu_max_pool2d_forward(x, w, bias, stride, padding, dilation, groups):
    """(pooled, indices): max_pool2d(relu(conv2d_forward(...)), 2) and the pool's argmax indices, through the two
    kernels in turn (the CPU twin fuses them, with codes in place of indices)."""
    out = conv2d_forward(x, w, bias, stride, padding, dilation, groups, relu=True)
    return pool.max_pool2d_forward(out, (2, 2), (2, 2), (0, 0))


def conv2d_relu_max_pool2d_backward(grad, x, w, pooled, codes, stride, padding, dilation, groups,
                                    needs=(True, True, True)):
    """Gradients of conv2d_relu_max_pool2d_forward (``codes``: its indices). The pooled values spread back to their
    argmax stand in for the conv's output as the ReLU's mask: > 0 exactly where the gradient passes."""
    shape = (x.shape[0], w.shape[0], *_sizes(x.shape, w.shape, stride, padding, dilation))
    grad_out = pool.max_pool2d_backward(grad, codes, shape, True)
    mask = pool.max_pool2d_backward(pooled, codes, shape, True)
    return conv2d_backward(grad_out, x, w, mask, stride, padding, dilation, groups, True, needs)
