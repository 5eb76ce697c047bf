"""DataLoader workers: threads that build batches ahead of the training loop (torch's worker processes).

Why threads and not processes: a process forked after Numba's OpenMP workers have run hangs in its first
parallel kernel (numba's default threading layer here is GNU OpenMP, which is not fork-safe), and
spawn/forkserver workers need picklable datasets and a ``__main__`` guard that many scripts lack. The loading
work numbaconv does (numpy fancy indexing and stacking, the GIL-free Numba augment kernels, PIL decoding, file
reads) releases the GIL, so threads run it in parallel; pure-Python ``__getitem__`` code runs one thread at a time.

Each worker has its own numbaconv generator seeded ``base_seed + worker_id`` (as torch seeds worker processes),
so random transforms inside workers are reproducible under ``manual_seed``. Batch ``k`` goes to worker
``k % num_workers`` and batches come back in order, so results do not depend on thread timing.
"""
import queue
import threading
from dataclasses import dataclass

from .. import random as nc_random

_info = threading.local()
_STOP = object()


@dataclass(frozen=True)
class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker (torch.utils.data.get_worker_info)."""

    id: int
    num_workers: int
    seed: int
    dataset: object


def get_worker_info():
    """The calling worker's WorkerInfo, or None in the main thread (torch.utils.data.get_worker_info)."""
    return getattr(_info, "value", None)


class Exhausted:
    """A worker's answer when its iterable dataset has no more batches."""


class _Failure:
    def __init__(self, error, worker_id):
        error.add_note(f"raised in DataLoader worker {worker_id}")
        self.error = error


class Worker:
    """One thread running ``job(state)`` calls in order; answers go to its own queue in the same order."""

    def __init__(self, worker_id, num_workers, dataset, seed, init_fn):
        self.id = worker_id
        self.inbox = queue.SimpleQueue()
        self.outbox = queue.SimpleQueue()
        self.state = {}
        self.thread = threading.Thread(target=self._run, args=(num_workers, dataset, seed, init_fn),
                                       name=f"numbaconv-loader-{worker_id}", daemon=True)
        self.thread.start()

    def _run(self, num_workers, dataset, seed, init_fn):
        _info.value = WorkerInfo(self.id, num_workers, seed + self.id, dataset)
        nc_random.use_in_this_thread(nc_random.Generator().manual_seed((seed + self.id) % 2**63))
        try:
            if init_fn is not None:
                init_fn(self.id)
        except Exception as error:
            self.outbox.put(_Failure(error, self.id))
            return
        while True:
            job = self.inbox.get()
            if job is _STOP:
                return
            try:
                result = job(self.state)
            except Exception as error:
                result = _Failure(error, self.id)
            del job  # an idle worker holds no job, so nothing keeps the loader alive
            self.outbox.put(result)
            del result

    def answer(self, timeout):
        """The next answer, raising the worker's exception where it raised one."""
        try:
            result = self.outbox.get(timeout=timeout or None)
        except queue.Empty:
            raise RuntimeError(f"DataLoader timed out after {timeout} seconds") from None
        if isinstance(result, _Failure):
            raise result.error
        return result

    def discard_answer(self):
        """Wait for the next answer and drop it, whatever it is (a pass that ended early)."""
        self.outbox.get()

    def stop(self):
        self.inbox.put(_STOP)

    def join(self):
        self.thread.join()


class Pool:
    """``num_workers`` Worker threads sharing one dataset; started once per epoch, or once if persistent."""

    def __init__(self, num_workers, dataset, seed, init_fn):
        self.workers = [Worker(i, num_workers, dataset, seed, init_fn) for i in range(num_workers)]

    def close(self):
        for worker in self.workers:
            worker.stop()
        for worker in self.workers:
            worker.join()
