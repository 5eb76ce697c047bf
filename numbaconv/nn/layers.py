"""Layers (torch.nn.Conv2d, Linear, pooling, ReLU/GELU, Flatten, Dropout/Dropout2d, Identity, Sequential,
ModuleList).

Each forward calls the functional op of the same name in numbaconv.nn.functional.
"""
import math

import numpy as np

from ..creation import empty
from ..ops._util import pair
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


def _add_bias(module, bias, features, dtype):
    """Register ``bias`` (a Parameter of ``features`` values, or None), then draw the initial values."""
    if bias:
        module.bias = Parameter(empty(features, dtype=dtype))
    else:
        module.register_parameter("bias", None)
    module.reset_parameters()


def _reset_weight_and_bias(module):
    """PyTorch's default init of Linear and Conv2d: kaiming-uniform(a=√5) weight, bias uniform in ±1/√fan_in."""
    init.kaiming_uniform_(module.weight, a=math.sqrt(5))
    if module.bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(module.weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(module.bias, -bound, bound)


def _set_conv_args(module, name, in_channels, out_channels, kernel_size, stride, dilation, groups, padding_mode):
    """Check and store the arguments torch.nn.Conv2d and ConvTranspose2d share (``name`` heads the errors)."""
    if padding_mode != "zeros":
        raise ValueError(f"{name}: only padding_mode='zeros' is supported, got {padding_mode!r}")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{name}: groups must be a positive int, got {groups!r}")
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"{name}: groups={groups} must divide in_channels={in_channels} and "
                         f"out_channels={out_channels}")
    module.in_channels, module.out_channels, module.groups = int(in_channels), int(out_channels), int(groups)
    module.kernel_size = pair(name, "kernel_size", kernel_size, 1)
    module.stride = pair(name, "stride", stride, 1)
    module.dilation = pair(name, "dilation", dilation, 1)


def _conv_repr(module, **paddings):
    """Conv2d / ConvTranspose2d's extra_repr: channels, kernel and stride, then the ``paddings`` and the dilation,
    groups and bias that are not the default, as torch's."""
    text = f"{module.in_channels}, {module.out_channels}, kernel_size={module.kernel_size}, stride={module.stride}"
    text += "".join(f", {key}={value}" for key, value in paddings.items() if value not in ((0, 0), "valid"))
    if module.dilation != (1, 1):
        text += f", dilation={module.dilation}"
    if module.groups != 1:
        text += f", groups={module.groups}"
    if module.bias is None:
        text += ", bias=False"
    return text


class Identity(Module):
    """Returns its input (torch.nn.Identity)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x Wᵀ + b (torch.nn.Linear); PyTorch's default init."""

    def __init__(self, in_features, out_features, bias=True, dtype=np.float32):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype))
        _add_bias(self, bias, out_features, dtype)

    def reset_parameters(self):
        _reset_weight_and_bias(self)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Conv2d(Module):
    """2-D convolution over NCHW (torch.nn.Conv2d); PyTorch's default init."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", dtype=np.float32):
        super().__init__()
        _set_conv_args(self, "Conv2d", in_channels, out_channels, kernel_size, stride, dilation, groups, padding_mode)
        self.padding = padding if isinstance(padding, str) else pair("Conv2d", "padding", padding, 0)
        self.weight = Parameter(empty(out_channels, in_channels // groups, *self.kernel_size, dtype=dtype))
        _add_bias(self, bias, out_channels, dtype)

    def reset_parameters(self):
        _reset_weight_and_bias(self)

    def forward(self, input, relu=False, max_pool=False):
        """The convolution; ``relu=True`` fuses a following ReLU into the kernel, and ``max_pool=True`` with it a
        2x2 max pool after the ReLU (F.conv2d_relu_max_pool2d). Sequential does both."""
        args = (input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
        if max_pool:
            if not relu:
                raise ValueError("Conv2d: max_pool=True needs relu=True (the fused kernel is conv, ReLU, max pool)")
            return F.conv2d_relu_max_pool2d(*args)
        return F.conv2d(*args, relu=True) if relu else F.conv2d(*args)

    def extra_repr(self):
        return _conv_repr(self, padding=self.padding)


class MaxPool2d(Module):
    """Max pooling (torch.nn.MaxPool2d)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation, self.ceil_mode = padding, dilation, ceil_mode

    def forward(self, input):
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """Average pooling (torch.nn.AvgPool2d)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size (torch.nn.AdaptiveAvgPool2d)."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class ReLU(Module):
    """max(x, 0) (torch.nn.ReLU); ``inplace`` is accepted and ignored."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input)


class GELU(Module):
    """x·Φ(x), exact or ``approximate='tanh'`` (torch.nn.GELU)."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Flatten(Module):
    """Flatten dims start_dim..end_dim (torch.nn.Flatten)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """Zero elements with probability p in training, scale the rest by 1/(1-p) (torch.nn.Dropout)."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: p must be a probability in [0, 1], got {p!r}")
        self.p, self.inplace = float(p), inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    """Zero whole channels with probability p in training, scale the rest by 1/(1-p) (torch.nn.Dropout2d)."""

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training)


class _Sequence(Module):
    """Submodules kept in order under the keys "0", "1", ...: length, iteration, indexing, append."""

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._slice(list(self._modules.items())[index])
        items = list(self._modules.values())
        if not -len(items) <= index < len(items):
            raise IndexError(f"{type(self).__name__}: index {index} is out of range for {len(items)} modules")
        return items[index]

    def append(self, module):
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}.append: got a {type(module).__name__}, not a Module")
        self.add_module(str(len(self)), module)
        return self


class ModuleList(_Sequence):
    """A list of submodules that parameters(), to() and state_dict() see (torch.nn.ModuleList)."""

    def __init__(self, modules=()):
        super().__init__()
        self.extend(modules)

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def _slice(self, items):
        return ModuleList(module for _, module in items)


def _plain_2x2_max_pool(module):
    """Whether ``module`` is MaxPool2d(2) or MaxPool2d(2, 2): no padding, dilation or ceil mode."""
    return (type(module) is MaxPool2d and module.kernel_size in (2, (2, 2)) and module.stride in (2, (2, 2))
            and module.padding in (0, (0, 0)) and module.dilation in (1, (1, 1)) and not module.ceil_mode)


class Sequential(_Sequence):
    """Modules applied in order (torch.nn.Sequential); index, slice, iterate, append.

    A Conv2d directly followed by a ReLU runs as one conv kernel with the ReLU fused, and with a 2x2 max pool
    fused too when a MaxPool2d(2) follows the ReLU (same values and gradients).
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], dict):
            for name, module in modules[0].items():
                self.add_module(str(name), module)
        else:
            for i, module in enumerate(modules):
                if not isinstance(module, Module):
                    raise TypeError(f"Sequential: argument {i} is a {type(module).__name__}, not a Module")
                self.add_module(str(i), module)

    def _slice(self, items):
        return Sequential(dict(items))

    def forward(self, input):
        modules = list(self._modules.values())
        i = 0
        while i < len(modules):
            module = modules[i]
            if type(module) is Conv2d and i + 1 < len(modules) and type(modules[i + 1]) is ReLU:
                pooled = i + 2 < len(modules) and _plain_2x2_max_pool(modules[i + 2])
                input = module(input, relu=True, max_pool=pooled)
                i += 3 if pooled else 2
            else:
                input = module(input)
                i += 1
        return input
