"""GroupNorm, LayerNorm and InstanceNorm2d (torch.nn): the functional ops with their affine
parameters (ones and zeros at init, as PyTorch)."""
import numpy as np

from ..creation import empty
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


class GroupNorm(Module):
    """Normalise ``num_groups`` groups of channels per sample, then a per-channel scale and shift
    (torch.nn.GroupNorm)."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, dtype=np.float32, *, bias=True):
        super().__init__()
        if isinstance(num_groups, bool) or not isinstance(num_groups, int) or num_groups < 1:
            raise ValueError(f"GroupNorm: num_groups must be a positive int, got {num_groups!r}")
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels={num_channels} must be divisible by num_groups={num_groups}")
        self.num_groups, self.num_channels = int(num_groups), int(num_channels)
        self.eps, self.affine = float(eps), affine
        self.weight = Parameter(empty(num_channels, dtype=dtype)) if affine else None
        self.bias = Parameter(empty(num_channels, dtype=dtype)) if affine and bias else None
        self.reset_parameters()

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input):
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: expected an (N, {self.num_channels}, *) input, got shape {input.shape}")
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class LayerNorm(Module):
    """Normalise over the trailing ``normalized_shape`` dims, then an elementwise scale and shift
    (torch.nn.LayerNorm)."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, dtype=np.float32):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        if not shape or not all(isinstance(n, int) and n > 0 for n in shape):
            raise ValueError(f"LayerNorm: normalized_shape must be positive ints, got {normalized_shape!r}")
        self.normalized_shape, self.eps, self.elementwise_affine = shape, float(eps), elementwise_affine
        self.weight = Parameter(empty(*shape, dtype=dtype)) if elementwise_affine else None
        self.bias = Parameter(empty(*shape, dtype=dtype)) if elementwise_affine and bias else None
        self.reset_parameters()

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class InstanceNorm2d(Module):
    """Per-sample, per-channel normalisation of (N, C, H, W) or (C, H, W) inputs (torch.nn.InstanceNorm2d; affine off
    by default, as torch's). Running statistics (track_running_stats=True) are not supported."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False,
                 dtype=np.float32):
        super().__init__()
        if track_running_stats:
            raise NotImplementedError("InstanceNorm2d: track_running_stats=True is not supported; numbaconv "
                                      "normalises on each input's own statistics")
        self.num_features, self.eps, self.momentum, self.affine = int(num_features), float(eps), momentum, affine
        self.track_running_stats = False
        self.weight = Parameter(empty(num_features, dtype=dtype)) if affine else None
        self.bias = Parameter(empty(num_features, dtype=dtype)) if affine else None
        if affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, input):
        if input.ndim not in (3, 4) or input.shape[-3] != self.num_features:
            raise ValueError(f"InstanceNorm2d: expected an (N, {self.num_features}, H, W) or ({self.num_features}, "
                             f"H, W) input, got shape {input.shape}")
        if input.ndim == 3:
            return F.instance_norm(input.unsqueeze(0), weight=self.weight, bias=self.bias, eps=self.eps).squeeze(0)
        return F.instance_norm(input, weight=self.weight, bias=self.bias, eps=self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")
