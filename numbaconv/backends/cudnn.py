"""torch.backends.cudnn's flags, accepted so scripts that set them run; numbaconv does not use cuDNN.

``benchmark``, ``deterministic``, ``enabled`` and ``allow_tf32`` change nothing: numbaconv's convolutions are its
own Numba kernels, which pick an algorithm by shape (no timing search) and compute in float32/float64 (no TF32).
"""
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
    every run already (each thread owns its output rows; no atomics), so nothing else changes."""
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms: mode must be a bool, got {mode!r}")
    _deterministic_algorithms.update(mode=mode, warn_only=bool(warn_only))


def are_deterministic_algorithms_enabled():
    return _deterministic_algorithms["mode"]


def is_deterministic_algorithms_warn_only_enabled():
    return _deterministic_algorithms["warn_only"]
