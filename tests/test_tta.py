"""numbaconv.tta against the same augmentations written in numpy (and against torch's reflect pad where installed)."""
import numpy as np
import pytest

import numbaconv as nc
from numbaconv import tta


class _Linear:
    """A fixed linear classifier of flattened images: logits = images.reshape(N, -1) @ W."""

    def __init__(self, shape, classes=3):
        self.w = np.random.default_rng(1).standard_normal((int(np.prod(shape)), classes))

    def __call__(self, images):
        return images.reshape(images.shape[0], -1) @ nc.tensor(self.w)

    def numpy(self, images):
        return images.reshape(images.shape[0], -1) @ self.w


@pytest.mark.parametrize("shape", [(2, 3, 5, 4), (1, 1, 2, 2), (3, 2, 8, 8)])
def test_levels_match_numpy(shape):
    x = np.random.default_rng(0).standard_normal(shape)
    model = _Linear(shape[1:])
    mirror = lambda v: 0.5 * (model.numpy(v) + model.numpy(v[..., ::-1]))  # noqa: E731
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="reflect")
    h, w = shape[2:]
    level2 = 0.5 * mirror(x) + 0.25 * (mirror(padded[..., :h, :w]) + mirror(padded[..., 2:, 2:]))
    for level, want in ((0, model.numpy(x)), (1, mirror(x)), (2, level2)):
        np.testing.assert_allclose(tta.tta_logits(model, nc.tensor(x), level).numpy(), want, rtol=1e-12)


@pytest.mark.parametrize("level, passes", [(0, 1), (1, 2), (2, 6)])
def test_plain_logits_come_from_the_first_view(level, passes):
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 4))
    model = _Linear(x.shape[1:])
    calls = []
    counted = lambda images: calls.append(1) or model(images)  # noqa: E731
    plain, augmented = tta.plain_and_tta_logits(counted, nc.tensor(x), level)
    assert len(calls) == passes
    np.testing.assert_allclose(plain.numpy(), model.numpy(x), rtol=1e-12)
    np.testing.assert_allclose(augmented.numpy(), tta.tta_logits(model, nc.tensor(x), level).numpy(), rtol=1e-12)


def test_reflect_padding_is_torchs():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 6))
    want = torch.nn.functional.pad(torch.tensor(x), (1, 1, 1, 1), mode="reflect").numpy()
    np.testing.assert_array_equal(tta._reflect_pad1(nc.tensor(x)).numpy(), want)


def test_bad_levels_name_the_option():
    model = _Linear((1, 1, 4))
    with pytest.raises(ValueError, match=r"tta must be one of \(0, 1, 2\), got 3"):
        tta.tta_logits(model, nc.zeros((1, 1, 1, 4)), 3)
    with pytest.raises(ValueError, match=r"tta=2 .* H, W >= 2 .* got images of shape \(1, 1, 1, 4\)"):
        tta.tta_logits(model, nc.zeros((1, 1, 1, 4)), 2)
