"""log_softmax, softmax, logsumexp and their backward along one axis (torch.log_softmax, torch.softmax,
torch.logsumexp).

C-contiguous float32/float64 arrays run as Numba loops over the lines before the axis (parallel from pointwise.py's
threshold; serial below it for softmax and the backwards, where numpy's passes cost more: log_softmax's backward
over 8x16x8x8 float32 14.4 against 5.4 us, on a Zen 4), one pass for the maximum, one for the exp-sum and one for
the output (softmax keeps each exp and scales it by the line's 1/sum). Each line's sums run in float64 and are
rounded to the input's dtype before the output pass (a float64 operand there kept the exp and the output pass
scalar: log_softmax's backward 8.9 -> 3.9 ms at 128x64x32x32 float32, two threads of a Xeon); the shifted values and
their exp are in the input's dtype (backends/cpu/vector_exp.py for float32, as torch computes them). Everything else
(strided, other dtypes) runs backends/softmax_rules.py with numpy, which takes a pass and a temporary per step on
one thread. Both give the same values up to rounding, and the same NaN/Inf behaviour: the shift is the finite
maximum, a NaN anywhere along the axis makes that line NaN.
"""
import math

import numpy as np
from numba import njit, prange

from .. import softmax_rules
from . import pointwise, threads, vector_exp
from .pointwise import LOOP_DTYPES, PARALLEL_MIN


@njit(inline="always")
def _peak(x, o, peak, flag):
    """peak[i]: the finite maximum of line (o, :, i) of x (outer, n, inner), 0 when it has none or holds a NaN
    (then flag[i] is NaN, else 0)."""
    n, inner = x.shape[1], x.shape[2]
    for i in range(inner):
        peak[i] = -np.inf
        flag[i] = 0.0
    for k in range(n):
        for i in range(inner):
            v = x[o, k, i]
            if v > peak[i]:
                peak[i] = v
            elif v != v:
                flag[i] = np.nan
    for i in range(inner):
        if flag[i] != flag[i] or not math.isfinite(peak[i]):
            peak[i] = 0.0


@njit(inline="always")
def _log_softmax_line(x, o, out):
    n, inner = x.shape[1], x.shape[2]
    peak, total = np.empty(inner, x.dtype), np.empty(inner)
    _peak(x, o, peak, total)
    for k in range(n):
        for i in range(inner):
            total[i] += vector_exp.exp(x[o, k, i] - peak[i])
    for i in range(inner):
        total[i] = math.log(total[i])
    log_sum = total.astype(x.dtype)
    for k in range(n):
        for i in range(inner):
            out[o, k, i] = (x[o, k, i] - peak[i]) - log_sum[i]


@njit(inline="always")
def _softmax_line(x, o, out):
    n, inner = x.shape[1], x.shape[2]
    peak, total = np.empty(inner, x.dtype), np.empty(inner)
    _peak(x, o, peak, total)
    for k in range(n):
        for i in range(inner):
            e = vector_exp.exp(x[o, k, i] - peak[i])
            out[o, k, i] = e
            total[i] += e
    for i in range(inner):
        total[i] = 1.0 / total[i]
    scale = total.astype(x.dtype)
    for k in range(n):
        for i in range(inner):
            out[o, k, i] *= scale[i]


@njit(inline="always")
def _logsumexp_line(x, o, out):
    n, inner = x.shape[1], x.shape[2]
    peak, total = np.empty(inner, x.dtype), np.empty(inner)
    _peak(x, o, peak, total)
    for k in range(n):
        for i in range(inner):
            total[i] += vector_exp.exp(x[o, k, i] - peak[i])
    for i in range(inner):
        out[o, 0, i] = peak[i] + math.log(total[i])


@njit(inline="always")
def _backward_line(grad, out, result, log, o):
    n, inner = grad.shape[1], grad.shape[2]
    total = np.zeros(inner)
    for k in range(n):
        for i in range(inner):
            total[i] += grad[o, k, i] if log else grad[o, k, i] * out[o, k, i]
    scale = total.astype(grad.dtype)
    for k in range(n):
        for i in range(inner):
            if log:
                result[o, k, i] = grad[o, k, i] - vector_exp.exp(out[o, k, i]) * scale[i]
            else:
                result[o, k, i] = out[o, k, i] * (grad[o, k, i] - scale[i])


@njit(parallel=True, cache=True)
def _log_softmax_lines(x, out):
    for o in prange(x.shape[0]):
        _log_softmax_line(x, o, out)


@njit(parallel=True, cache=True, error_model="numpy")
def _softmax_lines(x, out):
    for o in prange(x.shape[0]):
        _softmax_line(x, o, out)


@njit(cache=True, error_model="numpy")
def _softmax_lines_serial(x, out):
    for o in range(x.shape[0]):
        _softmax_line(x, o, out)


@njit(parallel=True, cache=True)
def _backward_lines(grad, out, result, log):
    for o in prange(grad.shape[0]):
        _backward_line(grad, out, result, log, o)


@njit(cache=True)
def _backward_lines_serial(grad, out, result, log):
    for o in range(grad.shape[0]):
        _backward_line(grad, out, result, log, o)


@njit(parallel=True, cache=True)
def _logsumexp_lines(x, out):
    for o in prange(x.shape[0]):
        _logsumexp_line(x, o, out)


@njit(parallel=True, cache=True)
def _logsumexp_backward_lines(grad, x, out, result):
    n, inner = x.shape[1], x.shape[2]
    for o in prange(x.shape[0]):
        for k in range(n):
            for i in range(inner):
                result[o, k, i] = grad[o, 0, i] * vector_exp.exp(x[o, k, i] - out[o, 0, i])


def _lines(array, axis):
    """``array`` as (before the axis, along it, after it), or None when the loops cannot take it."""
    if type(array) is not np.ndarray or array.dtype not in LOOP_DTYPES or not array.flags.c_contiguous:
        return None
    shape = array.shape
    return array.reshape(math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1:]))


def _along(kernel, serial, a, axis, numpy_rule):
    lines = _lines(a, axis)
    if lines is None or (serial is None and a.size < PARALLEL_MIN):
        return numpy_rule(a, axis)
    out = np.empty_like(a)
    if a.size >= PARALLEL_MIN:
        threads.start()
        kernel(lines, out.reshape(lines.shape))
    else:
        serial(lines, out.reshape(lines.shape))
    return out


def log_softmax(a, axis):
    """log_softmax of ``a`` along ``axis`` (torch.log_softmax). Small arrays keep numpy's float32 passes: the
    serial loop (float64 line sums, as accurate) moved a CIFAR ResNet's float32 loss after four SGD steps by
    5e-4 relative against PyTorch's (tests/test_torch_programs.py, cross_entropy's logits), numpy's by < 2e-4."""
    return _along(_log_softmax_lines, None, a, axis, lambda v, d: softmax_rules.log_softmax(np, v, d))


def softmax(a, axis):
    """softmax of ``a`` along ``axis`` (torch.softmax): each exp computed once, then scaled by the line's 1/sum."""
    return _along(_softmax_lines, _softmax_lines_serial, a, axis,
                  lambda v, d: np.exp(softmax_rules.log_softmax(np, v, d)))


def softmax_backward(grad, out, axis, log):
    """The input gradient of log_softmax (``log``) or softmax from its output ``out``; one value broadcast (a full
    sum's gradient) is made dense first (a parallel fill when large), since the loops read a zero-stride operand
    without vectorising (log_softmax's backward at 128x64x32x32 float32: 16.4 ms in place, 0.7 + 3.6 ms dense)."""
    if type(grad) is np.ndarray and not any(grad.strides):
        grad = pointwise.copy(grad)
    lines = _lines(grad, axis)
    if lines is None or out.dtype != grad.dtype or not out.flags.c_contiguous:
        return softmax_rules.softmax_backward(np, grad, out, axis, log)
    result = np.empty_like(grad)
    if grad.size >= PARALLEL_MIN:
        threads.start()
        _backward_lines(lines, out.reshape(lines.shape), result.reshape(lines.shape), log)
    else:
        _backward_lines_serial(lines, out.reshape(lines.shape), result.reshape(lines.shape), log)
    return result


def logsumexp(a, axis):
    """log(sum(exp(a))) along ``axis``, kept with length 1 (torch.logsumexp(keepdim=True)): per line a pass for
    the maximum and one for the exp-sum (float64), the lines before the axis in parallel (as the softmax loops);
    numpy's rule takes seven passes."""
    lines = _lines(a, axis)
    if lines is None or a.size < PARALLEL_MIN:
        return softmax_rules.logsumexp(np, a, axis)
    out = np.empty(a.shape[:axis] + (1,) + a.shape[axis + 1:], a.dtype)
    threads.start()
    _logsumexp_lines(lines, out.reshape(lines.shape[0], 1, lines.shape[2]))
    return out


def logsumexp_backward(grad, a, out, axis):
    """The input gradient of :func:`logsumexp` from its output ``out`` and its gradient ``grad`` (axis kept):
    grad * exp(a - out) in one pass, the lines before the axis in parallel."""
    lines = _lines(a, axis)
    if lines is None or a.size < PARALLEL_MIN or grad.dtype != a.dtype or out.dtype != a.dtype:
        return softmax_rules.logsumexp_backward(np, grad, a, out)
    kept = (lines.shape[0], 1, lines.shape[2])
    grad = np.ascontiguousarray(np.broadcast_to(grad, out.shape)).reshape(kept)
    result = np.empty_like(a)
    threads.start()
    _logsumexp_backward_lines(grad, lines, np.ascontiguousarray(out).reshape(kept), result.reshape(lines.shape))
    return result
