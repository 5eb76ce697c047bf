"""2-D matrix product: a tiled Numba kernel and a dispatcher that picks it or BLAS per dtype (torch.mm).

Measured on 2 cores (bench/RESULTS.md): numpy's OpenBLAS beats the Numba kernel for float32/float64 at every
shape tried, from 8x8 (call overhead) to the Torch-net layers, so floating matrices go to BLAS; integer
matrices (no BLAS in numpy: a plain loop) of 64x64x64 work or more go to the Numba kernel (2.5x faster at 64^3,
14x at 512^3); below that numpy's loop wins on call overhead.
"""
import numpy as np
from numba import njit, prange

from . import threads

TILE = 64


@njit(parallel=True, cache=True)
def matmul_tiled(a, b, out):
    """out = a @ b for 2-D arrays; threads own row tiles of ``out``; k-tiles keep b's panel in cache."""
    m, k = a.shape
    n = b.shape[1]
    for ti in prange((m + TILE - 1) // TILE):
        i0 = ti * TILE
        i1 = min(m, i0 + TILE)
        for i in range(i0, i1):
            for j in range(n):
                out[i, j] = 0
        for k0 in range(0, k, TILE):
            k1 = min(k, k0 + TILE)
            for i in range(i0, i1):
                for p in range(k0, k1):
                    av = a[i, p]
                    for j in range(n):
                        out[i, j] += av * b[p, j]


NUMBA_MIN_WORK = 64 * 64 * 64


def uses_numba(a, b):
    """True when the Numba kernel should compute a @ b: 2-D integer operands of one dtype, enough work."""
    return (a.ndim == 2 and b.ndim == 2 and a.dtype == b.dtype and np.issubdtype(a.dtype, np.integer)
            and a.shape[0] * a.shape[1] * b.shape[1] >= NUMBA_MIN_WORK)


def matmul(a, b):
    """a @ b with numpy's semantics (1-D, 2-D, broadcast batches); large 2-D integer products run in Numba."""
    if not uses_numba(a, b):
        return np.matmul(a, b)
    threads.start()
    out = np.empty((a.shape[0], b.shape[1]), a.dtype)
    matmul_tiled(np.ascontiguousarray(a), np.ascontiguousarray(b), out)
    return out
