"""Shape and data movement: reshape/view, permute, indexing, cat/stack, pad, casts, device moves."""
import math

import numpy as np

from .. import backends
from ..autograd import Function
from ..backends import is_basic_index, namespace_of
from ..tensor import Tensor
from ._util import normalize_dim, unbroadcast


def _as_view(result, source):
    """Let a view share its source's version counter, so in-place writes through either are seen."""
    result._version = source._version
    return result


def _shape_args(op, shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if all(type(n) is int for n in shape):  # the common case, without the conversions below
        return shape
    if not all(isinstance(n, (int, np.integer)) for n in shape):
        raise TypeError(f"{op}: shape must be ints, got {shape}")
    return tuple(int(n) for n in shape)


class Reshape(Function):
    @staticmethod
    def forward(ctx, a, *, shape):
        ctx.shape = a.shape
        try:
            return namespace_of(a).reshape(a, shape)
        except ValueError as error:
            raise ValueError(f"reshape: cannot view shape {tuple(a.shape)} as {shape}") from error

    @staticmethod
    def backward(ctx, grad):
        return namespace_of(grad).reshape(grad, ctx.shape)


class Permute(Function):
    @staticmethod
    def forward(ctx, a, *, dims):
        return namespace_of(a).transpose(a, dims)

    @staticmethod
    def backward(ctx, grad):
        return namespace_of(grad).transpose(grad, tuple(np.argsort(ctx.params.dims)))


class Expand(Function):
    @staticmethod
    def forward(ctx, a, *, shape):
        ctx.shape = a.shape
        return namespace_of(a).broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, grad):
        return unbroadcast(namespace_of(grad), grad, tuple(ctx.shape))


class GetItem(Function):
    @staticmethod
    def forward(ctx, a, *, index):
        ctx.shape, ctx.dtype = a.shape, a.dtype
        return namespace_of(a).getitem(a, index)

    @staticmethod
    def backward(ctx, grad):
        return namespace_of(grad).index_add(ctx.shape, ctx.dtype, ctx.params.index, grad)


class Concatenate(Function):
    @staticmethod
    def forward(ctx, *arrays, axis):
        ctx.sizes = [a.shape[axis] for a in arrays]
        return namespace_of(*arrays).concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        xp = namespace_of(grad)
        grads, start = [], 0
        for n in ctx.sizes:
            index = (slice(None),) * ctx.params.axis + (slice(start, start + n),)
            grads.append(xp.getitem(grad, index))
            start += n
        return tuple(grads)


class Pad(Function):
    @staticmethod
    def forward(ctx, a, *, widths, value):
        ctx.index = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, a.shape))
        return namespace_of(a).pad(a, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        return namespace_of(grad).getitem(grad, ctx.index)


class Cast(Function):
    @staticmethod
    def forward(ctx, a, *, dtype):
        ctx.source_dtype = a.dtype
        return namespace_of(a).astype(a, dtype)

    @staticmethod
    def backward(ctx, grad):
        return namespace_of(grad).astype(grad, ctx.source_dtype)


class ToDevice(Function):
    @staticmethod
    def forward(ctx, a, *, device):
        ctx.source = backends.device_of(a)
        return backends.namespace(device).asarray(backends.to_host(a))

    @staticmethod
    def backward(ctx, grad):
        return backends.namespace(ctx.source).asarray(backends.to_host(grad))


class Copy(Function):
    @staticmethod
    def forward(ctx, a):
        return namespace_of(a).copy(a)

    @staticmethod
    def backward(ctx, grad):
        return grad


class Contiguous(Function):
    @staticmethod
    def forward(ctx, a):
        return namespace_of(a).ascontiguousarray(a)

    @staticmethod
    def backward(ctx, grad):
        return grad


def _reshape_args(op, shape):
    """``shape`` as ints, each >= 0 but for at most one -1 (inferred)."""
    shape = _shape_args(op, shape)
    if any(n < -1 for n in shape):
        raise ValueError(f"{op}: invalid shape dimension {min(shape)} in {shape}")
    if shape.count(-1) > 1:
        raise ValueError(f"{op}: only one dimension can be inferred, got {shape}")
    return shape


def reshape(a, *shape):
    """The same elements in a new shape, a view where the strides allow; one -1 is inferred (torch.reshape)."""
    shape = _reshape_args("reshape", shape)
    if shape == a.array.shape:
        return a
    return _as_view(Reshape.apply(a, shape=shape), a)


def _viewable(shape, strides, target):
    """Whether an array of ``shape`` and ``strides`` can take the shape ``target`` without a copy (torch's
    computeStride): each run of dims laid out contiguously with one another is split or merged only as a whole."""
    if not shape or 0 in shape:
        return True
    view_d = len(target) - 1
    base = strides[-1]
    numel = view_numel = 1
    for d in range(len(shape) - 1, -1, -1):
        numel *= shape[d]
        if d == 0 or (shape[d - 1] != 1 and strides[d - 1] != numel * base):
            while view_d >= 0 and (view_numel < numel or target[view_d] == 1):
                view_numel *= target[view_d]
                view_d -= 1
            if view_numel != numel:
                return False
            if d > 0:
                base, numel, view_numel = strides[d - 1], 1, 1
    return view_d == -1


def view(a, *shape):
    """The same memory in a new shape, never a copy; one -1 is inferred (torch.Tensor.view)."""
    shape = _reshape_args("view", shape)
    known = int(np.prod([n for n in shape if n != -1]))
    target = tuple(a.numel() // known if n == -1 and known else n for n in shape)
    strides = getattr(a.array, "strides", None)  # a backend array without strides is C-contiguous
    if strides is not None and int(np.prod(target)) == a.numel() and not _viewable(a.shape, strides, target):
        raise RuntimeError(
            f"view: shape {shape} is not compatible with the input's shape {a.shape} and strides "
            f"{tuple(n // a.dtype.itemsize for n in strides)} (at least one dimension spans across two contiguous "
            "subspaces); use .reshape(...) instead"
        )
    return _as_view(Reshape.apply(a, shape=shape), a)


def flatten(a, start_dim=0, end_dim=-1):
    """Merge dims start_dim..end_dim into one (torch.flatten)."""
    shape = a.array.shape
    if not shape:
        return reshape(a, 1)
    start = normalize_dim("flatten", start_dim, len(shape))
    end = normalize_dim("flatten", end_dim, len(shape))
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    merged = -1 if a.array.size == 0 else math.prod(shape[start : end + 1])
    return reshape(a, shape[:start] + (merged,) + shape[end + 1 :])


def permute(a, *dims):
    """Reorder dims (torch.permute)."""
    dims = _shape_args("permute", dims)
    axes = tuple(normalize_dim("permute", d, a.ndim) for d in dims)
    if sorted(axes) != list(range(a.ndim)):
        raise ValueError(f"permute: dims {dims} are not a permutation of the {a.ndim} dims of shape {a.shape}")
    return _as_view(Permute.apply(a, dims=axes), a)


def transpose(a, dim0, dim1):
    """Swap two dims (torch.transpose)."""
    axes = list(range(a.ndim))
    i, j = normalize_dim("transpose", dim0, a.ndim), normalize_dim("transpose", dim1, a.ndim)
    axes[i], axes[j] = axes[j], axes[i]
    return permute(a, *axes)


def squeeze(a, dim=None):
    """Drop size-1 dims (all, or only ``dim``) (torch.squeeze)."""
    if dim is None:
        return reshape(a, tuple(n for n in a.shape if n != 1))
    axis = normalize_dim("squeeze", dim, a.ndim)
    if a.shape[axis] != 1:
        return a
    return reshape(a, a.shape[:axis] + a.shape[axis + 1 :])


def unsqueeze(a, dim):
    """Insert a size-1 dim at ``dim`` (torch.unsqueeze)."""
    axis = normalize_dim("unsqueeze", dim, a.ndim + 1)
    return reshape(a, a.shape[:axis] + (1,) + a.shape[axis:])


def expand(a, *shape):
    """Broadcast to ``shape`` without copying; -1 keeps a dim (torch.Tensor.expand)."""
    shape = _shape_args("expand", shape)
    if len(shape) < a.ndim:
        raise ValueError(f"expand: target {shape} has fewer dims than the tensor's shape {a.shape}")
    lead = len(shape) - a.ndim
    target = tuple(a.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(shape))
    for i, n in enumerate(a.shape):
        if n != 1 and n != target[i + lead]:
            raise ValueError(f"expand: shape {a.shape} cannot be expanded to {shape} (dim {i} has size {n})")
    return _as_view(Expand.apply(a, shape=target), a)


def view_as(a, other):
    """view(other.shape) (torch.Tensor.view_as)."""
    return view(a, other.shape)


def reshape_as(a, other):
    """reshape(other.shape) (torch.Tensor.reshape_as)."""
    return reshape(a, other.shape)


def expand_as(a, other):
    """expand(other.shape) (torch.Tensor.expand_as)."""
    return expand(a, *other.shape)


def t(a):
    """The transpose of a matrix; 0-d and 1-d tensors come back as they are (torch.t)."""
    if a.ndim > 2:
        raise RuntimeError(f"t: expects a tensor with <= 2 dimensions, but it has {a.ndim} (shape {a.shape})")
    return transpose(a, 0, 1) if a.ndim == 2 else a


def _raw_index(index):
    if isinstance(index, Tensor):
        return index.array
    if isinstance(index, tuple):
        return tuple(_raw_index(i) for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def getitem(a, index):
    """Basic, integer-array and boolean indexing with numpy semantics (Tensor.__getitem__)."""
    raw = _raw_index(index)
    try:
        result = GetItem.apply(a, index=raw)
    except IndexError as error:
        raise IndexError(f"getitem: index {index!r} does not fit a tensor of shape {a.shape}: {error}") from error
    return _as_view(result, a) if is_basic_index(raw) else result


def cat(tensors, dim=0):
    """Join tensors along an existing dim (torch.cat)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    ndim = tensors[0].ndim
    axis = normalize_dim("cat", dim, ndim)
    for t in tensors:
        outside = t.shape[:axis] + t.shape[axis + 1 :]
        if t.ndim != ndim or outside != tensors[0].shape[:axis] + tensors[0].shape[axis + 1 :]:
            raise ValueError(
                f"cat: shapes {[x.shape for x in tensors]} differ outside dim {axis}; expected them equal there"
            )
    return Concatenate.apply(*tensors, axis=axis)


def stack(tensors, dim=0):
    """Join tensors along a new dim (torch.stack)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    if len({t.shape for t in tensors}) != 1:
        raise ValueError(f"stack: expected tensors of one shape, got {[t.shape for t in tensors]}")
    axis = normalize_dim("stack", dim, tensors[0].ndim + 1)
    return cat([unsqueeze(t, axis) for t in tensors], axis)


def pad(a, pad, mode="constant", value=0.0):
    """Constant padding; ``pad`` lists (left, right) pairs from the last dim backwards (torch.nn.functional.pad)."""
    if mode != "constant":
        raise NotImplementedError(f"pad: mode {mode!r} is not supported; only 'constant'")
    pad = tuple(pad)
    if len(pad) % 2 or len(pad) // 2 > a.ndim:
        raise ValueError(f"pad: expected an even number of at most {2 * a.ndim} values, got {pad}")
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: negative padding {pad} is not supported")
    widths = [(0, 0)] * a.ndim
    for i in range(len(pad) // 2):
        widths[a.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return Pad.apply(a, widths=tuple(widths), value=value)


def cast(a, dtype):
    """Convert to ``dtype``; gradients flow back in the old dtype (Tensor.to(dtype))."""
    if dtype.kind != "f" and a.requires_grad:
        return Tensor(namespace_of(a.array).astype(a.array, dtype))
    return Cast.apply(a, dtype=dtype)


def to_device(a, device):
    """Copy to another device; differentiable (Tensor.to(device))."""
    return ToDevice.apply(a, device=device)


def clone(a):
    """A copy that autograd sees through (torch.clone)."""
    return Copy.apply(a)


def contiguous(a):
    """A C-contiguous version (a no-op when already contiguous) (Tensor.contiguous)."""
    return Contiguous.apply(a)


def to(self, target=None, dtype=None, non_blocking=False, copy=False, *, device=None):
    """Move to a device and/or cast (torch.Tensor.to); differentiable. ``non_blocking`` is accepted (the copy
    has finished when this returns); ``copy=True`` gives a new tensor even when nothing changes."""
    target = device if target is None else target
    result = self
    if target is not None and not isinstance(target, (str, Tensor)):
        dtype, target = target, None
    if isinstance(target, Tensor):
        target, dtype = target.device, target.dtype
    if dtype is not None and np.dtype(dtype) != self.dtype:
        result = cast(result, np.dtype(dtype))
    if target is not None and backends.normalize(target) != result.device:
        result = to_device(result, backends.normalize(target))
    return clone(result) if copy and result is self else result


def _to_method(target):
    def method(self):
        return to(self, target)

    return method


Tensor.to = to
Tensor.reshape = reshape
Tensor.view = view
for _op in (permute, expand, flatten, transpose, squeeze, unsqueeze, clone, contiguous, view_as, reshape_as, expand_as,
            t):
    setattr(Tensor, _op.__name__, _op)
Tensor.__getitem__ = getitem
for _name, _target in (("cpu", "cpu"), ("cuda", "cuda"), ("float", np.float32), ("double", np.float64),
                       ("long", np.int64)):
    setattr(Tensor, _name, _to_method(_target))
