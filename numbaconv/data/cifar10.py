"""CIFAR-10 from either official on-disk format (torchvision.datasets.CIFAR10).

Binary version ``cifar-10-batches-bin/``: records of 1 label byte + 3072 pixel bytes (R, G, B planes of 32x32).
Python version ``cifar-10-batches-py/``: pickles read through a restricted unpickler that admits only the numpy
globals those files use, so a crafted file cannot run code.

Every batch file of the official archives holds ``RECORDS_PER_BATCH`` (10,000) images; a file cut at a record
boundary, one with records added, or a pickle of another shape is refused with a ValueError naming the file
(the one exception a present but bad batch file raises; a missing one is a FileNotFoundError).
"""
import codecs
import os
import pickle

import numpy as np

from . import download as _download
from .dataset import ArrayDataset

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
TRAIN_FILES = [f"data_batch_{i}" for i in range(1, 6)]
TEST_FILES = ["test_batch"]
BIN_DIR, PY_DIR = "cifar-10-batches-bin", "cifar-10-batches-py"
RECORD = 1 + 3 * 32 * 32
RECORDS_PER_BATCH = 10_000
# What the unpickler and numpy raise on crafted bytes (MemoryError: a size field asking for more than there is;
# RecursionError: nesting; the others from array reconstruction with crafted arguments).
_CORRUPT = (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            LookupError, NotImplementedError, RuntimeError, MemoryError, SystemError, OverflowError)


class CIFAR10(ArrayDataset):
    """The 50,000 training or 10,000 test images of CIFAR-10 (torchvision.datasets.CIFAR10).

    ``root`` is the folder holding ``cifar-10-batches-bin/`` or ``cifar-10-batches-py/`` (or one of those
    folders itself); ``None`` means the download cache (``$NUMBACONV_DATA`` or ``~/.cache/numbaconv``).
    ``download=True`` fetches the official python-version archive into ``root`` if neither format is there.
    ``.data`` is uint8 (N, 32, 32, 3), ``.targets`` int64 (N,); an item is (HWC uint8 image, int label).
    ``records_per_batch`` is how many images each batch file must hold (the official 10,000); ``None`` accepts
    any positive count (small hand-made copies).
    """

    def __init__(self, root=None, train=True, download=False, transform=None, records_per_batch=RECORDS_PER_BATCH):
        self.root = os.path.expanduser(str(root)) if root is not None else _download.default_root()
        self.train = bool(train)
        folder = find_batches(self.root)
        if folder is None and download:
            _download.download_cifar10(self.root)
            folder = find_batches(self.root)
        if folder is None:
            raise FileNotFoundError(_missing_message(self.root))
        names = TRAIN_FILES if self.train else TEST_FILES
        reader = read_binary if os.path.basename(folder) == BIN_DIR else read_python
        parts = [reader(_batch_path(folder, name), records_per_batch) for name in names]
        images = np.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
        targets = np.concatenate([p[1] for p in parts])
        super().__init__(images, targets, transform=transform, classes=CLASSES)
        self.folder = folder

    def __repr__(self):
        split = "train" if self.train else "test"
        return f"CIFAR10(split={split}, images={len(self)}, folder={self.folder!r})"


def find_batches(root):
    """The batches folder under ``root`` (binary preferred: no unpickling), ``root`` itself if it is one, or None."""
    if os.path.basename(os.path.normpath(root)) in (BIN_DIR, PY_DIR) and os.path.isdir(root):
        return os.path.normpath(root)
    for name in (BIN_DIR, PY_DIR):
        folder = os.path.join(root, name)
        if os.path.isdir(folder):
            return folder
    return None


def _missing_message(root):
    return (f"CIFAR-10 not found in {root!r}: expected a folder {BIN_DIR}/ or {PY_DIR}/ there. "
            f"Pass download=True (CLI: --download) to fetch the official archive ({_download.URL}), "
            f"or extract cifar-10-python.tar.gz / cifar-10-binary.tar.gz into that folder "
            f"(CLI: --data-dir DIR to point elsewhere).")


def _batch_path(folder, name):
    path = os.path.join(folder, name + (".bin" if os.path.basename(folder) == BIN_DIR else ""))
    if not os.path.isfile(path):
        raise FileNotFoundError(f"CIFAR-10 batch file {path!r} is missing; the folder is incomplete. Delete "
                                f"{folder!r} and download again (download=True) or re-extract the archive.")
    return path


def read_binary(path, records=RECORDS_PER_BATCH):
    """(images, labels) of one binary-version batch file that must hold ``records`` images (None: any count)."""
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % RECORD:
        raise ValueError(f"CIFAR-10 batch file {path!r} is corrupt or truncated: {raw.size} bytes is not a "
                         f"positive multiple of the {RECORD}-byte record; download or extract it again.")
    _check_count(path, raw.size // RECORD, records)
    records = raw.reshape(-1, RECORD)
    return _checked(path, records[:, 1:], records[:, 0])


def _check_count(path, count, records):
    if records is not None and count != records:
        raise ValueError(f"CIFAR-10 batch file {path!r} is truncated or corrupt: it holds {count:,} images, an "
                         f"official batch holds {records:,}; download or extract it again.")


def read_python(path, records=RECORDS_PER_BATCH):
    """(images, labels) of one python-version batch file that must hold ``records`` images (None: any count)."""
    try:
        with open(path, "rb") as handle:
            batch = RestrictedUnpickler(handle, encoding="latin1").load()
        return _python_batch(path, batch, records)
    except _CORRUPT as error:
        if isinstance(error, ValueError) and str(error).startswith(f"CIFAR-10 batch file {path!r}"):
            raise
        raise ValueError(f"CIFAR-10 batch file {path!r} is corrupt, truncated or not a CIFAR-10 python-version "
                         f"batch ({type(error).__name__}: {error}); download or extract it again.") from None


def _python_batch(path, batch, records):
    if not isinstance(batch, dict) or "data" not in batch or "labels" not in batch:
        keys = sorted(map(str, batch)) if isinstance(batch, dict) else type(batch).__name__
        raise ValueError(f"CIFAR-10 batch file {path!r} is not a CIFAR-10 python-version batch: expected a dict "
                         f"with 'data' and 'labels', got {keys}")
    data = batch["data"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != RECORD - 1:
        desc = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise ValueError(f"CIFAR-10 batch file {path!r}: 'data' must be uint8 of shape (N, 3072), got {desc}")
    if len(data) == 0:
        raise ValueError(f"CIFAR-10 batch file {path!r} is corrupt: it holds no images")
    _check_count(path, len(data), records)
    labels = batch["labels"]
    if isinstance(labels, list) and all(type(x) is int for x in labels):
        labels = np.array(labels, dtype=np.int64)
    elif not isinstance(labels, np.ndarray):
        raise ValueError(f"CIFAR-10 batch file {path!r}: 'labels' must be a list of ints, got "
                         f"{type(labels).__name__}")
    return _checked(path, data, labels)


def _checked(path, pixels, labels):
    """(N, 32, 32, 3) uint8 images and int64 labels, after checking the labels."""
    if labels.shape != (len(pixels),) or labels.dtype.kind not in "iu":
        raise ValueError(f"CIFAR-10 batch file {path!r}: expected {len(pixels)} integer labels, "
                         f"got {labels.dtype} {labels.shape}")
    if len(labels) and (labels.min() < 0 or labels.max() >= len(CLASSES)):
        raise ValueError(f"CIFAR-10 batch file {path!r} is corrupt: labels must be 0..9, "
                         f"found {int(labels.min())}..{int(labels.max())}")
    images = np.ascontiguousarray(pixels.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    return images, labels.astype(np.int64)


def _latin1_encode(text, encoding="latin1"):
    """codecs.encode as Python 3 protocol-2 pickles use it for bytes, limited to latin-1."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise pickle.UnpicklingError(f"refusing _codecs.encode({type(text).__name__}, {encoding!r})")
    return codecs.encode(text, encoding)


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that builds only numpy arrays, dtypes and plain containers (the CIFAR-10 python format)."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): "reconstruct",
        ("numpy._core.multiarray", "_reconstruct"): "reconstruct",
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): "encode",
    }

    def find_class(self, module, name):
        found = self._ALLOWED.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name}: only numpy arrays are allowed")
        if found == "reconstruct":
            return np.ndarray.__reduce__(np.empty(0))[0]
        return _latin1_encode if found == "encode" else found

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("refusing persistent references")
