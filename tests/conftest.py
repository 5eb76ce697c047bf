"""Hypothesis profiles: `ci` (CI, derandomized), `dev` (default), `thorough` (many examples).

Pick one with HYPOTHESIS_PROFILE=thorough or `pytest --hypothesis-profile=thorough`.
"""
import os

import pytest
from hypothesis import HealthCheck, settings

_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("ci", max_examples=25, derandomize=True, print_blob=True, **_common)
settings.register_profile("dev", max_examples=50, **_common)
settings.register_profile("thorough", max_examples=1000, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

_SHIPPED = {}  # the thresholds as shipped, recorded by the session fixtures before they lower them


@pytest.fixture(autouse=True, scope="session")
def winograd_on_small_batches():
    """The tests draw small convs; Winograd serves them as it serves large batches, instead of leaving them to
    the patch GEMM by backends/cpu/conv.py's WINOGRAD_MIN_TILES (tested on its own in tests/test_conv.py)."""
    from numbaconv.backends.cpu import conv

    measured = _SHIPPED["WINOGRAD_MIN_TILES"] = conv.WINOGRAD_MIN_TILES
    conv.WINOGRAD_MIN_TILES = 1
    yield
    conv.WINOGRAD_MIN_TILES = measured


@pytest.fixture(autouse=True, scope="session")
def threads_on_small_convs():
    """The tests' small convs split over the threads as large ones do, instead of staying on the calling thread by
    backends/cpu/threads.py's SPLIT_MIN_FLOPS (tested on its own in tests/test_threads_launch.py)."""
    from numbaconv.backends.cpu import threads

    measured = _SHIPPED["SPLIT_MIN_FLOPS"] = threads.SPLIT_MIN_FLOPS
    threads.SPLIT_MIN_FLOPS = 0
    yield
    threads.SPLIT_MIN_FLOPS = measured


@pytest.fixture
def shipped_dispatch(monkeypatch):
    """The measured Winograd and thread-split thresholds back in place for one test (the two fixtures above
    lower them for the session)."""
    from numbaconv.backends.cpu import conv, threads

    monkeypatch.setattr(conv, "WINOGRAD_MIN_TILES", _SHIPPED["WINOGRAD_MIN_TILES"])
    monkeypatch.setattr(threads, "SPLIT_MIN_FLOPS", _SHIPPED["SPLIT_MIN_FLOPS"])
