"""Stochastic gradient descent with momentum, dampening, weight decay and Nesterov (torch.optim.SGD)."""
from .optimizer import Optimizer, check_non_negative, contiguous_grad, optim_kernels, zeros_like


class SGD(Optimizer):
    """PyTorch's rule: d = g + wd·p; buf = d (first step) else momentum·buf + (1 - dampening)·d;
    d = d + momentum·buf (Nesterov) or buf; p -= lr·d. One fused kernel pass per parameter."""

    optional_state = ("momentum_buffer",)

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov))

    def check_group(self, group):
        super().check_group(group)
        check_non_negative(group, "momentum")
        momentum, dampening = group["momentum"], group["dampening"]
        if group["nesterov"] and (momentum <= 0 or dampening != 0):
            raise ValueError(f"nesterov needs momentum > 0 and dampening 0, got momentum={momentum}, "
                             f"dampening={dampening}")

    def update(self, param, group, state):
        momentum = group["momentum"]
        buf = state.get("momentum_buffer")
        first = buf is None
        if momentum != 0 and first:
            buf = state["momentum_buffer"] = zeros_like(param)
        optim_kernels(param).sgd_step(param.array, contiguous_grad(param), buf if momentum != 0 else None,
                                      group["lr"], momentum, group["dampening"], group["weight_decay"],
                                      group["nesterov"], first)
