"""One element's optimizer update, shared by the CPU and CUDA kernels (torch.optim.SGD / Adam / AdamW step).

Plain functions of scalars returning the new values; each backend compiles them for itself
(numba.njit(inline="always") / numba.cuda.jit(device=True)), as counter_rng.py is shared, and its kernel
writes the results back.
"""
import math


def sgd(p, g, buf, lr, momentum, dampening, weight_decay, nesterov, first):
    """(parameter, momentum buffer) after one SGD step; the buffer is meaningless when momentum is 0."""
    g = g + weight_decay * p
    if momentum != 0:
        buf = g if first else momentum * buf + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf
    return p - lr * g, buf


def adam(p, g, m, v, max_v, amsgrad, lr, beta1, beta2, eps, weight_decay, decoupled, step_size, bias2_sqrt):
    """(parameter, m, v, max_v) after one Adam (or, ``decoupled``, AdamW) step at step t.

    ``step_size`` is lr / (1 - beta1^t) and ``bias2_sqrt`` sqrt(1 - beta2^t); ``max_v``, AMSGrad's running
    maximum of v, is used and updated only with ``amsgrad``. m moves toward g as torch's
    ``exp_avg.lerp_(grad, 1 - beta1)``.
    """
    if decoupled:
        p = p * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * p
    m = m + (1 - beta1) * (g - m)
    v = beta2 * v + (1 - beta2) * g * g
    if amsgrad:
        if v > max_v:
            max_v = v
        denominator = max_v
    else:
        denominator = v
    return p - step_size * m / (math.sqrt(denominator) / bias2_sqrt + eps), m, v, max_v
