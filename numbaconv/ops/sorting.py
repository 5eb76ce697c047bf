"""Sorting along a dim (torch.sort, torch.topk): values with their int64 indices, differentiable in the values."""
import collections

from ..autograd import Function
from ..backends import namespace_of
from ..tensor import Tensor
from ._util import check_kernel_dtype, normalize_dim

SortResult = collections.namedtuple("SortResult", ["values", "indices"])


class SortAlong(Function):
    """The first ``k`` (all when None) of a stable sort along ``axis``; the gradient goes back to where each value
    came from."""

    @staticmethod
    def forward(ctx, a, *, axis, descending, k):
        xp = namespace_of(a)
        values, indices = xp.stable_sort(a, axis, descending)
        if k is not None and k != a.shape[axis]:
            head = (slice(None),) * axis + (slice(0, k),)
            values, indices = xp.getitem(values, head), xp.getitem(indices, head)
        ctx.shape, ctx.dtype = a.shape, a.dtype
        ctx.save_for_backward(indices)
        return values, indices

    @staticmethod
    def backward(ctx, grad):
        (indices,) = ctx.saved_tensors
        xp = namespace_of(grad)
        return xp.scatter_add_along(xp.zeros(ctx.shape, ctx.dtype), ctx.params.axis, indices, grad)


def _sort(op, a, dim, descending, k):
    check_kernel_dtype(op, a.dtype)
    if a.ndim == 0:
        values, indices = SortAlong.apply(a.reshape(1), axis=0, descending=descending, k=k)
        return SortResult(values.reshape(()), indices.reshape(()))
    axis = normalize_dim(op, dim, a.ndim)
    return SortResult(*SortAlong.apply(a, axis=axis, descending=descending, k=k))


def sort(a, dim=-1, descending=False, stable=False):
    """(values, indices) sorted along ``dim``; always stable: equal values keep their order, NaN counts as the
    largest (torch.sort; ``stable`` is accepted for torch's signature)."""
    if not isinstance(a, Tensor):
        raise TypeError(f"sort: expected a Tensor, got {type(a).__name__}")
    return _sort("sort", a, dim, bool(descending), None)


def argsort(a, dim=-1, descending=False, stable=False):
    """The indices that sort ``a`` along ``dim`` (torch.argsort)."""
    return sort(a, dim, descending, stable).indices


def topk(a, k, dim=-1, largest=True, sorted=True):  # noqa: A002 (torch's argument name)
    """The ``k`` largest (or smallest) values along ``dim`` and their indices, in sorted order; ties go to the
    earlier index (torch.topk; its tie order is unspecified)."""
    if not isinstance(a, Tensor):
        raise TypeError(f"topk: expected a Tensor, got {type(a).__name__}")
    size = a.shape[normalize_dim("topk", dim, a.ndim)] if a.ndim else 1
    if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k <= size:
        raise RuntimeError(f"topk: k must be an int in [0, {size}] (the size of dim {dim}), got {k!r}")
    return _sort("topk", a, dim, bool(largest), k)


Tensor.sort = sort
Tensor.argsort = argsort
Tensor.topk = topk
