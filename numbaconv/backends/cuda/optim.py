"""Fused optimizer updates on the GPU, one launch per parameter (torch.optim.SGD / Adam / AdamW step).

Each kernel updates the parameter and its state buffers in place in one pass, with the per-element rules of
backends/optim_rules.py (the CPU twin compiles the same ones).
"""
import math

from .. import optim_rules
from .launch import THREADS, blocks, cached, cuda


@cached
def _kernels():
    sgd_rule = cuda.jit(device=True)(optim_rules.sgd)
    adam_rule = cuda.jit(device=True)(optim_rules.adam)

    @cuda.jit
    def sgd(param, grad, buf, lr, momentum, dampening, weight_decay, nesterov, first):
        i = cuda.grid(1)
        if i < param.size:
            p, b = sgd_rule(param[i], grad[i], buf[i], lr, momentum, dampening, weight_decay, nesterov, first)
            if momentum != 0:
                buf[i] = b
            param[i] = p

    @cuda.jit
    def adam(param, grad, m, v, max_v, amsgrad, lr, beta1, beta2, eps, weight_decay, decoupled, step_size,
             bias2_sqrt):
        i = cuda.grid(1)
        if i < param.size:
            p, m[i], v[i], x = adam_rule(param[i], grad[i], m[i], v[i], max_v[i], amsgrad, lr, beta1, beta2, eps,
                                         weight_decay, decoupled, step_size, bias2_sqrt)
            if amsgrad:
                max_v[i] = x
            param[i] = p

    return sgd, adam


def sgd_step(param, grad, buf, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, first=False):
    """In-place SGD with momentum/Nesterov/weight decay (torch.optim.SGD); ``buf`` is the momentum buffer."""
    dtype = param.dtype.type
    state = buf if buf is not None else param
    _kernels()[0][blocks(param.size), THREADS](param.flat, grad.flat, state.flat, dtype(lr), dtype(momentum),
                                               dtype(dampening), dtype(weight_decay), bool(nesterov), bool(first))


def adam_step(param, grad, m, v, step, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False,
              max_v=None):
    """In-place Adam (decoupled=False) or AdamW (decoupled=True) update at 1-based ``step`` (torch.optim).

    ``max_v`` (the AMSGrad running maximum of ``v``) turns AMSGrad on.
    """
    dtype = param.dtype.type
    step_size = lr / (1 - beta1**step)
    bias2_sqrt = math.sqrt(1 - beta2**step)
    running_max = max_v if max_v is not None else v
    _kernels()[1][blocks(param.size), THREADS](param.flat, grad.flat, m.flat, v.flat, running_max.flat,
                                               max_v is not None, dtype(lr), dtype(beta1), dtype(beta2), dtype(eps),
                                               dtype(weight_decay), bool(decoupled), dtype(step_size),
                                               dtype(bias2_sqrt))
