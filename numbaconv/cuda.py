"""The CUDA device: availability, synchronisation and the one clear error (torch.cuda).

``numba.cuda`` is imported lazily, so ``import numbaconv`` never loads CUDA packages.
"""

_INSTALL_HINT = (
    "install the CUDA extra matching your driver: `pip install numbaconv[cuda12]` or `pip install numbaconv[cuda13]`"
)


# numpy aliases that numpy 2.5 removed but numba-cuda <= 0.2x still registers overloads for at first compile.
_NUMPY_ALIASES = {"row_stack": "vstack", "trapz": "trapezoid", "product": "prod", "cumproduct": "cumprod",
                  "sometrue": "any", "alltrue": "all", "round_": "round", "in1d": "isin"}


def _numba_cuda():
    import numpy as np

    for old, new in _NUMPY_ALIASES.items():
        if not hasattr(np, old) and hasattr(np, new):
            setattr(np, old, getattr(np, new))
    try:
        from numba import cuda
    except ImportError as error:  # numba built without cuda support, or numba-cuda missing
        raise RuntimeError(f"device 'cuda' was requested but numba.cuda cannot be imported ({error}); {_INSTALL_HINT}") from error
    return cuda


def is_available():
    """True when a CUDA GPU (or the CUDA simulator) can run numbaconv's kernels (torch.cuda.is_available)."""
    try:
        return bool(_numba_cuda().is_available())
    except Exception:
        return False


def require():
    """numba.cuda, or a RuntimeError saying what to install when no GPU/driver/numba-cuda is usable."""
    cuda = _numba_cuda()
    if not cuda.is_available():
        raise RuntimeError(
            "device 'cuda' was requested but no CUDA GPU or driver was found by numba.cuda; "
            f"check `nvidia-smi`, then {_INSTALL_HINT}"
        )
    return cuda


def synchronize():
    """Wait until every queued kernel has finished (torch.cuda.synchronize)."""
    require().synchronize()


def device_name():
    """The GPU's name, e.g. 'NVIDIA H100 80GB HBM3'."""
    name = require().get_current_device().name
    return name.decode() if isinstance(name, bytes) else str(name)
