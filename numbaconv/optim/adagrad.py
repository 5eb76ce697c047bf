"""Adagrad (torch.optim.Adagrad), one fused kernel pass per parameter."""
from ..backends import namespace
from .optimizer import Optimizer, check_non_negative, maximizing_grad, optim_kernels


class Adagrad(Optimizer):
    """PyTorch's rule: g += wd·p; sum += g²; p -= lr/(1 + (t-1)·lr_decay) · g / (√sum + eps); ``maximize``
    negates g."""

    required_state = ("step", "sum")

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                 maximize=False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize))

    def check_group(self, group):
        super().check_group(group)
        check_non_negative(group, "lr_decay", "initial_accumulator_value", "eps")

    def init_state(self, param, group):
        return {"step": 0, "sum": namespace(param.device).full(param.shape, group["initial_accumulator_value"],
                                                               param.dtype)}

    def update(self, param, group, state):
        state["step"] += 1
        optim_kernels(param).adagrad_step(param.array, maximizing_grad(param, group), state["sum"], state["step"],
                                          group["lr"], group["lr_decay"], group["weight_decay"], group["eps"])
