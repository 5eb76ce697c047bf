"""Where conv2d's CPU passes write their output and read their output gradient, whatever the path
(backends/cpu/conv.py's patch GEMMs, backends/cpu/conv_winograd.py's tiles): the conv's own NCHW output (bias,
optional fused ReLU) and its gradient, or the fused ReLU + 2x2 max pool of backends/cpu/relu_pool.py, whose
output and gradient are pooled. Each pass hands its chunk to the method for its layout: ``channel_rows``
(cout, pixels), ``pixel_rows`` (pixels, cout) or ``tiles`` (Winograd tiles).
"""
import numpy as np
from numba import njit, uint64

from . import patches, relu_pool, winograd


@njit(nogil=True, cache=True)
def _bias_relu_nchw(y, b0, bias, relu, out):
    """out[b0 + b, co, l] = y[co, b*L + l] + bias[co], then max(., 0) when ``relu`` (the fused conv epilogue)."""
    cout, width = y.shape
    length = out.shape[2]
    src = y.reshape(y.size)
    dst = out.reshape(out.size)
    for co in range(cout):
        bv = bias[co]
        for b in range(width // length):
            s0 = uint64(co * width + b * length)
            d0 = uint64(((b0 + b) * cout + co) * length)
            for k in range(uint64(length)):
                v = src[s0 + k] + bv
                if relu and v < 0:
                    v = 0
                dst[d0 + k] = v


@njit(nogil=True, cache=True, fastmath={"reassoc", "nsz"})
def _grad_rows(grad, out, b0, b1, relu, g, bias_sum):
    """g[co, (b-b0)*L + l] = grad[b, co, l] (zero where the fused ReLU's ``out`` <= 0); bias_sum[co] += row sum."""
    cout = grad.shape[1]
    length = grad.shape[2]
    src = grad.reshape(grad.size)
    mask = out.reshape(out.size)
    dst = g.reshape(g.size)
    width = g.shape[1]
    for co in range(cout):
        acc = 0.0
        for b in range(b0, b1):
            s0 = uint64((b * cout + co) * length)
            d0 = uint64(co * width + (b - b0) * length)
            for k in range(uint64(length)):
                v = src[s0 + k]
                if relu and mask[s0 + k] <= 0:
                    v = 0
                dst[d0 + k] = v
                acc += v
        bias_sum[co] += acc


class Output:
    """The conv's output (n, cout, oh, ow): + bias, then ReLU when ``relu``."""

    def __init__(self, shape, dtype, bias, relu):
        self.shape, self.bias, self.relu = shape, bias, relu
        self.out = np.empty((shape[0], shape[1], shape[2] * shape[3]), dtype)

    def channel_rows(self, y, b0):
        _bias_relu_nchw(y, b0, self.bias, self.relu, self.out)

    def pixel_rows(self, y, b0):
        patches.bias_relu_from_rows(y, b0, self.bias, self.relu, self.out)

    def tiles(self, m, tiles_h, tiles_w, b0):
        winograd.output_tiles(m, tiles_h, tiles_w, b0, self.bias, self.relu, self.out.reshape(self.shape))

    def result(self):
        return self.out.reshape(self.shape)


class PooledOutput:
    """max_pool2d(relu(conv + bias), 2) of a conv output of ``shape`` (n, cout, oh, ow), and its uint8 codes."""

    def __init__(self, shape, dtype, bias):
        self.bias, self.oh, self.ow = bias, shape[2], shape[3]
        pooled_shape = (shape[0], shape[1], shape[2] // 2, shape[3] // 2)
        self.pooled = np.empty(pooled_shape, dtype)
        self.codes = np.empty(pooled_shape, np.uint8)

    def channel_rows(self, y, b0):
        maps = y.reshape(y.shape[0], -1, self.oh, self.ow)
        relu_pool.from_maps(maps, b0, self.bias, self.pooled, self.codes)

    def pixel_rows(self, y, b0):
        maps = y.reshape(-1, self.oh, self.ow, y.shape[1]).transpose(3, 0, 1, 2)
        relu_pool.from_maps(maps, b0, self.bias, self.pooled, self.codes)

    def tiles(self, m, tiles_h, tiles_w, b0):
        relu_pool.from_tiles(m, tiles_h, tiles_w, b0, self.bias, self.pooled, self.codes)

    def result(self):
        return self.pooled, self.codes


class Gradient:
    """The conv's output gradient, (n, cout, oh*ow) C-contiguous, zero where the fused ReLU's ``out3`` <= 0 when
    ``relu``."""

    def __init__(self, grad3, out3, relu, ow):
        self.grad3, self.out3, self.relu, self.ow = grad3, out3, relu, ow

    def channel_rows(self, b0, b1, g, bias_sum):
        _grad_rows(self.grad3, self.out3, b0, b1, self.relu, g, bias_sum)

    def tiles(self, b0, b1, tiles_h, tiles_w, dm, bias_sum):
        winograd.grad_tiles(self.grad3, self.out3, b0, b1, self.relu, tiles_h, tiles_w, self.ow, dm, bias_sum)

    def values(self, b0, b1):
        """A C-contiguous array whose max |.| bounds the gradient's of images b0..b1-1."""
        return self.grad3[b0:b1]


class PooledGradient:
    """The conv's output gradient (oh, ow maps) rebuilt from the pooled gradient ``grad`` of a PooledOutput."""

    def __init__(self, grad, pooled, codes, oh, ow):
        self.grad = np.ascontiguousarray(grad, dtype=pooled.dtype)
        self.pooled, self.codes, self.oh, self.ow = pooled, codes, oh, ow

    def channel_rows(self, b0, b1, g, bias_sum):
        relu_pool.to_channel_rows(self.grad, self.pooled, self.codes, b0, b1, self.oh, self.ow, g, bias_sum)

    def tiles(self, b0, b1, tiles_h, tiles_w, dm, bias_sum):
        relu_pool.to_tiles(self.grad, self.pooled, self.codes, b0, b1, tiles_h, tiles_w, dm, bias_sum)

    def values(self, b0, b1):
        return self.grad[b0:b1]
