"""Adadelta (torch.optim.Adadelta), one fused kernel pass per parameter."""
from ..backends import namespace
from .optimizer import Optimizer, maximizing_grad, non_negative, optim_kernels


class Adadelta(Optimizer):
    """PyTorch's rule: g += wd·p; v ← ρv + (1-ρ)g²; δ = √(u + eps)/√(v + eps)·g; u ← ρu + (1-ρ)δ²; p -= lr·δ."""

    required_state = ("step", "square_avg", "acc_delta")

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def check_group(self, group):
        super().check_group(group)
        if not (non_negative(group["rho"]) and group["rho"] <= 1.0):
            raise ValueError(f"invalid rho={group['rho']!r}: expected a number in [0, 1]")
        if not non_negative(group["eps"]):
            raise ValueError(f"invalid eps={group['eps']!r}: expected a finite number >= 0")

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()``'s loss when given."""
        loss = self._closure(closure)
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                state = self.state.setdefault(param, {})
                if not state:
                    xp = namespace(param.device)
                    state["step"] = 0
                    state["square_avg"] = xp.zeros(param.shape, param.dtype)
                    state["acc_delta"] = xp.zeros(param.shape, param.dtype)
                state["step"] += 1
                optim_kernels(param).adadelta_step(param.array, maximizing_grad(param, group), state["square_avg"],
                                                   state["acc_delta"], group["lr"], group["rho"], group["eps"],
                                                   group["weight_decay"])
                param._version[0] += 1
        return loss
