"""Losses (torch.nn.functional): cross-entropy (class indices with weight, ignore_index and label smoothing, or
class probabilities), nll_loss, binary cross-entropy (on probabilities and, stably, on logits), mse, l1, smooth l1
and huber.

The common cross-entropy case (no class weights, nothing ignored) is one fused log-softmax Function; the others
are log_softmax followed by :class:`NllLoss`, so both agree with PyTorch's formulas term by term.
"""
import numpy as np

from .. import backends
from ..autograd import Function
from ..backends import kernels_of, namespace_of
from ..tensor import Tensor
from .elementwise import where
from .softmax import log_softmax

_REDUCTIONS = ("mean", "sum", "none")


class CrossEntropy(Function):
    """Per-sample -sum(q * log_softmax(logits)) with q = (1 - s) one_hot(target) + s / C."""

    @staticmethod
    def forward(ctx, logits, *, target, smoothing):
        xp = namespace_of(logits)
        n, classes = logits.shape
        log_probs = kernels_of(logits, "softmax").log_softmax(logits, 1)
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


class NllLoss(Function):
    """Per-row -scale[i] * log_probs[i, labels[i]] of an (N, C) input; ``scale`` is the row's class weight (0 for
    an ignored row)."""

    @staticmethod
    def forward(ctx, log_probs, *, labels, scale):
        xp = namespace_of(log_probs)
        ctx.shape = tuple(log_probs.shape)
        picked = xp.getitem(log_probs, (xp.arange(log_probs.shape[0]), labels))
        return -(picked * scale)

    @staticmethod
    def backward(ctx, grad):
        xp = namespace_of(grad)
        n = ctx.shape[0]
        return xp.index_add(ctx.shape, grad.dtype, (xp.arange(n), ctx.params.labels), -(grad * ctx.params.scale))


def _check_reduction(op, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _as_tensor(value):
    return value if isinstance(value, Tensor) else Tensor(np.asarray(value))


def _class_weight(op, weight, classes, input):
    """``weight``'s array (a constant, in the input's dtype and on its device), or None."""
    if weight is None:
        return None
    if not isinstance(weight, Tensor):
        raise TypeError(f"{op}: weight must be a Tensor or None, got {type(weight).__name__}")
    if weight.shape != (classes,):
        raise ValueError(f"{op}: weight must have shape ({classes},), one value per class, got {weight.shape}")
    if weight.device != input.device:
        raise RuntimeError(f"{op}: weight is on {weight.device}, input on {input.device}")
    return namespace_of(weight.array).astype(weight.array, input.dtype)


def _rows(op, input, target):
    """(input as (rows, C), target labels as (rows,), the per-sample shape) for an (N, C, d1, ...) or (C,) input."""
    if input.ndim < 1:
        raise ValueError(f"{op}: input must be (C,) or (N, C, ...), got shape {input.shape}")
    if target.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices, got dtype {target.dtype}")
    expected = () if input.ndim == 1 else (input.shape[0],) + input.shape[2:]
    if target.shape != expected:
        raise ValueError(f"{op}: target shape {target.shape} does not match input shape {input.shape}; "
                         f"expected {expected}")
    classes = input.shape[0] if input.ndim == 1 else input.shape[1]
    if input.ndim == 1:
        input = input.reshape(1, classes)
    elif input.ndim > 2:
        input = input.permute(0, *range(2, input.ndim), 1).reshape(-1, classes)
    return input, namespace_of(target.array).reshape(target.array, (-1,)), expected


def _host_scalar(array):
    return backends.to_host(array).item()


def _labels(op, labels, classes, ignore_index):
    """(labels with ignored entries set to 0, the keep mask (bool) or None when nothing is ignored); checks that
    every other label lies in [0, classes). Two scalar reads when ignore_index is outside [0, classes) and no
    label equals it (the usual case), four otherwise."""
    xp = namespace_of(labels)
    if not labels.size:
        return labels, None
    low, high = _host_scalar(xp.min(labels)), _host_scalar(xp.max(labels))
    keep = None
    if not (0 <= low and high < classes and not 0 <= ignore_index < classes):
        ignored = xp.equal(labels, ignore_index)
        if _host_scalar(xp.sum(xp.astype(ignored, np.int64))):
            keep = xp.not_equal(labels, ignore_index)
            labels = xp.where(ignored, xp.zeros((), labels.dtype), labels)
            low, high = _host_scalar(xp.min(labels)), _host_scalar(xp.max(labels))
    if low < 0 or high >= classes:
        raise IndexError(f"{op}: target values must lie in [0, {classes}) or equal ignore_index={ignore_index}, "
                         f"got range [{low}, {high}]")
    return labels, keep


def _row_scale(xp, labels, keep, weight, dtype):
    """Each row's factor: its class weight (1 without weights), 0 where the row is ignored."""
    scale = xp.getitem(weight, labels) if weight is not None else xp.ones(labels.shape, dtype)
    return scale if keep is None else xp.where(keep, scale, xp.zeros((), dtype))


def _finish(loss, reduction, shape, denominator):
    """Apply ``reduction`` to per-row losses: 'mean' divides the sum by ``denominator`` (the summed row scales)."""
    if reduction == "none":
        return loss.reshape(shape)
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / Tensor(denominator)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood of log-probabilities ``input`` (C,), (N, C) or (N, C, d1, ...) at the class indices
    ``target`` (torch.nn.functional.nll_loss): -weight[t]·input[t]; 'mean' divides by the summed weights of the
    targets that are not ``ignore_index``. ``size_average``/``reduce`` are torch's deprecated aliases."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction("nll_loss", reduction)
    if not isinstance(input, Tensor):
        raise TypeError(f"nll_loss: input must be a Tensor, got {type(input).__name__}")
    rows, labels, shape = _rows("nll_loss", input, _as_tensor(target))
    classes = rows.shape[1]
    w = _class_weight("nll_loss", weight, classes, input)
    labels, keep = _labels("nll_loss", labels, classes, ignore_index)
    xp = namespace_of(rows.array)
    scale = _row_scale(xp, labels, keep, w, input.dtype)
    loss = NllLoss.apply(rows, labels=labels, scale=scale)
    return _finish(loss, reduction, shape, xp.sum(scale))


def legacy_reduction(size_average, reduce, reduction):
    """torch's rule for the deprecated size_average/reduce flags: reduce=False gives 'none', size_average=False
    'sum', otherwise 'mean'; with neither, ``reduction``."""
    if size_average is None and reduce is None:
        return reduction
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """Softmax cross-entropy over class dim 1 (torch.nn.functional.cross_entropy).

    ``input`` is (C,), (N, C) or (N, C, d1, ...). ``target`` holds int class indices of shape (), (N,) or
    (N, d1, ...), or class probabilities of the input's shape (float). ``weight`` (C,) rescales each class,
    ``ignore_index`` marks targets that contribute nothing, ``label_smoothing`` mixes the target with the uniform
    distribution; the 'mean' of index targets divides by the summed weights of the targets kept, as PyTorch.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    if not isinstance(input, Tensor):
        raise TypeError(f"cross_entropy: input must be a Tensor, got {type(input).__name__}")
    target = _as_tensor(target)
    if target.dtype.kind == "f":
        return _cross_entropy_probabilities(input, target, weight, reduction, float(label_smoothing))
    rows, labels, shape = _rows("cross_entropy", input, target)
    classes = rows.shape[1]
    w = _class_weight("cross_entropy", weight, classes, input)
    labels, keep = _labels("cross_entropy", labels, classes, ignore_index)
    smoothing = float(label_smoothing)
    if w is None and keep is None:
        loss = CrossEntropy.apply(rows, target=labels, smoothing=smoothing)
        return loss.reshape(shape) if reduction == "none" else _reduce(loss, reduction)
    xp = namespace_of(rows.array)
    scale = _row_scale(xp, labels, keep, w, input.dtype)
    log_probs = log_softmax(rows, 1)
    loss = NllLoss.apply(log_probs, labels=labels, scale=scale)
    if smoothing:
        spread = log_probs if w is None else log_probs * Tensor(xp.reshape(w, (1, classes)))
        smooth = -spread.sum(1)
        if keep is not None:
            smooth = smooth * Tensor(xp.astype(keep, input.dtype))
        loss = (1.0 - smoothing) * loss + (smoothing / classes) * smooth
    denominator = xp.sum(scale) if w is not None else xp.astype(xp.sum(xp.astype(keep, np.int64)), input.dtype)
    return _finish(loss, reduction, shape, denominator)


def _cross_entropy_probabilities(input, target, weight, reduction, smoothing):
    """-sum_c w_c q_c log_softmax(input)_c with q = (1 - s)·target + s/C; 'mean' averages over the samples."""
    if target.shape != input.shape:
        raise ValueError(f"cross_entropy: probability targets must have the input's shape {input.shape}, "
                         f"got {target.shape}")
    if target.dtype != input.dtype:
        raise TypeError(f"cross_entropy: probability targets have dtype {target.dtype}, input {input.dtype}")
    dim = 0 if input.ndim == 1 else 1
    classes = input.shape[dim]
    w = _class_weight("cross_entropy", weight, classes, input)
    q = target if not smoothing else target * (1.0 - smoothing) + smoothing / classes
    terms = log_softmax(input, dim) * q
    if w is not None:
        shape = (classes,) + (1,) * (input.ndim - dim - 1)
        terms = terms * Tensor(namespace_of(w).reshape(w, shape))
    loss = -terms.sum(dim)
    return _reduce(loss, reduction)


def _check_pair(op, input, target):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    target = _as_tensor(target)
    if input.shape != target.shape:
        raise ValueError(f"{op}: input shape {input.shape} and target shape {target.shape} differ")
    return target


class SquaredError(Function):
    """The sum, or with ``mean`` the mean, of (a - b)^2 over two arrays of one shape and dtype: one node keeping the
    difference, whose backward is the single pass 2 (a - b) g / count (and its negative for b)."""

    @staticmethod
    def forward(ctx, a, b, *, mean):
        diff, total = namespace_of(a, b).squared_difference_sum(a, b)
        ctx.scale = 2.0 / diff.size if mean else 2.0
        ctx.save_for_backward(diff)
        return total / diff.size if mean else total

    @staticmethod
    def backward(ctx, grad):
        (diff,) = ctx.saved_tensors
        xp = namespace_of(grad)
        need_a, need_b = ctx.needs_input_grad
        scaled = xp.multiply(diff, grad * ctx.scale)
        return (scaled if need_a else None), (xp.negative(scaled) if need_b else None)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Mean squared error (torch.nn.functional.mse_loss)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction("mse_loss", reduction)
    target = _check_pair("mse_loss", input, target)
    if reduction != "none" and input.dtype == target.dtype:
        return SquaredError.apply(input, target, mean=reduction == "mean")
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Mean absolute error |input - target| (torch.nn.functional.l1_loss)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction("l1_loss", reduction)
    target = _check_pair("l1_loss", input, target)
    return _reduce((input - target).abs(), reduction)


def _check_beta(op, name, value, positive):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0 or (
            positive and value == 0):
        raise ValueError(f"{op}: {name} must be a finite number {'> 0' if positive else '>= 0'}, got {value!r}")
    return float(value)


def _smooth_l1_terms(diff, beta):
    absolute = diff.abs()
    if beta == 0.0:
        return absolute
    return where(absolute.detach() < beta, diff * diff * (0.5 / beta), absolute - 0.5 * beta)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5·d²/beta where |d| < beta, else |d| - 0.5·beta, for d = input - target (torch.nn.functional.smooth_l1_loss;
    beta=0 is the L1 loss)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction("smooth_l1_loss", reduction)
    beta = _check_beta("smooth_l1_loss", "beta", beta, positive=False)
    target = _check_pair("smooth_l1_loss", input, target)
    return _reduce(_smooth_l1_terms(input - target, beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """0.5·d² where |d| < delta, else delta·(|d| - 0.5·delta) (torch.nn.functional.huber_loss)."""
    _check_reduction("huber_loss", reduction)
    delta = _check_beta("huber_loss", "delta", delta, positive=True)
    target = _check_pair("huber_loss", input, target)
    return _reduce(_smooth_l1_terms(input - target, delta) * delta, reduction)


class BinaryCrossEntropy(Function):
    """-(t·max(log x, -100) + (1 - t)·max(log(1 - x), -100)), differentiable in x and t; ``weight`` a constant
    factor. The input gradient is torch's (x - t) / max(x(1 - x), 1e-12)."""

    @staticmethod
    def forward(ctx, x, t, *, weight):
        xp = namespace_of(x)
        log_x = xp.maximum(xp.log(x), -100.0)
        log_rest = xp.maximum(xp.log(1.0 - x), -100.0)
        ctx.save_for_backward(x, t, log_x, log_rest)
        loss = -(t * log_x + (1.0 - t) * log_rest)
        return loss if weight is None else loss * weight

    @staticmethod
    def backward(ctx, grad):
        x, t, log_x, log_rest = ctx.saved_tensors
        xp = namespace_of(grad)
        weight = ctx.params.weight
        if weight is not None:
            grad = grad * weight
        need_x, need_t = ctx.needs_input_grad
        gx = grad * (x - t) / xp.maximum(x * (1.0 - x), 1e-12) if need_x else None
        gt = grad * (log_rest - log_x) if need_t else None
        return gx, gt


def _weight_array(op, weight, input):
    """``weight``'s array broadcast to the input's shape (a constant), or None."""
    if weight is None:
        return None
    if not isinstance(weight, Tensor):
        raise TypeError(f"{op}: weight must be a Tensor or None, got {type(weight).__name__}")
    try:
        shape = np.broadcast_shapes(weight.shape, input.shape)
    except ValueError:
        shape = None
    if shape != input.shape:
        raise ValueError(f"{op}: weight of shape {weight.shape} does not broadcast to the input's {input.shape}")
    xp = namespace_of(weight.array)
    return xp.ascontiguousarray(xp.broadcast_to(xp.astype(weight.array, input.dtype), input.shape))


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Binary cross-entropy of probabilities ``input`` in [0, 1] against ``target`` of the same shape
    (torch.nn.functional.binary_cross_entropy); the logs are clamped at -100 as PyTorch does."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction("binary_cross_entropy", reduction)
    target = _check_pair("binary_cross_entropy", input, target)
    if target.dtype != input.dtype:
        raise TypeError(f"binary_cross_entropy: target has dtype {target.dtype}, input {input.dtype}; "
                        "give a float target of the input's dtype")
    xp = namespace_of(input.array)
    if input.numel():
        low, high = _host_scalar(xp.min(input.array)), _host_scalar(xp.max(input.array))
        if not (0.0 <= low and high <= 1.0):
            raise ValueError(f"binary_cross_entropy: input values must lie in [0, 1] (probabilities; use "
                             f"binary_cross_entropy_with_logits for logits), got range [{low}, {high}]")
    loss = BinaryCrossEntropy.apply(input, target, weight=_weight_array("binary_cross_entropy", weight, input))
    return _reduce(loss, reduction)


class BinaryCrossEntropyWithLogits(Function):
    """(1 - t)·x + lw·softplus(-x) with lw = 1 + (pos_weight - 1)·t, differentiable in x and t; weight and
    pos_weight are constants. softplus(-x) = max(-x, 0) + log(1 + exp(-|x|)) never overflows."""

    @staticmethod
    def forward(ctx, x, t, *, weight, pos_weight):
        xp = namespace_of(x)
        soft = xp.maximum(-x, 0.0) + xp.log(1.0 + xp.exp(-xp.abs(x)))
        lw = None if pos_weight is None else 1.0 + (pos_weight - 1.0) * t
        loss = (1.0 - t) * x + (soft if lw is None else lw * soft)
        ctx.save_for_backward(x, t, soft, lw)
        return loss if weight is None else loss * weight

    @staticmethod
    def backward(ctx, grad):
        x, t, soft, lw = ctx.saved_tensors
        xp = namespace_of(grad)
        p = ctx.params
        if p.weight is not None:
            grad = grad * p.weight
        need_x, need_t = ctx.needs_input_grad
        gx = gt = None
        if need_x:
            below = xp.sigmoid(-x)
            gx = grad * ((1.0 - t) - (below if lw is None else lw * below))
        if need_t:
            gt = grad * (-x if p.pos_weight is None else (p.pos_weight - 1.0) * soft - x)
        return gx, gt


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """Sigmoid + binary cross-entropy in one numerically stable expression
    (torch.nn.functional.binary_cross_entropy_with_logits); ``pos_weight`` weighs the positive term, broadcast
    along the last dim (one value per class)."""
    op = "binary_cross_entropy_with_logits"
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(op, reduction)
    target = _check_pair(op, input, target)
    if target.dtype != input.dtype:
        raise TypeError(f"{op}: target has dtype {target.dtype}, input {input.dtype}; give a float target of the "
                        "input's dtype")
    loss = BinaryCrossEntropyWithLogits.apply(input, target, weight=_weight_array(op, weight, input),
                                              pos_weight=_weight_array(op, pos_weight, input))
    return _reduce(loss, reduction)
