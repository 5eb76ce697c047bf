"""Adagrad, RMSprop, Adadelta and the learning-rate schedules of issue 16 against PyTorch (same start, same
gradients, float32 and float64), their state_dict round trips and hyper-parameter errors."""
import math

import numpy as np
import pytest

import numbaconv as nc
from numbaconv import nn, optim
from numbaconv.optim import lr_scheduler

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed (it is the oracle of these tests)")
RNG = np.random.default_rng(7)

OPTIMIZERS = [
    ("Adagrad", {}),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.01, initial_accumulator_value=0.3, eps=1e-6)),
    ("RMSprop", {}),
    ("RMSprop", dict(lr=0.02, alpha=0.9, momentum=0.8, centered=True, weight_decay=0.01)),
    ("RMSprop", dict(lr=0.02, centered=True, maximize=True)),
    ("RMSprop", dict(lr=0.02, momentum=0.5)),
    ("Adadelta", {}),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1, maximize=True)),
]


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, kwargs", OPTIMIZERS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(OPTIMIZERS)])
def test_optimizer_matches_torch(name, kwargs, dtype):
    start = [RNG.standard_normal((3, 5)).astype(dtype), RNG.standard_normal(4).astype(dtype)]
    grads = [[RNG.standard_normal(s.shape).astype(dtype) for s in start] for _ in range(5)]
    ours = [nn.Parameter(nc.tensor(s)) for s in start]
    theirs = [torch.nn.Parameter(torch.tensor(s)) for s in start]
    opt_o = getattr(optim, name)([{"params": ours[:1]}, {"params": ours[1:], "lr": 0.05}], **kwargs)
    opt_t = getattr(torch.optim, name)([{"params": theirs[:1]}, {"params": theirs[1:], "lr": 0.05}], **kwargs)
    for step in grads:
        for p, q, g in zip(ours, theirs, step):
            p.grad, q.grad = nc.tensor(g), torch.tensor(g)
        opt_o.step()
        opt_t.step()
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=tol, atol=tol)
    state_t = opt_t.state_dict()["state"]
    for index, entries in opt_o.state_dict()["state"].items():
        assert set(entries) == set(state_t[index])
        for key, value in entries.items():
            expected = state_t[index][key]
            np.testing.assert_allclose(np.asarray(value), expected.numpy() if hasattr(expected, "numpy") else expected,
                                       rtol=tol, atol=tol, err_msg=key)


@pytest.mark.parametrize("name, kwargs", OPTIMIZERS[1::2], ids=lambda v: v if isinstance(v, str) else "")
def test_optimizer_state_dict_round_trip_continues_identically(name, kwargs):
    start = RNG.standard_normal((2, 3))
    grads = [RNG.standard_normal((2, 3)) for _ in range(4)]
    a, b = nn.Parameter(nc.tensor(start)), nn.Parameter(nc.tensor(start))
    opt_a = getattr(optim, name)([a], **kwargs)
    for g in grads[:2]:
        a.grad = nc.tensor(g)
        opt_a.step()
    b.array[...] = a.detach().numpy()
    opt_b = getattr(optim, name)([b], **kwargs)
    opt_b.load_state_dict(opt_a.state_dict())
    for g in grads[2:]:
        a.grad, b.grad = nc.tensor(g), nc.tensor(g)
        opt_a.step()
        opt_b.step()
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    with pytest.raises(ValueError, match="a state of another optimizer"):
        optim.SGD([b], lr=0.1, momentum=0.9).load_state_dict(opt_a.state_dict())


@pytest.mark.parametrize("make, message", [
    (lambda p: optim.Adagrad(p, lr_decay=-1), "invalid lr_decay=-1"),
    (lambda p: optim.RMSprop(p, alpha=float("nan")), "invalid alpha=nan"),
    (lambda p: optim.RMSprop(p, momentum=-0.5), "invalid momentum=-0.5"),
    (lambda p: optim.Adadelta(p, rho=1.5), r"invalid rho=1.5: expected a number in \[0, 1\]"),
    (lambda p: optim.Adadelta(p, lr=-1.0), "invalid learning rate lr=-1.0"),
])
def test_optimizer_hyper_parameters_are_checked(make, message):
    with pytest.raises(ValueError, match=message):
        make([nn.Parameter(nc.zeros(2))])


def _sgd(lib, groups=1):
    params = [lib.nn.Parameter(lib.zeros(2)) for _ in range(groups)]
    return lib.optim.SGD([{"params": [p], "lr": 0.5 * (i + 1)} for i, p in enumerate(params)], lr=0.5, momentum=0.9)


SCHEDULES = {
    "MultiStepLR": lambda s, o: s.MultiStepLR(o, [2, 5, 5, 9], 0.5),
    "ExponentialLR": lambda s, o: s.ExponentialLR(o, 0.9),
    "LambdaLR": lambda s, o: s.LambdaLR(o, lambda epoch: 1 / (epoch + 1)),
    "LambdaLR per group": lambda s, o: s.LambdaLR(o, [lambda e: 0.9**e, lambda e: 1.0 + e]),
    "MultiplicativeLR": lambda s, o: s.MultiplicativeLR(o, lambda epoch: 0.95),
    "ConstantLR": lambda s, o: s.ConstantLR(o, 0.5, 3),
    "LinearLR": lambda s, o: s.LinearLR(o, 0.1, 1.0, 4),
    "LinearLR down": lambda s, o: s.LinearLR(o, 1.0, 0.2, 6),
    "SequentialLR warmup+cosine": lambda s, o: s.SequentialLR(
        o, [s.LinearLR(o, 0.1, 1.0, 3), s.CosineAnnealingLR(o, 6)], [3]),
    "SequentialLR three": lambda s, o: s.SequentialLR(
        o, [s.ConstantLR(o, 0.2, 2), s.ExponentialLR(o, 0.9), s.StepLR(o, 2)], [2, 6]),
    "SequentialLR multistep": lambda s, o: s.SequentialLR(
        o, [s.ExponentialLR(o, 0.8), s.MultiStepLR(o, [7, 9], 0.3)], [4]),
}


@needs_torch
@pytest.mark.parametrize("name", list(SCHEDULES))
def test_scheduler_matches_torch(name):
    ours_opt, theirs_opt = _sgd(nc, 2), _sgd(torch, 2)
    ours = SCHEDULES[name](lr_scheduler, ours_opt)
    theirs = SCHEDULES[name](torch.optim.lr_scheduler, theirs_opt)
    assert ours.get_last_lr() == theirs.get_last_lr()
    for _ in range(13):
        ours_opt.step()
        theirs_opt.step()
        ours.step()
        theirs.step()
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-15, abs=0)
        assert [g["lr"] for g in ours_opt.param_groups] == pytest.approx([g["lr"] for g in theirs_opt.param_groups])


@needs_torch
@pytest.mark.parametrize("kwargs", [dict(patience=1, cooldown=1), dict(mode="max", factor=0.5, patience=0,
                                                                        threshold_mode="abs", threshold=0.01),
                                    dict(min_lr=[0.2, 0.01], factor=0.3, patience=0)])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.8, 0.81, 0.81, 0.81, 0.81, 0.81, 0.5, 0.5, 0.5]
    ours_opt, theirs_opt = _sgd(nc, 2), _sgd(torch, 2)
    ours = lr_scheduler.ReduceLROnPlateau(ours_opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs_opt, **kwargs)
    for value in metrics:
        ours.step(nc.tensor(value))
        theirs.step(torch.tensor(value))
        assert ours.get_last_lr() == theirs.get_last_lr()
        assert (ours.best, ours.num_bad_epochs, ours.cooldown_counter) == (
            theirs.best, theirs.num_bad_epochs, theirs.cooldown_counter)


def test_scheduler_state_dict_round_trip():
    first, second = _sgd(nc), _sgd(nc)
    make = SCHEDULES["SequentialLR warmup+cosine"]
    a, b = make(lr_scheduler, first), make(lr_scheduler, second)
    for _ in range(4):
        a.step()
    b.load_state_dict(a.state_dict())
    for group in second.param_groups:
        group["lr"] = first.param_groups[0]["lr"]
    for _ in range(5):
        a.step()
        b.step()
        assert a.get_last_lr() == b.get_last_lr()
    plateau = lr_scheduler.ReduceLROnPlateau(first, patience=0)
    plateau.step(1.0)
    restored = lr_scheduler.ReduceLROnPlateau(second)
    restored.load_state_dict(plateau.state_dict())
    assert restored.best == 1.0 and restored.patience == 0


def test_lambda_lr_state_dict_keeps_callable_objects_state():
    class Warmup:
        def __init__(self):
            self.steps = 3

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.steps)

    opt = _sgd(nc)
    schedule = lr_scheduler.LambdaLR(opt, Warmup())
    schedule.lr_lambdas[0].steps = 5
    state = schedule.state_dict()
    assert state["lr_lambdas"] == [{"steps": 5}]
    fresh = lr_scheduler.LambdaLR(_sgd(nc), Warmup())
    fresh.load_state_dict(state)
    assert fresh.lr_lambdas[0].steps == 5


def test_closed_forms_jump_to_an_epoch():
    opt = _sgd(nc)
    schedule = lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.1)
    schedule.step(5)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 + 0.4 * (1 + math.cos(math.pi / 2)) / 2)
    step = lr_scheduler.StepLR(_sgd(nc), 3, gamma=0.5)
    step.step(7)
    assert step.get_last_lr() == [0.5 * 0.25]


@pytest.mark.parametrize("make, error, message", [
    (lambda o: lr_scheduler.LinearLR(o, start_factor=0), ValueError, r"start_factor must be in \(0, 1\]"),
    (lambda o: lr_scheduler.ConstantLR(o, factor=2), ValueError, r"factor must be in \[0, 1\]"),
    (lambda o: lr_scheduler.MultiStepLR(o, [1.5]), TypeError, "milestones must be ints"),
    (lambda o: lr_scheduler.LambdaLR(o, 3), TypeError, "lr_lambda must be a function"),
    (lambda o: lr_scheduler.LambdaLR(o, [lambda e: 1, lambda e: 2]), ValueError, "expected 1 values"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.ExponentialLR(o, 0.9)], [2]), ValueError,
     "expected 0 milestones"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.ExponentialLR(_sgd(nc), 0.9)], []), ValueError,
     "belongs to another optimizer"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), ValueError, "factor must be < 1.0"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="up"), ValueError, "mode must be 'min' or 'max'"),
])
def test_scheduler_arguments_are_checked(make, error, message):
    with pytest.raises(error, match=message):
        make(_sgd(nc))
