"""ConvTranspose2d (torch.nn.ConvTranspose2d): a learnable transposed convolution with PyTorch's default init."""
import numpy as np

from ..creation import empty
from ..ops._util import pair
from . import functional as F
from .layers import _add_bias, _conv_repr, _reset_weight_and_bias, _set_conv_args
from .module import Module
from .parameter import Parameter


class ConvTranspose2d(Module):
    """Transposed 2-D convolution over NCHW (torch.nn.ConvTranspose2d); weight (in, out/groups, kH, kW),
    kaiming-uniform(a=√5) weight and bias uniform in ±1/√fan_in, fan_in = weight.shape[1]·kH·kW as torch's."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", dtype=np.float32):
        super().__init__()
        _set_conv_args(self, "ConvTranspose2d", in_channels, out_channels, kernel_size, stride, dilation, groups,
                       padding_mode)
        self.padding = pair("ConvTranspose2d", "padding", padding, 0)
        self.output_padding = pair("ConvTranspose2d", "output_padding", output_padding, 0)
        self.weight = Parameter(empty(in_channels, out_channels // groups, *self.kernel_size, dtype=dtype))
        _add_bias(self, bias, out_channels, dtype)

    def reset_parameters(self):
        _reset_weight_and_bias(self)

    def forward(self, input, output_size=None):
        """The transposed convolution; ``output_size`` ((H, W), or the full shape) picks the output padding."""
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  self.output_padding if output_size is None else 0, self.groups, self.dilation,
                                  output_size=output_size)

    def extra_repr(self):
        return _conv_repr(self, padding=self.padding, output_padding=self.output_padding)
