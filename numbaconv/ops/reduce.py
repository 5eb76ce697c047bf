"""Reductions over dims with keepdim (torch.sum, mean, max, min, var, argmax)."""
import collections
import math

import numpy as np

from ..autograd import Function
from ..backends import namespace_of
from ..tensor import Tensor
from ._util import normalize_dim, normalize_dims

MaxMin = collections.namedtuple("MaxMin", ["values", "indices"])


def _expand_back(xp, grad, shape, dims, keepdim):
    """Broadcast a reduced gradient back over the reduced dims."""
    if not keepdim:
        grad = xp.reshape(grad, tuple(1 if i in dims else n for i, n in enumerate(shape)))
    return xp.broadcast_to(grad, shape)


class Sum(Function):
    @staticmethod
    def forward(ctx, a, *, dims, keepdim):
        ctx.shape = a.shape
        return namespace_of(a).sum(a, axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        return _expand_back(namespace_of(grad), grad, ctx.shape, ctx.params.dims, ctx.params.keepdim)


class Extreme(Function):
    """max/min over dims; tied elements share the gradient equally (torch.amax / torch.amin)."""

    @staticmethod
    def forward(ctx, a, *, dims, keepdim, kernel):
        xp = namespace_of(a)
        out = getattr(xp, kernel)(a, axis=dims, keepdims=True)
        ctx.save_for_backward(a, out)
        return out if keepdim else xp.reshape(out, tuple(n for i, n in enumerate(a.shape) if i not in dims))

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        dims = ctx.params.dims
        xp = namespace_of(grad)
        if not ctx.params.keepdim:
            grad = xp.reshape(grad, out.shape)
        return xp.extreme_backward(grad, a, out, dims)


class Var(Function):
    """Variance over ``dims`` with max(0, count - correction) below, as torch.var: one node that keeps the centred
    values, whose backward is the single pass 2 (x - mean) g / (count - correction) (torch's unclamped divisor)."""

    @staticmethod
    def forward(ctx, a, *, dims, keepdim, correction):
        xp = namespace_of(a)
        count = math.prod(a.shape[d] for d in dims)
        ctx.divisor = count - correction
        centred = a - xp.sum(a, axis=dims, keepdims=True) / count
        with np.errstate(divide="ignore", invalid="ignore"):  # torch's inf/nan for a divisor of 0, unwarned
            out = xp.sum(centred * centred, axis=dims, keepdims=keepdim) / (ctx.divisor if ctx.divisor > 0 else 0)
        ctx.save_for_backward(centred)
        return out

    @staticmethod
    def backward(ctx, grad):
        (centred,) = ctx.saved_tensors
        xp = namespace_of(grad)
        with np.errstate(divide="ignore", invalid="ignore"):
            scaled = grad * 2.0 / ctx.divisor
        return centred * _expand_back(xp, scaled, centred.shape, ctx.params.dims, ctx.params.keepdim)


def _check_nonempty(op, a, dims):
    if 0 in (a.shape[d] for d in dims):
        raise ValueError(f"{op}: cannot reduce an empty dimension of a tensor with shape {a.shape}")


def sum(a, dim=None, keepdim=False):
    """Sum over ``dim`` (None: all) (torch.sum)."""
    return Sum.apply(a, dims=normalize_dims("sum", dim, a.ndim), keepdim=keepdim)


def mean(a, dim=None, keepdim=False):
    """Mean over ``dim`` (torch.mean)."""
    dims = normalize_dims("mean", dim, a.ndim)
    count = 1
    for d in dims:
        count *= a.shape[d]
    return Sum.apply(a, dims=dims, keepdim=keepdim) / count


def _extreme(op, a, dim, keepdim):
    dims = normalize_dims(op, dim, a.ndim)
    _check_nonempty(op, a, dims)
    values = Extreme.apply(a, dims=dims, keepdim=keepdim, kernel=op)
    if dim is None or not isinstance(dim, int):
        return values
    indices = argmax(a if op == "max" else -a.detach(), dim, keepdim)
    return MaxMin(values, indices)


def max(a, dim=None, keepdim=False):
    """Maximum; with an int ``dim`` returns (values, indices) like torch.max."""
    return _extreme("max", a, dim, keepdim)


def min(a, dim=None, keepdim=False):
    """Minimum; with an int ``dim`` returns (values, indices) like torch.min."""
    return _extreme("min", a, dim, keepdim)


def _correction(op, unbiased, correction):
    if correction is None:
        return 0 if unbiased is not None and not unbiased else 1
    if unbiased is not None:
        raise TypeError(f"{op}: pass either unbiased or correction, not both")
    return correction


def var(a, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim`` with ``count - correction`` in the denominator: Bessel's correction (1) by default,
    none with ``unbiased=False`` or ``correction=0`` (torch.var; positional order dim, unbiased, keepdim)."""
    dims = normalize_dims("var", dim, a.ndim)
    return Var.apply(a, dims=dims, keepdim=keepdim, correction=_correction("var", unbiased, correction))


def std(a, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation: the square root of var with the same arguments (torch.std)."""
    return var(a, dim, unbiased, keepdim, correction=correction).sqrt()


def _count_nonzero(xp, data, dims, keepdim, zero):
    hits = xp.equal(data, 0) if zero else xp.not_equal(data, 0)
    return xp.sum(hits, axis=dims, keepdims=keepdim)


def any(a, dim=None, keepdim=False):  # noqa: A001 (torch.any)
    """Whether any element over ``dim`` (None: all; an int or a tuple) is nonzero, a bool tensor (torch.any)."""
    dims = normalize_dims("any", dim, a.ndim)
    xp = namespace_of(a.array)
    return Tensor(xp.greater(_count_nonzero(xp, a.array, dims, keepdim, zero=False), 0))


def all(a, dim=None, keepdim=False):  # noqa: A001 (torch.all)
    """Whether every element over ``dim`` is nonzero, a bool tensor (torch.all)."""
    dims = normalize_dims("all", dim, a.ndim)
    xp = namespace_of(a.array)
    return Tensor(xp.equal(_count_nonzero(xp, a.array, dims, keepdim, zero=True), 0))


def argmax(a, dim=None, keepdim=False):
    """Index of the maximum (flat when dim is None); not differentiable (torch.argmax)."""
    xp = namespace_of(a.array)
    if dim is None:
        return Tensor(xp.argmax(a.array))
    axis = normalize_dim("argmax", dim, a.ndim)
    _check_nonempty("argmax", a, (axis,))
    out = xp.argmax(a.array, axis=axis)
    return Tensor(xp.reshape(out, out.shape[:axis] + (1,) + out.shape[axis:]) if keepdim else out)


def _reduction_method(op):
    def method(self, dim=None, keepdim=False, axis=None):
        return op(self, dim if axis is None else axis, keepdim)

    method.__name__ = op.__name__
    return method


def _spread_method(op):
    def method(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None):
        return op(self, dim if axis is None else axis, unbiased, keepdim, correction=correction)

    method.__name__ = op.__name__
    return method


for _op in (sum, mean, max, min, any, all):
    setattr(Tensor, _op.__name__, _reduction_method(_op))
Tensor.var, Tensor.std = _spread_method(var), _spread_method(std)
Tensor.argmax = argmax
