"""Adagrad (torch.optim.Adagrad), one fused kernel pass per parameter."""
from ..backends import namespace
from .optimizer import Optimizer, maximizing_grad, non_negative, optim_kernels


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
        for name in ("lr_decay", "initial_accumulator_value", "eps"):
            if not non_negative(group[name]):
                raise ValueError(f"invalid {name}={group[name]!r}: expected a finite number >= 0")

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()``'s loss when given."""
        loss = self._closure(closure)
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                state = self.state.setdefault(param, {})
                if not state:
                    state["step"] = 0
                    state["sum"] = namespace(param.device).full(param.shape, group["initial_accumulator_value"],
                                                                param.dtype)
                state["step"] += 1
                optim_kernels(param).adagrad_step(param.array, maximizing_grad(param, group), state["sum"],
                                                  state["step"], group["lr"], group["lr_decay"], group["weight_decay"],
                                                  group["eps"])
                param._version[0] += 1
        return loss
