"""2-D convolution (torch.nn.functional.conv2d), differentiable in input, weight and bias."""
import numpy as np

from ..autograd import Function
from ..backends import kernels_of, namespace_of
from ..backends.window_shapes import conv_output_size
from ..tensor import Tensor
from ._util import check_kernel_dtype, pair
from .pool import max_pool2d


class Conv2d(Function):
    @staticmethod
    def forward(ctx, x, w, b, *, stride, padding, dilation, groups, relu):
        if x.size == 0 or w.size == 0:
            out = _bias_only(x, w, b, stride, padding, dilation, relu)
        else:
            out = kernels_of(x, "conv").conv2d_forward(x, w, b, stride, padding, dilation, groups, relu)
        ctx.save_for_backward(x, w, out if relu else None)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w, out = ctx.saved_tensors
        p = ctx.params
        if x.size == 0 or w.size == 0:
            return _bias_only_backward(grad, x, w, out, ctx.needs_input_grad)
        return kernels_of(grad, "conv").conv2d_backward(grad, x, w, out, p.stride, p.padding, p.dilation, p.groups,
                                                        p.relu, ctx.needs_input_grad)


class Conv2dReluMaxPool2d(Function):
    """max_pool2d(relu(conv2d(x, w, b)), 2) with the pooled output's uint8 argmax codes saved for the backward."""

    @staticmethod
    def forward(ctx, x, w, b, *, stride, padding, dilation, groups):
        pooled, codes = kernels_of(x, "conv").conv2d_relu_max_pool2d_forward(x, w, b, stride, padding, dilation,
                                                                              groups)
        ctx.save_for_backward(x, w, pooled, codes)
        return pooled

    @staticmethod
    def backward(ctx, grad):
        x, w, pooled, codes = ctx.saved_tensors
        p = ctx.params
        return kernels_of(grad, "conv").conv2d_relu_max_pool2d_backward(
            grad, x, w, pooled, codes, p.stride, p.padding, p.dilation, p.groups, ctx.needs_input_grad)


def _bias_only(x, w, b, stride, padding, dilation, relu):
    """conv2d with nothing to sum (no images, input or output channels): the bias everywhere (then ReLU)."""
    xp = namespace_of(x)
    oh = conv_output_size(x.shape[2], w.shape[2], stride[0], padding[0], padding[1], dilation[0])
    ow = conv_output_size(x.shape[3], w.shape[3], stride[1], padding[2], padding[3], dilation[1])
    out = xp.zeros((x.shape[0], w.shape[0], oh, ow), x.dtype)
    if b is not None:
        out = xp.add(out, xp.reshape(b, (1, -1, 1, 1)))
    return xp.relu(out) if relu else out


def _bias_only_backward(grad, x, w, out, needs):
    """Zero gradients of the (empty) input and weight; the bias's is the sum of the gradient (where out > 0)."""
    xp = namespace_of(grad)
    if out is not None:
        grad = xp.where(xp.less_equal(out, 0), xp.zeros((), grad.dtype), grad)
    return (xp.zeros(x.shape, x.dtype) if needs[0] else None, xp.zeros(w.shape, w.dtype) if needs[1] else None,
            xp.sum(grad, axis=(0, 2, 3)) if needs[2] else None)


def _padding(name, padding, kernel, stride, dilation):
    """(top, bottom, left, right) for an int, a pair, "valid" or "same" (extra on bottom/right, as PyTorch)."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding != "same":
            raise ValueError(f"{name}: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
        if stride != (1, 1):
            raise ValueError(f"{name}: padding='same' needs stride 1, got stride={stride}")
        total = [d * (k - 1) for d, k in zip(dilation, kernel)]
        return (total[0] // 2, total[0] - total[0] // 2, total[1] // 2, total[1] - total[1] // 2)
    ph, pw = pair(name, "padding", padding, 0)
    return (ph, ph, pw, pw)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, relu=False):
    """2-D cross-correlation over an NCHW batch or one CHW image (torch.nn.functional.conv2d).

    ``relu=True`` fuses a ReLU into the same kernel (numbaconv extension, used by nn layers).
    """
    x, unbatched, params = _checked("conv2d", input, weight, bias, stride, padding, dilation, groups)
    out = Conv2d.apply(x, weight, bias, **params, relu=bool(relu))
    return out.squeeze(0) if unbatched else out


def conv2d_relu_max_pool2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """``max_pool2d(relu(conv2d(input, weight, bias, ...)), 2)`` (torch.nn.functional's three calls) as one op;
    on the CPU one kernel, which never writes the conv's output whole (numbaconv extension, used by
    nn.Sequential). Same values and gradients as the three calls; without images or channels it is those three
    calls."""
    x, unbatched, params = _checked("conv2d_relu_max_pool2d", input, weight, bias, stride, padding, dilation,
                                    groups)
    (h, w), (kh, kw) = x.array.shape[2:], weight.array.shape[2:]
    pad, stride, dilation = params["padding"], params["stride"], params["dilation"]
    oh = conv_output_size(h, kh, stride[0], pad[0], pad[1], dilation[0])
    ow = conv_output_size(w, kw, stride[1], pad[2], pad[3], dilation[1])
    if min(oh, ow) < 2:
        raise ValueError(f"conv2d_relu_max_pool2d: the conv's output is {oh}x{ow} (input {(h, w)}, weight "
                         f"{tuple(weight.shape)}, padding {padding!r}), smaller than the 2x2 pooling window")
    if x.array.size and weight.array.size:
        out = Conv2dReluMaxPool2d.apply(x, weight, bias, **params)
    else:
        out = max_pool2d(Conv2d.apply(x, weight, bias, **params, relu=True), 2)
    return out.squeeze(0) if unbatched else out


def _checked(name, input, weight, bias, stride, padding, dilation, groups):
    """(the input as a batch, whether it was one image, the keyword parameters of Conv2d.apply), or a one-line
    error naming the argument at fault."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{name}: input and weight must be Tensors, got {type(input).__name__} and "
                        f"{type(weight).__name__}")
    shape, w_shape = input.array.shape, weight.array.shape
    if len(shape) not in (3, 4):
        raise ValueError(f"{name}: expected 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {input.shape}")
    if len(w_shape) != 4:
        raise ValueError(f"{name}: expected 4-D weight (out_channels, in_channels/groups, kH, kW), "
                         f"got shape {weight.shape}")
    dtype = input.array.dtype
    if dtype != weight.array.dtype or (bias is not None and bias.array.dtype != dtype):
        raise TypeError(f"{name}: input, weight and bias must share a dtype, got {input.dtype} and {weight.dtype}"
                        + ("" if bias is None else f" and {bias.dtype}"))
    check_kernel_dtype(name, dtype, floating=True)
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{name}: groups must be a positive int, got {groups!r}")
    unbatched = len(shape) == 3
    x = input.unsqueeze(0) if unbatched else input
    c, h, w = shape[-3:]
    cout, cin_g, kh, kw = w_shape
    if c % groups or cout % groups:
        raise ValueError(f"{name}: groups={groups} must divide in_channels={c} and out_channels={cout}")
    if cin_g * groups != c:
        raise ValueError(
            f"{name}: input has {c} channels (shape {input.shape}) but weight expects {cin_g * groups} "
            f"(weight.shape[1]={cin_g} x groups={groups}, weight shape {weight.shape})"
        )
    if bias is not None and bias.array.shape != (cout,):
        raise ValueError(f"{name}: bias must have shape ({cout},) to match weight {weight.shape}, got {bias.shape}")
    stride = pair(name, "stride", stride, 1)
    dilation = pair(name, "dilation", dilation, 1)
    pad = _padding(name, padding, (kh, kw), stride, dilation)
    span = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
    padded = (h + pad[0] + pad[1], w + pad[2] + pad[3])
    if span[0] > padded[0] or span[1] > padded[1]:
        raise ValueError(
            f"{name}: kernel size {span[0]}x{span[1]} (with dilation {dilation}) is larger than the padded input "
            f"{padded[0]}x{padded[1]} (input {h}x{w}, padding {padding!r})"
        )
    return x, unbatched, {"stride": stride, "padding": pad, "dilation": dilation, "groups": int(groups)}
