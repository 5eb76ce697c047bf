"""Joining and padding CUDA arrays (numpy.concatenate / stack / pad, torch.cat / stack, F.pad's constant mode)."""
import builtins

import numpy as np

from .array import normalize_axes
from .creation import empty, full
from .indexing import setitem
from .shapes import reshape


def concatenate(arrays, axis=0):
    arrays = list(arrays)
    axis = normalize_axes(axis, arrays[0].ndim)[0]
    shape = list(arrays[0].shape)
    shape[axis] = builtins.sum(a.shape[axis] for a in arrays)
    for a in arrays:
        if a.ndim != len(shape) or any(n != m for i, (n, m) in enumerate(zip(a.shape, shape)) if i != axis):
            raise ValueError(f"concatenate: shapes {[a.shape for a in arrays]} differ outside axis {axis}")
    dtype = np.result_type(*(a.dtype for a in arrays))
    out = empty(tuple(shape), dtype)
    start = 0
    for a in arrays:
        index = (slice(None),) * axis + (slice(start, start + a.shape[axis]),)
        setitem(out, index, a)
        start += a.shape[axis]
    return out


def stack(arrays, axis=0):
    arrays = list(arrays)
    axis = normalize_axes(axis, arrays[0].ndim + 1)[0]
    return concatenate([reshape(a, a.shape[:axis] + (1,) + a.shape[axis:]) for a in arrays], axis)


def pad(array, pad_width, mode="constant", constant_values=0):
    if mode != "constant":
        raise NotImplementedError(f"pad: mode {mode!r} is not supported on cuda; only 'constant'")
    widths = [(int(lo), int(hi)) for lo, hi in pad_width]
    out = full(tuple(n + lo + hi for n, (lo, hi) in zip(array.shape, widths)), constant_values, array.dtype)
    setitem(out, tuple(slice(lo, lo + n) for n, (lo, _) in zip(array.shape, widths)), array)
    return out
