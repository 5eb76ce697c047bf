"""Batches from a dataset (torch.utils.data.DataLoader), with torch's keywords, defaults and errors.

Extras beyond torch: ``seed=`` (shorthand for ``generator=numbaconv.Generator().manual_seed(seed)``),
``transform=`` (a batch transform applied to the first field of each batch, the images, in the worker) and
``prefetch=k`` (with ``num_workers=0``: one background thread assembles batches ``k`` ahead).
``numbaconv.data.DataLoader`` is this loader with ``prefetch=2``; ``numbaconv.utils.data.DataLoader`` keeps
torch's ``num_workers=0`` behaviour (batches built in the calling thread when asked for).
``pin_memory`` is accepted and does nothing (CPU memory needs no pinning for numbaconv's host-to-GPU copies);
``multiprocessing_context`` and ``in_order=False`` are accepted too: workers are threads (see workers.py) and
batches always come in order.
"""
import collections
import functools
import itertools
import numbers

from .. import random as nc_random
from ..tensor import Tensor
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .samplers import BatchSampler, RandomSampler, SequentialSampler, check_batch_size
from .transforms import Transform
from .workers import Exhausted, Pool

_CONTEXTS = ("fork", "spawn", "forkserver")


def _check_options(dataset, shuffle, sampler, batch_sampler, batch_size, drop_last, num_workers, timeout,
                   prefetch_factor, persistent_workers, multiprocessing_context):
    """torch's argument checks, with torch's messages."""
    if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral) or num_workers < 0:
        raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 to "
                         "enable multiprocessing, otherwise set prefetch_factor to None.")
    if prefetch_factor is not None and prefetch_factor < 0:
        raise ValueError("prefetch_factor option should be non-negative")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")
    if multiprocessing_context is not None:
        if num_workers == 0:
            raise ValueError("multiprocessing_context can only be used with multi-process loading (num_workers > "
                             f"0), but got num_workers={num_workers}")
        if isinstance(multiprocessing_context, str) and multiprocessing_context not in _CONTEXTS:
            raise ValueError(f"multiprocessing_context option should specify a valid start method in "
                             f"{list(_CONTEXTS)}, but got multiprocessing_context={multiprocessing_context!r}")
    if isinstance(dataset, IterableDataset):
        for name, value in (("shuffle", shuffle), ("sampler", sampler), ("batch_sampler", batch_sampler)):
            if value not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified {name} option, but got "
                                 f"{name}={value}")
    elif sampler is not None and shuffle:
        raise ValueError("sampler option is mutually exclusive with shuffle")
    if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None or drop_last):
        raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last")
    if batch_sampler is None and batch_size is None and drop_last:
        raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")


class DataLoader:
    """Iterate ``dataset`` in batches (torch.utils.data.DataLoader); see the module docstring for the extras."""

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True, seed=None, transform=None, prefetch=0):
        _check_options(dataset, shuffle, sampler, batch_sampler, batch_size, drop_last, num_workers, timeout,
                       prefetch_factor, persistent_workers, multiprocessing_context)
        if isinstance(prefetch, bool) or not isinstance(prefetch, numbers.Integral) or prefetch < 0:
            raise ValueError(f"DataLoader: prefetch must be an integer >= 0, got {prefetch!r}")
        if seed is not None:
            if generator is not None:
                raise ValueError("DataLoader: pass seed= or generator=, not both")
            generator = nc_random.Generator().manual_seed(seed)
        self.dataset = dataset
        self.seed = seed
        self.generator = generator
        self.num_workers = int(num_workers)
        self.prefetch_factor = 2 if prefetch_factor is None and num_workers else prefetch_factor
        self.prefetch = int(prefetch)
        self.pin_memory = bool(pin_memory)
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.persistent_workers = bool(persistent_workers)
        self.in_order = in_order
        self.transform = transform
        self._iterable = isinstance(dataset, IterableDataset)
        if batch_sampler is not None:
            batch_size, drop_last = None, False
        elif self._iterable:
            sampler = None
        elif sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        elif batch_size is not None:
            check_batch_size(batch_size)
        self.batch_size = batch_size
        self.drop_last = bool(drop_last)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.shuffle = bool(shuffle)
        self._auto_collation = batch_sampler is not None or (self._iterable and batch_size is not None)
        self.collate_fn = collate_fn or (default_collate if self._auto_collation else default_convert)
        self._pool = None
        self._epoch = None

    # ---- length -----------------------------------------------------------------------------------------
    def __len__(self):
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)

    # ---- building one batch (in a worker, or in the calling thread) ---------------------------------------
    def _finish(self, batch):
        if self.transform is None:
            return batch
        fields = batch if isinstance(batch, (list, tuple)) else [batch]
        images = fields[0].array if isinstance(fields[0], Tensor) else fields[0]
        images = Tensor(self.transform(images) if isinstance(self.transform, Transform) else self.transform(images))
        if not isinstance(batch, (list, tuple)):
            return images
        return type(batch)([images, *fields[1:]]) if isinstance(batch, list) else (images, *fields[1:])

    def _fetch(self, index, epoch, state=None):
        if epoch.cancelled:
            return None
        if not self._auto_collation:
            return self._finish(self.collate_fn(self.dataset[index]))
        if self.collate_fn is default_collate and hasattr(self.dataset, "_collated"):
            batch = self.dataset._collated(index)
            if batch is not NotImplemented:
                return self._finish(batch)
        getitems = getattr(self.dataset, "__getitems__", None)
        samples = getitems(index) if getitems is not None else [self.dataset[i] for i in index]
        return self._finish(self.collate_fn(samples))

    def _next_streamed(self, epoch, state):
        if epoch.cancelled:
            return None
        if state.get("epoch") is not epoch:
            state.clear()
            state.update(epoch=epoch, items=iter(self.dataset))
        items = state["items"]
        if not self._auto_collation:
            item = next(items, Exhausted)
            return Exhausted if item is Exhausted else self._finish(self.collate_fn(item))
        samples = list(itertools.islice(items, self.batch_size))
        if not samples or (self.drop_last and len(samples) < self.batch_size):
            return Exhausted
        return self._finish(self.collate_fn(samples))

    # ---- iteration ----------------------------------------------------------------------------------------
    def __iter__(self):
        if self.persistent_workers and self._epoch is not None:
            self._epoch.close()
        base_seed = int(nc_random.numpy_generator(self.generator).integers(2**63))
        if self.num_workers:
            workers, depth = self.num_workers, self.prefetch_factor
        else:
            workers, depth = int(self.prefetch > 0), self.prefetch
        if not workers:
            return self._in_this_thread(_Epoch())
        epoch = self._with_workers(workers, base_seed, max(depth, 1), _Epoch())
        if self.persistent_workers:
            self._epoch = epoch
        return epoch

    def _in_this_thread(self, epoch):
        if self._iterable:
            state = {}
            while (batch := self._next_streamed(epoch, state)) is not Exhausted:
                yield batch
            return
        for index in (self.batch_sampler if self._auto_collation else self.sampler):
            yield self._fetch(index, epoch)

    def _with_workers(self, workers, base_seed, depth, epoch):
        pool = self._pool or Pool(workers, self.dataset, base_seed, self.worker_init_fn)
        if self.persistent_workers:
            self._pool = pool
        pending = collections.deque()
        try:
            if self._iterable:
                yield from self._stream_from(pool, depth, epoch, pending)
            else:
                yield from self._map_from(pool, depth, epoch, pending)
        finally:
            epoch.cancelled = True
            self._release(pool, pending)

    def _release(self, pool, pending):
        """End a pass: a healthy persistent pool drops the answers it still owes and serves the next pass; any
        other pool is closed (a broken one without waiting on its workers: a timeout must not hang)."""
        if pool is self._pool and not pool.broken:
            for worker in pending:
                worker.discard_answer()
            return
        if pool is self._pool:
            self._pool = None
        pool.close()

    def _map_from(self, pool, depth, epoch, pending):
        indices = iter(self.batch_sampler if self._auto_collation else self.sampler)
        workers = itertools.cycle(pool.workers)

        def submit():
            index = next(indices, Exhausted)
            if index is not Exhausted:
                worker = next(workers)
                worker.inbox.put(functools.partial(self._fetch, index, epoch))
                pending.append(worker)

        for _ in range(depth * len(pool.workers)):
            submit()
        while pending:
            batch = pending.popleft().answer(self.timeout)
            submit()
            yield batch

    def _stream_from(self, pool, depth, epoch, pending):
        job = functools.partial(self._next_streamed, epoch)
        for _ in range(depth):
            for worker in pool.workers:
                worker.inbox.put(job)
                pending.append(worker)
        finished = set()
        while pending:
            worker = pending.popleft()
            batch = worker.answer(self.timeout)
            if batch is Exhausted or worker in finished:
                finished.add(worker)
                continue
            worker.inbox.put(job)
            pending.append(worker)
            yield batch

    def __del__(self):
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.close()

    def __repr__(self):
        return (f"{type(self).__name__}({self.dataset!r}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"num_workers={self.num_workers}, drop_last={self.drop_last}, seed={self.seed}, "
                f"transform={self.transform!r})")


class _Epoch:
    """One pass's flag: set when the pass ends early, so queued jobs return at once."""

    cancelled = False


class PrefetchingDataLoader(DataLoader):
    """numbaconv.data.DataLoader: torch's DataLoader assembling batches ``prefetch=2`` ahead in a thread."""

    def __init__(self, dataset, batch_size=1, shuffle=None, *args, prefetch=2, **kwargs):
        super().__init__(dataset, batch_size, shuffle, *args, prefetch=prefetch, **kwargs)
