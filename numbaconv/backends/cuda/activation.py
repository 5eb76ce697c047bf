"""GELU on the GPU: the twin of backends/cpu/activation.py (one pass writes GELU(x) and GELU'(x))."""
import math

from . import array_api as xp
from .launch import THREADS, blocks, cached, cuda

_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_K = math.sqrt(2.0 / math.pi)
_C = 0.044715


@cached
def _kernel():
    @cuda.jit
    def gelu(x, tanh_form, out, deriv):
        i = cuda.grid(1)
        if i < x.size:
            v = x[i]
            if tanh_form:
                t = math.tanh(_K * (v + _C * v * v * v))
                out[i] = 0.5 * v * (1.0 + t)
                deriv[i] = 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * _K * (1.0 + 3.0 * _C * v * v)
            else:
                cdf = 0.5 * math.erfc(-v * _SQRT1_2)
                out[i] = v * cdf
                deriv[i] = cdf + v * math.exp(-0.5 * v * v) * _INV_SQRT_2PI

    return gelu


def gelu_forward(x, tanh_form):
    """(GELU(x), GELU'(x)) for ``x`` of any shape: the erf form, or the tanh approximation."""
    x = xp.ascontiguousarray(x)
    out, deriv = xp.empty(x.shape, x.dtype), xp.empty(x.shape, x.dtype)
    if x.size:
        _kernel()[blocks(x.size), THREADS](x.flat, bool(tanh_form), out.flat, deriv.flat)
    return out, deriv
