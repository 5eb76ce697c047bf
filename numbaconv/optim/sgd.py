"""Stochastic gradient descent with momentum, dampening, weight decay and Nesterov (torch.optim.SGD)."""
from ..backends import namespace
from .optimizer import Optimizer, contiguous_grad, non_negative, optim_kernels


class SGD(Optimizer):
    """PyTorch's rule: d = g + wd·p; buf = d (first step) else momentum·buf + (1 - dampening)·d;
    d = d + momentum·buf (Nesterov) or buf; p -= lr·d. One fused kernel pass per parameter."""

    optional_state = ("momentum_buffer",)

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov))

    def check_group(self, group):
        super().check_group(group)
        momentum, dampening = group["momentum"], group["dampening"]
        if not non_negative(momentum):
            raise ValueError(f"invalid momentum={momentum!r}: expected a finite number >= 0")
        if group["nesterov"] and (momentum <= 0 or dampening != 0):
            raise ValueError(f"nesterov needs momentum > 0 and dampening 0, got momentum={momentum}, "
                             f"dampening={dampening}")

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()``'s loss when given."""
        loss = self._closure(closure)
        for group in self.param_groups:
            momentum = group["momentum"]
            for param in group["params"]:
                if param.grad is None:
                    continue
                state = self.state.setdefault(param, {})
                buf = state.get("momentum_buffer")
                first = buf is None
                if momentum != 0 and first:
                    buf = namespace(param.device).zeros(param.shape, param.dtype)
                    state["momentum_buffer"] = buf
                optim_kernels(param).sgd_step(param.array, contiguous_grad(param), buf if momentum != 0 else None,
                                              group["lr"], momentum, group["dampening"], group["weight_decay"],
                                              group["nesterov"], first)
                param._version[0] += 1
        return loss

