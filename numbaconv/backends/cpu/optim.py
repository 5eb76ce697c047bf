"""Fused optimizer updates on the CPU, one parallel pass per parameter (torch.optim.SGD / Adam / AdamW step).

Each kernel updates the parameter and its state buffers in place with the per-element rules of
backends/optim_rules.py; the CUDA twin (backends/cuda/optim.py) has the same names and argument order.
"""
import math

import numpy as np
from numba import njit, prange

from .. import optim_rules
from . import threads

_sgd_rule = njit(inline="always")(optim_rules.sgd)
_adam_rule = njit(inline="always")(optim_rules.adam)


@njit(parallel=True, cache=True)
def _sgd(param, grad, buf, lr, momentum, dampening, weight_decay, nesterov, first):
    for i in prange(param.size):
        p, b = _sgd_rule(param[i], grad[i], buf[i], lr, momentum, dampening, weight_decay, nesterov, first)
        if momentum != 0:
            buf[i] = b
        param[i] = p


@njit(parallel=True, cache=True)
def _adam(param, grad, m, v, max_v, amsgrad, lr, beta1, beta2, eps, weight_decay, decoupled, step_size, bias2_sqrt):
    for i in prange(param.size):
        p, m[i], v[i], x = _adam_rule(param[i], grad[i], m[i], v[i], max_v[i], amsgrad, lr, beta1, beta2, eps,
                                      weight_decay, decoupled, step_size, bias2_sqrt)
        if amsgrad:
            max_v[i] = x
        param[i] = p


def _flat(array, name):
    if not array.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous, got strides {array.strides} for shape {array.shape}")
    return array.reshape(-1)


def sgd_step(param, grad, buf, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, first=False):
    """In-place SGD with momentum/Nesterov/weight decay (torch.optim.SGD); ``buf`` is the momentum buffer."""
    threads.start()
    p = _flat(param, "param")
    g = np.ascontiguousarray(grad).reshape(-1)
    b = _flat(buf, "buf") if buf is not None else p
    _sgd(p, g, b, float(lr), float(momentum), float(dampening), float(weight_decay), bool(nesterov), bool(first))


def adam_step(param, grad, m, v, step, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False,
              max_v=None):
    """In-place Adam (decoupled=False) or AdamW (decoupled=True) update at 1-based ``step`` (torch.optim).

    ``max_v`` (the AMSGrad running maximum of ``v``) turns AMSGrad on.
    """
    threads.start()
    p = _flat(param, "param")
    g = np.ascontiguousarray(grad).reshape(-1)
    mv = _flat(m, "m")
    vv = _flat(v, "v")
    amsgrad = max_v is not None
    xv = _flat(max_v, "max_v") if amsgrad else vv
    step_size = lr / (1 - beta1**step)
    bias2_sqrt = math.sqrt(1 - beta2**step)
    _adam(p, g, mv, vv, xv, amsgrad, float(lr), float(beta1), float(beta2), float(eps), float(weight_decay),
          bool(decoupled), float(step_size), float(bias2_sqrt))
