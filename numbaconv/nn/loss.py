"""Loss modules (torch.nn.CrossEntropyLoss, torch.nn.MSELoss): the functional losses with stored options."""
from . import functional as F
from .module import Module


class CrossEntropyLoss(Module):
    """Softmax cross-entropy with class-index targets (torch.nn.CrossEntropyLoss; no class weights or
    ignore_index, so the options are keyword-only where torch's first positional argument is ``weight``)."""

    def __init__(self, *, reduction="mean", label_smoothing=0.0):
        super().__init__()
        self.reduction, self.label_smoothing = reduction, float(label_smoothing)

    def forward(self, input, target):
        return F.cross_entropy(input, target, label_smoothing=self.label_smoothing, reduction=self.reduction)

    def extra_repr(self):
        return f"reduction={self.reduction!r}, label_smoothing={self.label_smoothing}"


class MSELoss(Module):
    """Mean squared error (torch.nn.MSELoss)."""

    def __init__(self, *, reduction="mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)

    def extra_repr(self):
        return f"reduction={self.reduction!r}"
