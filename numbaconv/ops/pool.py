"""2-D max, average and adaptive-average pooling (torch.nn.functional.max_pool2d, avg_pool2d, ...)."""
import numpy as np

from ..autograd import Function
from ..backends import kernels_of, namespace_of
from ..backends.pool_shapes import pool_output_size
from ..tensor import Tensor


class MaxPool2d(Function):
    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation, ceil_mode):
        out, indices = kernels_of(x, "pool").max_pool2d_forward(x, kernel, stride, padding, dilation, ceil_mode)
        ctx.save_for_backward(indices)
        ctx.shape = x.shape
        ctx.disjoint_2x2 = (kernel == stride == (2, 2) and padding == (0, 0) and dilation == (1, 1)
                            and 2 * out.shape[2] <= x.shape[2] and 2 * out.shape[3] <= x.shape[3])
        return out

    @staticmethod
    def backward(ctx, grad):
        (indices,) = ctx.saved_tensors
        pool = kernels_of(grad, "pool")
        return (pool.max_pool2d_backward(grad, indices, ctx.shape, ctx.disjoint_2x2),) + (None,) * 5


class AvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
        ctx.args = (x.shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
        return kernels_of(x, "pool").avg_pool2d_forward(x, kernel, stride, padding, ceil_mode, count_include_pad,
                                              divisor_override)

    @staticmethod
    def backward(ctx, grad):
        return (kernels_of(grad, "pool").avg_pool2d_backward(grad, *ctx.args),) + (None,) * 6


class AdaptiveAvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, output_size):
        ctx.shape = x.shape
        return kernels_of(x, "pool").adaptive_avg_pool2d_forward(x, output_size)

    @staticmethod
    def backward(ctx, grad):
        return kernels_of(grad, "pool").adaptive_avg_pool2d_backward(grad, ctx.shape), None


def _pair(op, name, value, minimum):
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in pair):
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def _batched(op, input):
    if input.ndim == 3:
        return input.unsqueeze(0), True
    if input.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D (N, C, H, W) or 3-D (C, H, W) input, got shape {input.shape}")
    return input, False


def _window_args(op, input, kernel_size, stride, padding, dilation, ceil_mode):
    kernel = _pair(op, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None or stride == () or stride == [] else _pair(op, "stride", stride, 1)
    padding = _pair(op, "padding", padding, 0)
    dilation = _pair(op, "dilation", dilation, 1)
    for k, p, axis in zip(kernel, padding, "hw"):
        if p > k // 2:
            raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel} ({axis})")
    h, w = input.shape[-2:]
    out = tuple(pool_output_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in zip((h, w), kernel, stride, padding, dilation))
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
    out = MaxPool2d.apply(x, kernel, stride, padding, dilation, bool(ceil_mode))
    if unbatched:
        out = out.squeeze(0)
    if not return_indices:
        return out
    indices = out.grad_fn.saved_tensors[0] if out.grad_fn is not None else None
    if indices is None:
        indices = kernels_of(x.data, "pool").max_pool2d_forward(x.data, kernel, stride, padding, dilation, bool(ceil_mode))[1]
    indices = Tensor(namespace_of(indices).astype(indices, np.int64))
    return out, indices.squeeze(0) if unbatched else indices


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-D average pooling over (N, C, H, W) or (C, H, W) (torch.nn.functional.avg_pool2d)."""
    x, unbatched = _batched("avg_pool2d", input)
    kernel, stride, padding, _ = _window_args("avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and divisor_override <= 0:
        raise ValueError(f"avg_pool2d: divisor_override must be positive, got {divisor_override}")
    out = AvgPool2d.apply(x, kernel, stride, padding, bool(ceil_mode), bool(count_include_pad), divisor_override)
    return out.squeeze(0) if unbatched else out


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed (oh, ow) whatever the input size (torch.nn.functional.adaptive_avg_pool2d)."""
    x, unbatched = _batched("adaptive_avg_pool2d", input)
    if isinstance(output_size, (int, np.integer)):
        output_size = (output_size, output_size)
    output_size = tuple(x.shape[2 + i] if s is None else s for i, s in enumerate(output_size))
    size = _pair("adaptive_avg_pool2d", "output_size", output_size, 1)
    out = AdaptiveAvgPool2d.apply(x, size)
    return out.squeeze(0) if unbatched else out
