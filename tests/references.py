"""Float64 numpy references of numbaconv's ops, one naming scheme: ``ref_<torch name>``.

Plain numpy (no numbaconv), written for clarity, not speed: windows and kernel offsets are explicit loops.
Arguments follow ``torch.nn.functional`` (ints or pairs), so a reference can be called with the op's kwargs.
"""
import math

import numpy as np


def _pair(value):
    return (value, value) if isinstance(value, (int, np.integer)) else tuple(value)


# ---- elementwise, reductions, losses ----------------------------------------------------------------

def ref_logsumexp(x, dim, keepdim=False):
    peak = x.max(axis=dim, keepdims=True)
    out = peak + np.log(np.exp(x - peak).sum(axis=dim, keepdims=True))
    return out if keepdim else np.squeeze(out, dim)


def ref_softmax(x, dim):
    return np.exp(x - ref_logsumexp(x, dim, True))


def ref_log_softmax(x, dim):
    return x - ref_logsumexp(x, dim, True)


def ref_var(x, axis, keepdims):
    """Unbiased variance (torch.var's default)."""
    return x.var(axis=axis, keepdims=keepdims, ddof=1)


def ref_pad(x, pad, value=0.0):
    """torch.nn.functional.pad, constant mode: ``pad`` pairs start at the last dim."""
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return np.pad(x, widths, constant_values=value)


def ref_cross_entropy(x, target, label_smoothing=0.0, reduction="mean"):
    classes = x.shape[1]
    logp = ref_log_softmax(x, 1)
    onehot = np.moveaxis(np.eye(classes)[target], -1, 1)
    q = (1 - label_smoothing) * onehot + label_smoothing / classes
    loss = -(q * logp).sum(axis=1)
    return {"mean": loss.mean(), "sum": loss.sum(), "none": loss}[reduction]


def ref_mse_loss(a, b):
    return ((a - b) ** 2).mean()


def ref_gelu(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * (1 + np.vectorize(math.erf, otypes=[np.float64])(x / math.sqrt(2)))


# ---- linear, conv2d -----------------------------------------------------------------------------------

def ref_linear(x, w, b=None):
    """out[..., o] = sum_i x[..., i] * w[o, i] + b[o], as explicit loops in float64."""
    x2 = x.reshape(-1, x.shape[-1]).astype(np.float64)
    out = np.zeros((x2.shape[0], w.shape[0]))
    for r in range(x2.shape[0]):
        for o in range(w.shape[0]):
            out[r, o] = sum(float(x2[r, i]) * float(w[o, i]) for i in range(w.shape[1]))
            if b is not None:
                out[r, o] += b[o]
    return out.reshape(x.shape[:-1] + (w.shape[0],))


def conv2d_padding(padding, kernel, dilation=1):
    """(top, bottom, left, right) for conv2d's ``padding``: an int, a pair, 'valid', 'same' (the extra row and
    column at the bottom and right, as PyTorch) or already four numbers."""
    (kh, kw), (dh, dw) = kernel, _pair(dilation)
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        th, tw = dh * (kh - 1), dw * (kw - 1)
        return (th // 2, th - th // 2, tw // 2, tw - tw // 2)
    pad = _pair(padding)
    return pad if len(pad) == 4 else (pad[0], pad[0], pad[1], pad[1])


def _conv2d_geometry(x_shape, w_shape, stride, padding, dilation):
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    kh, kw = w_shape[2:]
    top, bottom, left, right = conv2d_padding(padding, (kh, kw), dilation)
    hp, wp = x_shape[2] + top + bottom, x_shape[3] + left + right
    oh, ow = (hp - dh * (kh - 1) - 1) // sh + 1, (wp - dw * (kw - 1) - 1) // sw + 1
    return (sh, sw), (dh, dw), (top, bottom, left, right), (oh, ow)


def ref_conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, relu=False):
    """torch.nn.functional.conv2d in float64 (NCHW, or one CHW image), one kernel offset at a time.
    ``relu=True``: numbaconv's fused ReLU."""
    if x.ndim == 3:
        return ref_conv2d(x[None], w, b, stride, padding, dilation, groups, relu)[0]
    (sh, sw), (dh, dw), (top, bottom, left, right), (oh, ow) = _conv2d_geometry(x.shape, w.shape, stride, padding,
                                                                              dilation)
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (top, bottom), (left, right)))
    cout, cin_g, kh, kw = w.shape
    cout_g = cout // groups
    out = np.zeros((x.shape[0], cout, oh, ow))
    for g in range(groups):
        xs, os = slice(g * cin_g, (g + 1) * cin_g), slice(g * cout_g, (g + 1) * cout_g)
        for i in range(kh):
            for j in range(kw):
                patch = xp[:, xs, i * dh: i * dh + sh * (oh - 1) + 1: sh, j * dw: j * dw + sw * (ow - 1) + 1: sw]
                out[:, os] += np.einsum("nchw,oc->nohw", patch, w[os, :, i, j].astype(np.float64))
    if b is not None:
        out += np.asarray(b, np.float64)[None, :, None, None]
    return np.maximum(out, 0) if relu else out


def ref_conv2d_backward(x, w, grad, stride=1, padding=0, dilation=1, groups=1):
    """The adjoint of ref_conv2d (without bias and ReLU): (grad input, grad weight) for output gradient ``grad``;
    the grad of the bias is ``grad.sum((0, 2, 3))``."""
    (sh, sw), (dh, dw), (top, bottom, left, right), (oh, ow) = _conv2d_geometry(x.shape, w.shape, stride, padding,
                                                                              dilation)
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (top, bottom), (left, right)))
    gx, gw = np.zeros_like(xp), np.zeros(w.shape)
    cout, cin_g, kh, kw = w.shape
    cout_g = cout // groups
    grad = np.asarray(grad, np.float64)
    for g in range(groups):
        xs, os = slice(g * cin_g, (g + 1) * cin_g), slice(g * cout_g, (g + 1) * cout_g)
        for i in range(kh):
            for j in range(kw):
                window = (slice(None), xs, slice(i * dh, i * dh + sh * (oh - 1) + 1, sh),
                          slice(j * dw, j * dw + sw * (ow - 1) + 1, sw))
                gx[window] += np.einsum("nohw,oc->nchw", grad[:, os], w[os, :, i, j])
                gw[os, :, i, j] += np.einsum("nohw,nchw->oc", grad[:, os], xp[window])
    return gx[:, :, top: xp.shape[2] - bottom, left: xp.shape[3] - right], gw


# ---- batch norm -----------------------------------------------------------------------------------------

def ref_batch_stats(x):
    """Per-channel mean and biased variance of an (N, C, *) array."""
    axes = (0,) + tuple(range(2, x.ndim))
    return x.mean(axis=axes), x.var(axis=axes)


def ref_batch_norm(x, running_mean=None, running_var=None, weight=None, bias=None, training=False, momentum=0.1,
                   eps=1e-5):
    """torch.nn.functional.batch_norm's output: batch statistics in training (or without running ones)."""
    channels = x.shape[1]
    if training or running_mean is None:
        mean, var = ref_batch_stats(x)
    else:
        mean, var = running_mean, running_var
    weight = np.ones(channels) if weight is None else weight
    bias = np.zeros(channels) if bias is None else bias
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * weight.reshape(shape) + bias.reshape(shape)


def ref_batch_norm_running_stats(x, running_mean, running_var, momentum=0.1):
    """The running statistics after one training step: (1 - momentum)·old + momentum·batch, variance unbiased."""
    mean, var = ref_batch_stats(x)
    count = x.size // x.shape[1]
    return (1 - momentum) * running_mean + momentum * mean, (1 - momentum) * running_var + momentum * var * count / (
        count - 1)


# ---- pooling --------------------------------------------------------------------------------------------

def pool_out_size(n, k, s, p, d, ceil_mode):
    """One output side of a pooling window (PyTorch's rule: a ceil-mode window must start inside input or left
    padding)."""
    span = n + 2 * p - d * (k - 1) - 1
    out = (math.ceil(span / s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def ref_max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    (kh, kw) = _pair(kernel_size)
    (sh, sw) = _pair(stride if stride is not None else kernel_size)
    (ph, pw), (dh, dw) = _pair(padding), _pair(dilation)
    n, c, h, w = x.shape
    oh, ow = pool_out_size(h, kh, sh, ph, dh, ceil_mode), pool_out_size(w, kw, sw, pw, dw, ceil_mode)
    out = np.empty((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            rows = [i * sh - ph + a * dh for a in range(kh) if 0 <= i * sh - ph + a * dh < h]
            cols = [j * sw - pw + b * dw for b in range(kw) if 0 <= j * sw - pw + b * dw < w]
            window = x[:, :, rows][:, :, :, cols]
            # a dilated window can skip every input row or column and see only padding: -inf, as PyTorch
            out[:, :, i, j] = window.max(axis=(2, 3)) if window.size else -np.inf
    return out


def ref_avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                   divisor_override=None):
    (kh, kw) = _pair(kernel_size)
    (sh, sw) = _pair(stride if stride is not None else kernel_size)
    (ph, pw) = _pair(padding)
    n, c, h, w = x.shape
    oh, ow = pool_out_size(h, kh, sh, ph, 1, ceil_mode), pool_out_size(w, kw, sw, pw, 1, ceil_mode)
    out = np.empty((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            y0, x0 = i * sh - ph, j * sw - pw
            y1, x1 = min(y0 + kh, h + ph), min(x0 + kw, w + pw)
            padded_count = (y1 - y0) * (x1 - x0)
            ya, yb, xa, xb = max(y0, 0), min(y1, h), max(x0, 0), min(x1, w)
            total = x[:, :, ya:yb, xa:xb].sum(axis=(2, 3))
            count = divisor_override or (padded_count if count_include_pad else (yb - ya) * (xb - xa))
            out[:, :, i, j] = total / count
    return out


def ref_adaptive_avg_pool2d(x, output_size):
    n, c, h, w = x.shape
    oh, ow = _pair(output_size)
    out = np.empty((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            ya, yb = (i * h) // oh, math.ceil((i + 1) * h / oh)
            xa, xb = (j * w) // ow, math.ceil((j + 1) * w / ow)
            out[:, :, i, j] = x[:, :, ya:yb, xa:xb].mean(axis=(2, 3))
    return out


# ---- sorting, indexing along a dim, tiling --------------------------------------------------------------

def ref_std(x, axis, keepdims, correction=1):
    """torch.std: the square root of the variance with ``count - correction`` in the denominator."""
    return x.std(axis=axis, keepdims=keepdims, ddof=correction)


def ref_sort(x, dim=-1, descending=False):
    """torch.sort's values (no ties in the drawn data)."""
    out = np.sort(x, axis=dim)
    return np.flip(out, axis=dim) if descending else out


def ref_topk(x, k, dim=-1, largest=True):
    """torch.topk's values: the first ``k`` of the sorted values."""
    ordered = ref_sort(x, dim, descending=largest)
    return np.take(ordered, np.arange(k), axis=dim)


def ref_gather(x, index, dim):
    """torch.gather, one element at a time: out[i] = x[i with index[i] at ``dim``]."""
    out = np.empty(index.shape, x.dtype)
    for position in np.ndindex(*index.shape):
        source = list(position)
        source[dim] = index[position]
        out[position] = x[tuple(source)]
    return out


def ref_scatter_add(x, src, index, dim):
    """torch.scatter_add, one element at a time: x[i with index[i] at ``dim``] += src[i] over index's shape."""
    out = np.array(x, np.float64)
    for position in np.ndindex(*index.shape):
        target = list(position)
        target[dim] = index[position]
        out[tuple(target)] += src[position]
    return out


def ref_masked_fill(x, mask, value):
    return np.where(mask, value, x)


def ref_repeat(x, sizes):
    """Tensor.repeat is numpy's tile."""
    return np.tile(x, sizes)


def ref_split_scaled(x, size, dim):
    """torch.split(x, size, dim), the i-th piece times i + 1, joined again along ``dim``."""
    n = x.shape[dim]
    pieces = np.split(x, list(range(size, n, size)), axis=dim)
    return np.concatenate([p * (i + 1) for i, p in enumerate(pieces)], axis=dim)
