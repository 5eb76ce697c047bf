"""log_softmax, softmax and their backward on device arrays: the CUDA twin of backends/cpu/softmax.py, written
with the device array namespace (backends/softmax_rules.py)."""
from .. import softmax_rules
from . import array_api as xp


def log_softmax(a, axis):
    """log_softmax of ``a`` along ``axis`` (torch.log_softmax)."""
    return softmax_rules.log_softmax(xp, a, axis)


def softmax(a, axis):
    """softmax of ``a`` along ``axis`` (torch.softmax)."""
    return xp.exp(softmax_rules.log_softmax(xp, a, axis))


def softmax_backward(grad, out, axis, log):
    """The input gradient of log_softmax (``log``) or softmax from its output ``out``."""
    return softmax_rules.softmax_backward(xp, grad, out, axis, log)


def logsumexp(a, axis):
    """log(sum(exp(a))) along ``axis``, kept with length 1 (torch.logsumexp(keepdim=True))."""
    return softmax_rules.logsumexp(xp, a, axis)


def logsumexp_backward(grad, a, out, axis):
    """The input gradient of :func:`logsumexp` from its output ``out`` and its gradient ``grad`` (axis kept)."""
    return softmax_rules.logsumexp_backward(xp, grad, a, out)
