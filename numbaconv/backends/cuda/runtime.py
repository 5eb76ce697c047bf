"""numba.cuda, imported lazily, and why it cannot run here when it cannot (torch.cuda.is_available).

Nothing imports numba.cuda until a tensor is placed on "cuda" or a caller asks whether it could be.
"""
INSTALL_HINT = (
    "install the CUDA extra matching your driver: `pip install numbaconv[cuda12]` or `pip install numbaconv[cuda13]`"
)

# numpy aliases that numpy 2.5 removed but numba-cuda <= 0.2x still registers overloads for at first compile.
_NUMPY_ALIASES = {"row_stack": "vstack", "trapz": "trapezoid", "product": "prod", "cumproduct": "cumprod",
                  "sometrue": "any", "alltrue": "all", "round_": "round", "in1d": "isin"}


def _import_numba_cuda():
    import numpy as np

    for old, new in _NUMPY_ALIASES.items():
        if not hasattr(np, old) and hasattr(np, new):
            setattr(np, old, getattr(np, new))
    from numba import cuda

    return cuda


def unavailable_reason():
    """Why numbaconv's CUDA kernels cannot run here (one line), or None when they can."""
    try:
        cuda = _import_numba_cuda()
    except ImportError as error:  # numba built without cuda support, or numba-cuda missing
        return f"numba.cuda cannot be imported ({error}); {INSTALL_HINT}"
    try:
        available = cuda.is_available()
    except Exception as error:  # a broken driver install raises instead of answering
        return f"numba.cuda could not query the driver ({type(error).__name__}: {error}); {INSTALL_HINT}"
    if not available:
        return f"no CUDA GPU or driver was found by numba.cuda; check `nvidia-smi`, then {INSTALL_HINT}"
    return None


def require():
    """numba.cuda, or a RuntimeError saying what to install when no GPU/driver/numba-cuda is usable."""
    reason = unavailable_reason()
    if reason is not None:
        raise RuntimeError(f"device 'cuda' was requested but {reason}")
    return _import_numba_cuda()
