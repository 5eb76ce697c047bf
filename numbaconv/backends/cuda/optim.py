"""Fused optimizer updates on the GPU, one launch per parameter (torch.optim.SGD / Adam / AdamW / Adagrad / RMSprop /
Adadelta step).

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


@cached
def _adaptive_kernels():
    adagrad_rule = cuda.jit(device=True)(optim_rules.adagrad)
    rmsprop_rule = cuda.jit(device=True)(optim_rules.rmsprop)
    adadelta_rule = cuda.jit(device=True)(optim_rules.adadelta)

    @cuda.jit
    def adagrad(param, grad, total, clr, weight_decay, eps):
        i = cuda.grid(1)
        if i < param.size:
            param[i], total[i] = adagrad_rule(param[i], grad[i], total[i], clr, weight_decay, eps)

    @cuda.jit
    def rmsprop(param, grad, square_avg, grad_avg, buf, lr, alpha, eps, weight_decay, momentum, centered):
        i = cuda.grid(1)
        if i < param.size:
            p, square_avg[i], a, b = rmsprop_rule(param[i], grad[i], square_avg[i], grad_avg[i], buf[i], lr, alpha,
                                                  eps, weight_decay, momentum, centered)
            if centered:
                grad_avg[i] = a
            if momentum > 0:
                buf[i] = b
            param[i] = p

    @cuda.jit
    def adadelta(param, grad, square_avg, acc_delta, lr, rho, eps, weight_decay):
        i = cuda.grid(1)
        if i < param.size:
            param[i], square_avg[i], acc_delta[i] = adadelta_rule(param[i], grad[i], square_avg[i], acc_delta[i], lr,
                                                                  rho, eps, weight_decay)

    return adagrad, rmsprop, adadelta


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


def adagrad_step(param, grad, state_sum, step, lr, lr_decay=0.0, weight_decay=0.0, eps=1e-10):
    """In-place Adagrad update at 1-based ``step`` (torch.optim.Adagrad); ``state_sum`` sums the squared gradients."""
    dtype = param.dtype.type
    clr = lr / (1 + (step - 1) * lr_decay)
    _adaptive_kernels()[0][blocks(param.size), THREADS](param.flat, grad.flat, state_sum.flat, dtype(clr),
                                                        dtype(weight_decay), dtype(eps))


def rmsprop_step(param, grad, square_avg, grad_avg, buf, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0):
    """In-place RMSprop update (torch.optim.RMSprop); ``grad_avg`` (None: not centered) and ``buf`` (None: no
    momentum) are the optional state buffers."""
    dtype = param.dtype.type
    ga = grad_avg if grad_avg is not None else square_avg
    b = buf if buf is not None else square_avg
    _adaptive_kernels()[1][blocks(param.size), THREADS](
        param.flat, grad.flat, square_avg.flat, ga.flat, b.flat, dtype(lr), dtype(alpha), dtype(eps),
        dtype(weight_decay), dtype(momentum if buf is not None else 0.0), grad_avg is not None)


def adadelta_step(param, grad, square_avg, acc_delta, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
    """In-place Adadelta update (torch.optim.Adadelta)."""
    dtype = param.dtype.type
    _adaptive_kernels()[2][blocks(param.size), THREADS](param.flat, grad.flat, square_avg.flat, acc_delta.flat,
                                                        dtype(lr), dtype(rho), dtype(eps), dtype(weight_decay))
