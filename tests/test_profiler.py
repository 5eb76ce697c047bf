"""numbaconv.profiler: op, backward, kernel and record_function events, self/total times, the table, and no trace
left once a profile closes."""
import threading

import numpy as np
import pytest

import numbaconv as nc
import numbaconv.nn.functional as F
from numbaconv import backends, profiler


def _conv_step():
    rng = np.random.default_rng(0)
    x = nc.tensor(rng.standard_normal((2, 3, 8, 8)), requires_grad=True)
    w = nc.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    F.max_pool2d(F.conv2d(x, w, padding=1), 2).sum().backward()


def test_ops_their_backwards_and_kernels_are_events_with_consistent_times():
    _conv_step()
    with profiler.profile(record_shapes=True) as prof:
        with profiler.record_function("step"):
            _conv_step()
    averages = {a.key: a for a in prof.key_averages()}
    for name in ("step", "Conv2d", "Conv2dBackward", "MaxPool2d", "MaxPool2dBackward", "cpu.conv.conv2d_forward",
                 "cpu.pool.max_pool2d_forward"):
        assert averages[name].count == 1, name
    assert averages["Conv2d"].cpu_time_total >= averages["cpu.conv.conv2d_forward"].cpu_time_total
    events = prof.events()
    step = next(e for e in events if e.name == "step")
    assert step.depth == 0 and all(e.depth > 0 for e in events if e is not step)
    assert step.cpu_time_total == pytest.approx(sum(e.self_cpu_time_total for e in events), rel=1e-9)
    for e in events:
        assert 0 <= e.self_cpu_time_total <= e.cpu_time_total
    conv = next(e for e in events if e.name == "Conv2d")
    assert conv.input_shapes[:2] == ((2, 3, 8, 8), (4, 3, 3, 3))


def test_another_threads_ops_nest_in_their_own_stack():
    """A DataLoader worker thread's ops, run while the main thread is inside an event, are depth-0 events of that
    thread, not children taken out of the main thread's self time."""
    inside, done = threading.Event(), threading.Event()

    def worker():
        inside.wait()
        nc.stack([nc.ones(3), nc.ones(3)])
        done.set()

    thread = threading.Thread(target=worker)
    thread.start()
    with profiler.profile() as prof:
        with profiler.record_function("main"):
            inside.set()
            done.wait(10)
    thread.join()
    events = prof.events()
    main = next(e for e in events if e.name == "main")
    others = [e for e in events if e.thread != main.thread]
    assert others and min(e.depth for e in others) == 0
    assert main.self_cpu_time_total == main.cpu_time_total


def test_table_sorts_limits_and_names_a_bad_sort_key():
    with profiler.profile() as prof:
        _conv_step()
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=3)
    lines = table.splitlines()
    assert lines[0].split()[:2] == ["Name", "Self"] and len(lines) == 2 + 3 + 1
    with pytest.raises(ValueError, match="sort_by must be one of .* got 'cuda_time'"):
        prof.key_averages().table(sort_by="cuda_time")


def test_a_closed_profile_leaves_no_hooks_and_records_nothing():
    with pytest.raises(KeyError):
        with profiler.profile() as prof:
            raise KeyError("inside")
    assert profiler.recorder is None
    assert backends.kernels("cpu", "conv") is backends._modules[("cpu", "conv")]
    _conv_step()
    assert len(prof.events()) == 0
    with profiler.record_function("outside"):
        pass


def test_profiles_do_not_nest():
    with profiler.profile():
        with pytest.raises(RuntimeError, match="another profile is already open"):
            with profiler.profile():
                pass
