"""asv: conv2d (+ bias + fused ReLU) forward and forward+backward at the seed CNNs' layer shapes, batch 128.

Forward+backward takes the input gradients with ``nc.autograd.grad``: no ``.grad`` accumulation is timed.
"""
import numpy as np

import numbaconv as nc
import numbaconv.nn.functional as F

from . import BATCH, CONV_LAYERS


class Conv2d:
    params = (list(CONV_LAYERS), ["float32"])
    param_names = ["layer", "dtype"]
    timeout = 300

    def setup(self, layer, dtype):
        cin, cout, size, pad = CONV_LAYERS[layer]
        rng = np.random.default_rng(0)
        self.x = nc.tensor(rng.standard_normal((BATCH, cin, size, size)).astype(dtype), requires_grad=True)
        self.w = nc.tensor((rng.standard_normal((cout, cin, 3, 3)) * 0.1).astype(dtype), requires_grad=True)
        self.b = nc.tensor(np.zeros(cout, dtype), requires_grad=True)
        self.pad = pad
        out = self.forward()
        self.grad = nc.tensor(np.ones(out.shape, dtype))
        self.time_forward_backward(layer, dtype)

    def forward(self):
        return F.conv2d(self.x, self.w, self.b, padding=self.pad, relu=True)

    def time_forward(self, layer, dtype):
        with nc.no_grad():
            self.forward()

    def time_forward_backward(self, layer, dtype):
        nc.autograd.grad(self.forward(), (self.x, self.w, self.b), self.grad)
