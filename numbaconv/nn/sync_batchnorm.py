"""SyncBatchNorm: batch norm whose training statistics span every rank's batch (torch.nn.SyncBatchNorm)."""
from .. import distributed
from ..ops.normalization import sync_batch_norm
from .batchnorm import _BatchNorm


class SyncBatchNorm(_BatchNorm):
    """Batch norm of any (N, C, *) input that, in training with a process group of more than one rank, normalises
    with the mean and variance of the whole global batch and back-propagates through them (torch.nn.SyncBatchNorm;
    the work is ops.normalization.sync_batch_norm). Without a process group, with one rank, or in eval mode it is
    the plain batch norm. CPU tensors only.
    """

    def _check_input_dim(self, input):
        if input.ndim < 2:
            raise ValueError(f"SyncBatchNorm: expected an (N, C, *) input of at least 2 dims, got shape {input.shape}")

    def forward(self, input):
        if not (self.training and distributed.is_initialized() and distributed.get_world_size() > 1):
            return super().forward(input)
        self._check_input_dim(input)
        tracked = self.track_running_stats
        factor = self._count_batch() if tracked else 0.0
        return sync_batch_norm(input, self.running_mean if tracked else None, self.running_var if tracked else None,
                               self.weight, self.bias, factor, self.eps)

    def _count_batch(self):
        """Count one more training batch; returns the momentum of its running-statistics update."""
        self.num_batches_tracked.array[...] += 1
        self.num_batches_tracked._version[0] += 1
        return 1.0 / float(self.num_batches_tracked.item()) if self.momentum is None else self.momentum

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every BatchNorm1d/BatchNorm2d replaced by a SyncBatchNorm holding the same parameters,
        buffers and mode (torch.nn.SyncBatchNorm.convert_sync_batchnorm); a batch norm itself comes back
        converted."""
        if process_group is not None:
            raise ValueError(f"convert_sync_batchnorm: only the default group exists (process_group=None), got "
                             f"{process_group!r}")
        if isinstance(module, _BatchNorm) and not isinstance(module, cls):
            return _converted(cls, module)
        for name, child in list(module.named_children()):
            converted = cls.convert_sync_batchnorm(child)
            if converted is not child:
                module._modules[name] = converted  # in place: a Sequential keeps its order
        return module


def _converted(cls, bn):
    sync = cls(bn.num_features, bn.eps, bn.momentum, bn.affine, bn.track_running_stats)
    for name in ("weight", "bias"):
        if bn._parameters.get(name) is not None:
            setattr(sync, name, bn._parameters[name])
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        sync._buffers[name] = bn._buffers.get(name)
    sync.training = bn.training
    return sync
