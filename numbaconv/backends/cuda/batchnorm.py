"""Batch normalisation on the GPU over (N, C, L) CudaArrays: the twin of backends/cpu/batchnorm.py.

Per-channel reductions run one block per channel with float64 shared-memory trees; the elementwise passes
run one thread per element.
"""
from . import array_api as xp
from .launch import SIMULATED, THREADS, blocks, cached, cuda

RED_THREADS = 32 if SIMULATED else 256


@cached
def _kernels():
    from numba import float64

    @cuda.jit(device=True)
    def block_sum(shared, value):
        t = cuda.threadIdx.x
        shared[t] = value
        cuda.syncthreads()
        step = RED_THREADS // 2
        while step > 0:
            if t < step:
                shared[t] += shared[t + step]
            cuda.syncthreads()
            step //= 2
        total = shared[0]
        cuda.syncthreads()
        return total

    @cuda.jit
    def stats(x, n, c, length, mean, var):
        ch = cuda.blockIdx.x
        t = cuda.threadIdx.x
        shared = cuda.shared.array(RED_THREADS, float64)
        count = n * length
        acc = 0.0
        for r in range(t, count, RED_THREADS):
            acc += x[((r // length) * c + ch) * length + r % length]
        mu = block_sum(shared, acc) / count
        acc = 0.0
        for r in range(t, count, RED_THREADS):
            d = x[((r // length) * c + ch) * length + r % length] - mu
            acc += d * d
        square = block_sum(shared, acc)
        if t == 0:
            mean[ch] = mu
            var[ch] = square / count

    @cuda.jit
    def forward(x, c, length, mean, invstd, weight, bias, out):
        i = cuda.grid(1)
        if i < x.size:
            ch = (i // length) % c
            scale = invstd[ch] * weight[ch]
            out[i] = (x[i] - mean[ch]) * scale + bias[ch]

    @cuda.jit
    def reduce(grad, x, n, c, length, mean, invstd, sum_g, sum_gxhat):
        ch = cuda.blockIdx.x
        t = cuda.threadIdx.x
        shared = cuda.shared.array(RED_THREADS, float64)
        mu = mean[ch]
        sg = 0.0
        sgx = 0.0
        for r in range(t, n * length, RED_THREADS):
            k = ((r // length) * c + ch) * length + r % length
            sg += grad[k]
            sgx += grad[k] * (x[k] - mu)
        total_g = block_sum(shared, sg)
        total_gx = block_sum(shared, sgx)
        if t == 0:
            sum_g[ch] = total_g
            sum_gxhat[ch] = total_gx * invstd[ch]

    @cuda.jit
    def backward_input(grad, x, n, c, length, mean, invstd, weight, sum_g, sum_gxhat, batch_stats, out):
        i = cuda.grid(1)
        if i < x.size:
            ch = (i // length) % c
            scale = weight[ch] * invstd[ch]
            if batch_stats:
                count = n * length
                xhat = (x[i] - mean[ch]) * invstd[ch]
                out[i] = scale * (grad[i] - sum_g[ch] / count - xhat * sum_gxhat[ch] / count)
            else:
                out[i] = scale * grad[i]

    return stats, forward, reduce, backward_input


def batchnorm_stats(x):
    """Per-channel mean and biased variance of an (N, C, L) array, in x's dtype."""
    n, c, length = x.shape
    mean, var = xp.empty((c,), x.dtype), xp.empty((c,), x.dtype)
    _kernels()[0][c, RED_THREADS](x.flat, n, c, length, mean.flat, var.flat)
    return mean, var


def batchnorm_forward(x, mean, invstd, weight, bias):
    """(x - mean) * invstd * weight + bias per channel of an (N, C, L) array."""
    out = xp.empty(x.shape, x.dtype)
    if x.size:
        _kernels()[1][blocks(x.size), THREADS](x.flat, x.shape[1], x.shape[2], mean.flat, invstd.flat, weight.flat,
                                               bias.flat, out.flat)
    return out


def batchnorm_backward_reduce(grad, x, mean, invstd):
    """Per-channel sum(grad) and sum(grad * x_hat): the bias and weight gradients."""
    n, c, length = x.shape
    sum_g, sum_gxhat = xp.empty((c,), x.dtype), xp.empty((c,), x.dtype)
    _kernels()[2][c, RED_THREADS](grad.flat, x.flat, n, c, length, mean.flat, invstd.flat, sum_g.flat, sum_gxhat.flat)
    return sum_g, sum_gxhat


def batchnorm_backward_input(grad, x, mean, invstd, weight, sum_g, sum_gxhat, batch_stats):
    """The input gradient; with ``batch_stats`` it includes the flow through the batch mean and variance."""
    n, c, length = x.shape
    out = xp.empty(x.shape, x.dtype)
    if x.size:
        _kernels()[3][blocks(x.size), THREADS](grad.flat, x.flat, n, c, length, mean.flat, invstd.flat, weight.flat,
                                               sum_g.flat, sum_gxhat.flat, bool(batch_stats), out.flat)
    return out


