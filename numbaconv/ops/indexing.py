"""Indexing along a dim and masks (torch.gather, torch.scatter_add, Tensor.masked_fill), differentiable."""
import numpy as np

from ..autograd import Function
from ..backends import namespace_of
from ..tensor import Tensor
from ._util import check_kernel_dtype, normalize_dim, shape_of
from .elementwise import Where
from .inplace import update
from .movement import cast


class Gather(Function):
    @staticmethod
    def forward(ctx, a, index, *, axis):
        ctx.shape, ctx.dtype = a.shape, a.dtype
        ctx.save_for_backward(index)
        return namespace_of(a).take_along(a, axis, index)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        xp = namespace_of(grad)
        return xp.scatter_add_along(xp.zeros(ctx.shape, ctx.dtype), ctx.params.axis, index, grad), None


class ScatterAdd(Function):
    @staticmethod
    def forward(ctx, a, index, src, *, axis):
        ctx.src_shape = src.shape
        ctx.save_for_backward(index)
        return namespace_of(a).scatter_add_along(a, axis, index, src)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        xp = namespace_of(grad)
        need_a, _, need_src = ctx.needs_input_grad
        grad_src = None
        if need_src:
            grad_src = xp.take_along(grad, ctx.params.axis, index)
            if tuple(grad_src.shape) != tuple(ctx.src_shape):
                widths = [(0, n - m) for n, m in zip(ctx.src_shape, grad_src.shape)]
                grad_src = xp.pad(grad_src, widths, mode="constant", constant_values=0)
        return (grad if need_a else None), None, grad_src


def _check_index(op, a, dim, index, others=()):
    """The axis of ``dim`` and ``index`` as an int64 tensor of ``a``'s number of dims that fits inside ``a`` (and
    ``others``) outside that axis, or a one-line error naming what does not fit."""
    if not isinstance(index, Tensor) or index.dtype.kind not in "iu":
        got = index.dtype if isinstance(index, Tensor) else type(index).__name__
        raise TypeError(f"{op}: index must be an integer Tensor, got {got}")
    axis = normalize_dim(op, dim, a.ndim)
    if index.ndim != a.ndim:
        raise RuntimeError(f"{op}: index has {index.ndim} dims but the input has {a.ndim} (shape {a.shape}); "
                           "expected the same number")
    for name, shape, skip in (("input", a.shape, axis),) + others:
        if any(m > n for d, (m, n) in enumerate(zip(index.shape, shape)) if d != skip):
            raise RuntimeError(f"{op}: index of shape {index.shape} is larger than the {name}'s shape {shape} "
                               f"outside dim {axis}")
    if index.dtype != np.int64:
        index = Tensor(namespace_of(index.array).astype(index.array, np.int64))
    return axis, index


def gather(input, dim, index):
    """out[i][j][k] = input[index[i][j][k]][j][k] for dim 0, and so on (torch.gather)."""
    check_kernel_dtype("gather", input.dtype)
    if input.ndim == 0:
        return gather(input.reshape(1), 0, index.reshape(1)).reshape(())
    axis, index = _check_index("gather", input, dim, index)
    return Gather.apply(input, index, axis=axis)


def scatter_add(input, dim, index, src):
    """A copy of ``input`` with src[i][j][k] added at [index[i][j][k]][j][k] for dim 0; repeated indices add up
    (torch.scatter_add)."""
    check_kernel_dtype("scatter_add", input.dtype)
    if not isinstance(src, Tensor) or src.dtype != input.dtype:
        got = src.dtype if isinstance(src, Tensor) else type(src).__name__
        raise RuntimeError(f"scatter_add: src must be a Tensor of the input's dtype {input.dtype}, got {got}")
    if input.ndim == 0:
        return scatter_add(input.reshape(1), 0, index.reshape(1), src.reshape(1)).reshape(())
    axis, index = _check_index("scatter_add", input, dim, index, (("src", src.shape, -1),))
    if src.ndim != input.ndim:
        raise RuntimeError(f"scatter_add: src has {src.ndim} dims, expected {input.ndim} like the input")
    return ScatterAdd.apply(input, index, src, axis=axis)


def scatter_add_(self, dim, index, src):
    """scatter_add in place (torch.Tensor.scatter_add_)."""
    return update(self, "scatter_add_", lambda old, i, s: scatter_add(old, dim, i, s), index, src)


def masked_fill(input, mask, value):
    """``value`` where the bool ``mask`` (broadcast to the input's shape) is True, the input elsewhere; ``value``
    (a number or a 0-d tensor) is cast to the input's dtype (torch.masked_fill)."""
    mask_data = mask.array if isinstance(mask, Tensor) else mask
    if not hasattr(mask_data, "dtype") or mask_data.dtype != np.bool_:
        got = mask_data.dtype if hasattr(mask_data, "dtype") else type(mask).__name__
        raise RuntimeError(f"masked_fill: expected a bool mask, got {got}")
    try:
        fits = np.broadcast_shapes(shape_of(mask_data), input.shape) == input.shape
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(f"masked_fill: mask of shape {shape_of(mask_data)} does not broadcast to the input's "
                           f"shape {input.shape}")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"masked_fill: value must be a number or a 0-d tensor, got shape {value.shape}")
        value = cast(value, input.dtype) if value.dtype != input.dtype else value
    else:
        value = Tensor(namespace_of(input.array).asarray(np.asarray(value).astype(input.dtype)))
    return Where.apply(value, input, condition=mask_data)


def masked_fill_(self, mask, value):
    """masked_fill in place (torch.Tensor.masked_fill_)."""
    return update(self, "masked_fill_", lambda old: masked_fill(old, mask, value))


Tensor.gather = gather
Tensor.scatter_add = scatter_add
Tensor.scatter_add_ = scatter_add_
Tensor.masked_fill = masked_fill
Tensor.masked_fill_ = masked_fill_
