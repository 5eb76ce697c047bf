"""Optimizers and LR schedules against torch.optim: trajectories over several steps, lr sequences, state dicts."""
import math

import numpy as np
import pytest

import numbaconv as nc
from numbaconv import nn, optim
from numbaconv.backends.cpu import optim as cpu_optim

torch = pytest.importorskip("torch")

SHAPES = [(7, 5), (13,), (2, 3, 3, 3)]


def _params(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def _grads(step, dtype=np.float64):
    rng = np.random.default_rng(100 + step)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def _run_both(make_ours, make_theirs, steps=6, dtype=np.float64, schedule=None):
    """Run both optimizers on the same gradients; return the parameter trajectories."""
    ours = [nn.Parameter(nc.tensor(a)) for a in _params(dtype)]
    theirs = [torch.nn.Parameter(torch.tensor(a)) for a in _params(dtype)]
    opt_ours, opt_theirs = make_ours(ours), make_theirs(theirs)
    sched_ours = schedule[0](opt_ours) if schedule else None
    sched_theirs = schedule[1](opt_theirs) if schedule else None
    for step in range(steps):
        for p, q, g in zip(ours, theirs, _grads(step, dtype)):
            p.grad = nc.tensor(g)
            q.grad = torch.tensor(g)
        opt_ours.step()
        opt_theirs.step()
        if schedule:
            sched_ours.step()
            sched_theirs.step()
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-10, atol=1e-12,
                                       err_msg=f"step {step}")
    return opt_ours, opt_theirs


@pytest.mark.parametrize("kwargs", [
    dict(lr=0.1),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=1e-2),
    dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=5e-4),
])
def test_sgd_matches_torch(kwargs):
    _run_both(lambda p: optim.SGD(p, **kwargs), lambda p: torch.optim.SGD(p, **kwargs))


@pytest.mark.parametrize("kwargs", [
    dict(lr=1e-2),
    dict(lr=3e-3, betas=(0.8, 0.99), eps=1e-6, weight_decay=1e-2),
    dict(lr=1e-2, amsgrad=True, weight_decay=1e-3),
])
def test_adam_matches_torch(kwargs):
    _run_both(lambda p: optim.Adam(p, **kwargs), lambda p: torch.optim.Adam(p, **kwargs))


@pytest.mark.parametrize("kwargs", [dict(lr=1e-2), dict(lr=5e-3, weight_decay=0.1, amsgrad=True)])
def test_adamw_matches_torch(kwargs):
    _run_both(lambda p: optim.AdamW(p, **kwargs), lambda p: torch.optim.AdamW(p, **kwargs))


def test_float32_sgd_and_adam_close_to_torch():
    kw = dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    ours = [nn.Parameter(nc.tensor(a)) for a in _params(np.float32)]
    theirs = [torch.nn.Parameter(torch.tensor(a)) for a in _params(np.float32)]
    pairs = [(optim.SGD(ours[:2], **kw), torch.optim.SGD(theirs[:2], **kw)),
             (optim.AdamW(ours[2:], lr=1e-2), torch.optim.AdamW(theirs[2:], lr=1e-2))]
    for step in range(5):
        for p, q, g in zip(ours, theirs, _grads(step, np.float32)):
            p.grad, q.grad = nc.tensor(g), torch.tensor(g)
        for a, b in pairs:
            a.step()
            b.step()
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_param_groups_and_skipped_params():
    a, b = nn.Parameter(nc.ones(3)), nn.Parameter(nc.ones(3))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    a.grad = nc.ones(3)
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), 0.9)
    np.testing.assert_allclose(b.detach().numpy(), 1.0)
    assert opt.param_groups[1]["lr"] == 1.0 and opt.param_groups[1]["momentum"] == 0.0
    opt.zero_grad()
    assert a.grad is None
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [a]}, {"params": [a]}], lr=0.1)
    with pytest.raises(ValueError, match="nesterov"):
        optim.SGD([a], lr=0.1, nesterov=True)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(a, lr=0.1)


def test_step_bumps_version_and_keeps_identity():
    p = nn.Parameter(nc.ones(4))
    data, version = p.array, p._version[0]
    p.grad = nc.ones(4)
    optim.Adam([p], lr=0.1).step()
    assert p.array is data and p._version[0] == version + 1


def test_zero_grad_in_place_keeps_the_array():
    p = nn.Parameter(nc.ones(3))
    p.grad = nc.ones(3)
    grad = p.grad.array
    opt = optim.SGD([p], lr=0.1)
    opt.zero_grad(set_to_none=False)
    assert p.grad.array is grad and not grad.any()
    opt.zero_grad()
    assert p.grad is None


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.1, momentum=0.9), lambda p: optim.Adam(p, lr=0.1)])
def test_grad_of_another_dtype_is_cast_to_the_parameter_dtype(make):
    grad = np.array([0.1, -0.2, 0.3], np.float32)
    cast, mixed = nn.Parameter(nc.ones(3, dtype=nc.float64)), nn.Parameter(nc.ones(3, dtype=nc.float64))
    cast.grad, mixed.grad = nc.tensor(grad.astype(np.float64)), nc.tensor(grad)
    make([cast]).step()
    make([mixed]).step()
    assert mixed.dtype == np.float64
    np.testing.assert_array_equal(mixed.detach().numpy(), cast.detach().numpy())


def test_state_dict_arrays_are_copies():
    p = nn.Parameter(nc.ones(3))
    p.grad = nc.ones(3)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    opt.step()
    saved = opt.state_dict()["state"][0]["momentum_buffer"]
    opt.step()
    np.testing.assert_array_equal(saved, 1.0)


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw"])
def test_optimizer_state_dict_round_trip_through_save(tmp_path, name):
    make = {"sgd": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
            "adam": lambda p: optim.Adam(p, lr=1e-2, amsgrad=True),
            "adamw": lambda p: optim.AdamW(p, lr=1e-2)}[name]
    first = [nn.Parameter(nc.tensor(a)) for a in _params()]
    opt = make(first)
    for step in range(3):
        for p, g in zip(first, _grads(step)):
            p.grad = nc.tensor(g)
        opt.step()
    nc.save({"opt": opt.state_dict()}, tmp_path / "o.npz")
    second = [nn.Parameter(nc.tensor(p.detach().numpy().copy())) for p in first]
    restored = make(second)
    restored.load_state_dict(nc.load(tmp_path / "o.npz")["opt"])
    for step in range(3, 6):
        for p, q, g in zip(first, second, _grads(step)):
            p.grad, q.grad = nc.tensor(g), nc.tensor(g)
        opt.step()
        restored.step()
    for p, q in zip(first, second):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_optimizer_load_state_dict_errors():
    p = nn.Parameter(nc.ones(3))
    p.grad = nc.ones(3)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    opt.step()
    state = opt.state_dict()
    with pytest.raises(ValueError, match="1 parameters in the state, 2 here"):
        optim.SGD([nn.Parameter(nc.ones(3)), nn.Parameter(nc.ones(3))], lr=0.1).load_state_dict(state)
    with pytest.raises(ValueError, match="shape"):
        optim.SGD([nn.Parameter(nc.ones(4))], lr=0.1).load_state_dict(state)


def _lr_sequences(ours_factory, theirs_factory, steps, optimizer="sgd"):
    p = nn.Parameter(nc.ones(2))
    q = torch.nn.Parameter(torch.ones(2))
    if optimizer == "sgd":
        o, t = optim.SGD([p], lr=0.1, momentum=0.9), torch.optim.SGD([q], lr=0.1, momentum=0.9)
    else:
        o, t = optim.Adam([p], lr=0.1), torch.optim.Adam([q], lr=0.1)
    so, st = ours_factory(o), theirs_factory(t)
    ours, theirs = [], []
    for _ in range(steps):
        ours.append((o.param_groups[0]["lr"], o.param_groups[0].get("momentum"), o.param_groups[0].get("betas")))
        theirs.append((t.param_groups[0]["lr"], t.param_groups[0].get("momentum"), t.param_groups[0].get("betas")))
        o.step()
        t.step()
        so.step()
        st.step()
    return ours, theirs, so, st


@pytest.mark.parametrize("name, kwargs, steps", [
    ("StepLR", dict(step_size=3, gamma=0.5), 12),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=1e-3), 30),
    ("OneCycleLR", dict(max_lr=0.4, total_steps=20), 20),
    ("OneCycleLR", dict(max_lr=0.4, total_steps=17, pct_start=0.25, div_factor=10.0, final_div_factor=100.0), 17),
    ("OneCycleLR", dict(max_lr=0.4, epochs=2, steps_per_epoch=5, anneal_strategy="linear", three_phase=True), 10),
])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_schedules_match_torch(name, kwargs, steps, optimizer):
    ours, theirs, _, _ = _lr_sequences(lambda o: getattr(optim.lr_scheduler, name)(o, **kwargs),
                                       lambda t: getattr(torch.optim.lr_scheduler, name)(t, **kwargs), steps, optimizer)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a[0] == pytest.approx(b[0], rel=1e-12, abs=1e-15), f"lr at step {i}"
        if a[1] is not None:
            assert a[1] == pytest.approx(b[1], rel=1e-12), f"momentum at step {i}"
        if a[2] is not None:
            assert a[2] == pytest.approx(b[2], rel=1e-12), f"betas at step {i}"


def test_one_cycle_rejects_too_many_steps():
    p = nn.Parameter(nc.ones(2))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    schedule = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=3)
    for _ in range(3):
        schedule.step()
    with pytest.raises(ValueError, match="total steps is 3"):
        schedule.step()


def test_schedule_state_dict_round_trip(tmp_path):
    def build():
        p = nn.Parameter(nc.ones(2))
        opt = optim.SGD([p], lr=0.1, momentum=0.9)
        return opt, optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=20, pct_start=0.25)

    opt, schedule = build()
    for _ in range(7):
        schedule.step()
    nc.save({"s": schedule.state_dict(), "o": opt.state_dict()}, tmp_path / "s.npz")
    opt2, schedule2 = build()
    saved = nc.load(tmp_path / "s.npz")
    opt2.load_state_dict(saved["o"])
    schedule2.load_state_dict(saved["s"])
    for _ in range(5):
        schedule.step()
        schedule2.step()
        assert opt.param_groups[0]["lr"] == opt2.param_groups[0]["lr"]
        assert opt.param_groups[0]["momentum"] == opt2.param_groups[0]["momentum"]


def test_cpu_kernels_match_numpy_reference():
    rng = np.random.default_rng(3)
    p, g, buf = (rng.standard_normal(1001) for _ in range(3))
    expected_buf = 0.9 * buf + 0.7 * (g + 0.01 * p)
    expected = p - 0.1 * ((g + 0.01 * p) + 0.9 * expected_buf)
    cpu_optim.sgd_step(p, g, buf, 0.1, 0.9, 0.3, 0.01, True, False)
    np.testing.assert_allclose(buf, expected_buf, rtol=1e-14)
    np.testing.assert_allclose(p, expected, rtol=1e-14)
    p, g, m, v = (rng.standard_normal(1001) for _ in range(4))
    v = np.abs(v)
    m2 = 0.9 * m + 0.1 * g
    v2 = 0.999 * v + 0.001 * g * g
    expected = p * (1 - 1e-3 * 0.1) - (1e-3 / (1 - 0.9**2)) * m2 / (np.sqrt(v2) / math.sqrt(1 - 0.999**2) + 1e-8)
    cpu_optim.adam_step(p, g, m, v, 2, 1e-3, 0.9, 0.999, 1e-8, 0.1, True)
    np.testing.assert_allclose(p, expected, rtol=1e-12)


@pytest.mark.parametrize("make", [lambda g: optim.SGD(g, lr=0.1, momentum=0.9), lambda g: optim.Adam(g, lr=0.1),
                                  lambda g: optim.AdamW(g, lr=0.1)])
@pytest.mark.parametrize("bad", [dict(lr=-0.1), dict(lr=math.nan), dict(lr=math.inf), dict(weight_decay=-1.0),
                                 dict(weight_decay=math.nan)])
def test_per_group_values_are_checked_like_the_defaults(make, bad):
    groups = [dict(params=[nn.Parameter(nc.ones(2))]), dict(params=[nn.Parameter(nc.ones(2))], **bad)]
    name = next(iter(bad))
    with pytest.raises(ValueError, match=f"{name}=.*parameter group 1"):
        make(groups)
    with pytest.raises(ValueError, match=f"{name}="):
        make([dict(params=[nn.Parameter(nc.ones(2))])]).add_param_group(groups[1])


@pytest.mark.parametrize("first, second", [("sgd", "adam"), ("adam", "sgd"), ("adamw", "sgd")])
def test_state_of_another_optimizer_is_refused(first, second):
    make = {"sgd": lambda p: optim.SGD(p, lr=0.1, momentum=0.9), "adam": lambda p: optim.Adam(p),
            "adamw": lambda p: optim.AdamW(p)}
    p = nn.Parameter(nc.ones(3))
    p.grad = nc.ones(3)
    opt = make[first]([p])
    opt.step()
    target = make[second]([nn.Parameter(nc.ones(3))])
    with pytest.raises(ValueError, match="another optimizer"):
        target.load_state_dict(opt.state_dict())
    assert target.state == {}


@pytest.mark.parametrize("total_steps", range(1, 13))
@pytest.mark.parametrize("kwargs", [dict(pct_start=0.25), dict(pct_start=0.2, anneal_strategy="linear", div_factor=5.0),
                                    dict(pct_start=1.0), dict(pct_start=0.0), dict(pct_start=0.5, three_phase=True)])
def test_one_cycle_of_any_length(total_steps, kwargs):
    """Short runs (`--limit 500 --epochs 1` is 4 steps) do not divide by zero; the rates stay within the cycle."""
    p = nn.Parameter(nc.ones(2))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    schedule = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.4, total_steps=total_steps, **kwargs)
    low = 0.4 / kwargs.get("div_factor", 25.0) / 1e4
    rates = [opt.param_groups[0]["lr"]]
    for _ in range(total_steps):
        schedule.step()
        rates.append(opt.param_groups[0]["lr"])
    assert all(math.isfinite(r) and low * (1 - 1e-12) <= r <= 0.4 * (1 + 1e-12) for r in rates), rates
    assert 0.85 <= opt.param_groups[0]["momentum"] <= 0.95
