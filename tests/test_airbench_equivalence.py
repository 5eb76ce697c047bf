"""numbaconv's airbench94 recipe step for step against the PyTorch reference (bench/airbench_reference.py).

float64, identical initial weights (the reference is the twin of the whitened numbaconv model) and identical
augmented batches (numbaconv's training.epoch_loader: alternating flip, reflect translation, shuffle, the last
partial batch dropped): 20 steps over 2.5 epochs of 8 steps, the stem bias frozen after the first, with the
triangle schedule, both parameter groups, BatchNorm, label smoothing, Nesterov SGD and Lookahead. Weights and
BatchNorm statistics agree to 1e-10 relative after every epoch, and so do the TTA level 2 logits at the end.
"""
import itertools
import os

import numpy as np
import pytest

import numbaconv as nc
from numbaconv import data, models, training
from numbaconv.tta import tta_logits

torch = pytest.importorskip("torch")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def reference_module(monkeypatch):
    monkeypatch.syspath_prepend(ROOT)
    from bench import airbench_reference, torch_twin

    return airbench_reference, torch_twin


def _relative(ours, theirs):
    theirs = np.asarray(theirs, np.float64)
    return float(np.abs(np.asarray(ours) - theirs).max() / max(np.abs(theirs).max(), 1e-300))


def test_twenty_steps_of_the_recipe_agree_with_pytorch_in_float64(tmp_path, reference_module):
    airbench_reference, torch_twin = reference_module
    torch.set_default_dtype(torch.float64)
    try:
        _run(tmp_path, airbench_reference, torch_twin)
    finally:
        torch.set_default_dtype(torch.float32)


def _run(tmp_path, airbench_reference, torch_twin):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (136, 32, 32, 3), dtype=np.uint8)
    train_set = data.ArrayDataset(images, rng.integers(0, 10, 136))
    config = training.TrainConfig(model="airbench94", batch_size=16, epochs=2.5, stem_bias_epochs=1,
                                  out=str(tmp_path / "run"))
    nc.manual_seed(0)
    model = models.build("airbench94").double()
    whitening = next(iter(training.make_loader(train_set, 64, train=False, augment=False, seed=0)))
    models.init_from_data("airbench94", model, whitening[0].numpy().astype(np.float64))
    per_epoch = training.steps_per_epoch(config, len(train_set))
    total = training.total_steps(config.epochs, per_epoch)
    assert (per_epoch, total) == (8, 20)
    reference = airbench_reference.Reference(torch_twin.twin(model), total, whiten_bias_epochs=1)
    optimizer, schedule, lookahead = training.make_training(config, model, per_epoch)
    hook = training.StepHook(lookahead, total)
    flips = data.AlternatingFlip(train_set, generator=np.random.default_rng(config.seed))
    for epoch in range(1, 4):
        steps = min(per_epoch, total - (epoch - 1) * per_epoch)
        batches = [(images.numpy().astype(np.float64), labels.numpy())
                   for images, labels in itertools.islice(training.epoch_loader(config, flips, epoch), steps)]
        training.set_stem_bias(model, epoch - 1, config.stem_bias_epochs)
        reference.set_epoch(epoch - 1)
        ours = training.train_one_epoch(model, [(nc.tensor(x), nc.tensor(y)) for x, y in batches], optimizer,
                                        schedule, "cpu", config.label_smoothing, f"epoch {epoch}", after_step=hook)
        theirs = [float(reference.train_step(torch.from_numpy(x), torch.from_numpy(y))) for x, y in batches]
        assert ours[0] == pytest.approx(np.mean(theirs), rel=1e-10), epoch
        expected = reference.net.state_dict()
        for name, value in model.state_dict().items():
            assert _relative(value, expected[name].numpy()) < 1e-10, (epoch, name)
    assert model[0].bias.requires_grad is False and reference.net[0].bias.requires_grad is False
    test = nc.tensor(rng.standard_normal((6, 3, 32, 32)))
    model.eval()
    with nc.no_grad():
        ours = tta_logits(model, test, 2).numpy()
    assert _relative(ours, reference.logits(torch.from_numpy(test.numpy()), 2).numpy()) < 1e-10
