"""Fused optimizer updates on the GPU, one launch per parameter (torch.optim.SGD / Adam / AdamW step).

Each kernel updates the parameter and its state buffers in place in one pass.
"""
import math

from .launch import THREADS, blocks, cached, cuda


@cached
def _kernels():
    @cuda.jit
    def sgd(param, grad, buf, lr, momentum, dampening, weight_decay, nesterov, first):
        i = cuda.grid(1)
        if i < param.size:
            g = grad[i] + weight_decay * param[i]
            if momentum != 0:
                b = g if first else momentum * buf[i] + (1 - dampening) * g
                buf[i] = b
                g = g + momentum * b if nesterov else b
            param[i] = param[i] - lr * g

    @cuda.jit
    def adam(param, grad, m, v, max_v, amsgrad, lr, beta1, beta2, eps, weight_decay, decoupled, bias1, bias2_sqrt):
        i = cuda.grid(1)
        if i < param.size:
            p = param[i]
            g = grad[i]
            if decoupled:
                p = p * (1 - lr * weight_decay)
            else:
                g = g + weight_decay * p
            mi = beta1 * m[i] + (1 - beta1) * g
            vi = beta2 * v[i] + (1 - beta2) * g * g
            m[i] = mi
            v[i] = vi
            if amsgrad:
                if vi > max_v[i]:
                    max_v[i] = vi
                vi = max_v[i]
            param[i] = p - (lr / bias1) * mi / (math.sqrt(vi) / bias2_sqrt + eps)

    return sgd, adam


def sgd_step(param, grad, buf, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, first=False):
    """In-place SGD with momentum/Nesterov/weight decay (torch.optim.SGD); ``buf`` is the momentum buffer."""
    dtype = param.dtype.type
    _kernels()[0][blocks(param.size), THREADS](param.flat, grad.flat, (buf if buf is not None else param).flat,
                                               dtype(lr), dtype(momentum), dtype(dampening), dtype(weight_decay),
                                               bool(nesterov), bool(first))


def adam_step(param, grad, m, v, step, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False,
              max_v=None):
    """In-place Adam (decoupled=False) or AdamW (decoupled=True) update at 1-based ``step`` (torch.optim).

    ``max_v`` (the AMSGrad running maximum of ``v``) turns AMSGrad on.
    """
    dtype = param.dtype.type
    bias1 = 1 - beta1**step
    bias2_sqrt = math.sqrt(1 - beta2**step)
    _kernels()[1][blocks(param.size), THREADS](param.flat, grad.flat, m.flat, v.flat, (max_v if max_v is not None else v).flat,
                                               max_v is not None, dtype(lr), dtype(beta1),
                                               dtype(beta2), dtype(eps), dtype(weight_decay), bool(decoupled),
                                               dtype(bias1), dtype(bias2_sqrt))
