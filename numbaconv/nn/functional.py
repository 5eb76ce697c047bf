"""Functional ops under PyTorch's names (torch.nn.functional); each is defined in numbaconv.ops."""
from ..ops.activation import dropout, dropout2d, elu, gelu, hardtanh, leaky_relu, relu6, silu, softplus
from ..ops.conv import conv2d, conv2d_relu_max_pool2d
from ..ops.conv_transpose import conv_transpose2d
from ..ops.elementwise import relu, sigmoid, tanh
from ..ops.interpolate import interpolate, upsample
from ..ops.linear import linear
from ..ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from ..ops.movement import pad
from ..ops.normalization import batch_norm, group_norm, instance_norm, layer_norm
from ..ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from ..ops.softmax import log_softmax, softmax

__all__ = ["conv2d", "conv2d_relu_max_pool2d", "conv_transpose2d", "linear", "pad", "interpolate", "upsample"]
__all__ += ["relu", "sigmoid", "tanh", "gelu", "leaky_relu", "silu", "elu", "softplus", "hardtanh", "relu6",
            "log_softmax", "softmax", "dropout", "dropout2d"]
__all__ += ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "huber_loss", "l1_loss",
            "mse_loss", "nll_loss", "smooth_l1_loss"]
__all__ += ["batch_norm", "group_norm", "instance_norm", "layer_norm"]
__all__ += ["adaptive_avg_pool2d", "avg_pool2d", "max_pool2d"]


def __getattr__(name):
    from ._missing import missing

    missing(__name__, name, globals())
