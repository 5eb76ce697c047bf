"""Launch helpers shared by the CUDA kernels: grid sizes, lazily built kernel caches, allocation."""
import collections
import functools
import math
import weakref

import numpy as np
from numba import config

from .runtime import require

cuda = require()

SIMULATED = bool(config.ENABLE_CUDASIM)
# The CUDA simulator runs every thread of a block in Python: small blocks keep its tests fast.
THREADS = 32 if SIMULATED else 256


# What multiprocessors() answers where the device has no count to read (the simulator): an H100 SXM's.
FALLBACK_MULTIPROCESSORS = 132


def blocks(n, threads=THREADS):
    return max(1, (int(n) + threads - 1) // threads)


@functools.cache
def multiprocessors():
    """The current GPU's streaming multiprocessors (torch.cuda.get_device_properties(0).multi_processor_count)."""
    if SIMULATED:
        return FALLBACK_MULTIPROCESSORS
    return cuda.get_current_device().MULTIPROCESSOR_COUNT


def cached(factory):
    """Build each kernel once per argument tuple, on first use (never at import)."""
    return functools.lru_cache(maxsize=None)(factory)


@cached
def device(function):
    """The plain function ``function`` compiled as a CUDA device function, once."""
    return cuda.jit(device=True)(function)


_pool = collections.defaultdict(list)


def _recycle(nbytes, memory):
    _pool[nbytes].append(memory)


def _allocate(shape, dtype):
    if SIMULATED:
        return cuda.device_array(shape, dtype)
    nbytes = max(1, math.prod(shape)) * dtype.itemsize
    free = _pool.get(nbytes)
    if free:
        from numba.cuda.cudadrv.devicearray import DeviceNDArray

        strides = tuple(int(dtype.itemsize * math.prod(shape[i + 1 :])) for i in range(len(shape)))
        array = DeviceNDArray(shape, strides, dtype, gpu_data=free.pop())
    else:
        array = cuda.device_array(shape, dtype)
    weakref.finalize(array, _recycle, nbytes, array.gpu_data)
    return array


def device_empty(shape, dtype):
    """An uninitialised 1-D device array from a caching pool (freed arrays' memory is reused for the same
    size, as PyTorch's caching allocator; all work runs on one stream, so reuse is ordered after earlier
    kernels); out-of-memory empties the pool once, then names the allocation size."""
    shape = tuple(int(n) for n in shape)
    dtype = np.dtype(dtype)
    try:
        return _allocate(shape, dtype)
    except Exception as error:
        if "OUT_OF_MEMORY" not in str(error).upper() and not isinstance(error, MemoryError):
            raise
        _pool.clear()
        cuda.current_context().deallocations.clear()
        try:
            return _allocate(shape, dtype)
        except Exception:
            nbytes = math.prod(shape) * dtype.itemsize
            raise MemoryError(
                f"cuda: out of memory allocating {nbytes / 2**20:.1f} MiB for an array of shape {shape} "
                f"and dtype {dtype}") from error


def keep_alive(view, base):
    """Make the numba device-array ``view`` hold ``base`` so pooled memory is not reused under it."""
    view.numbaconv_base = base
    return view
