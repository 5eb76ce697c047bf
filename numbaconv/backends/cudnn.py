"""torch.backends.cudnn's flags, accepted so scripts that set them run; numbaconv does not use cuDNN.

``benchmark``, ``deterministic``, ``enabled`` and ``allow_tf32`` change nothing: numbaconv's convolutions are its
own Numba kernels, which pick an algorithm by shape (no timing search) and compute in float32/float64 (no TF32).
"""
import warnings

from . import unavailable_reason

enabled = True
benchmark = False
deterministic = False
allow_tf32 = False
_deterministic_algorithms = {"mode": False, "warn_only": False}


def is_available():
    """False: numbaconv does not call cuDNN (torch.backends.cudnn.is_available)."""
    return False


def version():
    """None: no cuDNN is loaded (torch.backends.cudnn.version)."""
    return None


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Record the flag (torch.use_deterministic_algorithms); numbaconv's CPU kernels give the same result on
    every run already (each thread owns its output rows; no atomics), so nothing else changes. Its CUDA kernels
    do not follow the flag: their backward passes add floats atomically, in an order that can change the last
    bits between runs, so turning it on where a GPU is present warns that they stay so."""
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms: mode must be a bool, got {mode!r}")
    _deterministic_algorithms.update(mode=mode, warn_only=bool(warn_only))
    if mode and unavailable_reason("cuda") is None:
        warnings.warn("use_deterministic_algorithms(True): numbaconv's CUDA kernels (the backward of convolution, "
                      "pooling, matmul, interpolate) add floats atomically and stay nondeterministic in the last "
                      "bits; the CPU kernels are deterministic", stacklevel=2)


def are_deterministic_algorithms_enabled():
    return _deterministic_algorithms["mode"]


def is_deterministic_algorithms_warn_only_enabled():
    return _deterministic_algorithms["warn_only"]
