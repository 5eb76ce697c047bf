"""Index orders for the DataLoader (torch.utils.data samplers), with torch's arguments and errors.

Random samplers without a ``generator`` draw a fresh seed from numbaconv's default generator at each pass, so
``numbaconv.manual_seed`` reproduces the order; with ``generator=numbaconv.Generator().manual_seed(s)`` they
follow that generator only.
"""
import itertools
import numbers

import numpy as np

from .. import random as nc_random


def _epoch_generator(generator):
    """The numpy generator of one pass: ``generator``'s own, or a new one seeded from the default generator."""
    if generator is not None:
        return nc_random.numpy_generator(generator)
    return np.random.default_rng(int(nc_random.generator().integers(2**63)))


def check_batch_size(batch_size):
    """``batch_size`` as an int, or torch's ValueError."""
    return _positive_int("batch_size", batch_size)


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name} should be a positive integer value, but got {name}={value}")
    return int(value)


class Sampler:
    """Base class: an iterable of dataset indices (torch.utils.data.Sampler)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1 (torch.utils.data.SequentialSampler)."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation each pass, or ``num_samples`` draws with ``replacement`` (torch RandomSampler)."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        _positive_int("num_samples", self.num_samples)

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n, count = len(self.data_source), self.num_samples
        rng = _epoch_generator(self.generator)
        if self.replacement:
            yield from rng.integers(0, n, count).tolist()
            return
        for _ in range(count // n):
            yield from rng.permutation(n).tolist()
        yield from rng.permutation(n)[:count % n].tolist()

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order each pass (torch.utils.data.SubsetRandomSampler)."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        order = _epoch_generator(self.generator).permutation(len(self.indices))
        for i in order.tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probability proportional to ``weights`` (torch WeightedRandomSampler)."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        self.num_samples = _positive_int("num_samples", num_samples)
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        weights = np.asarray(weights, dtype=np.float64)
        if weights.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {weights.shape}")
        if not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
            raise RuntimeError("WeightedRandomSampler: weights must be finite, >= 0 and not all zero")
        if not replacement and num_samples > np.count_nonzero(weights):
            raise RuntimeError(f"WeightedRandomSampler: cannot draw {num_samples} samples without replacement "
                               f"from {np.count_nonzero(weights)} non-zero weights")
        self.weights = weights
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        rng = _epoch_generator(self.generator)
        p = self.weights / self.weights.sum()
        yield from rng.choice(len(p), self.num_samples, replace=self.replacement, p=p).tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Group ``sampler``'s indices into lists of ``batch_size`` (torch.utils.data.BatchSampler)."""

    def __init__(self, sampler, batch_size, drop_last):
        self.batch_size = _positive_int("batch_size", batch_size)
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.drop_last = drop_last

    def __iter__(self):
        indices = iter(self.sampler)
        while batch := list(itertools.islice(indices, self.batch_size)):
            if len(batch) < self.batch_size and self.drop_last:
                return
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
