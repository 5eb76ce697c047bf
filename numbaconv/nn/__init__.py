"""Neural-network layers and functional ops (torch.nn)."""
from . import functional, init, utils
from .activation import LeakyReLU, LogSoftmax, Sigmoid, SiLU, Softmax, Tanh
from .batchnorm import BatchNorm1d, BatchNorm2d
from .containers import ModuleDict, ParameterDict, ParameterList
from .conv_transpose import ConvTranspose2d
from .layers import (
    GELU,
    AdaptiveAvgPool2d,
    AvgPool2d,
    Conv2d,
    Dropout,
    Dropout2d,
    Flatten,
    Identity,
    Linear,
    MaxPool2d,
    ModuleList,
    ReLU,
    Sequential,
)
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from .module import Module
from .normalization import GroupNorm, LayerNorm
from .parameter import Parameter
from .upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

__all__ = [
    "AdaptiveAvgPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv2d", "ConvTranspose2d", "Dropout",
    "Dropout2d", "Flatten", "GELU", "GroupNorm", "Identity", "LayerNorm", "LeakyReLU", "Linear", "LogSoftmax",
    "MaxPool2d", "Module", "ModuleDict", "ModuleList", "Parameter", "ParameterDict", "ParameterList", "ReLU",
    "Sequential", "SiLU", "Sigmoid", "Softmax", "Tanh", "Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d",
    "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HuberLoss", "L1Loss", "MSELoss", "NLLLoss", "SmoothL1Loss",
    "functional", "init", "utils",
]
