"""ConvTranspose2d (torch.nn.ConvTranspose2d): a learnable transposed convolution with PyTorch's default init."""
import math

import numpy as np

from ..creation import empty
from ..ops._util import pair
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


class ConvTranspose2d(Module):
    """Transposed 2-D convolution over NCHW (torch.nn.ConvTranspose2d); weight (in, out/groups, kH, kW),
    kaiming-uniform(a=√5) weight and bias uniform in ±1/√fan_in, fan_in = weight.shape[1]·kH·kW as torch's."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", dtype=np.float32):
        super().__init__()
        if padding_mode != "zeros":
            raise ValueError(f"ConvTranspose2d: only padding_mode='zeros' is supported, got {padding_mode!r}")
        if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
            raise ValueError(f"ConvTranspose2d: groups must be a positive int, got {groups!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"ConvTranspose2d: groups={groups} must divide in_channels={in_channels} and "
                             f"out_channels={out_channels}")
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), groups
        self.kernel_size = pair("ConvTranspose2d", "kernel_size", kernel_size, 1)
        self.stride = pair("ConvTranspose2d", "stride", stride, 1)
        self.padding = pair("ConvTranspose2d", "padding", padding, 0)
        self.output_padding = pair("ConvTranspose2d", "output_padding", output_padding, 0)
        self.dilation = pair("ConvTranspose2d", "dilation", dilation, 1)
        self.weight = Parameter(empty(in_channels, out_channels // groups, *self.kernel_size, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input, output_size=None):
        """The transposed convolution; ``output_size`` ((H, W), or the full shape) picks the output padding."""
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  self.output_padding if output_size is None else 0, self.groups, self.dilation,
                                  output_size=output_size)

    def extra_repr(self):
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.output_padding != (0, 0):
            text += f", output_padding={self.output_padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text
