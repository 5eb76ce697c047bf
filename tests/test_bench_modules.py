"""asv imports every module of bench/ to discover benchmarks: each must import on a machine without a GPU."""
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_every_bench_module_imports_without_a_gpu(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    names = sorted(path.stem for path in (ROOT / "bench").glob("*.py") if path.stem != "__init__")
    assert {"gpu_compare", "bench_conv", "bench_step", "bench_latency", "bench_startup"} <= set(names)
    for name in names:
        importlib.import_module(f"bench.{name}")


def test_user_facing_suites_cover_every_shipped_model_and_skip_missing_apis(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    from bench import workload
    from numbaconv import models

    assert workload.model_names() == sorted(models.MODELS)
    assert workload.batch_size("default_net", "default") == models.recipe("default_net").batch_size
    with pytest.raises(NotImplementedError):
        workload.require("models", "no_such_name")
    with pytest.raises(NotImplementedError):
        workload.build("no_such_net")


def test_every_op_of_the_ops_table_runs_in_both_libraries(monkeypatch):
    """bench/ops.py's rows call each op once per library at the small shape (the adapters stay right)."""
    monkeypatch.syspath_prepend(str(ROOT))
    import numpy as np

    from bench import ops

    libs = [ops.numbaconv_lib()] + ([ops.torch_lib()] if ops.torch is not None else [])
    for name, (kinds, fn) in ops.OPS.items():
        arrays = ops.make_arrays(kinds, ops.SHAPES["small"], np.random.default_rng(0))
        for lib in libs:
            ops.fwd_bwd_step(lib, fn, arrays)()
