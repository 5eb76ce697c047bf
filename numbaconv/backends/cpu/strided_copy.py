"""A C-contiguous copy of a large strided array as one parallel Numba loop (torch's ``.contiguous()``).

numpy copies a strided array one innermost row at a time, with a call per row: a transpose(1, 2) of 128x64x32x32
float32 (rows of 32 floats) took 6.9 ms on one thread of an AMD EPYC Zen 4, split over two threads 5.5, PyTorch
2.6. Here the array's dims are merged where they allow (at most four remain, else None), the elements are read as
unsigned integers of the item's width (a bit-exact copy of any dtype) through one flat view of the memory they
span, with unsigned offsets (a signed index that may be negative needs numpy's wraparound, which kept these loops
scalar); each parallel task copies up to ``ROWS`` rows of one (i, j) of the two outer dims. Rows that are
contiguous in memory are copied as rows (transpose(1, 2): 2.7 ms), one value broadcast along a row fills it (a
mean's gradient, broadcast per plane), otherwise the innermost output dim is gathered in blocks of ``BLOCK`` so
that the cache lines read for one output row serve the next ones too (permute(0, 2, 3, 1): numpy 24, PyTorch 12.3,
here 5.9 ms). Negative strides are left to the caller (None).
"""
import numpy as np
from numba import njit, prange, uint64

from . import threads

BLOCK = 16  # output elements gathered per source cache line, for rows that are strided in memory
ROWS = 32  # output rows per parallel task: an array whose two outer dims are few still splits
UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def task_pieces(n2):
    """Parallel tasks per (i, j) of the two outer dims: ``n2`` rows in pieces of up to ``ROWS``."""
    return (n2 + ROWS - 1) // ROWS


@njit(inline="always")
def task_rows(task, pieces, n1, n2):
    """(i, j, ij, first row, last row) of parallel ``task`` over an (n0, n1, n2) grid of rows, ``pieces`` tasks per
    (i, j); unsigned throughout (a signed index that may be negative keeps the loops using it scalar)."""
    ij = uint64(task) // uint64(pieces)
    first_row = (uint64(task) - ij * uint64(pieces)) * uint64(ROWS)
    last_row = min(first_row + uint64(ROWS), uint64(n2))
    i = ij // uint64(n1)
    return i, ij - i * uint64(n1), ij, first_row, last_row


@njit(parallel=True, cache=True)
def _copy4(src, s0, s1, s2, s3, n0, n1, n2, n3, pieces, out):
    """out (flat, C order over n0..n3) = src[i*s0 + j*s1 + k*s2 + l*s3]; one task per ``ROWS`` rows of an (i, j)."""
    block, width = uint64(BLOCK), uint64(n3)
    for task in prange(n0 * n1 * pieces):
        i, j, ij, first_row, last_row = task_rows(task, pieces, n1, n2)
        base = i * uint64(s0) + j * uint64(s1)
        if s3 == 1:
            for k in range(first_row, last_row):
                row, at = base + k * uint64(s2), (ij * uint64(n2) + k) * width
                for m in range(width):
                    out[at + m] = src[row + m]
        elif s3 == 0:
            for k in range(first_row, last_row):
                value, at = src[base + k * uint64(s2)], (ij * uint64(n2) + k) * width
                for m in range(width):
                    out[at + m] = value
        else:
            for low in range(uint64(0), width, block):
                high = min(low + block, width)
                for k in range(first_row, last_row):
                    row, at = base + k * uint64(s2), (ij * uint64(n2) + k) * width
                    for m in range(low, high):
                        out[at + m] = src[row + m * uint64(s3)]


def merged_layout(shape, *strides):
    """The dims of ``shape`` as four (n, per-operand element strides), size-1 dims dropped and neighbours merged
    where every operand's stride spans the next dim, ones in front; None where more than four remain."""
    dims = []
    for d, n in enumerate(shape):
        if n == 1:
            continue
        step = tuple(s[d] for s in strides)
        if dims and all(last == now * n for last, now in zip(dims[-1][1], step)):
            dims[-1] = (dims[-1][0] * n, step)
        else:
            dims.append((n, step))
    if len(dims) > 4:
        return None
    return [(1, (0,) * len(strides))] * (4 - len(dims)) + dims


def element_strides(array, shape):
    """``array``'s strides in elements once broadcast to ``shape`` (0 along broadcast dims), or None where one is
    negative or not a whole number of items."""
    view = np.broadcast_to(array, shape)
    if any(s < 0 or s % view.itemsize for s in view.strides):
        return None
    return [s // view.itemsize for s in view.strides]


def flat_view(array, shape, strides, dtype=None):
    """A 1-d view of the memory that ``array`` (broadcast to ``shape``, ``strides`` in elements) spans, from its
    first element, optionally as ``dtype`` of the same width."""
    span = sum((n - 1) * s for n, s in zip(shape, strides)) + 1
    flat = np.lib.stride_tricks.as_strided(array, shape=(span,), strides=(array.itemsize,))
    return flat if dtype is None else flat.view(dtype)


def contiguous_copy(array):
    """A C-contiguous copy of ``array`` (numpy.ascontiguousarray of a strided array), or None where its merged
    layout has more than four dims or a negative stride, or its items are not 1, 2, 4 or 8 bytes wide."""
    width = array.itemsize
    strides = element_strides(array, array.shape) if width in UNSIGNED else None
    layout = None if strides is None else merged_layout(array.shape, strides)
    if layout is None:
        return None
    out = np.empty(array.shape, array.dtype)
    (n0, (s0,)), (n1, (s1,)), (n2, (s2,)), (n3, (s3,)) = layout
    threads.start()
    _copy4(flat_view(array, array.shape, strides, UNSIGNED[width]), s0, s1, s2, s3, n0, n1, n2, n3,
           task_pieces(n2), out.reshape(-1).view(UNSIGNED[width]))
    return out
