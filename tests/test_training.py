"""training.evaluate: plain and flip test-time-augmented accuracy against a direct computation."""
import numpy as np

import numbaconv as nc
from numbaconv import data, nn
from numbaconv.training import evaluate


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
