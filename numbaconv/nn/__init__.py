"""Neural-network layers and functional ops (torch.nn)."""
from . import functional, init, parallel, utils
from .activation import ELU, Hardtanh, LeakyReLU, LogSoftmax, ReLU6, Sigmoid, SiLU, Softmax, Softplus, Tanh
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
from .normalization import GroupNorm, InstanceNorm2d, LayerNorm
from .parameter import Parameter
from .sync_batchnorm import SyncBatchNorm
from .upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

__all__ = [
    "AdaptiveAvgPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv2d", "ConvTranspose2d", "Dropout",
    "Dropout2d", "ELU", "Flatten", "GELU", "GroupNorm", "Hardtanh", "Identity", "InstanceNorm2d", "LayerNorm",
    "LeakyReLU", "Linear", "LogSoftmax", "MaxPool2d", "Module", "ModuleDict", "ModuleList", "Parameter",
    "ParameterDict", "ParameterList", "ReLU", "ReLU6", "Sequential", "SiLU", "Sigmoid", "Softmax", "Softplus",
    "SyncBatchNorm", "Tanh",
    "Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d",
    "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HuberLoss", "L1Loss", "MSELoss", "NLLLoss", "SmoothL1Loss",
    "functional", "init", "parallel", "utils",
]


def __getattr__(name):
    from ._missing import missing

    missing(__name__, name, globals())
