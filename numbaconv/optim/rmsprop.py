"""RMSprop (torch.optim.RMSprop) with momentum and the centered variant, one fused kernel pass per parameter."""
from ..backends import namespace
from .optimizer import Optimizer, maximizing_grad, non_negative, optim_kernels


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
        for name in ("alpha", "eps", "momentum"):
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
                    xp = namespace(param.device)
                    state["step"] = 0
                    state["square_avg"] = xp.zeros(param.shape, param.dtype)
                    if group["momentum"] > 0:
                        state["momentum_buffer"] = xp.zeros(param.shape, param.dtype)
                    if group["centered"]:
                        state["grad_avg"] = xp.zeros(param.shape, param.dtype)
                state["step"] += 1
                optim_kernels(param).rmsprop_step(param.array, maximizing_grad(param, group), state["square_avg"],
                                                  state.get("grad_avg") if group["centered"] else None,
                                                  state.get("momentum_buffer") if group["momentum"] > 0 else None,
                                                  group["lr"], group["alpha"], group["eps"], group["weight_decay"],
                                                  group["momentum"])
                param._version[0] += 1
        return loss
