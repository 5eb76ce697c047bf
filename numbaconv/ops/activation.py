"""GELU, leaky ReLU, SiLU, ELU, softplus, hardtanh/relu6, dropout and dropout2d (torch.nn.functional): fused
Functions, or compositions of differentiable ops where that is exact."""
import warnings

from .. import random as _random
from ..autograd import Function
from ..backends import kernels_of, namespace_of
from ..tensor import Tensor
from ._util import check_kernel_dtype
from .elementwise import where


class Gelu(Function):
    @staticmethod
    def forward(ctx, x, *, tanh_form):
        out, deriv = kernels_of(x, "activation").gelu_forward(x, tanh_form)
        ctx.save_for_backward(deriv)
        return out

    @staticmethod
    def backward(ctx, grad):
        (deriv,) = ctx.saved_tensors
        return namespace_of(grad).multiply(grad, deriv)


def gelu(input, approximate="none"):
    """x·Φ(x) with the exact erf form, or the tanh approximation for ``approximate='tanh'``
    (torch.nn.functional.gelu)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"gelu: input must be a Tensor, got {type(input).__name__}")
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    check_kernel_dtype("gelu", input.dtype, floating=True)
    return Gelu.apply(input, tanh_form=approximate == "tanh")


class Dropout(Function):
    @staticmethod
    def forward(ctx, x, *, mask):
        return namespace_of(x).multiply(x, mask)

    @staticmethod
    def backward(ctx, grad):
        return namespace_of(grad).multiply(grad, ctx.params.mask)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) in training (torch.nn.functional.dropout).

    The mask is drawn where the input lives (no host copy on a GPU) from a key taken from the package
    generator (nc.manual_seed). ``inplace`` is accepted for PyTorch compatibility; the result is a new tensor.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"dropout: input must be a Tensor, got {type(input).__name__}")
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    if not training or p == 0.0:
        return input
    check_kernel_dtype("dropout", input.dtype)
    key = int(_random.generator().integers(0, 2**63))
    mask = kernels_of(input.array, "activation").dropout_mask(input.shape, input.dtype, float(p), key)
    return Dropout.apply(input, mask=mask)


class LeakyRelu(Function):
    @staticmethod
    def forward(ctx, x, *, slope):
        xp = namespace_of(x)
        positive = xp.greater(x, 0)
        ctx.save_for_backward(positive)
        return xp.where(positive, x, x * slope)

    @staticmethod
    def backward(ctx, grad):
        (positive,) = ctx.saved_tensors
        return namespace_of(grad).where(positive, grad, grad * ctx.params.slope)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x where x > 0, else negative_slope·x (torch.nn.functional.leaky_relu); ``inplace`` is accepted, the result
    is a new tensor."""
    if not isinstance(input, Tensor):
        raise TypeError(f"leaky_relu: input must be a Tensor, got {type(input).__name__}")
    if isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float)):
        raise TypeError(f"leaky_relu: negative_slope must be a number, got {negative_slope!r}")
    check_kernel_dtype("leaky_relu", input.dtype, floating=True)
    return LeakyRelu.apply(input, slope=float(negative_slope))


def silu(input, inplace=False):
    """x·sigmoid(x) (torch.nn.functional.silu)."""
    return input * input.sigmoid()


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of an (N, C, H, W) input with probability ``p`` in training, scaling the rest by 1/(1-p)
    (torch.nn.functional.dropout2d); one draw per channel, from the package generator. A 3-D input is read as
    (N, C, L), with a warning, as torch 2 does."""
    if not isinstance(input, Tensor):
        raise TypeError(f"dropout2d: input must be a Tensor, got {type(input).__name__}")
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout2d: p must be a probability in [0, 1], got {p!r}")
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected a 3-D (N, C, L) or 4-D (N, C, H, W) input, got shape {input.shape}")
    if input.ndim == 3:
        warnings.warn("dropout2d: received a 3-D input; it is read as (N, C, L) and each (n, c) row is dropped as a "
                      "whole (torch's behaviour); use dropout1d for that, or pass (N, C, H, W)", UserWarning,
                      stacklevel=2)
    if not training or p == 0.0:
        return input
    check_kernel_dtype("dropout2d", input.dtype)
    key = int(_random.generator().integers(0, 2**63))
    shape = input.shape[:2] + (1,) * (input.ndim - 2)
    mask = kernels_of(input.array, "activation").dropout_mask(shape, input.dtype, float(p), key)
    return Dropout.apply(input, mask=mask)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clamped into [min_val, max_val] (torch.nn.functional.hardtanh); the gradient is 1 strictly inside, 0 on
    the bounds and outside, as torch's."""
    if not min_val < max_val:
        raise ValueError(f"hardtanh: min_val must be below max_val, got {min_val} and {max_val}")
    values = input.detach()
    inside = (values > min_val) & (values < max_val)
    return where(inside, input, values.clamp(float(min_val), float(max_val)))


def relu6(input, inplace=False):
    """min(max(x, 0), 6) (torch.nn.functional.relu6)."""
    return hardtanh(input, 0.0, 6.0)


def elu(input, alpha=1.0, inplace=False):
    """x where x > 0, else alpha·(exp(x) - 1) (torch.nn.functional.elu); the exp sees min(x, 0), so a large x
    never makes an infinite branch (whose zero gradient would turn into NaN)."""
    negative = (input.clamp(max=0.0).exp() - 1.0) * float(alpha)
    return where(input.detach() > 0, input, negative)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta·x)) / beta, and x itself where beta·x > threshold (torch.nn.functional.softplus);
    computed as max(bx, 0) + log(1 + exp(-|bx|)), which never overflows."""
    if not beta > 0:
        raise ValueError(f"softplus: beta must be positive, got {beta!r}")
    scaled = input * float(beta)
    smooth = (scaled.relu() + ((-scaled.abs()).exp() + 1.0).log()) / float(beta)
    return where(scaled.detach() > threshold, input, smooth)
