"""Adadelta (torch.optim.Adadelta), one fused kernel pass per parameter."""
from .optimizer import Optimizer, check_non_negative, maximizing_grad, non_negative, optim_kernels, zeros_like


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
        check_non_negative(group, "eps")

    def init_state(self, param, group):
        return {"step": 0, "square_avg": zeros_like(param), "acc_delta": zeros_like(param)}

    def update(self, param, group, state):
        state["step"] += 1
        optim_kernels(param).adadelta_step(param.array, maximizing_grad(param, group), state["square_avg"],
                                           state["acc_delta"], group["lr"], group["rho"], group["eps"],
                                           group["weight_decay"])
