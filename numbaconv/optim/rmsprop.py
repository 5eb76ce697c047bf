"""RMSprop (torch.optim.RMSprop) with momentum and the centered variant, one fused kernel pass per parameter."""
from .optimizer import Optimizer, check_non_negative, maximizing_grad, optim_kernels, zeros_like


class RMSprop(Optimizer):
    """PyTorch's rule: g += wd·p; v ← αv + (1-α)g²; centered: m ← m + (1-α)(g - m), d = √(v - m²) + eps, else
    d = √v + eps; with momentum b ← μb + g/d, p -= lr·b, else p -= lr·g/d."""

    required_state = ("step", "square_avg")
    optional_state = ("momentum_buffer", "grad_avg")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                 maximize=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize))

    def check_group(self, group):
        super().check_group(group)
        check_non_negative(group, "alpha", "eps", "momentum")

    def init_state(self, param, group):
        state = {"step": 0, "square_avg": zeros_like(param)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = zeros_like(param)
        if group["centered"]:
            state["grad_avg"] = zeros_like(param)
        return state

    def update(self, param, group, state):
        state["step"] += 1
        optim_kernels(param).rmsprop_step(param.array, maximizing_grad(param, group), state["square_avg"],
                                          state.get("grad_avg") if group["centered"] else None,
                                          state.get("momentum_buffer") if group["momentum"] > 0 else None,
                                          group["lr"], group["alpha"], group["eps"], group["weight_decay"],
                                          group["momentum"])
