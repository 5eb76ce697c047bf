"""Resampling (torch.nn.functional.interpolate): nearest, nearest-exact, linear and bilinear, with the kernels of
backends/<device>/interpolate.py and PyTorch's index rules (backends/interpolate_rules.py)."""
import math
import numbers

from ..autograd import Function
from ..backends import kernels_of
from ..tensor import Tensor
from ._util import check_kernel_dtype

_MODES = {3: ("nearest", "nearest-exact", "linear"), 4: ("nearest", "nearest-exact", "bilinear")}
_LINEAR = ("linear", "bilinear")


class Upsample(Function):
    @staticmethod
    def forward(ctx, x, *, size, scales, mode, align_corners):
        ctx.shape = tuple(x.shape)
        return kernels_of(x, "interpolate").upsample_forward(x, size, scales, mode, align_corners)

    @staticmethod
    def backward(ctx, grad):
        p = ctx.params
        return kernels_of(grad, "interpolate").upsample_backward(grad, ctx.shape, p.scales, p.mode, p.align_corners)


def _per_axis(name, value, axes):
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * axes
    if len(values) != axes:
        raise ValueError(f"interpolate: {name} must be one value or {axes} (one per spatial dim), got {value!r}")
    return values


def _output_size(input, size, scale_factor, axes):
    """(output sizes, scale factors or Nones) from exactly one of ``size`` and ``scale_factor``."""
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor, got "
                         + ("both" if size is not None else "neither"))
    spatial = input.shape[2:]
    if size is not None:
        sizes = _per_axis("size", size, axes)
        if not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0 for s in sizes):
            raise ValueError(f"interpolate: size must be positive ints, got {size!r}")
        return tuple(int(s) for s in sizes), (None,) * axes
    factors = _per_axis("scale_factor", scale_factor, axes)
    if not all(isinstance(f, numbers.Real) and not isinstance(f, bool) and math.isfinite(f) and f > 0
               for f in factors):
        raise ValueError(f"interpolate: scale_factor must be positive finite numbers, got {scale_factor!r}")
    sizes = tuple(math.floor(float(n) * float(f)) for n, f in zip(spatial, factors))
    if min(sizes, default=1) < 1:
        raise ValueError(f"interpolate: scale_factor {scale_factor!r} gives an empty output {sizes} for input "
                         f"{input.shape}")
    return sizes, tuple(float(f) for f in factors)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    """Resample an (N, C, L) or (N, C, H, W) input to ``size`` or by ``scale_factor`` (torch.nn.functional.interpolate).

    Modes 'nearest', 'nearest-exact', and 'linear' (3-D) / 'bilinear' (4-D) with ``align_corners`` False (the
    default: pixel centres) or True (corner pixels aligned); with ``recompute_scale_factor`` the index arithmetic
    uses in/out instead of the given factor, as torch's. Differentiable in the input.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in _MODES:
        raise NotImplementedError(f"interpolate: numbaconv resamples 3-D (N, C, L) and 4-D (N, C, H, W) inputs, "
                                  f"got shape {input.shape}")
    modes = _MODES[input.ndim]
    if mode not in modes:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported for a {input.ndim}-D input; "
                                  f"numbaconv has {', '.join(modes)}")
    if align_corners is not None and mode not in _LINEAR:
        raise ValueError("interpolate: align_corners can only be set with the interpolating modes linear and "
                         f"bilinear, got mode {mode!r}")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    check_kernel_dtype("interpolate", input.dtype, floating=True)
    axes = input.ndim - 2
    sizes, scales = _output_size(input, size, scale_factor, axes)
    if recompute_scale_factor:
        scales = (None,) * axes
    x = input.unsqueeze(2) if axes == 1 else input
    if axes == 1:
        sizes, scales = (1,) + sizes, (None,) + scales
    out = Upsample.apply(x, size=sizes, scales=scales, mode="bilinear" if mode in _LINEAR else mode,
                         align_corners=bool(align_corners))
    return out.squeeze(2) if axes == 1 else out


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """interpolate under its deprecated name (torch.nn.functional.upsample)."""
    return interpolate(input, size, scale_factor, mode, align_corners)
