"""Functional ops under PyTorch's names (torch.nn.functional); each is defined in numbaconv.ops."""
from ..ops.activation import dropout, gelu
from ..ops.conv import conv2d
from ..ops.elementwise import relu, sigmoid, tanh
from ..ops.linear import linear
from ..ops.loss import cross_entropy, mse_loss
from ..ops.movement import pad
from ..ops.normalization import batch_norm
from ..ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from ..ops.softmax import log_softmax, softmax

__all__ = ["conv2d", "linear", "cross_entropy", "log_softmax", "mse_loss", "pad", "relu", "sigmoid", "softmax", "tanh"]
__all__ += ["batch_norm", "dropout", "gelu"]
__all__ += ["adaptive_avg_pool2d", "avg_pool2d", "max_pool2d"]
