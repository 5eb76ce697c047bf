"""A torch name that numbaconv.nn, nn.functional, optim or optim.lr_scheduler lacks raises an AttributeError that
says so and names the closest numbaconv feature, without Python's misleading "Did you mean"."""
import subprocess
import sys

import pytest

import numbaconv.nn as nn
import numbaconv.nn.functional as F
import numbaconv.optim as optim
from numbaconv.optim import lr_scheduler


@pytest.mark.parametrize("module, name, hint", [
    (nn, "Conv1d", "use Conv2d on an (N, C, 1, L) view"),
    (nn, "LSTM", "no embedding, recurrent or attention layers"),
    (nn, "LeakyRelu", "numbaconv.nn.LeakyReLU"),
    (F, "nll_los", "numbaconv.nn.functional.nll_loss"),
    (F, "one_hot", "numbaconv.eye(num_classes)[labels]"),
    (optim, "Adamw", "numbaconv.optim.AdamW"),
    (optim, "NAdam", "SGD, Adam, AdamW, RMSprop, Adagrad and Adadelta"),
    (lr_scheduler, "CyclicLR", "MultiStepLR, ExponentialLR"),
])
def test_missing_names_point_at_numbaconv_features(module, name, hint):
    with pytest.raises(AttributeError, match="is not implemented") as error:
        getattr(module, name)
    assert hint in str(error.value)
    assert module.__name__ in str(error.value)


def test_unknown_names_and_dunders():
    with pytest.raises(AttributeError, match="see the README"):
        nn.NoSuchLayer  # noqa: B018
    with pytest.raises(AttributeError, match="has no attribute '__wrapped__'"):
        nn.__wrapped__  # noqa: B018


def test_python_adds_no_did_you_mean():
    code = "import numbaconv.nn.functional as F\nF.nll_los"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "nn.functional.nll_loss" in result.stderr and "Did you mean" not in result.stderr
