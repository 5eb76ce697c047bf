"""Thread coordination for the CPU backend: Numba's workers and OpenBLAS's share the cores (torch.set_num_threads).

Both pools spin after a call by default (OpenBLAS for 2^28 cycles), so a Numba kernel right after a BLAS call
(im2col, then GEMM) ran up to 2x slower on two cores. ``numbaconv/__init__.py`` sets ``OPENBLAS_THREAD_TIMEOUT``
to 20 before numpy loads OpenBLAS (when the user has not set it): ~0.3 ms of spinning carries a batch-1
forward's GEMMs from one to the next without a wake-up each, and is over before it costs a training step or a
batch-8 forward much (22, ~1.3 ms, slowed batch 8; 4 did not spin at all; figures in bench/RESULTS.md).
:func:`start` launches Numba's OpenMP workers with ``OMP_WAIT_POLICY=PASSIVE`` (restoring the variable
afterwards, so a later ``import torch`` is unaffected).
``NUMBA_NUM_THREADS`` is respected; when only it is set, OpenBLAS gets the same thread count.
:func:`launch` runs a Numba parallel kernel over few elements on the calling thread alone.
"""
import concurrent.futures
import contextlib
import ctypes
import glob
import os
import threading

import numpy as np

_started = False
_blas = None


def start():
    """Launch Numba's worker threads once, sleeping (not spinning) between kernels; cheap after the first call."""
    global _started
    if _started:
        return
    from numba.np.ufunc import parallel

    previous = os.environ.get("OMP_WAIT_POLICY")
    if previous is None:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        parallel._launch_threads()
    finally:
        if previous is None:
            os.environ.pop("OMP_WAIT_POLICY", None)
    _started = True
    if "NUMBA_NUM_THREADS" in os.environ and not ({"OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"} & set(os.environ)):
        _set_blas_threads(get_num_threads())


def _blas_functions():
    """(set_num_threads, get_num_threads) of numpy's bundled OpenBLAS, or (None, None) when it cannot be found."""
    global _blas
    if _blas is None:
        _blas = (None, None)
        libs = glob.glob(os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "*openblas*"))
        for path in libs:
            lib = ctypes.CDLL(path)
            for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""), ("openblas", "")):
                setter, getter = (f"{prefix}_{verb}_num_threads{suffix}" for verb in ("set", "get"))
                if hasattr(lib, setter) and hasattr(lib, getter):
                    _blas = (getattr(lib, setter), getattr(lib, getter))
                    break
    return _blas


def _set_blas_threads(n):
    setter = _blas_functions()[0]
    if setter is not None:
        setter(ctypes.c_int(n))


@contextlib.contextmanager
def _blas_alone():
    """OpenBLAS on one thread inside the block, back to its own count after it."""
    getter = _blas_functions()[1]
    before = getter() if getter is not None else get_num_threads()
    _set_blas_threads(1)
    try:
        yield
    finally:
        _set_blas_threads(before)


def set_num_threads(n):
    """Use ``n`` threads in Numba kernels and in OpenBLAS (torch.set_num_threads); n <= NUMBA_NUM_THREADS."""
    import numba

    limit = numba.config.NUMBA_NUM_THREADS
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= limit:
        raise ValueError(f"set_num_threads: n must be an int in [1, {limit}] (NUMBA_NUM_THREADS), got {n!r}")
    start()
    numba.set_num_threads(n)
    _set_blas_threads(n)


def get_num_threads():
    """Threads Numba kernels use now (torch.get_num_threads)."""
    import numba

    return numba.get_num_threads()


PARALLEL_MIN = 1 << 16  # elements: a Numba parallel kernel over fewer runs on the calling thread alone


def launch(kernel, size, *args):
    """``kernel(*args)``, a Numba parallel kernel over ``size`` elements, on the calling thread alone when ``size`` <
    ``PARALLEL_MIN``: waking the sleeping workers costs more than such a kernel's work (max_pool2d's 2x2 forward
    over a 32x30x30 image: 96 us on two threads, 18 us on one; numba.set_num_threads is thread-local, ~1.5 us)."""
    start()
    count = get_num_threads()
    if size >= PARALLEL_MIN or count == 1:
        return kernel(*args)
    import numba

    numba.set_num_threads(1)
    try:
        return kernel(*args)
    finally:
        numba.set_num_threads(count)


_pool = None
_lock = threading.Lock()


SPLIT_MIN_FLOPS = 1 << 26
# A GEMM of fewer flops runs faster on one BLAS thread: waking the other costs more than the half it takes over
# (2 threads of a Zen 4, one against two: 128x576 by 576x16, 2.4 MFLOP, 42 against 62 us; 64x27 by 27x900, 3.1
# MFLOP, 49 against 72; 64x288 by 288x169, 6.2 MFLOP, 103 against 98; 128x1152 by 1152x64, 18.9 MFLOP, 251
# against 214).
BLAS_ALONE_FLOPS = 1 << 22


def matmul(a, b, out, flops):
    """``np.matmul(a, b, out=out)`` on BLAS's threads, or on one when ``flops`` < ``BLAS_ALONE_FLOPS``. For the
    calling thread, not for :func:`run_split`'s parts (BLAS's thread count is global: they already run it on one)."""
    start()
    if flops >= BLAS_ALONE_FLOPS or get_num_threads() == 1:
        return np.matmul(a, b, out=out)
    with _blas_alone():
        return np.matmul(a, b, out=out)


def split_count(n, flops=None):
    """How many parts :func:`run_split` makes of range(n) for a call of ``flops``."""
    return 1 if flops is not None and flops < SPLIT_MIN_FLOPS else max(1, min(n, get_num_threads()))


def run_split(work, n, flops=None):
    """Call ``work(start, stop)`` on contiguous parts of range(n), one per thread, BLAS single-threaded meanwhile.

    For kernels that pair serial GIL-free Numba code with BLAS calls per cache-sized chunk: each core keeps
    its chunk in its own cache and no pool spins against another. Returns the list of results in order.
    ``flops``, the call's work (2x its multiply-adds), below ``SPLIT_MIN_FLOPS`` keeps it on the calling thread:
    the pool's round trip cost 140-150 us on a 2-vCPU Zen 3 (two halves of a 390 us Numba loop: 346 us split), so
    conv2d over 8 images of 64 channels at 8x8 (38 MFLOP) took 1.06 ms on two threads and 0.53 on one, and at
    16x16 (151 MFLOP) 1.37 against 1.42. Kept there, several images still run with BLAS single-threaded, as each
    part of a split does: OpenBLAS's threaded GEMMs round differently (a CIFAR ResNet's loss after four float32
    SGD steps moved by 5e-4 relative against PyTorch's, 2e-7 with single-threaded BLAS). One image, or one thread,
    runs with BLAS's threads as they are (its GEMMs are all the parallel work there is), unless its ``flops`` are
    under ``BLAS_ALONE_FLOPS``; so does the one GEMM over a few pixels of several images that conv.py's pixel-major
    forward runs after its split (:func:`matmul`). OpenBLAS gets back the thread count it had.
    """
    start()
    available = get_num_threads()
    count = split_count(n, flops)
    if available == 1 or (n == 1 and (flops is None or flops >= BLAS_ALONE_FLOPS)):
        return [work(0, n)]
    bounds = [n * i // count for i in range(count + 1)]
    global _pool
    with _lock:
        if _pool is None and count > 1:
            import numba

            _pool = concurrent.futures.ThreadPoolExecutor(numba.config.NUMBA_NUM_THREADS, "numbaconv")
    with _blas_alone():
        futures = [_pool.submit(work, bounds[i], bounds[i + 1]) for i in range(1, count)]
        return [work(bounds[0], bounds[1])] + [f.result() for f in futures]
