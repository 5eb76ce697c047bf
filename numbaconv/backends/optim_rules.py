"""One element's optimizer update, shared by the CPU and CUDA kernels (torch.optim.SGD / Adam / AdamW / Adagrad /
RMSprop / Adadelta step).

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


def adagrad(p, g, total, clr, weight_decay, eps):
    """(parameter, sum of squared gradients) after one Adagrad step; ``clr`` is lr / (1 + (t - 1)·lr_decay)."""
    g = g + weight_decay * p
    total = total + g * g
    return p - clr * (g / (math.sqrt(total) + eps)), total


def rmsprop(p, g, square_avg, grad_avg, buf, lr, alpha, eps, weight_decay, momentum, centered):
    """(parameter, square_avg, grad_avg, momentum buffer) after one RMSprop step; grad_avg is used and updated
    only when ``centered``, the buffer only with momentum > 0. grad_avg moves toward g as torch's
    ``grad_avg.lerp_(grad, 1 - alpha)``."""
    g = g + weight_decay * p
    square_avg = alpha * square_avg + (1 - alpha) * g * g
    if centered:
        grad_avg = grad_avg + (1 - alpha) * (g - grad_avg)
        avg = math.sqrt(square_avg - grad_avg * grad_avg) + eps
    else:
        avg = math.sqrt(square_avg) + eps
    if momentum > 0:
        buf = momentum * buf + g / avg
        return p - lr * buf, square_avg, grad_avg, buf
    return p - lr * (g / avg), square_avg, grad_avg, buf


def adadelta(p, g, square_avg, acc_delta, lr, rho, eps, weight_decay):
    """(parameter, square_avg, acc_delta) after one Adadelta step."""
    g = g + weight_decay * p
    square_avg = rho * square_avg + (1 - rho) * g * g
    delta = math.sqrt(acc_delta + eps) / math.sqrt(square_avg + eps) * g
    acc_delta = rho * acc_delta + (1 - rho) * delta * delta
    return p - lr * delta, square_avg, acc_delta
