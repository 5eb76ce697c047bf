"""Weight averaging (torch.optim.swa_utils): airbench's Lookahead, an exponential average the weights are reset to."""
import numpy as np

from .. import backends
from ..grad_mode import no_grad


def lookahead_decay(step, total_steps):
    """airbench's averaging decay at ``step`` of ``total_steps``: 0.95**5 * (step / total_steps)**3 (the average
    barely moves early, where the weights change fast, and holds more and more of its past later)."""
    return 0.95 ** 5 * (step / total_steps) ** 3


class Lookahead:
    """Slow copies of ``model``'s floating parameters and buffers (BN running statistics included) that the
    weights are pulled back to: ``update(decay)`` sets slow = decay * slow + (1 - decay) * weights, then weights =
    slow. airbench calls it every 5 steps with ``lookahead_decay`` and once more at the end with decay 1, so the
    final weights are the average. Like torch.optim.swa_utils.AveragedModel with an EMA, but written back.
    """

    def __init__(self, model):
        state = list(model.parameters()) + [b for b in model.buffers() if b is not None]
        self.weights = [t for t in state if t.dtype.kind == "f"]
        self.slow = [t.detach().clone() for t in self.weights]

    def update(self, decay):
        if not 0.0 <= decay <= 1.0 or not np.isfinite(decay):
            raise ValueError(f"Lookahead.update: decay must be in [0, 1], got {decay}")
        with no_grad():
            for weight, slow in zip(self.weights, self.slow):
                slow.mul_(decay).add_(weight, alpha=1.0 - decay)
                weight.copy_(slow)

    def state_dict(self):
        return {"slow": [backends.host_copy(s.array) for s in self.slow]}

    def load_state_dict(self, state):
        slow = state["slow"]
        if len(slow) != len(self.slow):
            raise ValueError(f"Lookahead.load_state_dict: {len(slow)} tensors for a model with {len(self.slow)}")
        with no_grad():
            for mine, saved in zip(self.slow, slow):
                mine.copy_(saved)
