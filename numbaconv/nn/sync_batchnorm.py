"""SyncBatchNorm: BatchNorm2d whose training statistics span every rank's batch (torch.nn.SyncBatchNorm)."""
import numpy as np

from .. import distributed
from ..backends import kernels_of
from ..ops.normalization import BatchNorm, _as_ncl
from ..tensor import Tensor
from .batchnorm import BatchNorm2d


class SyncBatchNormFunction(BatchNorm):
    """The fused batch-norm Function whose backward sums the two per-channel reductions over the ranks first;
    ``count`` is the number of values per channel in the global batch."""

    @staticmethod
    def forward(ctx, x, weight, bias, *, mean, invstd, batch_stats, count):
        return BatchNorm.forward(ctx, x, weight, bias, mean=mean, invstd=invstd, batch_stats=batch_stats)

    @staticmethod
    def backward(ctx, grad):
        x3, w, mean, invstd = ctx.saved_tensors
        kernels = kernels_of(grad, "batchnorm")
        g3 = _as_ncl(np, grad)
        sum_g, sum_gxhat = kernels.batchnorm_backward_reduce(g3, x3, mean, invstd)
        gx = None
        if ctx.needs_input_grad[0]:
            sums = np.concatenate([sum_g, sum_gxhat])
            distributed.all_reduce(Tensor(sums))
            # The kernel divides the sums by this rank's count; scale them so it divides by the global count.
            local = x3.shape[0] * x3.shape[2]
            c = x3.shape[1]
            scale = local / ctx.params.count
            gx = kernels.batchnorm_backward_input(g3, x3, mean, invstd, w, sums[:c] * scale, sums[c:] * scale, True)
            gx = np.reshape(gx, ctx.shape)
        # The weight and bias gradients stay this rank's own; DistributedDataParallel averages them.
        need = ctx.needs_input_grad
        return gx, (sum_gxhat if need[1] else None), (sum_g if need[2] else None)


class SyncBatchNorm(BatchNorm2d):
    """BatchNorm2d that, in training with a process group of more than one rank, normalises with the mean and
    variance of the whole global batch and back-propagates through them (torch.nn.SyncBatchNorm).

    Forward all-gathers each rank's (count, mean, variance) per channel and combines them exactly (Chan's
    pairwise formula, stable where sum/sum-of-squares would cancel); backward all-reduces the per-channel sums
    of the gradient and of gradient × normalised input. Without a process group, with one rank, or in eval mode
    it is BatchNorm2d. CPU tensors only.
    """

    def forward(self, input):
        if not (self.training and distributed.is_initialized() and distributed.get_world_size() > 1):
            return super().forward(input)
        if input.ndim != 4:
            raise ValueError(f"SyncBatchNorm: expected a 4-D (N, C, H, W) input, got shape {input.shape}")
        if not isinstance(input.array, np.ndarray):
            raise TypeError(f"SyncBatchNorm: CPU tensors only, got one on {input.device}")
        x3 = _as_ncl(np, input.array)
        n, c, length = x3.shape
        mean, var = kernels_of(x3, "batchnorm").batchnorm_stats(x3)
        local = np.concatenate([[float(n * length)], mean, var]).astype(np.float64)
        gathered = Tensor(np.empty(distributed.get_world_size() * local.size))
        distributed.all_gather_into_tensor(gathered, Tensor(local))
        counts, means, variances = _split(gathered.array.reshape(-1, local.size), c)
        count = counts.sum()
        if count <= 1:
            raise ValueError(f"SyncBatchNorm: expected more than 1 value per channel when training, got {count:.0f}")
        global_mean = (counts[:, None] * means).sum(0) / count
        global_var = (counts[:, None] * (variances + (means - global_mean) ** 2)).sum(0) / count
        self._update_running_stats(global_mean, global_var, count)
        invstd = (1.0 / np.sqrt(global_var + self.eps)).astype(input.dtype)
        return SyncBatchNormFunction.apply(input, self.weight, self.bias, mean=global_mean.astype(input.dtype),
                                    invstd=invstd, batch_stats=True, count=count)

    def _update_running_stats(self, mean, var, count):
        if not self.track_running_stats:
            return
        self.num_batches_tracked.array[...] += 1
        self.num_batches_tracked._version[0] += 1
        factor = 1.0 / float(self.num_batches_tracked.item()) if self.momentum is None else self.momentum
        for buffer, value in ((self.running_mean, mean), (self.running_var, var * (count / (count - 1)))):
            buffer.array[...] = buffer.array * (1 - factor) + value * factor
            buffer._version[0] += 1

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every BatchNorm2d replaced by a SyncBatchNorm holding the same parameters, buffers and
        mode (torch.nn.SyncBatchNorm.convert_sync_batchnorm); a BatchNorm2d itself comes back converted."""
        if process_group is not None:
            raise ValueError(f"convert_sync_batchnorm: only the default group exists (process_group=None), got "
                             f"{process_group!r}")
        if isinstance(module, BatchNorm2d) and not isinstance(module, cls):
            return _converted(cls, module)
        for name, child in list(module.named_children()):
            converted = cls.convert_sync_batchnorm(child)
            if converted is not child:
                module._modules[name] = converted  # in place: a Sequential keeps its order
        return module


def _split(rows, channels):
    return rows[:, 0], rows[:, 1:1 + channels], rows[:, 1 + channels:]


def _converted(cls, bn):
    sync = cls.__new__(cls)
    BatchNorm2d.__init__(sync, bn.num_features, bn.eps, bn.momentum, bn.affine, bn.track_running_stats)
    for name in ("weight", "bias"):
        if bn._parameters.get(name) is not None:
            setattr(sync, name, bn._parameters[name])
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        sync._buffers[name] = bn._buffers.get(name)
    sync.training = bn.training
    return sync
