"""GELU on device arrays: the CUDA twin of backends/cpu/activation.py (torch.nn.functional.gelu)."""
from . import array_api as xp
from . import elementwise as _ew


def gelu_forward(x, tanh_form):
    """(GELU(x), GELU'(x)) for ``x`` of any shape: the erf form, or the tanh approximation."""
    name = "gelu_tanh" if tanh_form else "gelu_erf"
    out = xp.empty(x.shape, x.dtype)
    deriv = xp.empty(x.shape, x.dtype)
    _ew.unary(name, out.flat, x.flat)
    _ew.unary(name + "_grad", deriv.flat, x.flat)
    return out, deriv
