"""GELU kernels on flat arrays (torch.nn.functional.gelu, exact erf form and approximate='tanh')."""
import math

import numpy as np
from numba import njit, prange

_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_K = math.sqrt(2.0 / math.pi)
_C = 0.044715


@njit(parallel=True, cache=True)
def _gelu(x, tanh_form, out):
    for i in prange(x.size):
        v = x[i]
        if tanh_form:
            out[i] = 0.5 * v * (1.0 + math.tanh(_K * (v + _C * v * v * v)))
        else:
            out[i] = 0.5 * v * (1.0 + math.erf(v * _SQRT1_2))


@njit(parallel=True, cache=True)
def _gelu_grad(grad, x, tanh_form, out):
    for i in prange(x.size):
        v = x[i]
        if tanh_form:
            t = math.tanh(_K * (v + _C * v * v * v))
            d = 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * _K * (1.0 + 3.0 * _C * v * v)
        else:
            d = 0.5 * (1.0 + math.erf(v * _SQRT1_2)) + v * math.exp(-0.5 * v * v) * _INV_SQRT_2PI
        out[i] = grad[i] * d


def gelu_forward(x, tanh_form):
    """GELU of ``x`` (any shape), exact or with the tanh approximation."""
    x = np.ascontiguousarray(x)
    out = np.empty_like(x)
    _gelu(x.reshape(-1), tanh_form, out.reshape(-1))
    return out


def gelu_backward(grad, x, tanh_form):
    """grad * GELU'(x)."""
    x = np.ascontiguousarray(x)
    grad = np.ascontiguousarray(grad, dtype=x.dtype)
    out = np.empty_like(x)
    _gelu_grad(grad.reshape(-1), x.reshape(-1), tanh_form, out.reshape(-1))
    return out
