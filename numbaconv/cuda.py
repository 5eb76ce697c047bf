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


def device_count():
    """1 with a usable GPU, else 0: numbaconv drives one (torch.cuda.device_count)."""
    return int(is_available())


def current_device():
    """0, the one GPU numbaconv drives (torch.cuda.current_device)."""
    return 0


def get_device_name(device=None):
    """The GPU's name (torch.cuda.get_device_name); ``device`` may only be 0 / 'cuda' / 'cuda:0'."""
    return device_name()


def manual_seed(seed):
    """Accepted (torch.cuda.manual_seed): GPU draws come from the package generator that
    ``numbaconv.manual_seed`` seeds, so there is no separate GPU generator to seed."""


manual_seed_all = manual_seed


def empty_cache():
    """A no-op: numbaconv keeps no caching allocator of its own (torch.cuda.empty_cache)."""
