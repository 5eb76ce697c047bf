"""The CUDA device: availability, synchronisation and the one clear error (torch.cuda).

``numba.cuda`` is imported lazily (backends/cuda/runtime.py), so ``import numbaconv`` never loads CUDA packages.
"""
from .backends.cuda import runtime as _runtime


def is_available():
    """True when a CUDA GPU (or the CUDA simulator) can run numbaconv's kernels (torch.cuda.is_available)."""
    return _runtime.unavailable_reason() is None


def unavailable_reason():
    """Why ``is_available()`` is False, in one line (None when it is True)."""
    return _runtime.unavailable_reason()


def require():
    """numba.cuda, or a RuntimeError saying what to install when no GPU/driver/numba-cuda is usable."""
    return _runtime.require()


def synchronize():
    """Wait until every queued kernel has finished (torch.cuda.synchronize)."""
    _runtime.require().synchronize()


def device_name():
    """The GPU's name, e.g. 'NVIDIA H100 80GB HBM3'."""
    name = _runtime.require().get_current_device().name
    return name.decode() if isinstance(name, bytes) else str(name)
