"""`numbaconv train` / `evaluate` end to end: a real-data smoke run, kill -9 + --resume, bad input."""
import csv
import dataclasses
import math
import os
import pathlib
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import numbaconv as nc
from numbaconv import cli, models
from numbaconv.training import TrainConfig

SHARED_CIFAR = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10"


# `python -m numbaconv` with CIFAR10's official 10,000-images-per-file check off, for the tiny batches written here.
TINY_CLI = ("import functools, sys; import numbaconv.data as d; "
            "d.CIFAR10 = functools.partial(d.CIFAR10, records_per_batch=None); "
            "from numbaconv.cli import main; sys.exit(main())")


def cli_command(*args, tiny=True):
    return [sys.executable, *(["-c", TINY_CLI] if tiny else ["-m", "numbaconv"]), *args]


def run_cli(*args, timeout=600, tiny=True, **kwargs):
    return subprocess.run(cli_command(*args, tiny=tiny), capture_output=True, text=True, timeout=timeout, **kwargs)


def write_tiny_cifar(root, train_count=64, test_count=32, seed=0):
    """Official binary-format CIFAR-10 files with random images (label byte + 3072 pixel bytes each)."""
    folder = root / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)

    def records(count):
        labels = rng.integers(0, 10, size=(count, 1), dtype=np.uint8)
        pixels = rng.integers(0, 256, size=(count, 3072), dtype=np.uint8)
        return np.concatenate([labels, pixels], axis=1).tobytes()

    for i in range(1, 6):
        (folder / f"data_batch_{i}.bin").write_bytes(records(train_count // 5 + (i <= train_count % 5)))
    (folder / "test_batch.bin").write_bytes(records(test_count))
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    (folder / "batches.meta.txt").write_text("\n".join(names) + "\n")
    return root


@pytest.fixture(scope="module")
def real_cifar(tmp_path_factory):
    if not (SHARED_CIFAR / "prepare.py").exists():
        if os.environ.get("NUMBACONV_REQUIRE_CIFAR"):
            pytest.fail(f"CI needs the local CIFAR-10 copy at {SHARED_CIFAR}")
        pytest.skip("no local CIFAR-10 copy beside the checkout")
    pytest.importorskip("PIL")
    target = tmp_path_factory.mktemp("cifar10")
    subprocess.run([sys.executable, str(SHARED_CIFAR / "prepare.py"), str(target)], check=True,
                   capture_output=True, timeout=300)
    return target


def read_metrics(out):
    with open(out / "metrics.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_smoke_training_on_real_cifar_beats_chance(real_cifar, tmp_path):
    out = tmp_path / "run"
    result = run_cli("train", "--model", "keras_net", "--limit", "2000", "--epochs", "1", "--tta",
                     "--data-dir", str(real_cifar), "--out", str(out), "--threads", "2", tiny=False)
    assert result.returncode == 0, result.stderr[-3000:]
    (row,) = read_metrics(out)
    assert set(row) >= {"epoch", "train_loss", "train_acc", "test_loss", "test_acc", "images_per_s", "seconds"}
    chance_loss = math.log(10)
    assert float(row["test_loss"]) < chance_loss - 0.05, row
    assert float(row["test_acc"]) > 0.15, row
    assert 0.15 < float(row["test_acc_tta"]) <= 1, row
    report = run_cli("evaluate", str(out / "checkpoint.npz"), "--data-dir", str(real_cifar), "--tta", tiny=False)
    assert report.returncode == 0, report.stderr[-3000:]
    assert "accuracy" in report.stdout and "airplane" in report.stdout and "truck" in report.stdout
    assert f"accuracy {float(row['test_acc_tta']):.4f} (TTA level 1)" in report.stdout


def _final_weights(out):
    return nc.load(str(out / "checkpoint.npz"))["model"]


def test_kill_during_epoch_then_resume_matches_uninterrupted(tmp_path):
    data = write_tiny_cifar(tmp_path / "data", train_count=640, test_count=64)
    common = ["train", "--model", "keras_net", "--epochs", "3", "--batch-size", "32", "--data-dir", str(data),
              "--threads", "1"]
    reference = tmp_path / "reference"
    assert run_cli(*common, "--out", str(reference)).returncode == 0

    killed = tmp_path / "killed"
    process = subprocess.Popen(cli_command(*common, "--out", str(killed)), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not (killed / "metrics.csv").exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    process.send_signal(signal.SIGKILL)
    process.wait()
    rows_before = read_metrics(killed)
    assert 1 <= len(rows_before) < 3, "the kill should land after epoch 1 was checkpointed and before the end"

    resumed = run_cli(*common, "--out", str(killed), "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resumed from" in resumed.stdout
    assert [int(r["epoch"]) for r in read_metrics(killed)] == [1, 2, 3]
    expected, got = _final_weights(reference), _final_weights(killed)
    assert expected.keys() == got.keys()
    for name in expected:
        np.testing.assert_array_equal(got[name], expected[name], err_msg=name)


def test_missing_data_dir_says_how_to_get_it(tmp_path):
    result = run_cli("train", "--data-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o"))
    assert result.returncode != 0
    assert "download" in result.stderr.lower() or "prepare" in result.stderr.lower()


def test_unknown_model_and_optimizer_are_refused(tmp_path):
    data = write_tiny_cifar(tmp_path / "data")
    bad_model = run_cli("train", "--model", "resnet9000", "--data-dir", str(data))
    assert bad_model.returncode != 0 and "resnet9000" in bad_model.stderr
    bad_opt = run_cli("train", "--optimizer", "lbfgs", "--data-dir", str(data), "--out", str(tmp_path / "o"),
                      "--limit", "8", "--epochs", "1")
    assert bad_opt.returncode != 0 and "lbfgs" in bad_opt.stderr


@pytest.mark.parametrize("command", [["train", "--data-dir", "nowhere"], ["evaluate", "nowhere/checkpoint.npz"]])
def test_cuda_without_gpu_is_a_one_line_error(tmp_path, command):
    if nc.cuda.is_available():
        pytest.skip("a GPU is present")
    result = run_cli(*command, "--device", "cuda", cwd=tmp_path)
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.strip()]
    assert line.startswith("error: --device cuda: ") and nc.cuda.unavailable_reason() in line


@pytest.mark.parametrize("model", sorted(models.MODELS))
def test_cli_without_options_trains_with_the_model_recipe(model):
    config = cli.train_config(cli.build_parser().parse_args(["train", "--model", model]))
    assert config == TrainConfig(model=model)
    recipe = dataclasses.asdict(models.recipe(model))
    assert {name: getattr(config, name) for name in recipe} == recipe
    assert config.out == os.path.join("runs", model)


def test_cli_options_override_the_recipe_one_by_one():
    args = cli.build_parser().parse_args(["train", "--model", "default_net", "--lr", "0.1", "--epochs", "3.5",
                                          "--no-lookahead", "--tta", "--flip", "random", "--eval-every", "2",
                                          "--no-drop-last", "--stem-bias-epochs", "1"])
    config = cli.train_config(args)
    assert (config.model, config.lr, config.epochs, config.lookahead, config.tta) == ("airbench94", 0.1, 3.5, False, 1)
    assert (config.drop_last, config.stem_bias_epochs) == (False, 1)
    assert (config.flip, config.eval_every, config.padding_mode) == ("random", 2, "reflect")
    assert config.batch_size == models.recipe("default_net").batch_size == 1024


def test_recipes_keep_the_cli_defaults():
    adam = dict(batch_size=128, lr=2e-3, optimizer="adam", schedule="onecycle", momentum=0.9, weight_decay=0.0,
                label_smoothing=0.0, bias_lr_scale=1.0, crop_padding=4, epochs=10, flip="random",
                padding_mode="constant", lookahead=False, tta=0, drop_last=False, stem_bias_epochs=0, eval_every=1)
    airbench = dict(batch_size=1024, lr=1.5, optimizer="sgd", schedule="triangle", momentum=0.85,
                    weight_decay=0.0153 / 11.5, label_smoothing=0.2, bias_lr_scale=64.0, crop_padding=2, epochs=9.9,
                    flip="alternating", padding_mode="reflect", lookahead=True, tta=2, drop_last=True,
                    stem_bias_epochs=3, eval_every=0)
    expected = {"keras_net": adam, "torch_net": adam, "airbench94": airbench, "default_net": airbench}
    assert {name: dataclasses.asdict(models.recipe(name)) for name in expected} == expected


def test_checkpoint_of_another_model_is_refused(tmp_path):
    data = write_tiny_cifar(tmp_path / "data")
    out = tmp_path / "run"
    common = ["--data-dir", str(data), "--out", str(out), "--epochs", "1", "--batch-size", "32", "--threads", "1"]
    assert run_cli("train", "--model", "keras_net", *common).returncode == 0
    result = run_cli("train", "--model", "torch_net", "--resume", *common)
    assert result.returncode != 0 and "keras_net" in result.stderr


def test_ctrl_c_says_where_the_checkpoint_is_and_how_to_resume(tmp_path):
    data = write_tiny_cifar(tmp_path / "data", train_count=640, test_count=64)
    out = tmp_path / "run"
    args = ["train", "--epochs", "20", "--batch-size", "32", "--data-dir", str(data), "--out", str(out),
            "--threads", "1"]
    # SIGINT back to its default in the child: a shell's background job (nohup ... &) inherits it ignored
    process = subprocess.Popen(cli_command(*args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 300
    while not (out / "metrics.csv").exists() and time.time() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-3000:]
    assert "Traceback" not in stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith(f"interrupted: the last complete checkpoint is {out / 'checkpoint.npz'} (after epoch ")
    assert last.endswith("--resume") and "--epochs 20" in last
