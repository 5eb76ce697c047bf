"""nc.save / nc.load: round trips of nested state dicts, atomic writes, and refusing bad files."""
import math
import os
import pickle
import zipfile

import numpy as np
import pytest

import numbaconv as nc
from numbaconv import serialization


def checkpoint():
    rng = np.random.default_rng(0)
    return {
        "model_name": "keras_net",
        "model": {"conv1.weight": nc.tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32)),
                  "bn.running_mean": rng.standard_normal(4),
                  "bn.num_batches_tracked": np.int64(12)},
        "optimizer": {"state": {0: {"momentum_buffer": rng.standard_normal(5).astype(np.float32)},
                                1: {"step": 3}},
                      "param_groups": [{"lr": 0.1, "momentum": 0.9, "nesterov": False, "params": [0, 1]}]},
        "epoch": 7,
        "rng": nc.get_rng_state(),
        "misc": {"none": None, "tuple": (1, "a", 2.5), "nan": math.nan, "inf": -math.inf, "bytes": b"\x00\xff",
                 "empty": {}, "strided": rng.standard_normal((4, 6))[:, ::2], "bools": np.array([True, False]),
                 "fortran": np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3)), "big": 2**100},
    }


def assert_same(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    elif isinstance(a, nc.Tensor):
        assert a.dtype == b.dtype and a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b)
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


def test_round_trip(tmp_path):
    state = checkpoint()
    path = tmp_path / "ckpt.npz"
    nc.save(state, path)
    loaded = nc.load(path)
    assert_same(state, loaded)
    nc.set_rng_state(loaded["rng"])
    nc.load(str(path))  # str paths too
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_plain_values_and_path_without_suffix(tmp_path):
    for value in [3, "text", [1, [2, {"a": None}]], None, 1.5]:
        nc.save(value, tmp_path / "plain")
        assert_same(nc.load(tmp_path / "plain"), value)


def test_tensor_requires_grad_round_trips(tmp_path):
    weight = nc.tensor(np.ones(3, np.float64), requires_grad=True)
    nc.save({"w": weight}, tmp_path / "w.npz")
    assert nc.load(tmp_path / "w.npz")["w"].requires_grad


def test_unsaveable_values_are_named(tmp_path):
    with pytest.raises(TypeError, match=r"obj\['model'\]\['f'\] is a function"):
        nc.save({"model": {"f": lambda: 0}}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="object array"):
        nc.save({"a": np.array([{}, 1], dtype=object)}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="keys must be str or int"):
        nc.save({(1, 2): 3}, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    nc.save({"epoch": 1}, path)
    before = path.read_bytes()

    def disk_full(descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(serialization.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        nc.save({"epoch": 2, "w": np.zeros(1000)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.npz"]
    monkeypatch.undo()
    assert nc.load(path) == {"epoch": 1}


def test_interrupted_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    nc.save({"epoch": 1}, path)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(serialization.np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        nc.save({"epoch": 2}, path)
    monkeypatch.undo()
    assert nc.load(path) == {"epoch": 1} and os.listdir(tmp_path) == ["ckpt.npz"]


@pytest.mark.parametrize("keep", [0.3, 0.9, 10])
def test_truncated_file_is_refused(tmp_path, keep):
    path = tmp_path / "ckpt.npz"
    nc.save(checkpoint(), path)
    raw = path.read_bytes()
    path.write_bytes(raw[:int(len(raw) * keep)] if keep < 1 else raw[:keep])
    with pytest.raises(ValueError, match="not a numbaconv checkpoint|not a valid numbaconv checkpoint"):
        nc.load(path)


def test_foreign_files_are_refused(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="foreign"):
        nc.load(text)
    plain = tmp_path / "plain.npz"
    np.savez(plain, weights=np.ones(3))
    with pytest.raises(ValueError, match="__numbaconv__"):
        nc.load(plain)
    npy = tmp_path / "array.npy"
    np.save(npy, np.ones(3))
    with pytest.raises(ValueError, match="foreign"):
        nc.load(npy)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("__numbaconv__.npy", b"garbage")
    with pytest.raises(ValueError, match="not a numbaconv checkpoint"):
        nc.load(other)
    with pytest.raises(FileNotFoundError):
        nc.load(tmp_path / "missing.npz")


class _Boom:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_pickled_objects_are_refused(tmp_path):
    inside = tmp_path / "inside.npz"
    header = np.array('{"format": "numbaconv-checkpoint", "version": 1, "object": {"t": "array", "a": "a0"}}')
    np.savez(inside, __numbaconv__=header, a0=np.array([_Boom()], dtype=object))
    with pytest.raises(ValueError, match="pickled object"):
        nc.load(inside)
    whole = tmp_path / "torch-style.pt"
    whole.write_bytes(pickle.dumps({"w": _Boom()}))
    with pytest.raises(ValueError, match="pickle"):
        nc.load(whole)


def test_wrong_version_or_format(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, __numbaconv__=np.array('{"format": "numbaconv-checkpoint", "version": 99, "object": 1}'))
    with pytest.raises(ValueError, match="version 99"):
        nc.load(path)
    np.savez(path, __numbaconv__=np.array('{"format": "numbaconv-checkpoint", "version": 1, '
                                          '"object": {"t": "array", "a": "nope"}}'))
    with pytest.raises(ValueError, match="not a valid numbaconv checkpoint"):
        nc.load(path)


def test_write_errors_name_the_target_not_the_temporary(tmp_path):
    target = tmp_path / "missing" / "ckpt.npz"
    with pytest.raises(FileNotFoundError) as info:
        nc.save({"epoch": 1}, target)
    assert str(target) in str(info.value) and ".tmp" not in str(info.value)
    (tmp_path / "folder.npz").mkdir()
    with pytest.raises(OSError) as info:
        nc.save({"epoch": 1}, tmp_path / "folder.npz")
    assert str(tmp_path / "folder.npz") in str(info.value) and ".tmp" not in str(info.value)
    assert sorted(os.listdir(tmp_path)) == ["folder.npz"]


def test_checkpoints_get_the_mode_open_gives(tmp_path):
    nc.save({"epoch": 1}, tmp_path / "ckpt.npz")
    (tmp_path / "plain.txt").write_text("x")
    assert os.stat(tmp_path / "ckpt.npz").st_mode == os.stat(tmp_path / "plain.txt").st_mode


def _patched_headers(raw, offset, value):
    """``raw`` with the 2-byte field at ``offset`` of every zip local and central header set to ``value``."""
    out = bytearray(raw)
    for signature, field in ((b"PK\x03\x04", offset), (b"PK\x01\x02", offset + 2)):
        start = out.find(signature)
        while start != -1:
            out[start + field:start + field + 2] = value.to_bytes(2, "little")
            start = out.find(signature, start + 4)
    return bytes(out)


@pytest.mark.parametrize("field, value, escaped", [(8, 99, "NotImplementedError"), (6, 1, "RuntimeError")])
def test_crafted_zip_flags_are_a_value_error(tmp_path, field, value, escaped):
    path = tmp_path / "ckpt.npz"
    nc.save(checkpoint(), path)
    path.write_bytes(_patched_headers(path.read_bytes(), field, value))  # compression method 99, encrypted flag
    with pytest.raises(ValueError, match="ckpt.npz") as info:
        nc.load(path)
    assert escaped in str(info.value)
