"""numpy.sum, with a full sum of a large float32 array split over Numba's threads (torch.sum over all dims).

numpy sums on one thread; here each thread adds its blocks in float64 (vectorised lanes), which is also more
accurate than numpy's float32 pairwise sum: 8.4M floats in 0.47 ms on two threads of an AMD EPYC Zen 4, numpy's
1.4 ms on one. float64 arrays, partial sums and small arrays
stay on numpy, whose pairwise float64 sum a sequential float64 loop would not match in accuracy.
"""
import math

import numpy as np
from numba import njit, prange

from . import threads
from .pointwise import PARALLEL_MIN

BLOCKS = 64  # partial sums per call, spread over the threads
FLOAT32 = np.dtype(np.float32)


@njit(cache=True, fastmath={"reassoc"})
def _block_sum(block):
    """block summed in float64; reassociation lets LLVM split the chain over vector lanes."""
    total = 0.0
    for i in range(block.size):
        total += np.float64(block[i])
    return total


@njit(parallel=True, cache=True)
def _partial_sums(x, partial):
    """partial[b]: block b of x summed in float64. Each block is a slice indexed from 0: the same loop over
    ``range(lo, hi)`` of the whole array stayed scalar (an index that may be negative needs numpy's wraparound),
    3.4 against 0.47 ms per 8.4M floats on two threads of an AMD EPYC Zen 4."""
    n = x.size
    blocks = partial.size
    for b in prange(blocks):
        partial[b] = _block_sum(x[b * n // blocks:(b + 1) * n // blocks])


@njit(cache=True, fastmath={"reassoc"})
def _block_squared_difference(a, b, difference):
    """difference = a - b over the block; returns the sum of its squares in float64."""
    total = 0.0
    for i in range(a.size):
        d = a[i] - b[i]
        difference[i] = d
        total += np.float64(d) * np.float64(d)
    return total


@njit(parallel=True, cache=True)
def _squared_difference_sums(a, b, difference, partial):
    n = a.size
    blocks = partial.size
    for k in prange(blocks):
        lo, hi = k * n // blocks, (k + 1) * n // blocks
        partial[k] = _block_squared_difference(a[lo:hi], b[lo:hi], difference[lo:hi])


def squared_difference_sum(a, b):
    """(a - b, the sum of its squares): mse_loss's forward. Two large C-contiguous float32/float64 arrays of one
    shape take one parallel pass (the squares summed in float64), where numpy takes three and a temporary."""
    if (type(a) is not np.ndarray or type(b) is not np.ndarray or a.size < PARALLEL_MIN or a.shape != b.shape
            or a.dtype != b.dtype or a.dtype.kind != "f" or a.itemsize < 4 or not a.flags.c_contiguous
            or not b.flags.c_contiguous):
        difference = np.subtract(a, b)
        return difference, np.add.reduce(np.multiply(difference, difference), None)
    difference = np.empty_like(a)
    partial = np.empty(BLOCKS)
    threads.start()
    _squared_difference_sums(a.reshape(-1), b.reshape(-1), difference.reshape(-1), partial)
    return difference, a.dtype.type(partial.sum())


def _axes(axis, ndim):
    """``axis`` as a tuple of distinct non-negative axes, or None where numpy should judge it (out of range)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    if not all(isinstance(d, int) and -ndim <= d < ndim for d in axes):
        return None
    axes = tuple(d % ndim for d in axes)
    return axes if len(set(axes)) == len(axes) else None


def _constant_sum(a, axes, keepdims):
    """The sum over ``axes`` of a float array that is one value broadcast (the gradient of a full sum reaching a
    broadcast bias): that value times the count, rounded once to a's dtype, where numpy's loop would read every
    zero-stride element (1.05 ms over 8.4M float32 to a bias's 64 channels)."""
    one = tuple(slice(0, 1) if d in axes else slice(None) for d in range(a.ndim))
    value = np.add.reduce(a[one], axes, None, None, keepdims)
    count = math.prod(a.shape[d] for d in axes)
    return (value.astype(np.promote_types(a.dtype, np.float64)) * count).astype(a.dtype)


def sum(a, axis=None, keepdims=False, dtype=None):
    """numpy.sum(a, axis, keepdims=keepdims, dtype=dtype); the same result type (a float32 scalar for a full
    sum, an array of ones in every axis with ``keepdims``)."""
    if type(a) is not np.ndarray:
        return np.sum(a, axis=axis, dtype=dtype, keepdims=keepdims)
    if a.size < PARALLEL_MIN or dtype is not None or a.dtype.kind != "f":
        return np.add.reduce(a, axis, dtype, None, keepdims)  # what np.sum runs, without its ~1 us of Python
    axes = _axes(axis, a.ndim)
    if axes is not None and not any(a.strides):
        return _constant_sum(a, axes, keepdims)
    if a.dtype != FLOAT32 or not a.flags.c_contiguous or axes is None or len(axes) != a.ndim:
        return np.add.reduce(a, axis, dtype, None, keepdims)
    partial = np.empty(BLOCKS)
    threads.start()
    _partial_sums(a.reshape(-1), partial)
    total = np.float32(partial.sum())
    return np.full((1,) * a.ndim, total) if keepdims else total
