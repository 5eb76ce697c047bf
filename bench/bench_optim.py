"""asv: one optimizer update of default_net (~2.0M parameters): the fused Numba kernels vs plain numpy doing
PyTorch's op sequence (torch.optim.SGD / AdamW, single-tensor path)."""
import math

import numpy as np

import numbaconv as nc
from numbaconv import models, optim


def numpy_sgd(params, bufs, lr=0.05, momentum=0.9, weight_decay=5e-4):
    for p, buf in zip(params, bufs):
        d = p.grad.array + weight_decay * p.array
        buf *= momentum
        buf += d
        d += momentum * buf
        p.array -= lr * d


def numpy_adamw(params, ms, vs, step, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    bias1, bias2_sqrt = 1 - beta1**step, math.sqrt(1 - beta2**step)
    for p, m, v in zip(params, ms, vs):
        g = p.grad.array
        p.array *= 1 - lr * weight_decay
        m += (1 - beta1) * (g - m)
        v *= beta2
        v += (1 - beta2) * g * g
        p.array -= (lr / bias1) * m / (np.sqrt(v) / bias2_sqrt + eps)


class OptimizerStep:
    params = (["sgd_nesterov", "adamw"], ["numba", "numpy"])
    param_names = ["optimizer", "implementation"]

    def setup(self, optimizer, implementation):
        nc.manual_seed(0)
        self.params_ = list(models.default_net().parameters())
        for p in self.params_:
            p.grad = nc.randn(*p.shape) * 0.01
        self.sgd = optim.SGD(self.params_, lr=0.05, momentum=0.9, weight_decay=5e-4, nesterov=True)
        self.adamw = optim.AdamW(self.params_, lr=1e-3)
        self.bufs = [np.zeros(p.shape, np.float32) for p in self.params_]
        self.ms = [np.zeros(p.shape, np.float32) for p in self.params_]
        self.vs = [np.zeros(p.shape, np.float32) for p in self.params_]
        self.step = 0
        self.time_step(optimizer, implementation)

    def time_step(self, optimizer, implementation):
        if implementation == "numba":
            (self.sgd if optimizer == "sgd_nesterov" else self.adamw).step()
        elif optimizer == "sgd_nesterov":
            numpy_sgd(self.params_, self.bufs)
        else:
            self.step += 1
            numpy_adamw(self.params_, self.ms, self.vs, self.step)
