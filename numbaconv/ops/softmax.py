"""log_softmax, softmax and logsumexp along one dim, max-shifted for stability (torch.*)."""
from ..autograd import Function
from ..backends import kernels_of, namespace_of
from ..tensor import Tensor
from ._util import normalize_dim


class Softmax(Function):
    """softmax along ``axis``, or log_softmax with ``log=True``: one forward, and each its own gradient rule."""

    @staticmethod
    def forward(ctx, a, *, axis, log):
        kernels = kernels_of(a, "softmax")
        out = kernels.log_softmax(a, axis) if log else kernels.softmax(a, axis)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return kernels_of(grad, "softmax").softmax_backward(grad, out, ctx.params.axis, ctx.params.log)


class LogSumExp(Function):
    """log(sum(exp(a))) along ``axis`` (torch.logsumexp); its gradient is softmax(a) times the output's."""

    @staticmethod
    def forward(ctx, a, *, axis, keepdim):
        out = kernels_of(a, "softmax").logsumexp(a, axis)
        ctx.save_for_backward(a, out)
        return out if keepdim else namespace_of(a).reshape(out, a.shape[:axis] + a.shape[axis + 1 :])

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        if grad.ndim != a.ndim:
            grad = namespace_of(grad).reshape(grad, out.shape)
        return kernels_of(grad, "softmax").logsumexp_backward(grad, a, out, ctx.params.axis)


def log_softmax(a, dim):
    """log(softmax(a)) computed stably (torch.log_softmax)."""
    return Softmax.apply(a, axis=normalize_dim("log_softmax", dim, a.ndim), log=True)


def softmax(a, dim):
    """exp(a) / sum(exp(a)) along ``dim`` (torch.softmax)."""
    return Softmax.apply(a, axis=normalize_dim("softmax", dim, a.ndim), log=False)


def logsumexp(a, dim, keepdim=False):
    """log(sum(exp(a))) along ``dim`` (torch.logsumexp)."""
    return LogSumExp.apply(a, axis=normalize_dim("logsumexp", dim, a.ndim), keepdim=keepdim)


Tensor.log_softmax = log_softmax
Tensor.softmax = softmax
Tensor.logsumexp = logsumexp
