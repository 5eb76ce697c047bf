"""Fused optimizer updates on the CPU, one parallel pass per parameter (torch.optim.SGD / Adam / AdamW / Adagrad /
RMSprop / Adadelta step); a parameter below threads.PARALLEL_MIN elements is updated on the calling thread.

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
_adagrad_rule = njit(inline="always")(optim_rules.adagrad)
_rmsprop_rule = njit(inline="always")(optim_rules.rmsprop)
_adadelta_rule = njit(inline="always")(optim_rules.adadelta)


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


@njit(parallel=True, cache=True)
def _adagrad(param, grad, total, clr, weight_decay, eps):
    for i in prange(param.size):
        param[i], total[i] = _adagrad_rule(param[i], grad[i], total[i], clr, weight_decay, eps)


@njit(parallel=True, cache=True)
def _rmsprop(param, grad, square_avg, grad_avg, buf, lr, alpha, eps, weight_decay, momentum, centered):
    for i in prange(param.size):
        p, square_avg[i], a, b = _rmsprop_rule(param[i], grad[i], square_avg[i], grad_avg[i], buf[i], lr, alpha, eps,
                                               weight_decay, momentum, centered)
        if centered:
            grad_avg[i] = a
        if momentum > 0:
            buf[i] = b
        param[i] = p


@njit(parallel=True, cache=True)
def _adadelta(param, grad, square_avg, acc_delta, lr, rho, eps, weight_decay):
    for i in prange(param.size):
        param[i], square_avg[i], acc_delta[i] = _adadelta_rule(param[i], grad[i], square_avg[i], acc_delta[i], lr,
                                                               rho, eps, weight_decay)


def _flat(array, name):
    if not array.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous, got strides {array.strides} for shape {array.shape}")
    return array.reshape(-1)


def sgd_step(param, grad, buf, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, first=False):
    """In-place SGD with momentum/Nesterov/weight decay (torch.optim.SGD); ``buf`` is the momentum buffer."""
    p = _flat(param, "param")
    g = np.ascontiguousarray(grad).reshape(-1)
    b = _flat(buf, "buf") if buf is not None else p
    threads.launch(_sgd, p.size, p, g, b, float(lr), float(momentum), float(dampening), float(weight_decay),
                   bool(nesterov), bool(first))


def adam_step(param, grad, m, v, step, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False,
              max_v=None):
    """In-place Adam (decoupled=False) or AdamW (decoupled=True) update at 1-based ``step`` (torch.optim).

    ``max_v`` (the AMSGrad running maximum of ``v``) turns AMSGrad on.
    """
    p = _flat(param, "param")
    g = np.ascontiguousarray(grad).reshape(-1)
    mv = _flat(m, "m")
    vv = _flat(v, "v")
    amsgrad = max_v is not None
    xv = _flat(max_v, "max_v") if amsgrad else vv
    step_size = lr / (1 - beta1**step)
    bias2_sqrt = math.sqrt(1 - beta2**step)
    threads.launch(_adam, p.size, p, g, mv, vv, xv, amsgrad, float(lr), float(beta1), float(beta2), float(eps),
                   float(weight_decay), bool(decoupled), float(step_size), float(bias2_sqrt))


def adagrad_step(param, grad, state_sum, step, lr, lr_decay=0.0, weight_decay=0.0, eps=1e-10):
    """In-place Adagrad update at 1-based ``step`` (torch.optim.Adagrad); ``state_sum`` sums the squared gradients."""
    clr = lr / (1 + (step - 1) * lr_decay)
    threads.launch(_adagrad, param.size, _flat(param, "param"), np.ascontiguousarray(grad).reshape(-1),
                   _flat(state_sum, "state_sum"), float(clr), float(weight_decay), float(eps))


def rmsprop_step(param, grad, square_avg, grad_avg, buf, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0):
    """In-place RMSprop update (torch.optim.RMSprop); ``grad_avg`` (None: not centered) and ``buf`` (None: no
    momentum) are the optional state buffers."""
    p = _flat(param, "param")
    sq = _flat(square_avg, "square_avg")
    ga = _flat(grad_avg, "grad_avg") if grad_avg is not None else sq
    b = _flat(buf, "buf") if buf is not None else sq
    threads.launch(_rmsprop, p.size, p, np.ascontiguousarray(grad).reshape(-1), sq, ga, b, float(lr), float(alpha),
                   float(eps), float(weight_decay), float(momentum) if buf is not None else 0.0, grad_avg is not None)


def adadelta_step(param, grad, square_avg, acc_delta, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
    """In-place Adadelta update (torch.optim.Adadelta)."""
    threads.launch(_adadelta, param.size, _flat(param, "param"), np.ascontiguousarray(grad).reshape(-1),
                   _flat(square_avg, "square_avg"), _flat(acc_delta, "acc_delta"), float(lr), float(rho), float(eps),
                   float(weight_decay))
