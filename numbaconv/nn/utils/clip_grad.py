"""Gradient clipping (torch.nn.utils.clip_grad_norm_ / clip_grad_value_), in place on each parameter's ``.grad``.

The norms are reduced on the gradients' device; the only host read is clip_grad_norm_'s finiteness check with
``error_if_nonfinite=True``.
"""
import math

from ...backends import namespace
from ...tensor import Tensor


def _grads(parameters):
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in params if p.grad is not None]


def _norm(xp, array, norm_type):
    """The ``norm_type``-norm of one array, as a 0-d float array of its dtype."""
    if norm_type == math.inf:
        return xp.max(xp.abs(array)) if array.size else xp.zeros((), array.dtype)
    if norm_type == 2.0:
        return xp.sqrt(xp.sum(array * array))
    return xp.power(xp.sum(xp.power(xp.abs(array), norm_type)), 1.0 / norm_type)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients together so their joint ``norm_type``-norm is at most ``max_norm``; returns that total
    norm (before clipping) as a 0-d Tensor (torch.nn.utils.clip_grad_norm_). The scale is
    min(1, max_norm / (total + 1e-6)), as torch's; ``foreach`` is accepted for torch's signature."""
    norm_type = float(norm_type)
    if not (norm_type > 0 or norm_type == math.inf):
        raise ValueError(f"clip_grad_norm_: norm_type must be positive or inf, got {norm_type}")
    grads = _grads(parameters)
    if not grads:
        return Tensor(namespace("cpu").zeros((), "float32"))
    devices = {g.device for g in grads}
    if len(devices) > 1:
        raise RuntimeError(f"clip_grad_norm_: gradients on several devices {sorted(devices)}")
    xp = namespace(grads[0].device)
    norms = [_norm(xp, g.array, norm_type) for g in grads]
    dtype = grads[0].dtype
    if norm_type == math.inf:
        total = norms[0]
        for n in norms[1:]:
            total = xp.maximum(total, xp.astype(n, dtype))
    else:
        stacked = xp.stack([xp.astype(xp.reshape(n, (1,)), dtype) for n in norms])
        total = _norm(xp, stacked, norm_type)
    if error_if_nonfinite:
        value = float(xp.to_host(total))
        if not math.isfinite(value):
            raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {value}, "
                               "so they cannot be clipped; set error_if_nonfinite=False to scale them anyway")
    coef = xp.minimum(float(max_norm) / (total + 1e-6), 1.0)
    for g in grads:
        g.array[...] = g.array * xp.astype(coef, g.dtype)
        g._version[0] += 1
    return Tensor(total)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value] in place (torch.nn.utils.clip_grad_value_);
    ``foreach`` is accepted for torch's signature."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        g.array[...] = namespace(g.device).clip(g.array, -clip_value, clip_value)
        g._version[0] += 1
