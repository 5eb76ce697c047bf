"""Adam and AdamW (torch.optim.Adam / torch.optim.AdamW), one fused kernel pass per parameter."""
from .optimizer import Optimizer, check_non_negative, contiguous_grad, non_negative, optim_kernels, zeros_like


class Adam(Optimizer):
    """PyTorch's rule: m ← β₁m + (1-β₁)g, v ← β₂v + (1-β₂)g², p -= lr/(1-β₁ᵗ) · m / (√v/√(1-β₂ᵗ) + eps).

    ``weight_decay`` adds wd·p to the gradient (L2); AdamW decays the weights directly instead.
    ``amsgrad`` uses the running maximum of v.
    """

    decoupled = False
    required_state = ("step", "exp_avg", "exp_avg_sq")
    optional_state = ("max_exp_avg_sq",)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad))

    def check_group(self, group):
        super().check_group(group)
        check_non_negative(group, "eps")
        betas = group["betas"]
        if len(betas) != 2 or not all(non_negative(b) and b < 1.0 for b in betas):
            raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}")

    def init_state(self, param, group):
        state = {"step": 0, "exp_avg": zeros_like(param), "exp_avg_sq": zeros_like(param)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = zeros_like(param)
        return state

    def update(self, param, group, state):
        beta1, beta2 = group["betas"]
        state["step"] += 1
        optim_kernels(param).adam_step(param.array, contiguous_grad(param), state["exp_avg"], state["exp_avg_sq"],
                                       state["step"], group["lr"], beta1, beta2, group["eps"], group["weight_decay"],
                                       self.decoupled, state.get("max_exp_avg_sq"))


class AdamW(Adam):
    """Adam with decoupled weight decay: p ← p·(1 - lr·wd) before the Adam step (torch.optim.AdamW)."""

    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
