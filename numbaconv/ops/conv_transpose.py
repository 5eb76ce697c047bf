"""Transposed 2-D convolution (torch.nn.functional.conv_transpose2d), differentiable in input, weight and bias.

It is conv2d's input gradient: forward runs the conv kernels' backward-input path (conv2d_backward_input) with
the transposed conv's weight as the conv weight; its input gradient is conv2d forward of the output gradient, and
its weight gradient conv2d's weight gradient with the roles of input and output gradient swapped.
"""
import numpy as np

from ..autograd import Function
from ..backends import kernels_of, namespace_of
from ..backends.window_shapes import conv_output_size
from ..tensor import Tensor
from ._util import check_kernel_dtype, pair


class ConvTranspose2d(Function):
    @staticmethod
    def forward(ctx, y, w, b, *, out_shape, stride, padding, dilation, groups):
        xp = namespace_of(y)
        n, c, oh, ow = out_shape
        rows = conv_output_size(oh, w.shape[2], stride[0], padding[0], padding[1], dilation[0])
        cols = conv_output_size(ow, w.shape[3], stride[1], padding[2], padding[3], dilation[1])
        ctx.crop = tuple(y.shape[2:])
        if (rows, cols) != ctx.crop:  # an output_padding >= stride adds taps no input reaches: zero inputs
            y = xp.pad(y, ((0, 0), (0, 0), (0, rows - y.shape[2]), (0, cols - y.shape[3])))
        if y.size == 0 or w.size == 0:
            out = xp.zeros(out_shape, y.dtype)
        else:
            out = kernels_of(y, "conv").conv2d_backward_input(y, out_shape, w, stride, padding, dilation, groups)
        if b is not None:
            out = xp.add(out, xp.reshape(b, (1, c, 1, 1)))
        ctx.save_for_backward(y, w)
        return out

    @staticmethod
    def backward(ctx, grad):
        y, w = ctx.saved_tensors
        p = ctx.params
        xp = namespace_of(grad)
        need_y, need_w, need_b = ctx.needs_input_grad
        gy = gw = gb = None
        empty = y.size == 0 or w.size == 0 or grad.size == 0
        if need_y:
            if empty:
                gy = xp.zeros(y.shape, y.dtype)
            else:
                gy = kernels_of(grad, "conv").conv2d_forward(grad, w, None, p.stride, p.padding, p.dilation, p.groups)
            if tuple(gy.shape[2:]) != ctx.crop:
                gy = xp.ascontiguousarray(xp.getitem(gy, (slice(None), slice(None), slice(0, ctx.crop[0]),
                                                           slice(0, ctx.crop[1]))))
        if need_w:
            if empty:
                gw = xp.zeros(w.shape, w.dtype)
            else:
                gw = kernels_of(grad, "conv").conv2d_backward(y, grad, w, None, p.stride, p.padding, p.dilation,
                                                              p.groups, False, (False, True, False))[1]
        if need_b:
            gb = xp.sum(grad, axis=(0, 2, 3))
        return gy, gw, gb


def _output_padding(output_padding, output_size, sizes, stride, dilation):
    """The output padding pair: from ``output_size`` (the requested (H, W), possibly with leading N, C) when
    given, else ``output_padding``; each must be smaller than the stride or the dilation, as PyTorch requires."""
    if output_size is not None:
        wanted = tuple(int(v) for v in output_size)[-2:]
        if len(wanted) != 2:
            raise ValueError(f"conv_transpose2d: output_size must give (H, W), got {output_size!r}")
        extra = tuple(want - size for want, size in zip(wanted, sizes))
        if any(e < 0 or e >= max(s, d) for e, s, d in zip(extra, stride, dilation)):
            low = sizes
            high = tuple(size + max(s, d) - 1 for size, s, d in zip(sizes, stride, dilation))
            raise ValueError(f"conv_transpose2d: output_size {wanted} is not reachable; each side must lie between "
                             f"{low} and {high}")
        return extra
    extra = pair("conv_transpose2d", "output_padding", output_padding, 0)
    if any(e >= s and e >= d for e, s, d in zip(extra, stride, dilation)):
        raise ValueError(f"conv_transpose2d: output_padding {extra} must be smaller than either stride {stride} or "
                         f"dilation {dilation}")
    return extra


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1,
                     output_size=None):
    """Transposed 2-D convolution ("deconvolution") of an NCHW batch or one CHW image
    (torch.nn.functional.conv_transpose2d). ``weight`` is (in_channels, out_channels/groups, kH, kW); the output
    side is (H - 1)·stride - 2·padding + dilation·(k - 1) + output_padding + 1. ``output_size`` (numbaconv takes
    it here too; torch only on nn.ConvTranspose2d) picks the output padding that gives that size."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"conv_transpose2d: input and weight must be Tensors, got {type(input).__name__} and "
                        f"{type(weight).__name__}")
    if input.ndim not in (3, 4):
        raise ValueError(f"conv_transpose2d: expected 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape "
                         f"{input.shape}")
    if weight.ndim != 4:
        raise ValueError(f"conv_transpose2d: expected 4-D weight (in_channels, out_channels/groups, kH, kW), "
                         f"got shape {weight.shape}")
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != input.dtype):
        raise TypeError(f"conv_transpose2d: input, weight and bias must share a dtype, got {input.dtype} and "
                        f"{weight.dtype}" + ("" if bias is None else f" and {bias.dtype}"))
    check_kernel_dtype("conv_transpose2d", input.dtype, floating=True)
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"conv_transpose2d: groups must be a positive int, got {groups!r}")
    unbatched = input.ndim == 3
    y = input.unsqueeze(0) if unbatched else input
    n, c, h, w = y.shape
    cin, cout_g, kh, kw = weight.shape
    if cin != c:
        raise ValueError(f"conv_transpose2d: input has {c} channels (shape {input.shape}) but weight expects {cin} "
                         f"(weight shape {weight.shape}: in_channels first)")
    if cin % groups:
        raise ValueError(f"conv_transpose2d: groups={groups} must divide in_channels={cin}")
    cout = cout_g * groups
    if bias is not None and bias.shape != (cout,):
        raise ValueError(f"conv_transpose2d: bias must have shape ({cout},) to match weight {weight.shape} and "
                         f"groups={groups}, got {bias.shape}")
    stride = pair("conv_transpose2d", "stride", stride, 1)
    dilation = pair("conv_transpose2d", "dilation", dilation, 1)
    pad = pair("conv_transpose2d", "padding", padding, 0)
    sizes = tuple((size - 1) * s - 2 * p + d * (k - 1) + 1
                  for size, s, p, d, k in zip((h, w), stride, pad, dilation, (kh, kw)))
    extra = _output_padding(output_padding, output_size, sizes, stride, dilation)
    oh, ow = sizes[0] + extra[0], sizes[1] + extra[1]
    if oh < 1 or ow < 1:
        raise ValueError(f"conv_transpose2d: the output would be {oh}x{ow} for input {h}x{w}, kernel {kh}x{kw}, "
                         f"stride {stride}, padding {pad}, dilation {dilation}; padding is too large")
    out = ConvTranspose2d.apply(y, weight, bias, out_shape=(n, cout, oh, ow), stride=stride,
                                padding=(pad[0], pad[0], pad[1], pad[1]), dilation=dilation, groups=int(groups))
    return out.squeeze(0) if unbatched else out
