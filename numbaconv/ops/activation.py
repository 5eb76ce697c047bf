"""GELU and dropout (torch.nn.functional.gelu / dropout) as fused Functions."""
from .. import random as _random
from ..autograd import Function
from ..backends import kernels_of, namespace_of
from ..tensor import Tensor
from ._util import check_kernel_dtype


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
    mask = kernels_of(input.data, "activation").dropout_mask(input.shape, input.dtype, float(p), key)
    return Dropout.apply(input, mask=mask)
