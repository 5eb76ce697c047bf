"""The maximum of a 2x2 window and its position, for the CPU's 2x2 max-pool kernels (backends/cpu/pool.py) and
conv2d's fused ReLU + max pool (backends/cpu/relu_pool.py): inline Numba helpers, PyTorch's rules (the first
maximum in row-major order; the last NaN)."""
from numba import njit


@njit(inline="always")
def max2x2_knockout(a0, a1, a2, a3):
    """(max, code) of a 2x2 window's values in row-major order, code = 2*dy + dx of the first maximum: a knockout
    of selects, without branches (a sequential scan's comparisons mispredict on data like conv outputs), which
    vectorises over row slices. NaNs are not ranked: a window holding one takes :func:`max2x2_scan`."""
    p1 = a1 > a0
    p3 = a3 > a2
    m01 = a1 if p1 else a0
    m23 = a3 if p3 else a2
    top = m23 > m01
    return (m23 if top else m01), 2 * top + (p3 if top else p1)


@njit(inline="always")
def max2x2_scan(a0, a1, a2, a3):
    """:func:`max2x2_knockout` by a sequential scan, where the last NaN wins (PyTorch's rule)."""
    best, code = a0, 0
    if a1 > best or a1 != a1:
        best, code = a1, 1
    if a2 > best or a2 != a2:
        best, code = a2, 2
    if a3 > best or a3 != a3:
        best, code = a3, 3
    return best, code
