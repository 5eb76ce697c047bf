"""Matrix products of CPU arrays (numpy.matmul, torch.matmul), with the product of a few rows by a transposed
matrix run the other way round.

``x @ w.T`` with few rows in ``x`` and a C-contiguous ``w`` (nn.Linear's forward at inference batches) makes
OpenBLAS pack the transposed operand for a product that hardly reuses it; ``(w @ x.T).T`` reads ``w`` as the
left operand and measured up to 2x faster on 2 threads of a Zen 4 (8x2048 by 2048x1024: 0.67 against 1.28 ms;
64 rows 1.8 against 2.2; 128x2048 by 2048x512 1.6 against 1.8), with the same bits in every shape tried there
(OpenBLAS's SkylakeX kernels); from 512 rows, or with as few output columns as rows (a classifier head), the
copy back to row-major cost more than it saved.
"""
import numpy as np

FEW_ROWS = 128  # most rows of ``a`` for which the reversed product pays
WIDE = 4  # fewest output columns per row of ``a`` for it


def _reversed(a, b):
    """Whether ``a @ b`` is a 2-D float product of at most ``FEW_ROWS`` rows by a transposed C-contiguous matrix
    with at least ``WIDE`` times as many columns as rows."""
    return (a.ndim == 2 and b.ndim == 2 and a.dtype == b.dtype and a.dtype.kind == "f" and a.shape[0] <= FEW_ROWS
            and WIDE * a.shape[0] <= b.shape[1] and b.flags.f_contiguous and not b.flags.c_contiguous)


def matmul(a, b):
    """numpy.matmul(a, b), run as ``(b.T @ a.T).T`` where :func:`_reversed` says."""
    if _reversed(a, b):
        return np.ascontiguousarray(np.matmul(b.T, a.T).T)
    return np.matmul(a, b)
