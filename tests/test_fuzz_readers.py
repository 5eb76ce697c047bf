"""Fuzz targets: nc.load over mutated checkpoint bytes, the CIFAR-10 readers over mutated batch files.

Every outcome must be a documented one: the original value, or a ValueError naming the file (for CIFAR-10, whose
binary format has no checksum, also a well-formed batch that decodes exactly the mutated bytes). The example count
comes from the hypothesis profile: 25 per target under `ci`, 1000 under HYPOTHESIS_PROFILE=thorough.
"""
import math
import pickle

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_data import py2_pickle

import numbaconv as nc
from numbaconv.data.cifar10 import RECORD, read_binary, read_python

_FUZZ = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                        HealthCheck.data_too_large])


def mutated(original):
    """Byte edits, a truncation, or inserted bytes of ``original``."""
    size = len(original)

    def edit(changes):
        out = bytearray(original)
        for position, value in changes:
            out[position] = value
        return bytes(out)

    return st.one_of(
        st.lists(st.tuples(st.integers(0, size - 1), st.integers(0, 255)), min_size=1, max_size=8).map(edit),
        st.integers(0, size - 1).map(lambda n: original[:n]),
        st.tuples(st.integers(0, size), st.binary(min_size=1, max_size=64)).map(
            lambda cut: original[:cut[0]] + cut[1] + original[cut[0]:]),
    )


def sample_state():
    rng = np.random.default_rng(0)
    return {"model_name": "keras_net", "epoch": 3, "lr": 0.5, "nan": math.nan, "tuple": (1, "a"), "raw": b"\x00\x01",
            "model": {"w": nc.tensor(rng.standard_normal((3, 2)).astype(np.float32)), "n": np.int64(7)},
            "rows": [{"epoch": 1, "acc": 0.25}], "none": None}


def same(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, nc.Tensor):
        return same(a.numpy(), b.numpy()) and a.requires_grad == b.requires_grad
    if isinstance(a, (np.ndarray, np.generic)):
        return a.dtype == b.dtype and np.shape(a) == np.shape(b) and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def _checkpoint_bytes(folder):
    path = folder / "original.npz"
    nc.save(sample_state(), path)
    return path.read_bytes()


@_FUZZ
@given(data=st.data())
def test_load_of_mutated_checkpoint_is_the_original_or_a_value_error(tmp_path, data):
    original = _checkpoint_bytes(tmp_path)
    blob = data.draw(mutated(original), label="file")
    path = tmp_path / "mutated.npz"
    path.write_bytes(blob)
    try:
        loaded = nc.load(path)
    except ValueError as error:
        assert str(path) in str(error)
        return
    assert same(loaded, sample_state())


COUNT = 3


def _batch(seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (COUNT, 3072), dtype=np.uint8), rng.integers(0, 10, COUNT).astype(np.uint8)


def _binary_bytes():
    pixels, labels = _batch()
    return np.concatenate([labels[:, None], pixels], axis=1).tobytes()


def _check_batch(path, reader, blob):
    """The documented outcomes of ``reader`` on ``blob``: a ValueError naming ``path`` or a well-formed batch."""
    path.write_bytes(blob)
    try:
        images, labels = reader(str(path), COUNT)
    except ValueError as error:
        assert str(path) in str(error)
        return None
    assert images.shape == (COUNT, 32, 32, 3) and images.dtype == np.uint8 and images.flags.c_contiguous
    assert labels.shape == (COUNT,) and labels.dtype == np.int64 and 0 <= labels.min() and labels.max() <= 9
    return images, labels


@_FUZZ
@given(data=st.data())
def test_cifar_binary_reader_on_mutated_batch(tmp_path, data):
    blob = data.draw(mutated(_binary_bytes()), label="file")
    batch = _check_batch(tmp_path / "data_batch_1.bin", read_binary, blob)
    if batch is not None:  # no checksum in this format: the batch must be exactly what the bytes say
        images, labels = batch
        records = np.concatenate([labels.astype(np.uint8)[:, None],
                                  images.transpose(0, 3, 1, 2).reshape(COUNT, -1)], axis=1)
        assert len(blob) == COUNT * RECORD and records.tobytes() == blob


@_FUZZ
@given(data=st.data(), py3=st.booleans())
def test_cifar_python_reader_on_mutated_batch(tmp_path, data, py3):
    pixels, labels = _batch()
    if py3:
        original = pickle.dumps({"data": pixels, "labels": [int(x) for x in labels]}, protocol=2)
    else:
        original = py2_pickle(pixels, labels)
    blob = data.draw(mutated(original), label="file")
    batch = _check_batch(tmp_path / "data_batch_1", read_python, blob)
    if batch is not None and blob == original:
        np.testing.assert_array_equal(batch[0], pixels.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
