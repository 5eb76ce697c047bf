"""training: evaluate (plain and flip TTA) against a direct computation; fit on tiny CIFAR-10 copies (resume,
metrics kept with the checkpoint, short schedules, interruption, stale temporaries)."""
import functools
import os
import subprocess
import sys

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
    with pytest.raises(ConfigError, match="at least 2") as info:
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
