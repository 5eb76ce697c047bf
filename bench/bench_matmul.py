"""asv: linear layers (fwd, fwd+bwd) of the seed CNNs at batch 128, and the matmul dispatcher's two paths.

Forward+backward takes the input gradients with ``nc.autograd.grad``: no ``.grad`` accumulation is timed.
"""
import numpy as np

import numbaconv as nc
import numbaconv.nn.functional as F
from numbaconv.backends.cpu import matmul as kernels

from . import BATCH, LINEAR_LAYERS


class Linear:
    params = (list(LINEAR_LAYERS), ["float32"])
    param_names = ["layer", "dtype"]

    def setup(self, layer, dtype):
        fin, fout = LINEAR_LAYERS[layer]
        rng = np.random.default_rng(0)
        self.x = nc.tensor(rng.standard_normal((BATCH, fin)).astype(dtype), requires_grad=True)
        self.w = nc.tensor((rng.standard_normal((fout, fin)) * 0.05).astype(dtype), requires_grad=True)
        self.b = nc.tensor(np.zeros(fout, dtype), requires_grad=True)
        self.grad = nc.tensor(np.ones((BATCH, fout), dtype))
        self.time_forward_backward(layer, dtype)

    def time_forward(self, layer, dtype):
        with nc.no_grad():
            F.linear(self.x, self.w, self.b)

    def time_forward_backward(self, layer, dtype):
        nc.autograd.grad(F.linear(self.x, self.w, self.b), (self.x, self.w, self.b), self.grad)


class MatmulPaths:
    """BLAS (np.matmul) against the tiled Numba kernel: the measurement behind the dispatcher."""

    params = ([(BATCH, 512, 512), (BATCH, 512, 10), (64, 64, 64)], ["float32", "float64", "int64"])
    param_names = ["mkn", "dtype"]

    def setup(self, mkn, dtype):
        m, k, n = mkn
        rng = np.random.default_rng(0)
        self.a = rng.integers(-9, 9, (m, k)).astype(dtype)
        self.b = rng.integers(-9, 9, (k, n)).astype(dtype)
        self.out = np.empty((m, n), dtype)
        kernels.matmul_tiled(self.a, self.b, self.out)

    def time_blas(self, mkn, dtype):
        np.matmul(self.a, self.b)

    def time_numba_tiled(self, mkn, dtype):
        kernels.matmul_tiled(self.a, self.b, self.out)

    def time_dispatcher(self, mkn, dtype):
        kernels.matmul(self.a, self.b)
