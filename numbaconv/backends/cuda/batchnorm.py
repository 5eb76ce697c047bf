"""Batch normalisation over (N, C, L) device arrays: the CUDA twin of backends/cpu/batchnorm.py.

Built from the backend's strided reductions and broadcasting elementwise kernels (a few passes each).
"""
from . import array_api as xp


def _channel(vector):
    return xp.reshape(vector, (1, vector.shape[0], 1))


def batchnorm_stats(x):
    """Per-channel mean and biased variance of an (N, C, L) array, in x's dtype."""
    count = x.shape[0] * x.shape[2]
    mean = xp.sum(x, axis=(0, 2)) / count
    centred = x - _channel(mean)
    var = xp.sum(centred * centred, axis=(0, 2)) / count
    return xp.astype(mean, x.dtype), xp.astype(var, x.dtype)


def batchnorm_forward(x, mean, invstd, weight, bias):
    """(x - mean) * invstd * weight + bias per channel of an (N, C, L) array."""
    scale = invstd * weight
    shift = bias - mean * scale
    return x * _channel(scale) + _channel(shift)


def batchnorm_backward_reduce(grad, x, mean, invstd):
    """Per-channel sum(grad) and sum(grad * x_hat): the bias and weight gradients."""
    sum_g = xp.sum(grad, axis=(0, 2))
    sum_gxhat = xp.sum(grad * (x - _channel(mean)), axis=(0, 2)) * invstd
    return sum_g, sum_gxhat


def batchnorm_backward_input(grad, x, mean, invstd, weight, sum_g, sum_gxhat, batch_stats):
    """The input gradient; with ``batch_stats`` it includes the flow through the batch mean and variance."""
    scale = _channel(weight * invstd)
    if not batch_stats:
        return grad * scale
    count = x.shape[0] * x.shape[2]
    xhat = (x - _channel(mean)) * _channel(invstd)
    return scale * (grad - _channel(sum_g / count) - xhat * _channel(sum_gxhat / count))
