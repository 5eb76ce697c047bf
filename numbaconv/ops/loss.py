"""Losses: cross-entropy with label smoothing (fused log-softmax) and mean squared error (torch.nn.functional)."""
import numpy as np

from .. import backends
from ..autograd import Function
from ..backends import namespace_of
from ..tensor import Tensor
from .softmax import log_softmax_array

_REDUCTIONS = ("mean", "sum", "none")


class CrossEntropy(Function):
    """Per-sample -sum(q * log_softmax(logits)) with q = (1 - s) one_hot(target) + s / C."""

    @staticmethod
    def forward(ctx, logits, *, target, smoothing):
        xp = namespace_of(logits)
        n, classes = logits.shape
        log_probs = log_softmax_array(xp, logits, 1)
        rows = xp.arange(n)
        picked = xp.getitem(log_probs, (rows, target))
        loss = -(1.0 - smoothing) * picked
        if smoothing:
            loss = loss - smoothing / classes * xp.sum(log_probs, axis=1)
        ctx.save_for_backward(log_probs)
        return loss

    @staticmethod
    def backward(ctx, grad):
        (log_probs,) = ctx.saved_tensors
        xp = namespace_of(grad)
        n, classes = log_probs.shape
        target, smoothing = ctx.params.target, ctx.params.smoothing
        dlogits = xp.exp(log_probs) - smoothing / classes
        hit = xp.index_add(log_probs.shape, log_probs.dtype, (xp.arange(n), target),
                           xp.full((n,), 1.0 - smoothing, log_probs.dtype))
        dlogits = (dlogits - hit) * xp.reshape(grad, (n, 1))
        return dlogits


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def cross_entropy(input, target, label_smoothing=0.0, reduction="mean"):
    """Softmax cross-entropy over class dim 1 with class-index targets (torch.nn.functional.cross_entropy).

    ``input`` is (N, C) or (N, C, d1, ...); ``target`` holds int64 class indices of shape (N,) or (N, d1, ...).
    """
    if reduction not in _REDUCTIONS:
        raise ValueError(f"cross_entropy: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    target = target if isinstance(target, Tensor) else Tensor(np.asarray(target))
    if target.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: target must hold integer class indices, got dtype {target.dtype}")
    if input.ndim < 2:
        raise ValueError(f"cross_entropy: input must be (N, C, ...), got shape {input.shape}")
    expected = (input.shape[0],) + input.shape[2:]
    if target.shape != expected:
        raise ValueError(
            f"cross_entropy: target shape {target.shape} does not match input shape {input.shape}; "
            f"expected {expected}"
        )
    classes = input.shape[1]
    if input.ndim > 2:
        input = input.permute(0, *range(2, input.ndim), 1).reshape(-1, classes)
    xp = namespace_of(target.data)
    labels = xp.reshape(target.data, (-1,))
    if labels.size:
        low, high = (backends.to_host(xp.min(labels)).item(), backends.to_host(xp.max(labels)).item())
        if low < 0 or high >= classes:
            raise IndexError(f"cross_entropy: target values must lie in [0, {classes}), got range [{low}, {high}]")
    loss = CrossEntropy.apply(input, target=labels, smoothing=float(label_smoothing))
    if reduction == "none":
        return loss.reshape(expected)
    return _reduce(loss, reduction)


def mse_loss(input, target, reduction="mean"):
    """Mean squared error (torch.nn.functional.mse_loss)."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"mse_loss: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    if input.shape != target.shape:
        raise ValueError(f"mse_loss: input shape {input.shape} and target shape {target.shape} differ")
    diff = input - target
    return _reduce(diff * diff, reduction)
