"""log_softmax, softmax and logsumexp along one dim, max-shifted for stability (torch.*)."""
from ..autograd import Function
from ..backends import namespace_of
from ._util import normalize_dim


def _logsumexp(xp, a, axis):
    peak = xp.max(a, axis=axis, keepdims=True)
    peak = xp.where(xp.isfinite(peak), peak, 0)
    return peak + xp.log(xp.sum(xp.exp(a - peak), axis=axis, keepdims=True))


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, a, axis):
        xp = namespace_of(a)
        out = a - _logsumexp(xp, a, axis)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        xp = namespace_of(grad)
        return grad - xp.exp(out) * xp.sum(grad, axis=ctx.axis, keepdims=True), None


class Softmax(Function):
    @staticmethod
    def forward(ctx, a, axis):
        xp = namespace_of(a)
        out = xp.exp(a - _logsumexp(xp, a, axis))
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        xp = namespace_of(grad)
        return out * (grad - xp.sum(grad * out, axis=ctx.axis, keepdims=True)), None


class LogSumExp(Function):
    @staticmethod
    def forward(ctx, a, axis, keepdim):
        xp = namespace_of(a)
        out = _logsumexp(xp, a, axis)
        ctx.save_for_backward(a, out)
        ctx.axis = axis
        return out if keepdim else xp.reshape(out, a.shape[:axis] + a.shape[axis + 1 :])

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        xp = namespace_of(grad)
        if grad.ndim != a.ndim:
            grad = xp.reshape(grad, out.shape)
        return grad * xp.exp(a - out), None, None


def log_softmax(a, dim):
    """log(softmax(a)) computed stably (torch.log_softmax)."""
    return LogSoftmax.apply(a, normalize_dim("log_softmax", dim, a.ndim))


def softmax(a, dim):
    """exp(a) / sum(exp(a)) along ``dim`` (torch.softmax)."""
    return Softmax.apply(a, normalize_dim("softmax", dim, a.ndim))


def logsumexp(a, dim, keepdim=False):
    """log(sum(exp(a))) along ``dim`` (torch.logsumexp)."""
    return LogSumExp.apply(a, normalize_dim("logsumexp", dim, a.ndim), keepdim)
