"""Activation modules (torch.nn.LeakyReLU, Sigmoid, Tanh, SiLU, Softmax, LogSoftmax, ELU, Hardtanh, ReLU6, Softplus):
the functional ops with stored options. ReLU and GELU live in layers.py."""
import warnings

from . import functional as F
from .module import Module


class LeakyReLU(Module):
    """x where x > 0, else negative_slope·x (torch.nn.LeakyReLU); ``inplace`` is accepted and ignored."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        if isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float)):
            raise TypeError(f"LeakyReLU: negative_slope must be a number, got {negative_slope!r}")
        self.negative_slope, self.inplace = float(negative_slope), inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    """1 / (1 + exp(-x)) (torch.nn.Sigmoid)."""

    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    """tanh(x) (torch.nn.Tanh)."""

    def forward(self, input):
        return F.tanh(input)


class SiLU(Module):
    """x·sigmoid(x) (torch.nn.SiLU); ``inplace`` is accepted and ignored."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.silu(input)


def _softmax_dim(name, dim):
    if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int)):
        raise TypeError(f"{name}: dim must be an int, got {dim!r}")
    return dim


def _legacy_dim(name, ndim):
    """torch's choice when ``dim`` is None, with its deprecation warning: 0 for 0-, 1- and 3-D inputs, else 1."""
    warnings.warn(f"{name}: the implicit dim choice is deprecated (as in torch); pass dim=", UserWarning, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    """exp(x) / sum(exp(x)) along ``dim`` (torch.nn.Softmax)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = _softmax_dim("Softmax", dim)

    def forward(self, input):
        return F.softmax(input, self.dim if self.dim is not None else _legacy_dim("Softmax", input.ndim))

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``dim``, computed stably (torch.nn.LogSoftmax)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = _softmax_dim("LogSoftmax", dim)

    def forward(self, input):
        return F.log_softmax(input, self.dim if self.dim is not None else _legacy_dim("LogSoftmax", input.ndim))

    def extra_repr(self):
        return f"dim={self.dim}"


class ELU(Module):
    """x where x > 0, else alpha·(exp(x) - 1) (torch.nn.ELU); ``inplace`` is accepted and ignored."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = float(alpha), inplace

    def forward(self, input):
        return F.elu(input, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Hardtanh(Module):
    """x clamped into [min_val, max_val] (torch.nn.Hardtanh); ``inplace`` is accepted and ignored."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if not min_val < max_val:
            raise ValueError(f"{type(self).__name__}: min_val must be below max_val, got {min_val} and {max_val}")
        self.min_val, self.max_val, self.inplace = float(min_val), float(max_val), inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    """min(max(x, 0), 6) (torch.nn.ReLU6)."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Softplus(Module):
    """log(1 + exp(beta·x)) / beta, linear above ``threshold`` (torch.nn.Softplus)."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"
