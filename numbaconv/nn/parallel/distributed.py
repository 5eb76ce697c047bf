"""DistributedDataParallel: gradients averaged over the ranks in flat buckets, overlapped with backward."""
import contextlib
import weakref

import numpy as np

from ... import autograd, distributed
from ...tensor import Tensor
from ..module import Module


class _Bucket:
    """Consecutive parameters (of one dtype) whose gradients travel in one flat array and one all-reduce; the
    array ends with one slot per parameter, ``used``: 1 where this rank has its gradient, so the all-reduce also
    counts the ranks that have one."""

    def __init__(self, params, dtype):
        self.params = params
        self.slices = []
        offset = 0
        for param in params:
            self.slices.append(slice(offset, offset + param.numel()))
            offset += param.numel()
        self.flat = np.zeros(offset + len(params), dtype)
        self.used = self.flat[offset:]
        self.reset()

    def fill(self, i, grad):
        self.flat[self.slices[i]] = grad.reshape(-1)
        self.used[i] = 1
        self.filled[i] = True
        self.pending -= 1

    def reset(self):
        self.used[...] = 0
        self.filled = [False] * len(self.params)
        self.pending = len(self.params)
        self.work = None


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training on every rank of the default process group
    (torch.nn.parallel.DistributedDataParallel).

    At wrap time rank 0's parameters and buffers are broadcast to every rank. During ``backward`` each
    parameter's gradient is copied, once final, into a flat bucket (about ``bucket_cap_mb`` MB, parameters in
    reverse order, as they become ready); a full bucket's non-blocking all-reduce starts at once, so communication
    overlaps the rest of backward. When backward ends, a callback waits for every bucket and writes the average
    over the ranks into each ``.grad``, so ``optimizer.step()`` needs no extra call. A parameter that got no
    gradient on this rank counts as zero there (and gets the average with the others'); one that no rank used keeps
    its ``.grad`` untouched (torch's find_unused_parameters=True). Inside ``no_sync()`` gradients only accumulate
    locally; the first backward after it reduces the accumulated sum, of every parameter used since the last one.
    The gradient hooks go when the wrapper is garbage collected (as torch's Reducer removes its autograd hooks).

    ``broadcast_buffers``: every training-mode forward first copies rank 0's buffers (BatchNorm running
    statistics) to all ranks, as torch does; BatchNorm itself normalises with each rank's own batch statistics
    (use SyncBatchNorm for global ones). ``state_dict()`` names the keys ``module.*`` as torch's DDP does;
    save ``ddp.module.state_dict()`` for a checkpoint that loads into the bare model.
    """

    def __init__(self, module, broadcast_buffers=True, bucket_cap_mb=4.0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be a Module, got {type(module).__name__}")
        if not (isinstance(bucket_cap_mb, (int, float)) and bucket_cap_mb > 0):
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be a positive number, got {bucket_cap_mb!r}")
        self.world_size = distributed.get_world_size()
        self.module = module
        self.broadcast_buffers = bool(broadcast_buffers)
        self.require_backward_grad_sync = True
        tensors = list(module.parameters()) + list(module.buffers())
        for tensor in tensors:
            if not isinstance(tensor.array, np.ndarray):
                raise TypeError(f"DistributedDataParallel: CPU tensors only, got a parameter or buffer on "
                                f"{tensor.device}")
        for tensor in tensors:
            distributed.broadcast(tensor, src=0)
        self._buckets = _make_buckets([p for p in module.parameters() if p.requires_grad],
                                      int(bucket_cap_mb * 2**20))
        self._where = {}
        hook, handles = _weak_hook(self), []
        for b, bucket in enumerate(self._buckets):
            for i, param in enumerate(bucket.params):
                self._where[id(param)] = (b, i)
                handles.append(param.register_post_accumulate_grad_hook(hook))
        weakref.finalize(self, _remove_hooks, handles)
        self._next_bucket = 0
        self._reducing = False
        self._accumulated = set()  # ids of the parameters that got a gradient inside no_sync()

    def forward(self, *args, **kwargs):
        if self._reducing:
            raise RuntimeError("DistributedDataParallel: the previous backward stopped before its gradients were "
                               "reduced (did it raise?); the ranks are out of step, start the job again")
        if self.broadcast_buffers and self.module.training:
            self.sync_buffers()
        return self.module(*args, **kwargs)

    def sync_buffers(self):
        """Copy rank 0's buffers to every rank (what each training forward does first; call it before evaluating
        the inner module so every rank has the same BatchNorm running statistics)."""
        for buffer in self.module.buffers():
            distributed.broadcast(buffer, src=0)

    @contextlib.contextmanager
    def no_sync(self):
        """Backwards inside accumulate gradients locally without communication (torch's DDP.no_sync)."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def _grad_ready(self, param):
        if not self.require_backward_grad_sync:
            self._accumulated.add(id(param))
            return
        if not self._reducing:
            self._reducing = True
            autograd.queue_callback(self._finish_reduction)
        b, i = self._where[id(param)]
        bucket = self._buckets[b]
        if bucket.filled[i]:
            return
        bucket.fill(i, param.grad.array)
        self._launch_ready()
        for started in self._buckets[:self._next_bucket]:
            started.work.is_completed()  # MPI_Test: MPI moves non-blocking collectives only inside MPI calls

    def _launch_ready(self):
        """Start the all-reduce of each complete bucket, in bucket order (every rank must start them alike)."""
        while self._next_bucket < len(self._buckets) and self._buckets[self._next_bucket].pending == 0:
            bucket = self._buckets[self._next_bucket]
            bucket.work = distributed.all_reduce(Tensor(bucket.flat), async_op=True)
            self._next_bucket += 1

    def _finish_reduction(self):
        for bucket in self._buckets[self._next_bucket:]:
            self._fill_the_rest(bucket)
        self._launch_ready()
        for bucket in self._buckets:
            bucket.work.wait()
            for param, part, used in zip(bucket.params, bucket.slices, bucket.used):
                if used == 0:
                    continue  # no rank has a gradient for it (unused, or frozen since the wrap): .grad untouched
                average = bucket.flat[part].reshape(param.shape) / self.world_size
                if param.grad is None:
                    param.grad = Tensor(average)
                else:
                    param.grad.array[...] = average
            bucket.reset()
        self._accumulated.clear()
        self._next_bucket = 0
        self._reducing = False

    def _fill_the_rest(self, bucket):
        """Complete a bucket whose parameters this backward did not all reach: a gradient accumulated inside
        no_sync() goes in as it is, any other slot is zero and counts as unused."""
        for i, (param, part) in enumerate(zip(bucket.params, bucket.slices)):
            if bucket.filled[i]:
                continue
            if id(param) in self._accumulated and param.grad is not None:
                bucket.fill(i, param.grad.array)
            else:
                bucket.flat[part] = 0
        bucket.pending = 0

    def extra_repr(self):
        sizes = ", ".join(f"{bucket.flat.nbytes / 2**20:.2f}" for bucket in self._buckets)
        return f"world_size={self.world_size}, buckets (MB): [{sizes}]"


def _weak_hook(ddp):
    """The gradient hook, holding the wrapper weakly: the hook table must not keep a dropped wrapper alive."""
    ref = weakref.ref(ddp)

    def hook(param):
        wrapper = ref()
        if wrapper is not None:
            wrapper._grad_ready(param)

    return hook


def _remove_hooks(handles):
    for handle in handles:
        handle.remove()


def _make_buckets(params, cap_bytes):
    """Parameters in reverse order (roughly the order backward finishes them) in buckets of at most
    ``cap_bytes`` (a larger parameter gets its own), one dtype per bucket."""
    buckets, current, size = [], [], 0
    for param in reversed(params):
        if current and (size + param.array.nbytes > cap_bytes or param.dtype != current[0].dtype):
            buckets.append(_Bucket(current, current[0].dtype))
            current, size = [], 0
        current.append(param)
        size += param.array.nbytes
    if current:
        buckets.append(_Bucket(current, current[0].dtype))
    return buckets
