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


class _Exit:
    """A worker's last answer, left in its queue for every later call: the error a wait on it raises."""

    def __init__(self, error):
        self.error = error


class Worker:
    """One thread running ``job(state)`` calls in order; answers go to its own queue in the same order.

    ``dead`` is set once the thread has ended or the loader gave up waiting on it (a timeout): nothing waits
    on a dead worker again.
    """

    def __init__(self, worker_id, num_workers, dataset, seed, init_fn):
        self.id = worker_id
        self.inbox = queue.SimpleQueue()
        self.outbox = queue.SimpleQueue()
        self.state = {}
        self.dead = False
        self.thread = threading.Thread(target=self._run, args=(num_workers, dataset, seed, init_fn),
                                       name=f"numbaconv-loader-{worker_id}", daemon=True)
        self.thread.start()

    def _run(self, num_workers, dataset, seed, init_fn):
        """The thread (torch's _worker_loop): set up, serve jobs until stopped, then leave an _Exit answer."""
        last = _Exit(RuntimeError(f"DataLoader worker {self.id} exited unexpectedly"))
        try:
            self._set_up(num_workers, dataset, seed, init_fn)
            self._serve()
        except Exception as error:  # only worker_init_fn's: a job's errors are answers
            error.add_note(f"raised in DataLoader worker {self.id}'s worker_init_fn")
            last = _Exit(error)
        finally:
            self.dead = True
            self.outbox.put(last)

    def _set_up(self, num_workers, dataset, seed, init_fn):
        _info.value = WorkerInfo(self.id, num_workers, seed + self.id, dataset)
        nc_random.use_in_this_thread(nc_random.Generator().manual_seed((seed + self.id) % 2**63))
        if init_fn is not None:
            init_fn(self.id)

    def _serve(self):
        while (job := self.inbox.get()) is not _STOP:
            try:
                result = job(self.state)
            except Exception as error:
                result = _Failure(error, self.id)
            del job  # an idle worker holds no job, so nothing keeps the loader alive
            self.outbox.put(result)
            del result

    def answer(self, timeout):
        """The next answer, raising the worker's exception where it raised one (torch re-raises it too)."""
        try:
            result = self.outbox.get(timeout=timeout or None)
        except queue.Empty:
            self.dead = True
            raise RuntimeError(f"DataLoader timed out after {timeout} seconds") from None
        if isinstance(result, _Exit):
            self.outbox.put(result)
        if isinstance(result, (_Failure, _Exit)):
            raise result.error
        return result

    def discard_answer(self):
        """Wait for the next answer and drop it (a pass that ended early); at once for a dead worker."""
        if not self.dead and isinstance(result := self.outbox.get(), _Exit):
            self.outbox.put(result)

    def stop(self):
        self.inbox.put(_STOP)

    def join(self):
        self.thread.join()


class Pool:
    """``num_workers`` Worker threads sharing one dataset; started once per epoch, or once if persistent."""

    def __init__(self, num_workers, dataset, seed, init_fn):
        self.workers = [Worker(i, num_workers, dataset, seed, init_fn) for i in range(num_workers)]

    @property
    def broken(self):
        """Whether a worker is dead: the pool cannot serve another pass."""
        return any(worker.dead for worker in self.workers)

    def close(self):
        """Stop the workers; wait for them unless the pool is broken (then the daemon threads end alone)."""
        for worker in self.workers:
            worker.stop()
        if not self.broken:
            for worker in self.workers:
                worker.join()
