"""numbaconv: a small, fast Tensor library with reverse-mode autodiff and Numba CPU/CUDA kernels."""

__version__ = "0.1.0"

import os as _os

# OpenBLAS reads this when numpy loads it: its workers then sleep instead of spinning against Numba's
# (see backends/cpu/threads.py; measured up to 2x on two cores). A value the user set wins.
_os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

from . import autograd, cuda
from .autograd import Function, enable_grad, is_grad_enabled, no_grad
from .backends.cpu.threads import get_num_threads, set_num_threads
from .creation import (
    arange,
    bool_,
    empty,
    float32,
    float64,
    from_numpy,
    full,
    int32,
    int64,
    ones,
    ones_like,
    rand,
    randn,
    tensor,
    uint8,
    zeros,
    zeros_like,
)
from .gradcheck import GradcheckError, gradcheck
from .ops.elementwise import (
    abs,
    add,
    clamp,
    clip,
    div,
    exp,
    log,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    relu,
    sigmoid,
    sqrt,
    sub,
    tanh,
    where,
)
from .ops.loss import cross_entropy, mse_loss
from .ops.matmul import matmul
from .ops.movement import cat, expand, flatten, pad, permute, reshape, squeeze, stack, transpose, unsqueeze
from .ops.reduce import argmax, max, mean, min, sum, var
from .ops.softmax import log_softmax, logsumexp, softmax
from .random import get_rng_state, manual_seed, set_rng_state
from .serialization import load, save
from .tensor import Tensor
