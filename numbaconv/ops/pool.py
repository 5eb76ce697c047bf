"""2-D max, average and adaptive-average pooling (torch.nn.functional.max_pool2d, avg_pool2d, ...)."""
import numpy as np

from ..autograd import Function
from ..backends import kernels_of, namespace_of
from ..backends.window_shapes import pool_output_size
from ..tensor import Tensor
from ._util import check_kernel_dtype, pair


class MaxPool2d(Function):
    """Returns (output, indices): the indices come back as a Tensor without grad (``return_indices``)."""

    @staticmethod
    def forward(ctx, x, *, kernel, stride, padding, dilation, ceil_mode):
        out, indices = kernels_of(x, "pool").max_pool2d_forward(x, kernel, stride, padding, dilation, ceil_mode)
        ctx.save_for_backward(indices)
        ctx.shape = x.shape
        ctx.disjoint_2x2 = (kernel == stride == (2, 2) and padding == (0, 0) and dilation == (1, 1)
                            and 2 * out.shape[2] <= x.shape[2] and 2 * out.shape[3] <= x.shape[3])
        return out, indices

    @staticmethod
    def backward(ctx, grad):
        (indices,) = ctx.saved_tensors
        return kernels_of(grad, "pool").max_pool2d_backward(grad, indices, ctx.shape, ctx.disjoint_2x2)


class AvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, *, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
        ctx.shape = x.shape
        return kernels_of(x, "pool").avg_pool2d_forward(x, kernel, stride, padding, ceil_mode, count_include_pad,
                                                        divisor_override)

    @staticmethod
    def backward(ctx, grad):
        p = ctx.params
        return kernels_of(grad, "pool").avg_pool2d_backward(grad, ctx.shape, p.kernel, p.stride, p.padding,
                                                            p.ceil_mode, p.count_include_pad, p.divisor_override)


class AdaptiveAvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, *, output_size):
        ctx.shape = x.shape
        return kernels_of(x, "pool").adaptive_avg_pool2d_forward(x, output_size)

    @staticmethod
    def backward(ctx, grad):
        return kernels_of(grad, "pool").adaptive_avg_pool2d_backward(grad, ctx.shape)


def _batched(op, input):
    check_kernel_dtype(op, input.dtype)
    if input.ndim == 3:
        return input.unsqueeze(0), True
    if input.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D (N, C, H, W) or 3-D (C, H, W) input, got shape {input.shape}")
    return input, False


def _window_args(op, input, kernel_size, stride, padding, dilation, ceil_mode):
    kernel = pair(op, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None or stride == () or stride == [] else pair(op, "stride", stride, 1)
    padding = pair(op, "padding", padding, 0)
    dilation = pair(op, "dilation", dilation, 1)
    for k, p, axis in zip(kernel, padding, "hw"):
        if p > k // 2:
            raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel} ({axis})")
    h, w = input.shape[-2:]
    out = tuple(pool_output_size(n, k, s, p, d, ceil_mode)
                for n, k, s, p, d in zip((h, w), kernel, stride, padding, dilation))
    if min(out) <= 0:
        raise ValueError(
            f"{op}: input of spatial size {(h, w)} is too small for kernel {kernel} with padding {padding} and "
            f"dilation {dilation}: output size would be {out}"
        )
    return kernel, stride, padding, dilation


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling over (N, C, H, W) or (C, H, W) (torch.nn.functional.max_pool2d).

    With ``return_indices`` also returns int64 flat indices (h * W + w) of each maximum in its plane.
    """
    x, unbatched = _batched("max_pool2d", input)
    kernel, stride, padding, dilation = _window_args("max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode)
    out, indices = MaxPool2d.apply(x, kernel=kernel, stride=stride, padding=padding, dilation=dilation,
                                   ceil_mode=bool(ceil_mode))
    if not return_indices:
        return out.squeeze(0) if unbatched else out
    indices = Tensor(namespace_of(indices.array).astype(indices.array, np.int64))
    return (out.squeeze(0), indices.squeeze(0)) if unbatched else (out, indices)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-D average pooling over (N, C, H, W) or (C, H, W) (torch.nn.functional.avg_pool2d)."""
    x, unbatched = _batched("avg_pool2d", input)
    kernel, stride, padding, _ = _window_args("avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and divisor_override <= 0:
        raise ValueError(f"avg_pool2d: divisor_override must be positive, got {divisor_override}")
    out = AvgPool2d.apply(x, kernel=kernel, stride=stride, padding=padding, ceil_mode=bool(ceil_mode),
                          count_include_pad=bool(count_include_pad), divisor_override=divisor_override)
    return out.squeeze(0) if unbatched else out


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed (oh, ow) whatever the input size (torch.nn.functional.adaptive_avg_pool2d)."""
    x, unbatched = _batched("adaptive_avg_pool2d", input)
    if isinstance(output_size, (int, np.integer)):
        output_size = (output_size, output_size)
    output_size = tuple(x.shape[2 + i] if s is None else s for i, s in enumerate(output_size))
    size = pair("adaptive_avg_pool2d", "output_size", output_size, 1)
    if min(x.shape[2:]) == 0:
        raise ValueError(f"adaptive_avg_pool2d: expected a non-empty spatial map, got input shape {input.shape} "
                         "(its averages would be 0/0)")
    out = AdaptiveAvgPool2d.apply(x, output_size=size)
    return out.squeeze(0) if unbatched else out
