"""The pieces of airbench's augmentation: reflect-padded random translation and the alternating flip."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numbaconv import data
from numbaconv.data import transforms
from numbaconv.data.alternating_flip import AlternatingFlip


@given(n=st.integers(1, 4), h=st.integers(2, 9), w=st.integers(2, 9), padding=st.integers(0, 8),
       seed=st.integers(0, 2**32 - 1), as_float=st.booleans())
@settings(max_examples=25)
def test_reflect_crop_matches_numpy_reflect_padding(n, h, w, padding, seed, as_float):
    padding = min(padding, h - 1, w - 1)
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, h, w, 3), dtype=np.uint8)
    size = (h, w)
    draws = np.random.default_rng(seed)
    top, left = draws.integers(0, 2 * padding + 1, n), draws.integers(0, 2 * padding + 1, n)
    padded = np.pad(images, ((0, 0), (padding, padding), (padding, padding), (0, 0)), mode="reflect")
    want = np.stack([padded[k, t:t + h, c:c + w] for k, (t, c) in enumerate(zip(top, left))])
    crop = transforms.RandomCrop(size, padding=padding, padding_mode="reflect")
    if as_float:
        source = np.asfortranarray(images.transpose(0, 3, 1, 2).astype(np.float32))
        got = crop(source, generator=np.random.default_rng(seed)).transpose(0, 2, 3, 1)
    else:
        got = crop(images, generator=np.random.default_rng(seed))
    np.testing.assert_array_equal(got, want)


def test_reflect_crop_refuses_padding_as_large_as_the_image_and_unknown_modes():
    with pytest.raises(ValueError, match=r"reflect padding 4 must be smaller than the image \(4, 6\)"):
        transforms.RandomCrop(4, padding=4, padding_mode="reflect")(np.zeros((1, 4, 6, 3), np.uint8))
    with pytest.raises(ValueError, match="padding_mode must be 'constant' or 'reflect', got 'wrap'"):
        transforms.RandomCrop(4, padding_mode="wrap")


def _dataset(n=64):
    images = np.random.default_rng(0).integers(0, 256, (n, 4, 5, 3), dtype=np.uint8)
    return data.ArrayDataset(images, np.arange(n) % 10), images


def test_alternating_flip_mirrors_each_image_once_in_every_two_epochs():
    dataset, images = _dataset()
    flipped = AlternatingFlip(dataset, generator=np.random.default_rng(1))
    for epoch in range(4):
        flipped.set_epoch(epoch)
        batch = flipped._collated(np.arange(len(dataset)))[0].numpy()
        np.testing.assert_array_equal(batch, np.where(flipped.mirrored(np.arange(64))[:, None, None, None],
                                                      images[:, :, ::-1], images))
    first = flipped.first_epoch
    assert 16 < first.sum() < 48
    for epoch in range(1, 4):
        flipped.set_epoch(epoch)
        np.testing.assert_array_equal(flipped.mirrored(np.arange(64)), first ^ (epoch % 2 == 1))


def test_alternating_flip_items_agree_with_its_batches():
    dataset, _ = _dataset(8)
    flipped = AlternatingFlip(dataset, generator=np.random.default_rng(2))
    flipped.set_epoch(3)
    batch_images, batch_labels = flipped._collated([5, 1, 7])
    for row, index in enumerate([5, 1, 7]):
        image, label = flipped[index]
        np.testing.assert_array_equal(image, batch_images.numpy()[row])
        assert label == batch_labels.numpy()[row]
    with pytest.raises(ValueError, match=r"epoch must be an integer >= 0, got -1"):
        flipped.set_epoch(-1)
