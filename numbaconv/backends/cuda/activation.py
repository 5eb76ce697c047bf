"""GELU and dropout masks on device arrays: the CUDA twin of backends/cpu/activation.py.

GELU runs the per-element rules of backends/gelu_rules.py (shared with the CPU), value and derivative in one pass.
"""
import numpy as np

from .. import counter_rng, gelu_rules
from . import array_api as xp
from .launch import THREADS, blocks, cached, cuda


@cached
def _gelu_kernel(tanh_form):
    rule = cuda.jit(device=True)(gelu_rules.gelu_tanh if tanh_form else gelu_rules.gelu_erf)

    @cuda.jit
    def kernel(x, out, deriv):
        i = cuda.grid(1)
        if i < x.size:
            out[i], deriv[i] = rule(x[i])

    return kernel


def gelu_forward(x, tanh_form):
    """(GELU(x), GELU'(x)) for ``x`` of any shape: the erf form, or the tanh approximation."""
    out = xp.empty(x.shape, x.dtype)
    deriv = xp.empty(x.shape, x.dtype)
    if out.size:
        _gelu_kernel(bool(tanh_form))[blocks(out.size), THREADS](x.flat, out.flat, deriv.flat)
    return out, deriv


@cached
def _dropout_kernel():
    uniform = cuda.jit(device=True)(counter_rng.uniform)

    @cuda.jit
    def kernel(key, p, scale, out):
        i = cuda.grid(1)
        if i < out.size:
            out[i] = scale if uniform(key, np.uint64(i)) >= p else 0

    return kernel


def dropout_mask(shape, dtype, p, key):
    """Dropout's scaled keep mask, drawn on the device: equal to the CPU twin's for the same ``key``."""
    out = xp.empty(shape, dtype)
    if out.size:
        scale = 0.0 if p >= 1.0 else 1.0 / (1.0 - p)
        _dropout_kernel()[blocks(out.size), THREADS](np.uint64(key), float(p), scale, out.flat)
    return out
