"""backends/cpu/allocator.py: glibc's thresholds are raised at import unless NUMBACONV_KEEP_FREED_MEMORY=0."""
import platform

import pytest

from numbaconv.backends.cpu.allocator import keep_freed_memory


def test_turned_off_by_the_environment(monkeypatch):
    monkeypatch.setenv("NUMBACONV_KEEP_FREED_MEMORY", "0")
    assert keep_freed_memory() is False


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt's thresholds are glibc's")
def test_glibc_takes_the_thresholds(monkeypatch):
    monkeypatch.delenv("NUMBACONV_KEEP_FREED_MEMORY", raising=False)
    assert keep_freed_memory() is True
