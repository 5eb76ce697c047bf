"""threads.launch: Numba parallel kernels run on the calling thread alone below PARALLEL_MIN elements, on all
threads above it, with the same values either way (the property tests' small shapes take the one-thread path)."""
import os
import subprocess
import sys
import types

import numba
import numpy as np
import pytest
from numba import njit, prange

from numbaconv.backends.cpu import activation, batchnorm, optim, pool, threads


@njit(parallel=True)
def _thread_ids(out):
    for i in prange(out.size):
        out[i] = numba.get_thread_id()


def test_small_kernels_run_on_the_calling_thread_and_the_thread_count_is_restored():
    threads.start()
    before = numba.get_num_threads()
    small = np.full(threads.PARALLEL_MIN - 1, -1)
    threads.launch(_thread_ids, small.size, small)
    assert set(small) == {0}
    assert numba.get_num_threads() == before
    large = np.full(threads.PARALLEL_MIN, -1)
    threads.launch(_thread_ids, large.size, large)
    assert set(large) == set(range(before))


def _ops(rng):
    """name -> a call of each launching op on inputs above PARALLEL_MIN elements, returning its arrays."""
    x = rng.standard_normal((4, 8, 46, 46)).astype(np.float32)  # 67,712 elements: above PARALLEL_MIN
    grad_pool = rng.standard_normal((4, 8, 23, 23)).astype(np.float32)
    _, indices = pool.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0))
    x3 = x.reshape(4, 8, -1)
    mean, var = batchnorm.batchnorm_stats(x3)
    invstd = (1 / np.sqrt(var + 1e-5)).astype(np.float32)
    weight, bias = np.linspace(0.5, 1.5, 8, dtype=np.float32), np.linspace(-1, 1, 8, dtype=np.float32)
    sums = batchnorm.batchnorm_backward_reduce(x3, x3, mean, invstd)

    def adam():
        param, grad = x.copy(), x[:, ::-1].copy()
        m, v = np.zeros_like(param), np.zeros_like(param)
        optim.adam_step(param, grad, m, v, 1, 1e-3, weight_decay=0.1)
        return param, m, v

    return {
        "max_pool2d 2x2": lambda: pool.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0)),
        "max_pool2d 3x3": lambda: pool.max_pool2d_forward(x, (3, 3), (2, 2), (1, 1)),
        "max_pool2d backward": lambda: (pool.max_pool2d_backward(grad_pool, indices, x.shape, True),),
        "avg_pool2d": lambda: (pool.avg_pool2d_forward(x, (3, 3), (2, 2), (1, 1)),),
        "avg_pool2d backward": lambda: (pool.avg_pool2d_backward(grad_pool, x.shape, (2, 2), (2, 2), (0, 0)),),
        "adaptive_avg_pool2d": lambda: (pool.adaptive_avg_pool2d_forward(x, (1, 1)),),
        "batchnorm stats": lambda: batchnorm.batchnorm_stats(x3),
        "batchnorm forward": lambda: (batchnorm.batchnorm_forward(x3, mean, invstd, weight, bias),),
        "batchnorm backward": lambda: (batchnorm.batchnorm_backward_input(x3, x3, mean, invstd, weight, *sums, True),),
        "gelu": lambda: activation.gelu_forward(x, False),
        "adam": adam,
    }


@pytest.mark.parametrize("name", list(_ops(np.random.default_rng(0))))
def test_all_threads_and_one_thread_give_the_same_values(name, monkeypatch):
    assert 4 * 8 * 46 * 46 >= threads.PARALLEL_MIN
    parallel = _ops(np.random.default_rng(0))[name]()
    monkeypatch.setattr(threads, "PARALLEL_MIN", np.iinfo(np.int64).max)
    serial = _ops(np.random.default_rng(0))[name]()
    for a, b in zip(parallel, serial, strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_run_split_keeps_small_work_on_the_calling_thread(shipped_dispatch):
    """Below SPLIT_MIN_FLOPS the work runs whole on the calling thread; from it (or without a count), in one
    part per thread. conftest.py sets the threshold to 0 for the other tests; here it is the measured one."""
    import threading

    from numbaconv.backends.cpu import conv

    assert threads.SPLIT_MIN_FLOPS > 0
    threads.start()
    count = min(4, numba.get_num_threads())

    def parts(flops):
        seen = []
        threads.run_split(lambda a, b: seen.append((a, b, threading.get_ident())), 4, flops)
        return seen

    assert parts(threads.SPLIT_MIN_FLOPS - 1) == [(0, 4, threading.get_ident())]
    for flops in (threads.SPLIT_MIN_FLOPS, None):
        assert sorted(p[:2] for p in parts(flops)) == [(4 * i // count, 4 * (i + 1) // count) for i in range(count)]
    x = np.zeros((8, 64, 8, 8))
    assert conv._flops(x, (64, 64, 3, 3), 8, 8) == 2 * 8 * 64 * 64 * 64 * 9


@pytest.mark.parametrize("call", ["matmul", "run_split"])
def test_small_gemms_run_on_one_blas_thread_and_blas_keeps_its_own_count(call, monkeypatch):
    """Below BLAS_ALONE_FLOPS a GEMM outside run_split's parts (threads.matmul, or a one-image run_split) runs
    with OpenBLAS on one thread, from it on BLAS's threads as they are; after either, OpenBLAS has the count it
    had before (here also one set apart from Numba's)."""
    threads.start()
    setter, getter = threads._blas_functions()
    if getter is None or numba.get_num_threads() < 2:
        pytest.skip("needs numpy's OpenBLAS and two threads")
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((6, 5)), rng.standard_normal((5, 7))
    out = np.empty((6, 7))
    seen = []

    def product(x, y, out):
        seen.append(getter())
        return np.matmul(x, y, out=out)

    monkeypatch.setattr(threads, "np", types.SimpleNamespace(matmul=product))

    def gemm(flops):
        if call == "matmul":
            return threads.matmul(a, b, out, flops)
        return threads.run_split(lambda start, stop: product(a, b, out), 1, flops)

    blas = getter()
    try:
        for own in (blas, 1):
            setter(own)
            for flops, inside in ((threads.BLAS_ALONE_FLOPS - 1, 1), (threads.BLAS_ALONE_FLOPS, own)):
                seen.clear()
                out[...] = np.nan
                gemm(flops)
                assert seen == [inside] and getter() == own
                np.testing.assert_array_equal(out, a @ b)
    finally:
        setter(blas)


@pytest.mark.parametrize("user_value, expected", [(None, "20"), ("7", "7")])
def test_openblas_thread_timeout_defaults_to_20_unless_the_user_set_it(user_value, expected):
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    if user_value is not None:
        env["OPENBLAS_THREAD_TIMEOUT"] = user_value
    code = "import os, numbaconv; print(os.environ['OPENBLAS_THREAD_TIMEOUT'])"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
