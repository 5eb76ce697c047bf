"""The gradient of a max or min over one axis, ties sharing it equally (torch.amax / torch.amin's backward).

numpy spells it in four passes and three temporaries over the input (``a == out``, ``grad * hit``, the tie
count, the division): 23.5 ms at 128x64x32x32 float32 over axis 1, on one thread of an AMD EPYC Zen 4. Here a
large C-contiguous float32/float64 input, seen as (before the axis, along it, after it), takes one parallel Numba
loop over the lines before the axis: each counts its ties, then writes ``grad / count`` at them and zeros
elsewhere, as numpy's ``grad * hit / count`` would (a NaN extreme has no ties: its line's gradient is NaN).
"""
import math

import numpy as np
from numba import njit, prange

from . import threads
from .pointwise import LOOP_DTYPES, PARALLEL_MIN


@njit(parallel=True, cache=True, error_model="numpy")
def _extreme_backward_lines(grad, a, out, result):
    """grad, out: (outer, inner); a, result: (outer, n, inner)."""
    n, inner = a.shape[1], a.shape[2]
    zero = np.zeros(1, a.dtype)[0]
    for o in prange(a.shape[0]):
        count = np.zeros(inner, a.dtype)
        for k in range(n):
            for i in range(inner):
                if a[o, k, i] == out[o, i]:
                    count[i] += 1
        for k in range(n):
            for i in range(inner):
                hit = a[o, k, i] == out[o, i]
                result[o, k, i] = (grad[o, i] if hit else zero * grad[o, i]) / count[i]


def extreme_backward(grad, a, out, dims):
    """d(max or min of ``a`` over ``dims``)/d(a), given ``grad`` and ``out`` of the reduced shape with the dims kept
    as 1: the loop for one axis of a large C-contiguous float array, numpy's ``grad * hit / count`` otherwise."""
    if (len(dims) != 1 or type(a) is not np.ndarray or a.size < PARALLEL_MIN or a.dtype not in LOOP_DTYPES
            or not a.flags.c_contiguous or grad.dtype != a.dtype or out.dtype != a.dtype):
        hit = a == out
        return grad * hit / np.sum(hit, axis=dims, keepdims=True)
    shape, axis = a.shape, dims[0]
    lines = (math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1:]))
    grad = np.ascontiguousarray(grad).reshape(lines[0], lines[2])
    result = np.empty_like(a)
    threads.start()
    _extreme_backward_lines(grad, a.reshape(lines), np.ascontiguousarray(out).reshape(lines[0], lines[2]),
                            result.reshape(lines))
    return result
