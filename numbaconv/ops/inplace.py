"""In-place updates on and off the graph (torch.Tensor.add_, mul_, fill_, copy_, clamp_, zero_, ``+=``, ...).

An in-place op runs its out-of-place twin on a stand-in for the tensor's current value (same memory, same
version counter, the old graph node), writes the result into the tensor's own memory (views see it) and bumps
the version counter. When autograd records the op, the tensor then carries the new node, whose input is the old
value, as torch does. Saved values stay honest through the version counters: a node that saved the overwritten
value as its output (exp, sigmoid, softmax) and any earlier consumer of the tensor fail at backward with the
"modified in place" error; the new node keeps a copy of the old value where its backward reads it (torch's
``original self``). A leaf that requires grad is refused while grad mode is on; under ``no_grad`` every update
simply writes.
"""
import numpy as np

from ..autograd import Function
from ..backends import is_basic_index, namespace_of
from ..grad_mode import is_grad_enabled
from ..tensor import Tensor
from ._util import shape_of, unbroadcast
from .elementwise import _operand, add, clamp, div, floor_divide, mul, remainder, sub
from .movement import Expand, GetItem, Permute, Reshape, _raw_index, cast, to_device
from .promotion import can_cast

_VIEW_FUNCTIONS = (Reshape, Permute, Expand)


def _refuse(tensor, name):
    if tensor.grad_fn is None and tensor.requires_grad and is_grad_enabled():
        raise RuntimeError(
            f"{name}: a leaf tensor that requires grad (shape {tensor.shape}) is being used in an in-place "
            "operation; do it under nc.no_grad() or use the out-of-place op"
        )
    node = tensor.grad_fn
    if node is not None and is_grad_enabled() and (
        node.function in _VIEW_FUNCTIONS
        or (node.function is GetItem and (node.params is None or is_basic_index(node.params.index)))
    ):
        raise RuntimeError(
            f"{name}: in-place update of a view ({node.name()}) of a tensor that requires grad is not supported; "
            "use the out-of-place op, or .clone() the view first"
        )


def _stand_in(tensor):
    """A Tensor for the current value: the same memory and version counter, the old graph node."""
    old = Tensor(tensor.array, _version=tensor._version)
    old.grad_fn = tensor.grad_fn
    old._requires_grad = tensor._requires_grad
    return old


def _new_nodes(root, boundary):
    """The graph nodes reachable from ``root`` without passing through one of ``boundary`` (ids)."""
    found, stack = [], [root]
    seen = set(boundary)
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        found.append(node)
        stack.extend(t.grad_fn for t in node.inputs if t is not None)
    return found


def _protect_saved(tensor, old_node, new_nodes):
    """Make the version counters see the write about to happen to ``tensor``'s memory (see the module doc)."""
    xp = namespace_of(tensor.array)
    counter = tensor._version
    if old_node is not None and not old_node.freed and any(s is tensor.array for s in old_node.saved_tensors):
        old_node.versions = old_node.versions + ((counter, counter[0]),)
    for node in new_nodes:
        node.saved_tensors = tuple(
            xp.copy(s) if hasattr(s, "shape") and xp.may_share_memory(s, tensor.array) else s
            for s in node.saved_tensors
        )
        node.versions = tuple((c, v) for c, v in node.versions if c is not counter)


def _recorded(*operands):
    return is_grad_enabled() and any(isinstance(o, Tensor) and o.requires_grad for o in operands)


def _written(tensor):
    """Bump the version after a write into ``tensor``'s memory (and make a producer that saved it notice)."""
    _protect_saved(tensor, tensor.grad_fn, ())
    tensor._version[0] += 1
    return tensor


def update(tensor, name, compute, *others, check_cast=True):
    """Write ``compute(old, *others)`` (an out-of-place result of ``tensor``'s shape) into ``tensor``."""
    _refuse(tensor, name)
    old = _stand_in(tensor)
    others = tuple(old if o is tensor else o for o in others)
    result = compute(old, *others)
    if result.shape != tensor.shape:
        raise RuntimeError(f"{name}: output with shape {tensor.shape} doesn't match the broadcast shape "
                           f"{result.shape}")
    if result.dtype != tensor.dtype:
        if check_cast and not can_cast(result.dtype, tensor.dtype):
            raise RuntimeError(f"{name}: result type {result.dtype} can't be cast to the desired output type "
                               f"{tensor.dtype}")
        result = cast(result, tensor.dtype)
    node = result.grad_fn
    boundary = [id(t.grad_fn) for t in (old, *others) if isinstance(t, Tensor) and t.grad_fn is not None]
    _protect_saved(tensor, tensor.grad_fn, _new_nodes(node, boundary) if node is not None else ())
    if result.array is not tensor.array:
        tensor.array[...] = result.array
    tensor._version[0] += 1
    if node is not None:
        tensor.grad_fn = node
        tensor._requires_grad = True
    return tensor


class Overwrite(Function):
    """The tensor ``a`` replaced by ``source`` broadcast to its shape and cast to its dtype; ``a`` gets a zero
    gradient (torch.Tensor.copy_ / fill_)."""

    @staticmethod
    def forward(ctx, a, source):
        xp = namespace_of(a)
        ctx.source = (shape_of(source), getattr(source, "dtype", None))
        if not hasattr(source, "shape"):
            return xp.full(a.shape, source, a.dtype)
        try:
            spread = xp.broadcast_to(source, a.shape)
        except ValueError as error:
            raise RuntimeError(f"copy_: the source's shape {tuple(source.shape)} cannot be broadcast to the "
                               f"tensor's shape {tuple(a.shape)}") from error
        return xp.copy(xp.astype(spread, a.dtype))

    @staticmethod
    def backward(ctx, grad):
        xp = namespace_of(grad)
        need_a, need_source = ctx.needs_input_grad
        shape, dtype = ctx.source
        grad_source = xp.astype(unbroadcast(xp, grad, shape), dtype) if need_source else None
        return (xp.zeros(grad.shape, grad.dtype) if need_a else None), grad_source


class IndexPut(Function):
    """``a`` with ``value`` written at ``index`` (numpy's assignment: broadcast, cast to ``a``'s dtype); ``a``
    gets the gradient outside the written places, ``value`` the gradient read from them (torch's CopySlices)."""

    @staticmethod
    def forward(ctx, a, value, *, index):
        xp = namespace_of(a)
        ctx.value = (shape_of(value), getattr(value, "dtype", None))
        out = xp.copy(a)
        xp.setitem(out, index, value)
        return out

    @staticmethod
    def backward(ctx, grad):
        xp = namespace_of(grad)
        need_a, need_value = ctx.needs_input_grad
        index = ctx.params.index
        grad_a = grad_value = None
        if need_a:
            grad_a = xp.copy(grad)
            xp.setitem(grad_a, index, 0)
        if need_value:
            shape, dtype = ctx.value
            picked = xp.getitem(grad, index)
            missing = len(shape) - len(picked.shape)  # numpy's assignment drops a value's leading 1-sized dims
            if missing > 0:
                picked = xp.reshape(picked, (1,) * missing + tuple(picked.shape))
            grad_value = xp.astype(unbroadcast(xp, picked, shape), dtype)
        return grad_a, grad_value


def setitem(self, index, value):
    """``self[index] = value`` (Tensor.__setitem__): a plain write, or, when ``self`` or ``value`` requires grad,
    an in-place op on the graph, so the written value's gradient flows (torch's CopySlices)."""
    index = _raw_index(index)
    if not _recorded(self, value):
        self.array[index] = value.array if isinstance(value, Tensor) else value
        return _written(self)
    value = _operand(np.asarray(value) if isinstance(value, (list, tuple)) else value)
    return update(self, "__setitem__", lambda old, v: IndexPut.apply(old, v, index=index), value, check_cast=False)


def add_(self, other, alpha=1):
    """self += alpha * other, in place (torch.Tensor.add_)."""
    return update(self, "add_", lambda old, o: add(old, o, alpha=alpha), _operand(other))


def sub_(self, other, alpha=1):
    """self -= alpha * other, in place (torch.Tensor.sub_)."""
    return update(self, "sub_", lambda old, o: sub(old, o, alpha=alpha), _operand(other))


def mul_(self, other):
    """self *= other, in place (torch.Tensor.mul_)."""
    return update(self, "mul_", mul, _operand(other))


def div_(self, other):
    """self /= other, in place; an integer tensor is refused (its quotient is float) (torch.Tensor.div_)."""
    return update(self, "div_", div, _operand(other))


def clamp_(self, min=None, max=None):
    """Clip into [min, max] in place (torch.Tensor.clamp_)."""
    return update(self, "clamp_", lambda old: clamp(old, min, max))


def copy_(self, src, non_blocking=False):
    """Overwrite with ``src`` (broadcast, cast to this dtype, moved to this device); differentiable in ``src``
    (torch.Tensor.copy_). ``non_blocking`` is accepted for torch's signature; copies are synchronous."""
    if not isinstance(src, Tensor):
        src = Tensor(np.asarray(src)) if isinstance(src, np.ndarray) else src
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_: expected a Tensor source, got {type(src).__name__}")
    if src.device != self.device:
        src = to_device(src, self.device)
    return update(self, "copy_", Overwrite.apply, src, check_cast=False)


def fill_(self, value):
    """Set every element to ``value`` (a number or a 0-d tensor) (torch.Tensor.fill_)."""
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"fill_: only a 0-d tensor can fill a tensor, got shape {value.shape}")
        return copy_(self, value)
    value = _operand(value)
    if not isinstance(value, (int, float, bool)):
        raise TypeError(f"fill_: expected a number or a 0-d tensor, got {type(value).__name__}")
    if not _recorded(self):  # the common case (a gradient, a buffer, a label tensor): a plain write
        _refuse(self, "fill_")
        self.array[...] = value
        return _written(self)
    return update(self, "fill_", Overwrite.apply, value, check_cast=False)


def zero_(self):
    """Set every element to zero (torch.Tensor.zero_)."""
    return fill_(self, 0)


def _operator(name, op):
    def method(self, other):
        return update(self, name, op, _operand(other))

    method.__name__ = name
    return method


for _op in (add_, sub_, mul_, div_, clamp_, copy_, fill_, zero_):
    setattr(Tensor, _op.__name__, _op)
Tensor.clip_ = clamp_
Tensor.__setitem__ = setitem
for _name, _op in (("iadd", add), ("isub", sub), ("imul", mul), ("itruediv", div), ("ifloordiv", floor_divide),
                   ("imod", remainder)):
    setattr(Tensor, f"__{_name}__", _operator(f"__{_name}__", _op))
