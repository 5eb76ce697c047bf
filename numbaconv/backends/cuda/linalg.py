"""Matrix products of CUDA arrays (numpy.matmul, torch.matmul) through the tiled GEMM of backends/cuda/gemm.py."""
import math

import numpy as np

from . import gemm
from .creation import astype, empty, zeros
from .shapes import broadcast_to, reshape


def _batch_stride(array, batch, rows, cols):
    """(array, its batch stride in elements) read as ``batch`` matrices: 0 for one matrix broadcast to all."""
    lead = array.shape[:-2]
    if lead == batch:
        return array, rows * cols
    if math.prod(lead) == 1:
        return array, 0
    return broadcast_to(array, batch + (rows, cols)), rows * cols


def matmul(a, b):
    """numpy.matmul on the GPU: tiled shared-memory GEMM over broadcast batches (torch.matmul)."""
    a2 = reshape(a, (1,) + a.shape) if a.ndim == 1 else a
    b2 = reshape(b, b.shape + (1,)) if b.ndim == 1 else b
    (M, K), (K2, N) = a2.shape[-2:], b2.shape[-2:]
    if K != K2:
        raise ValueError(f"matmul: inner dimensions differ: {a.shape} @ {b.shape}")
    batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    a2, stride_a = _batch_stride(a2, batch, M, K)
    b2, stride_b = _batch_stride(b2, batch, K, N)
    dtype = np.result_type(a.dtype, b.dtype)
    a2, b2 = astype(a2, dtype), astype(b2, dtype)
    out = (zeros if K == 0 else empty)(batch + (M, N), dtype)
    if out.size and K:
        p = gemm.params("matmul", sa_z=stride_a, sa_m=K, sa_k=1, sb_z=stride_b, sb_k=N, sb_n=1, sc_z=M * N, sc_m=N,
                        sc_n=1)
        gemm.launch("matmul", out.flat, a2.flat, b2.flat, gemm.dummy(dtype), M, N, K, math.prod(batch), p)
    shape = out.shape
    if a.ndim == 1:
        shape = shape[:-2] + shape[-1:]
    if b.ndim == 1:
        shape = shape[:-1]
    return reshape(out, shape)
