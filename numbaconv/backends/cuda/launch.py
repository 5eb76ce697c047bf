"""Launch helpers shared by the CUDA kernels: grid sizes, lazily built kernel caches, allocation."""
import functools

import numpy as np
from numba import config

from ...cuda import require

cuda = require()

SIMULATED = bool(config.ENABLE_CUDASIM)
# The CUDA simulator runs every thread of a block in Python: small blocks keep its tests fast.
THREADS = 32 if SIMULATED else 256


def blocks(n, threads=THREADS):
    return max(1, (int(n) + threads - 1) // threads)


def cached(factory):
    """Build each kernel once per argument tuple, on first use (never at import)."""
    return functools.lru_cache(maxsize=None)(factory)


def device_empty(shape, dtype):
    """An uninitialised device array; out-of-memory names the allocation size."""
    shape = tuple(int(n) for n in shape)
    dtype = np.dtype(dtype)
    try:
        return cuda.device_array(shape, dtype)
    except Exception as error:
        if "OUT_OF_MEMORY" in str(error).upper() or isinstance(error, MemoryError):
            nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            raise MemoryError(
                f"cuda: out of memory allocating {nbytes / 2**20:.1f} MiB for an array of shape {shape} and dtype {dtype}"
            ) from error
        raise
