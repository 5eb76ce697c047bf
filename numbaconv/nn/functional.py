"""Functional ops under PyTorch's names (torch.nn.functional); each is defined in numbaconv.ops."""
from ..ops.elementwise import relu, sigmoid, tanh
from ..ops.loss import cross_entropy, mse_loss
from ..ops.movement import pad
from ..ops.softmax import log_softmax, softmax

__all__ = ["cross_entropy", "log_softmax", "mse_loss", "pad", "relu", "sigmoid", "softmax", "tanh"]
