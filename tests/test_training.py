"""training: evaluate (plain and flip TTA) against a direct computation; fit on tiny CIFAR-10 copies (resume,
metrics kept with the checkpoint, short schedules, interruption, stale temporaries)."""
import functools
import os
import re
import subprocess
import sys
import types

import numpy as np
import pytest
from test_train_cli import write_tiny_cifar

import numbaconv as nc
from numbaconv import data, nn, training
from numbaconv.training import ConfigError, Interrupted, TrainConfig, evaluate, fit


def test_flip_tta_averages_logits_of_image_and_mirror():
    rng = np.random.default_rng(0)
    images = rng.standard_normal((12, 3, 4, 5)).astype(np.float32)
    labels = rng.integers(0, 3, 12)
    nc.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(60, 3))
    loader = data.DataLoader(data.ArrayDataset(images, labels), batch_size=5)
    weight = model[1].weight.detach().numpy().astype(np.float64)
    bias = model[1].bias.detach().numpy().astype(np.float64)

    def logits(x):
        return x.reshape(len(x), -1) @ weight.T + bias

    plain, mirrored = logits(images), logits(images[..., ::-1])
    for tta, expected in ((False, plain), (True, (plain + mirrored) / 2)):
        loss, accuracy, predictions, truths = evaluate(model, loader, "cpu", tta=tta)
        np.testing.assert_array_equal(predictions, expected.argmax(1))
        np.testing.assert_array_equal(truths, labels)
        assert accuracy == (expected.argmax(1) == labels).mean()
        shifted = expected - expected.max(1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
        np.testing.assert_allclose(loss, -log_probs[np.arange(12), labels].mean(), rtol=1e-5)


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A factory of TrainConfigs on a tiny binary CIFAR-10 (64 train, 32 test images; batches of 32)."""
    monkeypatch.setattr(data, "CIFAR10", functools.partial(data.CIFAR10, records_per_batch=None))
    root = write_tiny_cifar(tmp_path / "data", train_count=80)

    def config(**fields):
        fields = {"model": "keras_net", "epochs": 1, "batch_size": 32, "limit": 64, "data_dir": str(root),
                  "out": str(tmp_path / "run"), "augment": False, **fields}
        return TrainConfig(**fields)

    return config


def quiet(*args):
    pass


def test_metrics_row_survives_a_death_between_checkpoint_and_metrics(tiny, monkeypatch):
    real, calls = training._write_metrics, []

    def die_at_epoch_2(path, rows):
        calls.append(len(rows))
        if len(rows) == 2:
            raise SystemExit("killed")
        real(path, rows)

    monkeypatch.setattr(training, "_write_metrics", die_at_epoch_2)
    with pytest.raises(SystemExit):
        fit(tiny(epochs=3), log=quiet)
    monkeypatch.setattr(training, "_write_metrics", real)
    rows, _ = fit(tiny(epochs=3, resume=True), log=quiet)
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    with open(os.path.join(tiny().out, "metrics.csv")) as handle:
        assert [line.split(",")[0] for line in handle.read().split()[1:]] == ["1", "2", "3"]


@pytest.mark.parametrize("optimizer, schedule", [("adam", "onecycle"), ("sgd", "cosine")])
def test_resume_with_more_epochs_continues_the_stretched_schedule(tiny, optimizer, schedule):
    fit(tiny(epochs=1, optimizer=optimizer, schedule=schedule), log=quiet)
    rows, model = fit(tiny(epochs=2, optimizer=optimizer, schedule=schedule, resume=True), log=quiet)
    assert [r["epoch"] for r in rows] == [1, 2]
    state = nc.load(os.path.join(tiny().out, "checkpoint.npz"))
    assert state["epoch"] == 2 and all(np.isfinite(r["train_loss"]) for r in rows)
    with pytest.raises(ConfigError, match="must be more than 1 to resume") as info:
        fit(tiny(epochs=1, optimizer=optimizer, schedule=schedule, resume=True), log=quiet)
    assert info.value.field == "epochs"


@pytest.mark.parametrize("first, second", [("sgd", "adam"), ("adam", "sgd")])
def test_resume_with_another_optimizer_is_refused(tiny, first, second):
    fit(tiny(optimizer=first, schedule="none"), log=quiet)
    with pytest.raises(ConfigError, match=f"trained with '{first}'") as info:
        fit(tiny(optimizer=second, schedule="none", epochs=2, resume=True), log=quiet)
    assert info.value.field == "optimizer"


@pytest.mark.parametrize("limit, schedule", [(64, "onecycle"), (80, "linear")])
def test_four_step_onecycle_and_five_step_linear_runs(tiny, limit, schedule):
    rows, _ = fit(tiny(limit=limit, batch_size=16, schedule=schedule, optimizer="sgd"), log=quiet)
    assert len(rows) == 1 and np.isfinite(rows[0]["train_loss"])


def test_ctrl_c_names_the_last_checkpoint_and_stale_temporaries_go(tiny, monkeypatch):
    out = tiny().out
    os.makedirs(out)
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    stale = f".checkpoint.npz.{process.pid}.0123456789abcdef.tmp"
    open(os.path.join(out, stale), "wb").close()
    real, calls = training.train_one_epoch, []

    def interrupt_epoch_2(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(training, "train_one_epoch", interrupt_epoch_2)
    with pytest.raises(Interrupted) as info:
        fit(tiny(epochs=3), log=quiet)
    assert (info.value.checkpoint, info.value.epoch) == (os.path.join(out, "checkpoint.npz"), 1)
    assert {"checkpoint.npz", "metrics.csv"} <= set(os.listdir(out)) and not [n for n in os.listdir(out) if n[0] == "."]


def test_airbench_recipe_trains_fractional_epochs_and_evaluates_once_at_the_end_with_tta(tiny):
    """airbench94's recipe on 64 images, batch 16, 2.5 epochs: 10 steps (4, 4, 2; the last partial batch dropped),
    the triangle schedule ending at 0.07 x lr, Lookahead saved with the checkpoint, the stem bias frozen after
    ``stem_bias_epochs``, one evaluation after the last epoch with TTA level 2 beside the plain accuracy."""
    config = tiny(model="airbench94", epochs=2.5, batch_size=16, augment=True, stem_bias_epochs=1)
    steps = []
    real = training.train_one_epoch

    def counting(*args, **kwargs):
        steps.append(args[8] if len(args) > 8 else kwargs["steps"])
        return real(*args, **kwargs)

    training.train_one_epoch = counting
    try:
        rows, model = fit(config, log=quiet)
    finally:
        training.train_one_epoch = real
    assert steps == [4, 4, 2]
    assert [r["test_acc"] == "" for r in rows] == [True, True, False]
    assert 0 <= rows[-1]["test_acc_tta"] <= 1 and rows[-1]["test_acc_tta"] != ""
    assert model[0].bias.requires_grad is False and model[0].weight.requires_grad is False
    state = nc.load(os.path.join(config.out, "checkpoint.npz"))
    weights = training.Lookahead(model).weights
    assert len(state["lookahead"]["slow"]) == len(weights)
    for slow, weight in zip(state["lookahead"]["slow"], weights):
        np.testing.assert_array_equal(slow, weight.detach().numpy())  # the run ends on the average


def test_airbench_recipe_resumed_after_an_epoch_ends_where_the_whole_run_does(tiny, monkeypatch):
    whole, _ = fit(tiny(model="airbench94", epochs=2.5, batch_size=16, augment=True), log=quiet)
    expected = nc.load(os.path.join(tiny().out, "checkpoint.npz"))["model"]
    for name in os.listdir(tiny().out):
        os.remove(os.path.join(tiny().out, name))
    real, calls = training.train_one_epoch, []

    def interrupt_epoch_2(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(training, "train_one_epoch", interrupt_epoch_2)
    with pytest.raises(Interrupted):
        fit(tiny(model="airbench94", epochs=2.5, batch_size=16, augment=True), log=quiet)
    monkeypatch.setattr(training, "train_one_epoch", real)
    rows, _ = fit(tiny(model="airbench94", epochs=2.5, batch_size=16, augment=True, resume=True), log=quiet)
    resumed = nc.load(os.path.join(tiny().out, "checkpoint.npz"))["model"]
    for name, value in expected.items():
        np.testing.assert_array_equal(resumed[name], value, err_msg=name)
    assert rows[-1]["test_acc"] == whole[-1]["test_acc"]


def test_triangle_schedule_and_step_hook_follow_airbench():
    model = nn.Sequential(nn.Linear(2, 2))
    optimizer = training.make_optimizer("sgd", training.parameter_groups(model, 1.0, 0.0), 0.85)
    schedule = training.make_schedule("triangle", optimizer, 2.5, 40)
    factors = [optimizer.param_groups[0]["lr"]]
    for _ in range(100):
        optimizer.step()
        schedule.step()
        factors.append(optimizer.param_groups[0]["lr"])
    np.testing.assert_allclose(factors, np.interp(np.arange(101), [0, 23, 100], [0.2, 1.0, 0.07]), rtol=1e-12)
    updates = []

    class Recording:
        def update(self, decay):
            updates.append(decay)

    hook = training.StepHook(Recording(), total=12)
    for _ in range(12):
        hook()
    assert updates == [training.lookahead_decay(5, 12), training.lookahead_decay(10, 12), 1.0]


def test_resume_with_lookahead_switched_is_refused_by_name(tiny):
    fit(tiny(model="airbench94", batch_size=16, lookahead=False), log=quiet)
    with pytest.raises(ConfigError, match="--no-lookahead or start a new --out") as info:
        fit(tiny(model="airbench94", batch_size=16, epochs=2, resume=True), log=quiet)
    assert info.value.field == "lookahead"


class _Stop(Exception):
    pass


def test_no_augment_turns_the_alternating_flip_off_too(tiny, monkeypatch):
    seen = []

    def first_epoch(config, epoch, trainer, train_set, *rest):
        seen.append(train_set)
        raise _Stop

    monkeypatch.setattr(training, "_train_epoch", first_epoch)
    for augment in (False, True):
        with pytest.raises(_Stop):
            fit(tiny(model="airbench94", batch_size=16, augment=augment), log=quiet)
    assert [isinstance(s, data.AlternatingFlip) for s in seen] == [False, True]


class _Ranks:
    """A World stand-in whose ranks disagree: bounds answer (smallest, largest) as if another rank had ``other``."""

    size = 2

    def __init__(self, other):
        self.other = other

    def bounds(self, value):
        return min(float(value), self.other), max(float(value), self.other)


def test_resume_is_refused_by_name_when_the_ranks_find_different_checkpoints(tiny):
    config = tiny(resume=True)
    path = os.path.join(config.out, "checkpoint.npz")
    with pytest.raises(ConfigError, match="every process sees to --resume: .* exists for some of the 2") as info:
        training.resume_point(config, path, _Ranks(other=1.0))
    assert info.value.field == "out"
    assert training.resume_point(config, path, _Ranks(other=0.0)) is False
    with pytest.raises(ConfigError, match="is after epoch 2 for some of the 2 processes and after 3 for others"):
        training.check_same_epoch(3, path, _Ranks(other=2.0))
    training.check_same_epoch(3, path, _Ranks(other=3.0))


@pytest.mark.parametrize("world_size, expected", [(1, "at most the 10 training images"),
                                                  (3, "at most 12 (3 processes x 4, their shares of the 10 training")])
def test_a_batch_larger_than_the_dropped_epoch_names_the_real_image_count(world_size, expected):
    config = types.SimpleNamespace(batch_size=15, drop_last=True)
    with pytest.raises(ConfigError, match=re.escape(expected)) as info:
        training.steps_per_epoch(config, 10, world_size)
    assert info.value.field == "batch_size"


def test_the_curves_figure_is_closed_when_saving_it_fails(tmp_path, monkeypatch):
    plt = pytest.importorskip("matplotlib.pyplot")

    def fail(path, write, mode="wb"):
        raise OSError(28, "No space left on device", path)

    monkeypatch.setattr(training, "write_atomically", fail)
    row = dict(epoch=1, train_loss=1.0, train_acc=0.5, test_loss=1.0, test_acc=0.5)
    before = set(plt.get_fignums())
    with pytest.raises(OSError, match="No space left"):
        training._plot_curves(str(tmp_path / "curves.png"), [row])
    assert set(plt.get_fignums()) == before
