"""GELU kernels on flat arrays (torch.nn.functional.gelu, erf form and approximate='tanh'), and dropout masks.

One pass writes both GELU(x) and GELU'(x), so backward is a single multiply and x need not be kept.
The tanh form and the float64 erf form (libm's erf) are the rules of backends/gelu_rules.py, shared with the
CUDA twin; the float32 erf form uses the Chebyshev erfc of Numerical Recipes (relative error < 1.2e-7
everywhere, so the negative tail stays accurate) with its exp(poly) as a short Taylor series, so one exp per
element (backends/cpu/vector_exp.py, which vectorises) serves GELU and GELU'.
"""
import math

import numpy as np
from numba import njit, prange

from .. import counter_rng, gelu_rules
from ..gelu_rules import INV_SQRT_2, INV_SQRT_2PI
from . import threads, vector_exp

_FLAGS = {"reassoc", "contract", "arcp", "afn", "nsz"}
_gelu_erf_rule = njit(inline="always")(gelu_rules.gelu_erf)
_gelu_tanh_rule = njit(inline="always")(gelu_rules.gelu_tanh)
# exp(y) on [-1.27, 0] (the range of the erfc polynomial below): Taylor series about -0.63, error < 1e-8
_EXP_AT = -0.63
_E0, _E1, _E2, _E3, _E4, _E5, _E6, _E7, _E8 = (math.exp(_EXP_AT) / math.factorial(k) for k in range(9))


@njit(parallel=True, cache=True)
def _gelu_erf_exact(x, out, deriv):
    for i in prange(x.size):
        out[i], deriv[i] = _gelu_erf_rule(x[i])


@njit(parallel=True, cache=True, fastmath=_FLAGS)
def _gelu_erf_fast(x, out, deriv):
    one = np.float32(1.0)
    half = np.float32(0.5)
    for i in prange(x.size):
        v = x[i]
        z = abs(v) * np.float32(INV_SQRT_2)
        t = one / (one + half * z)
        poly = np.float32(-1.26551223) + t * (np.float32(1.00002368) + t * (np.float32(0.37409196) + t * (
            np.float32(0.09678418) + t * (np.float32(-0.18628806) + t * (np.float32(0.27886807) + t * (
                np.float32(-1.13520398) + t * (np.float32(1.48851587) + t * (np.float32(-0.82215223)
                                                                            + t * np.float32(0.17087277)))))))))
        y = poly - np.float32(_EXP_AT)
        e = np.float32(_E8) * y + np.float32(_E7)
        e = (e * y + np.float32(_E6)) * y + np.float32(_E5)
        e = (e * y + np.float32(_E4)) * y + np.float32(_E3)
        e = ((e * y + np.float32(_E2)) * y + np.float32(_E1)) * y + np.float32(_E0)
        gauss = vector_exp.exp(-z * z)
        tail = half * t * gauss * e
        cdf = one - tail if v >= 0 else tail
        out[i] = v * cdf
        deriv[i] = cdf + v * gauss * np.float32(INV_SQRT_2PI)


@njit(parallel=True, cache=True)
def _gelu_tanh(x, out, deriv):
    for i in prange(x.size):
        out[i], deriv[i] = _gelu_tanh_rule(x[i])


def gelu_forward(x, tanh_form):
    """(GELU(x), GELU'(x)) for ``x`` of any shape: the erf form, or the tanh approximation."""
    x = np.asarray(x, order="C")  # not ascontiguousarray: it turns 0-d into shape (1,)
    out = np.empty_like(x)
    deriv = np.empty_like(x)
    if tanh_form:
        kernel = _gelu_tanh
    else:
        kernel = _gelu_erf_fast if x.dtype == np.float32 else _gelu_erf_exact
    threads.launch(kernel, x.size, x.reshape(-1), out.reshape(-1), deriv.reshape(-1))
    return out, deriv


_uniform = njit(inline="always")(counter_rng.uniform)


@njit(parallel=True, cache=True)
def _dropout_mask(key, p, scale, out):
    for i in prange(out.size):
        out[i] = scale if _uniform(key, np.uint64(i)) >= p else 0


def dropout_mask(shape, dtype, p, key):
    """Dropout's scaled keep mask (torch.nn.functional.dropout): 1/(1-p) where draw i of stream ``key`` >= p."""
    out = np.empty(shape, dtype)
    scale = 0.0 if p >= 1.0 else 1.0 / (1.0 - p)
    threads.launch(_dropout_mask, out.size, np.uint64(key), float(p), scale, out.reshape(-1))
    return out
