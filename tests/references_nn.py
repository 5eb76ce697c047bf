"""Float64 numpy references of the nn ops of tests/op_specs_nn.py, one naming scheme: ``ref_<torch name>``.

Plain numpy (no numbaconv), written for clarity, not speed: sums over classes and windows are explicit; arguments
follow ``torch.nn.functional``.
"""
import math

import numpy as np


def _pair(value):
    return (value, value) if isinstance(value, (int, np.integer)) else tuple(value)


def _reduce(loss, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction](loss)


def _log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


# ---- classification losses ------------------------------------------------------------------------------

def _samples(x, target):
    """(log-probability rows (M, C), labels (M,), per-sample shape) of an (N, C, d...) or (C,) input."""
    classes = x.shape[0] if x.ndim == 1 else x.shape[1]
    rows = x.reshape(1, classes) if x.ndim == 1 else np.moveaxis(x, 1, -1).reshape(-1, classes)
    return rows, np.asarray(target).reshape(-1), np.shape(target)


def ref_nll_loss(x, target, weight=None, ignore_index=-100, reduction="mean"):
    rows, labels, shape = _samples(x, target)
    weight = np.ones(rows.shape[1]) if weight is None else weight
    loss, scale = np.zeros(len(labels)), np.zeros(len(labels))
    for i, label in enumerate(labels):
        if label != ignore_index:
            scale[i] = weight[label]
            loss[i] = -weight[label] * rows[i, label]
    if reduction == "none":
        return loss.reshape(shape)
    return loss.sum() / scale.sum() if reduction == "mean" else loss.sum()


def ref_cross_entropy(x, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """torch's cross_entropy: class indices (nll of log_softmax plus the smoothing term over the classes, both
    normalised by the kept targets' weights) or class probabilities (averaged over the samples)."""
    dim = 0 if x.ndim == 1 else 1
    classes = x.shape[dim]
    logp = _log_softmax(x, dim)
    weight = np.ones(classes) if weight is None else weight
    if np.asarray(target).dtype.kind == "f":
        q = target * (1 - label_smoothing) + label_smoothing / classes
        shape = (classes,) + (1,) * (x.ndim - dim - 1)
        loss = -(logp * q * weight.reshape(shape)).sum(axis=dim)
        return _reduce(loss, reduction)
    rows, labels, shape = _samples(logp, target)
    loss, scale = np.zeros(len(labels)), np.zeros(len(labels))
    for i, label in enumerate(labels):
        if label == ignore_index:
            continue
        scale[i] = weight[label]
        picked = -weight[label] * rows[i, label]
        spread = -sum(weight[c] * rows[i, c] for c in range(classes))
        loss[i] = (1 - label_smoothing) * picked + label_smoothing / classes * spread
    if reduction == "none":
        return loss.reshape(shape)
    return loss.sum() / scale.sum() if reduction == "mean" else loss.sum()


def ref_binary_cross_entropy(x, t, weight=None, reduction="mean"):
    loss = -(t * np.maximum(np.log(x), -100) + (1 - t) * np.maximum(np.log(1 - x), -100))
    return _reduce(loss if weight is None else loss * weight, reduction)


def ref_binary_cross_entropy_with_logits(x, t, weight=None, reduction="mean", pos_weight=None):
    """-(pos_weight·t·log σ(x) + (1 - t)·log(1 - σ(x))), the logs through log1p for accuracy."""
    log_sig = -np.log1p(np.exp(-np.abs(x))) + np.minimum(x, 0)
    log_rest = -np.log1p(np.exp(-np.abs(x))) - np.maximum(x, 0)
    pos = 1.0 if pos_weight is None else pos_weight
    loss = -(pos * t * log_sig + (1 - t) * log_rest)
    return _reduce(loss if weight is None else loss * weight, reduction)


# ---- regression losses ----------------------------------------------------------------------------------

def ref_l1_loss(x, t, reduction="mean"):
    return _reduce(np.abs(x - t), reduction)


def ref_smooth_l1_loss(x, t, reduction="mean", beta=1.0):
    d = np.abs(x - t)
    loss = d if beta == 0 else np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)
    return _reduce(loss, reduction)


def ref_huber_loss(x, t, reduction="mean", delta=1.0):
    d = np.abs(x - t)
    return _reduce(np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta)), reduction)


# ---- activations and normalisation ----------------------------------------------------------------------

def ref_leaky_relu(x, negative_slope=0.01):
    return np.where(x > 0, x, negative_slope * x)


def ref_silu(x):
    return x / (1 + np.exp(-x))


def ref_group_norm(x, num_groups, weight=None, bias=None, eps=1e-5):
    n, c = x.shape[:2]
    groups = x.reshape(n, num_groups, -1)
    mean = groups.mean(axis=2, keepdims=True)
    var = ((groups - mean) ** 2).mean(axis=2, keepdims=True)
    out = ((groups - mean) / np.sqrt(var + eps)).reshape(x.shape)
    per_channel = (1, c) + (1,) * (x.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(per_channel)
    if bias is not None:
        out = out + bias.reshape(per_channel)
    return out


def ref_layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    out = (x - mean) / np.sqrt(var + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


# ---- transposed convolution and resampling --------------------------------------------------------------

def ref_conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Each input pixel scatters its kernel-weighted copy into the output (the adjoint of conv2d), then the
    padding is cropped from the full result."""
    unbatched = x.ndim == 3
    x = x[None] if unbatched else x
    (sh, sw), (ph, pw), (oph, opw), (dh, dw) = _pair(stride), _pair(padding), _pair(output_padding), _pair(dilation)
    n, cin, h, wd = x.shape
    cout_g, kh, kw = w.shape[1:]
    cin_g = cin // groups
    full_h = (h - 1) * sh + dh * (kh - 1) + 1 + oph
    full_w = (wd - 1) * sw + dw * (kw - 1) + 1 + opw
    full = np.zeros((n, cout_g * groups, full_h + ph, full_w + pw))
    for g in range(groups):
        for ci in range(g * cin_g, (g + 1) * cin_g):
            for co in range(cout_g):
                for i in range(kh):
                    for j in range(kw):
                        rows = slice(i * dh, i * dh + (h - 1) * sh + 1, sh)
                        cols = slice(j * dw, j * dw + (wd - 1) * sw + 1, sw)
                        full[:, g * cout_g + co, rows, cols] += x[:, ci] * w[ci, co, i, j]
    out_h, out_w = full_h - 2 * ph, full_w - 2 * pw
    out = full[:, :, ph:ph + out_h, pw:pw + out_w]
    if b is not None:
        out = out + b.reshape(1, -1, 1, 1)
    return out[0] if unbatched else out


def _source(dst, in_size, out_size, factor, mode, align_corners):
    """(index0, index1, weight1) of output position ``dst`` on one axis, by torch's rules (nearest in float32)."""
    if mode in ("nearest", "nearest-exact"):
        scale = np.float32(1.0 / factor) if factor is not None else np.float32(in_size) / np.float32(out_size)
        offset = np.float32(0.5 if mode == "nearest-exact" else 0.0)
        index = min(int(math.floor((np.float32(dst) + offset) * scale)), in_size - 1)
        return index, index, 0.0
    if align_corners:
        position = dst * (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    else:
        scale = 1.0 / factor if factor is not None else in_size / out_size
        position = max(scale * (dst + 0.5) - 0.5, 0.0)
    low = int(position)
    return low, min(low + 1, in_size - 1), position - low


def ref_interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Output (i, j) mixes the two nearest rows and columns of the input (or copies one, for nearest)."""
    spatial = x.shape[2:]
    axes = len(spatial)
    factors = (scale_factor,) * axes if not isinstance(scale_factor, (tuple, list)) else tuple(scale_factor)
    if size is not None:
        sizes, factors = ((size,) * axes if isinstance(size, int) else tuple(size)), (None,) * axes
    else:
        sizes = tuple(int(math.floor(n * f)) for n, f in zip(spatial, factors))
    if axes == 1:
        return ref_interpolate(x[:, :, None], (1,) + sizes, None if size is not None else (1.0,) + factors,
                               "bilinear" if mode == "linear" else mode, align_corners)[:, :, 0]
    kind = "bilinear" if mode == "bilinear" else mode
    rows = [_source(i, spatial[0], sizes[0], factors[0], kind, align_corners) for i in range(sizes[0])]
    cols = [_source(j, spatial[1], sizes[1], factors[1], kind, align_corners) for j in range(sizes[1])]
    out = np.zeros(x.shape[:2] + sizes)
    for i, (r0, r1, a) in enumerate(rows):
        for j, (c0, c1, b) in enumerate(cols):
            out[:, :, i, j] = ((1 - a) * ((1 - b) * x[:, :, r0, c0] + b * x[:, :, r0, c1])
                               + a * ((1 - b) * x[:, :, r1, c0] + b * x[:, :, r1, c1]))
    return out


def ref_elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def ref_softplus(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.logaddexp(0, beta * x) / beta)


def ref_hardtanh(x, min_val=-1.0, max_val=1.0):
    return np.clip(x, min_val, max_val)
