"""asv: linear layers (fwd, fwd+bwd) of the seed CNNs at batch 128 (numbaconv's public matmul through F.linear).

Forward+backward takes the input gradients with ``nc.autograd.grad``: no ``.grad`` accumulation is timed.
"""
import numpy as np

import numbaconv as nc
import numbaconv.nn.functional as F

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

