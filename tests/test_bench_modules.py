"""asv imports every module of bench/ to discover benchmarks: each must import on a machine without a GPU."""
import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_bench_module_imports_without_a_gpu(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    names = sorted(path.stem for path in (ROOT / "bench").glob("*.py") if path.stem != "__init__")
    assert "gpu_compare" in names and "bench_conv" in names
    for name in names:
        importlib.import_module(f"bench.{name}")
