"""Cutting a tensor into pieces and tiling it (torch.chunk, torch.split, Tensor.repeat, torch.flip).

Built from the differentiable views and copies of movement.py, so they run on every device without kernels
of their own: pieces are slices (views, as in torch), repeat is an expand of interleaved size-1 dims, flip a
negative-step slice copied out (torch's flip copies).
"""
import numpy as np

from ..tensor import Tensor
from ._util import normalize_dim, normalize_dims
from .movement import _shape_args, clone, contiguous, expand, getitem, reshape


def _along(axis, start, stop):
    return (slice(None),) * axis + (slice(start, stop),)


def split(a, split_size_or_sections, dim=0):
    """Pieces of ``split_size_or_sections`` along ``dim`` (an int: that size, the last one smaller; a list: those
    sizes, which must add up to the dim's size), as views (torch.split)."""
    axis = normalize_dim("split", dim, a.ndim)
    n = a.shape[axis]
    sizes = split_size_or_sections
    if isinstance(sizes, (int, np.integer)) and not isinstance(sizes, bool):
        if sizes <= 0 and n:
            raise RuntimeError(f"split: split_size must be a positive int, got {sizes}")
        sizes = [sizes] * (n // sizes) + ([n % sizes] if n % sizes else []) if n else [0]
    else:
        sizes = [int(s) for s in sizes]
        if any(s < 0 for s in sizes) or sum(sizes) != n:
            raise RuntimeError(f"split: split sizes {sizes} must be >= 0 and add up to {n}, the size of dim {dim}")
    pieces, start = [], 0
    for size in sizes:
        pieces.append(getitem(a, _along(axis, start, start + size)))
        start += size
    return tuple(pieces)


def chunk(a, chunks, dim=0):
    """At most ``chunks`` pieces of equal size along ``dim`` (the last one smaller), as views (torch.chunk)."""
    if not isinstance(chunks, (int, np.integer)) or chunks < 1:
        raise RuntimeError(f"chunk: chunks must be a positive int, got {chunks!r}")
    n = a.shape[normalize_dim("chunk", dim, a.ndim)]
    return split(a, max(1, -(-n // int(chunks))), dim)


def repeat(a, *sizes):
    """Tile the tensor ``sizes[d]`` times along each dim (more sizes than dims add leading dims) (Tensor.repeat)."""
    sizes = _shape_args("repeat", sizes)
    if len(sizes) < a.ndim:
        raise RuntimeError(f"repeat: got {len(sizes)} sizes {sizes} for a tensor of {a.ndim} dims (shape {a.shape});"
                           " expected at least as many sizes as dims")
    if any(n < 0 for n in sizes):
        raise RuntimeError(f"repeat: sizes must be >= 0, got {sizes}")
    shape = (1,) * (len(sizes) - a.ndim) + a.shape
    if all(n == 1 for n in sizes):
        return clone(reshape(a, shape))
    interleaved = reshape(a, tuple(m for n in shape for m in (1, n)))
    tiled = expand(interleaved, *(m for r, n in zip(sizes, shape) for m in (r, n)))
    return contiguous(reshape(tiled, tuple(r * n for r, n in zip(sizes, shape))))  # a copy, as torch's


def flip(a, dims):
    """The elements in reverse order along ``dims`` (an int or a sequence), a copy (torch.flip)."""
    axes = normalize_dims("flip", dims, a.ndim)
    if not axes:
        return clone(a)
    index = tuple(slice(None, None, -1) if d in axes else slice(None) for d in range(a.ndim))
    return clone(getitem(a, index))


def _repeat_method(self, *sizes):
    return repeat(self, *sizes)


def _flip_method(self, *dims):
    return flip(self, dims[0] if len(dims) == 1 else dims)


Tensor.split = split
Tensor.chunk = chunk
Tensor.repeat = _repeat_method
Tensor.flip = _flip_method
