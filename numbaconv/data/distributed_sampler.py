"""DistributedSampler: each rank's share of one permutation per epoch (torch.utils.data.DistributedSampler)."""
import math
import numbers

import numpy as np

from .samplers import Sampler


def _default(value, ask, name):
    if value is not None:
        return value
    from .. import distributed

    if not distributed.is_initialized():
        raise RuntimeError(f"DistributedSampler: give {name}, or call numbaconv.distributed.init_process_group() "
                           "first")
    return ask()


class DistributedSampler(Sampler):
    """Indices of ``dataset`` for rank ``rank`` of ``num_replicas`` (default: the process group's).

    Every rank draws the same permutation (seeded by ``seed + epoch``; call ``set_epoch`` before each epoch) and
    takes every ``num_replicas``-th index starting at ``rank``, so the ranks' shards are disjoint and together cover
    the data. With ``drop_last=False`` the permutation is padded with its first indices to a multiple of
    ``num_replicas`` (every rank gets the same count; a few indices appear twice); with ``drop_last=True`` the tail is
    dropped instead. The same arguments and semantics as torch.utils.data.DistributedSampler (the permutation
    itself comes from numpy's generator, so it differs from torch's). Pass it as a DataLoader's ``sampler``.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        from .. import distributed

        num_replicas = _default(num_replicas, distributed.get_world_size, "num_replicas")
        rank = _default(rank, distributed.get_rank, "rank")
        if not isinstance(num_replicas, numbers.Integral) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive integer, got {num_replicas!r}")
        if not isinstance(rank, numbers.Integral) or not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: rank must be an integer in [0, {num_replicas}), got {rank!r}")
        if not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValueError(f"DistributedSampler: seed must be an integer >= 0, got {seed!r}")
        self.dataset, self.num_replicas, self.rank = dataset, int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last = bool(shuffle), int(seed), bool(drop_last)
        self.epoch = 0
        n = len(dataset)
        if self.drop_last and n % self.num_replicas:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch):
        """Use epoch ``epoch``'s permutation next (the same on every rank)."""
        if not isinstance(epoch, numbers.Integral) or epoch < 0:
            raise ValueError(f"DistributedSampler.set_epoch: epoch must be an integer >= 0, got {epoch!r}")
        self.epoch = int(epoch)

    def indices(self):
        """This rank's indices for the current epoch as an int64 array."""
        n = len(self.dataset)
        order = np.random.default_rng(self.seed + self.epoch).permutation(n) if self.shuffle else np.arange(n)
        if self.drop_last:
            order = order[:self.total_size]
        elif self.total_size > n:
            order = np.resize(order, self.total_size)  # repeats the order cyclically, as torch pads
        return order[self.rank:self.total_size:self.num_replicas].astype(np.int64)

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self):
        return self.num_samples
