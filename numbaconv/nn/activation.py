"""Activation modules (torch.nn.LeakyReLU, Sigmoid, Tanh, SiLU, Softmax, LogSoftmax): the functional ops with
stored options. ReLU and GELU live in layers.py."""
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
