"""GELU and its derivative per element, shared by the CPU and CUDA kernels (torch.nn.functional.gelu).

Plain functions of one float returning (GELU(x), GELU'(x)); each backend compiles them for itself
(numba.njit(inline="always") / numba.cuda.jit(device=True)), as counter_rng.py is shared.
"""
import math

INV_SQRT_2 = 1.0 / math.sqrt(2.0)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)  # the standard normal density's factor
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
CUBIC = 0.044715  # the tanh form's cubic coefficient


def gelu_erf(x):
    """(x * Phi(x), Phi(x) + x * phi(x)) with Phi the standard normal CDF (approximate='none')."""
    cdf = 0.5 * (1.0 + math.erf(x * INV_SQRT_2))
    return x * cdf, cdf + x * math.exp(-0.5 * x * x) * INV_SQRT_2PI


def gelu_tanh(x):
    """GELU's tanh approximation 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))) and its derivative
    (approximate='tanh')."""
    t = math.tanh(SQRT_2_OVER_PI * (x + CUBIC * x * x * x))
    return 0.5 * x * (1.0 + t), 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * SQRT_2_OVER_PI * (1.0 + 3.0 * CUBIC * x * x)
