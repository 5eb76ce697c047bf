"""CIFAR-10 readers, download, DataLoader and batch transforms, on small files the tests write themselves."""
import functools
import gc
import hashlib
import http.server
import io
import os
import pickle
import struct
import tarfile
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numbaconv as nc
from numbaconv import data
from numbaconv.data import download, transforms
from numbaconv.data.cifar10 import RestrictedUnpickler

# The batches here are tiny (a few images each), so the official 10,000-per-file check is off.
tiny_cifar = functools.partial(data.CIFAR10, records_per_batch=None)
COUNTS = {"data_batch_1": 3, "data_batch_2": 2, "data_batch_3": 1, "data_batch_4": 2, "data_batch_5": 1,
          "test_batch": 4}


def make_records(name):
    """(pixels (N, 3072) uint8 in CHW order, labels) for one batch, different per name."""
    rng = np.random.default_rng(sum(name.encode()))
    n = COUNTS[name]
    return rng.integers(0, 256, (n, 3072), dtype=np.uint8), rng.integers(0, 10, n).astype(np.uint8)


def expected(train):
    names = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
    parts = [make_records(n) for n in names]
    pixels = np.concatenate([p[0] for p in parts])
    return pixels.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), np.concatenate([p[1] for p in parts])


def write_binary(root):
    folder = root / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    for name in COUNTS:
        pixels, labels = make_records(name)
        (folder / f"{name}.bin").write_bytes(np.concatenate([labels[:, None], pixels], axis=1).tobytes())
    return folder


def py2_pickle(pixels, labels):
    """The opcode layout of the official python-version batches (protocol 2 written by Python 2)."""
    def s(b):
        return b"U" + bytes([len(b)]) + b if len(b) < 256 else b"T" + struct.pack("<I", len(b)) + b

    rows, cols = pixels.shape
    array = (b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85U\x01b\x87R(K\x01"
             + b"M" + struct.pack("<H", rows) + b"M" + struct.pack("<H", cols) + b"\x86"
             b"cnumpy\ndtype\nU\x02u1K\x00K\x01\x87R(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
             b"\x89" + s(pixels.tobytes()) + b"tb")
    labels_list = b"](" + b"".join(b"K" + bytes([int(x)]) for x in labels) + b"e"
    return (b"\x80\x02}(" + s(b"batch_label") + s(b"training batch") + s(b"labels") + labels_list
            + s(b"data") + array + b"u.")


def write_python(root, py3=False):
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in COUNTS:
        pixels, labels = make_records(name)
        if py3:  # what a Python 3 user re-pickling the batch with protocol 2 writes (_codecs.encode for bytes)
            blob = pickle.dumps({"data": pixels, "labels": [int(x) for x in labels]}, protocol=2)
        else:
            blob = py2_pickle(pixels, labels)
        (folder / name).write_bytes(blob)
    return folder


@pytest.mark.parametrize("fmt", ["bin", "py2", "py3"])
@pytest.mark.parametrize("train", [True, False])
def test_cifar10_reads_both_formats(tmp_path, fmt, train):
    if fmt == "bin":
        write_binary(tmp_path)
    else:
        write_python(tmp_path, py3=fmt == "py3")
    dataset = tiny_cifar(tmp_path, train=train)
    images, labels = expected(train)
    assert dataset.data.shape == images.shape and dataset.data.dtype == np.uint8
    np.testing.assert_array_equal(dataset.data, images)
    np.testing.assert_array_equal(dataset.targets, labels)
    assert dataset.targets.dtype == np.int64 and len(dataset) == len(labels) and len(dataset.classes) == 10
    image, label = dataset[1]
    np.testing.assert_array_equal(image, images[1])
    assert label == labels[1] and isinstance(label, int)


def test_cifar10_root_may_be_the_batches_folder_and_prefers_binary(tmp_path):
    write_binary(tmp_path)
    write_python(tmp_path)
    assert tiny_cifar(tmp_path).folder.endswith("cifar-10-batches-bin")
    direct = tiny_cifar(tmp_path / "cifar-10-batches-py", train=False)
    np.testing.assert_array_equal(direct.data, expected(False)[0])


def test_cifar10_item_transform(tmp_path):
    write_binary(tmp_path)
    dataset = tiny_cifar(tmp_path, train=False, transform=transforms.ToTensor())
    image, _ = dataset[0]
    assert image.shape == (3, 32, 32) and image.dtype == np.float32
    np.testing.assert_allclose(image, expected(False)[0][0].transpose(2, 0, 1) / 255, rtol=1e-6)


def test_missing_folder_says_how_to_get_the_data(tmp_path):
    with pytest.raises(FileNotFoundError, match="download=True") as info:
        tiny_cifar(tmp_path / "nowhere")
    assert "nowhere" in str(info.value)


def test_missing_batch_file(tmp_path):
    folder = write_binary(tmp_path)
    (folder / "data_batch_3.bin").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_3.bin"):
        tiny_cifar(tmp_path)


def test_truncated_binary_batch(tmp_path):
    folder = write_binary(tmp_path)
    path = folder / "test_batch.bin"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match="test_batch.bin.*truncated"):
        tiny_cifar(tmp_path, train=False)


def test_binary_batch_with_bad_labels(tmp_path):
    folder = write_binary(tmp_path)
    raw = bytearray((folder / "test_batch.bin").read_bytes())
    raw[0] = 200
    (folder / "test_batch.bin").write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="labels must be 0..9"):
        tiny_cifar(tmp_path, train=False)


@pytest.mark.parametrize("cut", [10, 500, -5])
def test_truncated_python_batch(tmp_path, cut):
    folder = write_python(tmp_path)
    path = folder / "test_batch"
    path.write_bytes(path.read_bytes()[:cut])
    with pytest.raises(ValueError, match="test_batch.*corrupt, truncated"):
        tiny_cifar(tmp_path, train=False)


def test_wrong_format_python_batch(tmp_path):
    folder = write_python(tmp_path)
    (folder / "test_batch").write_bytes(pickle.dumps({"pixels": [1, 2]}, protocol=2))
    with pytest.raises(ValueError, match="expected a dict with 'data' and 'labels'"):
        tiny_cifar(tmp_path, train=False)
    (folder / "test_batch").write_bytes(b"this is text, not a pickle")
    with pytest.raises(ValueError, match="test_batch"):
        tiny_cifar(tmp_path, train=False)


class _Boom:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_python_batch_with_code_is_refused(tmp_path):
    folder = write_python(tmp_path)
    (folder / "test_batch").write_bytes(pickle.dumps({"data": _Boom(), "labels": []}, protocol=2))
    with pytest.raises(ValueError, match="refusing to load global"):
        tiny_cifar(tmp_path, train=False)
    with pytest.raises(pickle.UnpicklingError):
        RestrictedUnpickler(io.BytesIO(pickle.dumps(print))).load()


# ---- download --------------------------------------------------------------------------------------------


def build_archive(tmp_path, extra=None):
    """A cifar-10-python.tar.gz holding our small python-version batches (+ ``extra`` members)."""
    source = tmp_path / "source"
    write_python(source)
    archive = tmp_path / "served" / "cifar-10-python.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source / "cifar-10-batches-py", arcname="cifar-10-batches-py")
        for member, payload in extra or []:
            tar.addfile(member, io.BytesIO(payload) if payload is not None else None)
    return archive, hashlib.md5(archive.read_bytes()).hexdigest()


@pytest.fixture
def server():
    """An HTTP server on 127.0.0.1 serving files from a folder; yields a function giving its URL."""
    state = {}

    def start(folder):
        handler = functools.partial(_QuietHandler, directory=str(folder))
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        state.update(httpd=httpd, thread=thread)
        return f"http://127.0.0.1:{httpd.server_address[1]}"

    yield start
    if state:
        state["httpd"].shutdown()
        state["httpd"].server_close()
        state["thread"].join(5)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_download_checks_md5_and_extracts(tmp_path, server):
    archive, md5 = build_archive(tmp_path)
    url = server(archive.parent) + "/cifar-10-python.tar.gz"
    root = tmp_path / "cache"
    folder = download.download_cifar10(str(root), url=url, md5=md5)
    assert folder == str(root / "cifar-10-batches-py")
    dataset = tiny_cifar(root, train=False)
    np.testing.assert_array_equal(dataset.data, expected(False)[0])
    assert not [p for p in os.listdir(root) if p.startswith(".")]  # no staging or partial files left
    assert download.download_cifar10(str(root), url=url + "-gone", md5=md5) == folder  # present: no download


def test_download_removes_what_a_killed_download_left(tmp_path, server):
    archive, md5 = build_archive(tmp_path)
    url = server(archive.parent) + "/cifar-10-python.tar.gz"
    root = tmp_path / "cache"
    (root / ".extract-999999999-0123456789abcdef" / "cifar-10-batches-py").mkdir(parents=True)
    (root / ".download-999999999-0123456789abcdef.part").write_bytes(b"half an archive")
    (root / "data_batch_1").write_bytes(b"not ours to delete")
    download.download_cifar10(str(root), url=url, md5=md5)
    assert sorted(os.listdir(root)) == ["cifar-10-batches-py", "cifar-10-python.tar.gz", "data_batch_1"]
    assert os.stat(root / "cifar-10-python.tar.gz").st_mode == os.stat(root / "data_batch_1").st_mode


def test_download_md5_mismatch_keeps_nothing(tmp_path, server):
    archive, _ = build_archive(tmp_path)
    url = server(archive.parent) + "/cifar-10-python.tar.gz"
    root = tmp_path / "cache"
    with pytest.raises(ValueError, match="md5"):
        download.download_cifar10(str(root), url=url, md5="0" * 32)
    assert os.listdir(root) == []


def test_cifar10_download_flag_uses_env_cache(tmp_path, server, monkeypatch):
    archive, md5 = build_archive(tmp_path)
    url = server(archive.parent) + "/cifar-10-python.tar.gz"
    monkeypatch.setenv("NUMBACONV_DATA", str(tmp_path / "env-cache"))
    monkeypatch.setattr(download, "URL", url)
    monkeypatch.setattr(download, "MD5", md5)
    dataset = tiny_cifar(train=True, download=True)
    assert len(dataset) == 9 and dataset.folder.startswith(str(tmp_path / "env-cache"))


def test_download_unreachable_url(tmp_path, server):
    url = server(tmp_path) + "/missing.tar.gz"
    with pytest.raises(OSError, match="could not download"):
        download.download_cifar10(str(tmp_path / "cache"), url=url, md5="0" * 32)


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink"])
def test_unsafe_archive_members_are_refused(tmp_path, kind):
    member = tarfile.TarInfo({"dotdot": "cifar-10-batches-py/../../evil", "absolute": "/tmp/evil",
                              "symlink": "cifar-10-batches-py/link"}[kind])
    payload = b"x"
    if kind == "symlink":
        member.type, member.linkname, payload = tarfile.SYMTYPE, "/etc/passwd", None
    else:
        member.size = 1
    archive, _ = build_archive(tmp_path, [(member, payload)])
    root = tmp_path / "out"
    root.mkdir()
    with pytest.raises(ValueError, match="refusing to extract"):
        download.extract(str(archive), str(root), "cifar-10-batches-py")
    assert os.listdir(root) == []


def test_corrupt_archive(tmp_path):
    archive, _ = build_archive(tmp_path)
    archive.write_bytes(archive.read_bytes()[:200])
    root = tmp_path / "out"
    root.mkdir()
    with pytest.raises(ValueError, match="corrupt"):
        download.extract(str(archive), str(root), "cifar-10-batches-py")
    assert os.listdir(root) == []


# ---- DataLoader ------------------------------------------------------------------------------------------


def array_dataset(n=23, seed=0):
    rng = np.random.default_rng(seed)
    return data.ArrayDataset(rng.integers(0, 256, (n, 8, 6, 3), dtype=np.uint8), rng.integers(0, 10, n))


class ListDataset:
    """A dataset with no arrays(): the loader's item-by-item path."""

    def __init__(self, base):
        self.base = base

    def __len__(self):
        return len(self.base)

    def __getitem__(self, i):
        return self.base.data[i], int(self.base.targets[i])


@pytest.mark.parametrize("wrap", [False, True])
@pytest.mark.parametrize("drop_last", [False, True])
def test_loader_batches_in_order(wrap, drop_last):
    base = array_dataset()
    dataset = ListDataset(base) if wrap else base
    loader = data.DataLoader(dataset, batch_size=5, drop_last=drop_last)
    batches = list(loader)
    assert len(batches) == len(loader) == (4 if drop_last else 5)
    images = np.concatenate([b[0].numpy() for b in batches])
    labels = np.concatenate([b[1].numpy() for b in batches])
    n = 20 if drop_last else 23
    np.testing.assert_array_equal(images, base.data[:n])  # stacked as stored (torch's default_collate)
    np.testing.assert_array_equal(labels, base.targets[:n])
    assert batches[0][0].dtype == np.uint8 and batches[0][1].dtype == np.int64
    floats = list(data.DataLoader(dataset, batch_size=5, drop_last=drop_last, transform=transforms.ToTensor()))
    np.testing.assert_allclose(np.concatenate([b[0].numpy() for b in floats]),
                               base.data[:n].transpose(0, 3, 1, 2) / 255, rtol=1e-6)
    assert floats[0][0].dtype == np.float32 and floats[0][0].shape == (5, 3, 8, 6)


def test_loader_shuffle_is_a_seeded_permutation():
    dataset = array_dataset()
    first = [b[1].numpy() for b in data.DataLoader(dataset, batch_size=4, shuffle=True, seed=7)]
    again = [b[1].numpy() for b in data.DataLoader(dataset, batch_size=4, shuffle=True, seed=7)]
    other = np.concatenate([b[1].numpy() for b in data.DataLoader(dataset, batch_size=4, shuffle=True, seed=8)])
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    first = np.concatenate(first)
    assert sorted(first) == sorted(dataset.targets)
    assert not np.array_equal(first, dataset.targets) or not np.array_equal(first, other)


def test_loader_epochs_differ_and_unseeded_follows_manual_seed():
    dataset = data.ArrayDataset(np.zeros((50, 2, 2, 3), np.uint8), np.arange(50))
    loader = data.DataLoader(dataset, batch_size=50, shuffle=True, seed=1)
    epoch1, epoch2 = (next(iter(loader))[1].numpy() for _ in range(2))
    assert not np.array_equal(epoch1, epoch2)
    orders = []
    for _ in range(2):
        nc.manual_seed(3)
        orders.append(next(iter(data.DataLoader(dataset, batch_size=50, shuffle=True)))[1].numpy())
    np.testing.assert_array_equal(*orders)


def test_loader_augmentation_is_deterministic_with_seed():
    dataset = array_dataset(40)
    pipeline = transforms.Compose([transforms.RandomCrop((8, 6), padding=2), transforms.RandomHorizontalFlip(),
                                   transforms.Normalize((0.5, 0.4, 0.3), (0.2, 0.25, 0.3))])
    runs = [[b[0].numpy() for b in data.DataLoader(dataset, 8, shuffle=True, seed=5, transform=pipeline)]
            for _ in range(2)]
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)


def test_subset_keeps_the_fast_path():
    dataset = array_dataset(30)
    subset = data.Subset(dataset, range(3, 20))
    assert hasattr(subset, "arrays") and len(subset) == 17
    labels = np.concatenate([b[1].numpy() for b in data.DataLoader(subset, batch_size=6)])
    np.testing.assert_array_equal(labels, dataset.targets[3:20])
    np.testing.assert_array_equal(subset.targets, dataset.targets[3:20])
    np.testing.assert_array_equal(subset.image(0), dataset.data[3])
    picked = data.Subset(ListDataset(dataset), [5, 1])
    assert not hasattr(picked, "arrays") and picked[1][1] == dataset.targets[1]
    with pytest.raises(IndexError):
        data.Subset(dataset, [30])


def _loader_threads():
    return [t for t in threading.enumerate() if t.name.startswith("numbaconv-loader")]


def test_prefetch_thread_stops():
    dataset = array_dataset(40)
    iterator = iter(data.DataLoader(dataset, batch_size=2, prefetch=2))
    next(iterator)
    assert len(_loader_threads()) == 1
    iterator.close()
    assert _loader_threads() == []
    iterator = iter(data.DataLoader(dataset, batch_size=2))
    list(iterator)
    assert _loader_threads() == []
    iterator = iter(data.DataLoader(dataset, batch_size=2))
    next(iterator)
    del iterator  # abandoned mid-epoch: the thread must not keep it alive
    gc.collect()
    assert _loader_threads() == []


def test_prefetch_errors_reach_the_consumer():
    def broken(batch):
        raise RuntimeError("bad transform")

    with pytest.raises(RuntimeError, match="bad transform"):
        list(data.DataLoader(array_dataset(), batch_size=4, transform=broken))


def test_loader_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        data.DataLoader(array_dataset(), batch_size=0)
    batches = list(data.DataLoader(array_dataset(), batch_size=10, prefetch=0))
    assert len(batches) == 3


# ---- transforms against numpy references -----------------------------------------------------------------


def reference_crop(images, top, left, padding, size):
    padded = np.pad(images, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    return np.stack([padded[n, t:t + size[0], l_:l_ + size[1]] for n, (t, l_) in enumerate(zip(top, left))])


@given(n=st.integers(1, 5), h=st.integers(1, 9), w=st.integers(1, 9), padding=st.integers(0, 4),
       seed=st.integers(0, 2**32 - 1), as_float=st.booleans())
@settings(max_examples=25)
def test_random_crop_matches_numpy(n, h, w, padding, seed, as_float):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, h, w, 3), dtype=np.uint8)
    size = (rng.integers(1, h + 2 * padding + 1), rng.integers(1, w + 2 * padding + 1))
    draws = np.random.default_rng(seed)
    top = draws.integers(0, h + 2 * padding - size[0] + 1, n)
    left = draws.integers(0, w + 2 * padding - size[1] + 1, n)
    want = reference_crop(images, top, left, padding, size)
    crop = transforms.RandomCrop(size, padding=padding)
    if as_float:  # float batches are NCHW, and a non-contiguous input
        source = np.asfortranarray(images.transpose(0, 3, 1, 2).astype(np.float64))
        got = crop(source, generator=np.random.default_rng(seed)).transpose(0, 2, 3, 1)
    else:
        got = crop(images, generator=np.random.default_rng(seed))
    np.testing.assert_array_equal(got, want)


@given(n=st.integers(1, 6), seed=st.integers(0, 2**32 - 1), p=st.sampled_from([0.0, 0.5, 1.0]))
@settings(max_examples=25)
def test_horizontal_flip_matches_numpy(n, seed, p):
    images = np.random.default_rng(seed).integers(0, 256, (n, 5, 7, 3), dtype=np.uint8)
    flip = np.random.default_rng(seed).random(n) < p
    want = np.where(flip[:, None, None, None], images[:, :, ::-1], images)
    got = transforms.RandomHorizontalFlip(p)(images, generator=np.random.default_rng(seed))
    np.testing.assert_array_equal(got, want)
    got_float = transforms.RandomHorizontalFlip(p)(images.transpose(0, 3, 1, 2).astype(np.float32),
                                                   generator=np.random.default_rng(seed))
    np.testing.assert_array_equal(got_float, want.transpose(0, 3, 1, 2))


def test_normalize_and_to_tensor_match_numpy():
    images = np.random.default_rng(0).integers(0, 256, (4, 5, 3, 3), dtype=np.uint8)
    mean, std = np.array([0.49, 0.48, 0.45]), np.array([0.25, 0.24, 0.26])
    want = (images.astype(np.float64) / 255 - mean) / std
    want = want.transpose(0, 3, 1, 2)
    got = transforms.Normalize(mean, std)(images)
    assert got.dtype == np.float32 and got.shape == (4, 3, 5, 3)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    tensor = transforms.ToTensor()(images)
    np.testing.assert_allclose(tensor, images.transpose(0, 3, 1, 2) / 255, rtol=1e-6)
    np.testing.assert_allclose(transforms.Normalize(mean, std)(tensor[:, :, ::2]), want[:, :, ::2], rtol=1e-5,
                               atol=1e-5)
    one = transforms.Normalize(mean, std)(images[0])
    np.testing.assert_allclose(one, want[0], rtol=1e-5, atol=1e-5)


def test_transform_errors():
    with pytest.raises(ValueError, match="std must be positive"):
        transforms.Normalize((0.5,), (0.0,))
    with pytest.raises(ValueError, match="3 channels"):
        transforms.Normalize((0.5, 0.5), (1, 1))(np.zeros((1, 2, 2, 3), np.uint8))
    with pytest.raises(ValueError, match="larger than the padded image"):
        transforms.RandomCrop(40, padding=2)(np.zeros((1, 32, 32, 3), np.uint8))
    with pytest.raises(ValueError, match="shape"):
        transforms.RandomHorizontalFlip()(np.zeros((3, 3), np.uint8))
    assert "RandomCrop" in repr(transforms.Compose([transforms.RandomCrop(32, padding=4)]))


# ---- record counts against the official layout --------------------------------------------------------------


def test_official_count_is_the_default(tmp_path):
    write_python(tmp_path)  # 4 test images: an official batch holds 10,000
    with pytest.raises(ValueError, match=r"test_batch'.* holds 4 images, an official batch holds 10,000"):
        data.CIFAR10(tmp_path, train=False)
    folder = write_binary(tmp_path / "bin")
    with pytest.raises(ValueError, match=r"data_batch_1.bin'.* holds 3 images"):
        data.CIFAR10(folder)


@pytest.mark.parametrize("records", [2, 4])
@pytest.mark.parametrize("fmt", ["bin", "py2"])
def test_batch_with_records_cut_or_added_is_refused(tmp_path, fmt, records):
    (write_binary if fmt == "bin" else write_python)(tmp_path)  # test_batch holds 4, data_batch_1 holds 3
    with pytest.raises(ValueError, match=f"data_batch_1(.bin)?'.* holds 3 images, an official batch holds {records}"):
        data.CIFAR10(tmp_path, records_per_batch=records)
    assert len(data.CIFAR10(tmp_path, train=False, records_per_batch=4)) == 4


@pytest.mark.parametrize("labels", [np.arange(4.0), np.arange(8).reshape(4, 2), [1, 2, 3.0, 4], [1, 2, 2**70], "0123"])
def test_python_batch_labels_must_be_a_list_of_ints(tmp_path, labels):
    folder = write_python(tmp_path)
    pixels = make_records("test_batch")[0]
    (folder / "test_batch").write_bytes(pickle.dumps({"data": pixels, "labels": labels}, protocol=2))
    with pytest.raises(ValueError, match="test_batch"):
        data.CIFAR10(tmp_path, train=False, records_per_batch=None)
