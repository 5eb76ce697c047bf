"""numbaconv: a small, fast Tensor library with reverse-mode autodiff and Numba CPU/CUDA kernels.

``nn``, ``optim``, ``data``, ``utils``, ``distributed``, ``accelerator`` and ``models`` load on first use (module
``__getattr__``), so ``import numbaconv`` stays light. A torch name numbaconv lacks raises an AttributeError that
says so and names the closest numbaconv feature (``_missing.py``).
"""

__version__ = "0.1.0"

import os as _os

# OpenBLAS reads this when numpy loads it: its workers spin ~2^20 cycles (~0.3 ms) after a call, then sleep
# instead of spinning on against Numba's (see backends/cpu/threads.py). A value the user set wins.
_os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "20")

from . import autograd, cuda
from .autograd import Function, enable_grad, is_grad_enabled, no_grad
from .backends.cpu.allocator import keep_freed_memory as _keep_freed_memory
from .backends.cpu.threads import get_num_threads, set_num_threads
from .backends.cudnn import are_deterministic_algorithms_enabled, use_deterministic_algorithms
from .creation import (
    arange,
    as_tensor,
    bool_,
    double,
    empty,
    empty_like,
    eye,
    float32,
    float64,
    from_numpy,
    full,
    full_like,
    int8,
    int16,
    int32,
    int64,
    linspace,
    long,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    short,
    tensor,
    uint8,
    zeros,
    zeros_like,
)
from .creation import bool_ as bool  # noqa: A004 (torch.bool)
from .creation import float32 as float  # noqa: A004 (torch.float)
from .creation import int32 as int  # noqa: A004 (torch.int)
from .devices import device
from .gradcheck import GradcheckError, gradcheck
from .ops.elementwise import (
    abs,
    add,
    clamp,
    clip,
    div,
    eq,
    exp,
    floor_divide,
    ge,
    gt,
    isfinite,
    isnan,
    le,
    log,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    relu,
    remainder,
    sigmoid,
    sqrt,
    sub,
    tanh,
    where,
)
from .ops.indexing import gather, masked_fill, scatter_add
from .ops.loss import cross_entropy, mse_loss
from .ops.matmul import matmul
from .ops.movement import cat, expand, flatten, pad, permute, reshape, squeeze, stack, t, transpose, unsqueeze
from .ops.promotion import result_type
from .ops.reduce import all, any, argmax, max, mean, min, std, sum, var  # noqa: A004 (torch.all, torch.any)
from .ops.softmax import log_softmax, logsumexp, softmax
from .ops.sorting import argsort, sort, topk
from .ops.tiling import chunk, flip, split
from .random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .serialization import load, save
from .tensor import Size, Tensor

inference_mode = no_grad  # torch.inference_mode: here the same as no_grad
_keep_freed_memory()  # large activations reuse freed memory instead of faulting pages in (backends/cpu/allocator.py)


def is_tensor(obj):
    """True for a numbaconv Tensor (torch.is_tensor)."""
    return isinstance(obj, Tensor)


def __getattr__(name):
    from ._missing import attribute

    return attribute(name)


def __dir__():
    from ._missing import LAZY

    return sorted(set(globals()) | set(LAZY))
