"""`numbaconv train | evaluate` refuse bad input up front: one line naming the option or the file, exit 2."""
import numpy as np
import pytest

import numbaconv as nc
from numbaconv import cli

BAD_TRAIN = [
    (["--lr", "-0.1"], "--lr must be a positive finite number, got -0.1"),
    (["--lr", "nan"], "--lr must be a positive finite number, got nan"),
    (["--lr", "inf"], "--lr must be a positive finite number, got inf"),
    (["--lr", "0"], "--lr must be a positive finite number, got 0.0"),
    (["--weight-decay", "-0.0001"], "--weight-decay must be a finite number >= 0, got -0.0001"),
    (["--epochs", "-1", "--schedule", "none"], "--epochs must be a number >= 1 (a fraction trains part of the last "
                                                "epoch), got -1.0"),
    (["--epochs", "0.5"], "--epochs must be a number >= 1"),
    (["--tta", "3"], "--tta must be one of [0, 1, 2], got 3"),
    (["--flip", "sideways"], "--flip must be one of ['alternating', 'none', 'random'], got 'sideways'"),
    (["--padding-mode", "wrap"], "--padding-mode must be one of ['constant', 'reflect'], got 'wrap'"),
    (["--eval-every", "-1"], "--eval-every must be an integer >= 0"),
    (["--optimizer", "adam"], "--lookahead is airbench's averaging of an SGD run; got optimizer 'adam'"),
    (["--batch-size", "0"], "--batch-size must be a positive integer, got 0"),
    (["--bias-lr-scale", "0"], "--bias-lr-scale must be a positive finite number, got 0.0"),
    (["--limit", "0"], "--limit must be a positive integer, got 0"),
    (["--momentum", "1.5"], "--momentum must be a number in [0, 1), got 1.5"),
    (["--label-smoothing", "2"], "--label-smoothing must be a number in [0, 1], got 2.0"),
    (["--crop-padding", "-1"], "--crop-padding must be an integer >= 0, got -1"),
    (["--seed", "-3"], "--seed must be an integer >= 0, got -3"),
    (["--optimizer", "lbfgs"], "--optimizer must be one of ['adam', 'adamw', 'sgd'], got 'lbfgs'"),
    (["--schedule", "warp"], "--schedule must be one of ['cosine', 'linear', 'none', 'onecycle', 'step', "
                                "'triangle'], got 'warp'"),
    (["--model", "resnet9000"], "--model must be one of"),
    (["--threads", "0"], "--threads must be an integer in [1, "),
    (["--stem-bias-epochs", "-1"], "--stem-bias-epochs must be an integer >= 0, got -1"),
]


def run(argv, capsys):
    code = cli.main(argv)
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert "Traceback" not in captured.err
    assert len(lines) == 1, captured.err
    return code, lines[0]


@pytest.mark.parametrize("options, message", BAD_TRAIN, ids=[" ".join(o) for o, _ in BAD_TRAIN])
def test_bad_train_option_is_one_line_naming_it(tmp_path, capsys, options, message):
    code, line = run(["train", *options, "--data-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")],
                     capsys)
    assert code == 2 and line.startswith(f"error: {message}"), line
    assert not (tmp_path / "o").exists()


def test_out_naming_a_file(tmp_path, capsys):
    (tmp_path / "taken").write_text("x")
    code, line = run(["train", "--out", str(tmp_path / "taken"), "--data-dir", str(tmp_path)], capsys)
    assert code == 2 and line.startswith("error: --out must be a folder") and "taken" in line


def test_evaluate_on_a_folder(tmp_path, capsys):
    code, line = run(["evaluate", str(tmp_path)], capsys)
    assert code == 2 and "is a folder" in line and str(tmp_path) in line


def test_evaluate_missing_checkpoint(tmp_path, capsys):
    code, line = run(["evaluate", str(tmp_path / "gone.npz")], capsys)
    assert code == 2 and line == f"error: {tmp_path / 'gone.npz'}: No such file or directory"


@pytest.mark.parametrize("state, message", [
    (None, "not a numbaconv checkpoint"),
    ([1, 2], "not a numbaconv training checkpoint (no 'model_name')"),
    ({"model_name": "keras_net"}, "no 'model'"),
    ({"model_name": "alexnet", "model": {}}, "unknown model 'alexnet'"),
    ({"model_name": "keras_net", "model": {"w": np.zeros(2)}}, "does not hold keras_net weights"),
    ({"model_name": "keras_net", "model": "weights"}, "does not hold keras_net weights"),
])
def test_evaluate_foreign_or_malformed_checkpoint(tmp_path, capsys, state, message):
    path = tmp_path / "checkpoint.npz"
    if state is None:
        path.write_bytes(b"PK\x03\x04 not really a zip")
    else:
        nc.save(state, path)
    code, line = run(["evaluate", str(path)], capsys)
    assert code == 2 and message in line and str(path) in line, line
