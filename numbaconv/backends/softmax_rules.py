"""log_softmax, logsumexp and their backwards written with an array namespace's functions, shared by the CPU (its
small arrays) and the CUDA backend (torch.log_softmax, torch.softmax, torch.logsumexp).

The shift is the (finite) maximum along the axis, subtracted before the exp and the log-sum after it, so a
logit of 1e8 loses nothing; a NaN anywhere along the axis makes that whole line NaN, as in torch.
"""


def log_softmax(xp, a, axis):
    """log_softmax of ``a`` along ``axis``."""
    peak = xp.max(a, axis=axis, keepdims=True)
    shifted = a - xp.where(xp.isfinite(peak), peak, 0)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


def softmax_backward(xp, grad, out, axis, log):
    """The input gradient from the output ``out``: of log_softmax (``log``) or of softmax."""
    if log:
        return grad - xp.exp(out) * xp.sum(grad, axis=axis, keepdims=True)
    return out * (grad - xp.sum(grad * out, axis=axis, keepdims=True))


def logsumexp(xp, a, axis):
    """log(sum(exp(a))) along ``axis``, keeping it (length 1)."""
    peak = xp.max(a, axis=axis, keepdims=True)
    peak = xp.where(xp.isfinite(peak), peak, 0)
    return peak + xp.log(xp.sum(xp.exp(a - peak), axis=axis, keepdims=True))


def logsumexp_backward(xp, grad, a, out):
    """The input gradient of logsumexp from its output ``out`` and output gradient ``grad`` (both keeping the
    axis): grad * softmax(a)."""
    return grad * xp.exp(a - out)
