"""a + b, a - b and a * b of two float arrays that broadcast (``x + bias.reshape(-1, 1, 1)``) as one parallel Numba
loop (torch's broadcasting elementwise ops use every core).

numpy broadcasts by calling its inner loop once per innermost row, with the broadcast operand as a stride-0 scalar:
x + bias over 128x64x32x32 float32 took 3.6-4.0 ms on one thread of an AMD EPYC Zen 4, split over two threads
3.1-3.3; here 1.9-2.3. The layout is strided_copy's: dims merged for both operands at once (at most four remain,
else None), unsigned offsets into flat views of the memory each operand spans, up to strided_copy.ROWS output rows
per parallel task; a row where one operand is constant reads it once. The arithmetic is one IEEE operation per element
in the operands' dtype, so the values are numpy's bit for bit (no fast-math); as in backends/cpu/pointwise.py's
loops, numpy's floating-point warnings are not raised (overflow gives inf silently).
"""
import numpy as np
from numba import njit, prange, uint64

from . import threads
from .strided_copy import element_strides, flat_view, merged_layout, task_pieces, task_rows

ADD, SUBTRACT, MULTIPLY = 0, 1, 2
LOOP_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


@njit(inline="always")
def _apply(code, x, y):
    if code == 0:
        return x + y
    if code == 1:
        return x - y
    return x * y


@njit(parallel=True, cache=True)
def _binary4(code, a, b, sa0, sa1, sa2, sa3, sb0, sb1, sb2, sb3, n0, n1, n2, n3, pieces, out):
    """out (flat, C order over n0..n3) = a[i*sa0 + j*sa1 + k*sa2 + l*sa3] (op) b[... sb ...]."""
    width = uint64(n3)
    for task in prange(n0 * n1 * pieces):
        i, j, ij, first_row, last_row = task_rows(task, pieces, n1, n2)
        base_a = i * uint64(sa0) + j * uint64(sa1)
        base_b = i * uint64(sb0) + j * uint64(sb1)
        for k in range(first_row, last_row):
            row_a, row_b = base_a + k * uint64(sa2), base_b + k * uint64(sb2)
            at = (ij * uint64(n2) + k) * width
            if sa3 == 1 and sb3 == 1:
                for m in range(width):
                    out[at + m] = _apply(code, a[row_a + m], b[row_b + m])
            elif sa3 == 1 and sb3 == 0:
                y = b[row_b]
                for m in range(width):
                    out[at + m] = _apply(code, a[row_a + m], y)
            elif sa3 == 0 and sb3 == 1:
                x = a[row_a]
                for m in range(width):
                    out[at + m] = _apply(code, x, b[row_b + m])
            else:
                for m in range(width):
                    out[at + m] = _apply(code, a[row_a + m * uint64(sa3)], b[row_b + m * uint64(sb3)])


def binary(code, a, b):
    """``a (op) b`` for ``code`` ADD, SUBTRACT or MULTIPLY, broadcast as numpy does, into a new C-contiguous array;
    None unless both are float32/float64 arrays of one dtype whose broadcast layout the loop takes (shapes that do
    not broadcast are left to numpy's own error)."""
    if (type(a) is not np.ndarray or type(b) is not np.ndarray or a.dtype != b.dtype
            or a.dtype not in LOOP_DTYPES):
        return None
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        return None
    strides_a, strides_b = element_strides(a, shape), element_strides(b, shape)
    layout = None if strides_a is None or strides_b is None else merged_layout(shape, strides_a, strides_b)
    if layout is None:
        return None
    (n0, (sa0, sb0)), (n1, (sa1, sb1)), (n2, (sa2, sb2)), (n3, (sa3, sb3)) = layout
    out = np.empty(shape, a.dtype)
    threads.start()
    _binary4(code, flat_view(a, shape, strides_a), flat_view(b, shape, strides_b), sa0, sa1, sa2, sa3,
             sb0, sb1, sb2, sb3, n0, n1, n2, n3, task_pieces(n2), out.reshape(-1))
    return out
