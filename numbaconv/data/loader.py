"""Batches of (images, labels) Tensors with a background prefetch thread (torch.utils.data.DataLoader)."""
import queue
import threading

import numpy as np

from .. import random as nc_random
from ..tensor import Tensor
from .transforms import Transform, to_float_batch

_DONE = object()


class DataLoader:
    """Iterate ``dataset`` in batches of ``batch_size`` as (float32 NCHW images, int64 labels) Tensors.

    ``shuffle`` draws a new order every pass from a generator seeded by ``seed`` (or, without a seed, by
    ``numbaconv.random.generator()`` when the loader is made), so equal seeds give equal batches.
    ``transform`` maps a whole uint8 NHWC batch (after the dataset's own transform) and may be random; it gets
    the loader's generator. Batches are assembled ``prefetch`` ahead in a background thread. Array datasets
    (with ``arrays()``) are indexed a batch at a time with numpy; others item by item.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=None, transform=None,
                 prefetch=2):
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if int(prefetch) != prefetch or prefetch < 0:
            raise ValueError(f"DataLoader: prefetch must be an integer >= 0, got {prefetch!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.transform = transform
        self.prefetch = int(prefetch)
        if seed is None:
            seed = int(nc_random.generator().integers(2**63))
        self.seed = seed
        self._rng = np.random.default_rng(seed)

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        batches = [order[i:i + self.batch_size] for i in range(0, len(self) * self.batch_size, self.batch_size)]
        augment_rng = np.random.default_rng(self._rng.integers(2**63))
        produce = (self._batch(indices, augment_rng) for indices in batches)
        return Prefetcher(produce, self.prefetch) if self.prefetch else produce

    def _batch(self, indices, rng):
        images, labels = self._fetch(indices, rng)
        if self.transform is not None:
            images = self.transform(images, generator=rng) if isinstance(self.transform, Transform) \
                else self.transform(images)
        images = images.numpy() if isinstance(images, Tensor) else np.asarray(images)
        return Tensor(to_float_batch(images)), Tensor(np.asarray(labels, dtype=np.int64))

    def _fetch(self, indices, rng):
        item_transform = getattr(self.dataset, "transform", None)
        if hasattr(self.dataset, "arrays") and (item_transform is None or isinstance(item_transform, Transform)):
            data, targets = self.dataset.arrays()
            images = data[indices]
            if item_transform is not None:
                images = item_transform(images, generator=rng)
            return images, targets[indices]
        items = [self.dataset[int(i)] for i in indices]
        images = np.stack([x.numpy() if isinstance(x, Tensor) else np.asarray(x) for x, _ in items])
        labels = [int(y.item()) if isinstance(y, Tensor) else int(y) for _, y in items]
        return images, labels

    def __repr__(self):
        return (f"DataLoader({self.dataset!r}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, seed={self.seed}, transform={self.transform!r})")


class Prefetcher:
    """Run a generator ``depth`` items ahead in a daemon thread; ``close()``, exhaustion or dropping it stops it.

    The thread holds only the queue and the stop flag, never the Prefetcher, so an abandoned one is collected.
    """

    def __init__(self, source, depth):
        self._queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._finished = False
        self.thread = threading.Thread(target=_work, args=(source, self._queue, self._stop),
                                       name="numbaconv-prefetch", daemon=True)
        self.thread.start()

    def __iter__(self):
        return self

    def __next__(self):
        if self._finished:
            raise StopIteration
        item = self._queue.get()
        if item is _DONE:
            self.close()
            raise StopIteration
        if isinstance(item, BaseException):
            self.close()
            raise item
        return item

    def close(self):
        """Stop the worker thread and wait for it."""
        self._finished = True
        self._stop.set()
        self.thread.join()

    def __del__(self):
        if not getattr(self, "_finished", True):
            self.close()


def _put(q, stop, item):
    while not stop.is_set():
        try:
            q.put(item, timeout=0.05)
            return True
        except queue.Full:
            continue
    return False


def _work(source, q, stop):
    try:
        for item in source:
            if not _put(q, stop, item):
                return
        _put(q, stop, _DONE)
    except BaseException as error:  # handed to the consumer, raised there
        _put(q, stop, error)
