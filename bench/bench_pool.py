"""asv: 2x2 max/avg pooling and global average pooling, forward and forward+backward, at the seed CNNs' pool
inputs, batch 128.

Forward+backward takes the input gradients with ``nc.autograd.grad``: no ``.grad`` accumulation is timed.
"""
import numpy as np

import numbaconv as nc
import numbaconv.nn.functional as F

from . import BATCH, POOL_INPUTS

_POOLS = {
    "max": lambda x: F.max_pool2d(x, 2),
    "avg": lambda x: F.avg_pool2d(x, 2),
    "adaptive_avg_1": lambda x: F.adaptive_avg_pool2d(x, 1),
}


class Pool2d:
    params = (list(POOL_INPUTS), list(_POOLS), ["float32"])
    param_names = ["input", "kind", "dtype"]
    timeout = 300

    def setup(self, name, kind, dtype):
        channels, size = POOL_INPUTS[name]
        rng = np.random.default_rng(0)
        self.x = nc.tensor(rng.standard_normal((BATCH, channels, size, size)).astype(dtype), requires_grad=True)
        self.pool = _POOLS[kind]
        out = self.pool(self.x)
        self.grad = nc.tensor(np.ones(out.shape, dtype))
        self.time_forward_backward(name, kind, dtype)

    def time_forward(self, name, kind, dtype):
        with nc.no_grad():
            self.pool(self.x)

    def time_forward_backward(self, name, kind, dtype):
        nc.autograd.grad(self.pool(self.x), self.x, self.grad)
