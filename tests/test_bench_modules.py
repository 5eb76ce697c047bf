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


def test_torch_twins_match_every_shipped_model(monkeypatch):
    """bench/torch_twin.py: the same outputs from the same weights, and the same loss after one recipe step."""
    torch = pytest.importorskip("torch")
    monkeypatch.syspath_prepend(str(ROOT))
    import numpy as np

    from bench import torch_twin, train_step, workload

    for name in workload.model_names():
        images, labels = workload.batch(4)
        model = workload.build(name, images)
        twin = torch_twin.twin(model)
        np.testing.assert_allclose(twin(torch.from_numpy(images.numpy())).detach().numpy(),
                                   model(images).detach().numpy(), rtol=1e-4, atol=1e-5, err_msg=name)
        ours, theirs = workload.training_step(name, 4), train_step.torch_training_step(name, 4)
        ours(), theirs()
        np.testing.assert_allclose(float(theirs()), float(ours()), rtol=1e-4, err_msg=name)


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc/PID/maps (Linux) to list the libraries")
def test_isolated_runner_times_a_step_in_a_process_without_torch(monkeypatch):
    """bench/isolated.py: the worker answers each request with a call's seconds and loads no torch (whose
    OpenMP runtime, shared in one process, would set numbaconv's wait policy)."""
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT))
    from bench import isolated

    runner = isolated.Runner("numbaconv", "inference", "keras_net", 2, 1)
    try:
        assert all(0 < runner() < 60 for _ in range(2))
        with open(f"/proc/{runner.process.pid}/maps") as maps:
            assert "torch" not in maps.read()
    finally:
        runner.close()
    assert runner.process.returncode == 0
