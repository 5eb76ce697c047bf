"""Datasets (torch.utils.data.Dataset, IterableDataset, TensorDataset, Subset, ConcatDataset, random_split).

A dataset with a ``_collated(indices)`` method builds a whole batch in one numpy take; the DataLoader uses it in
place of ``default_collate([dataset[i] for i in indices])`` (the two give the same batch), and falls back to
item by item when it returns NotImplemented.
"""
import bisect
import math
import numbers

import numpy as np

from .. import random as nc_random
from ..tensor import Tensor
from .transforms import Transform


class Dataset:
    """Base class of map-style datasets: ``__getitem__`` and ``__len__`` (torch.utils.data.Dataset)."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """Base class of datasets read as a stream through ``__iter__`` (torch.utils.data.IterableDataset).

    In DataLoader worker threads every worker iterates the same object; shard with ``get_worker_info()``.
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __add__(self, other):
        raise TypeError("IterableDataset does not support +; use itertools.chain over the datasets")


def _take(array, indices):
    return array[np.asarray(indices, dtype=np.int64)]


class TensorDataset(Dataset):
    """Item i is ``tuple(t[i] for t in tensors)`` (torch.utils.data.TensorDataset)."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: argument {i} is a {type(t).__name__}; expected a Tensor")
        if any(t.shape[:1] != tensors[0].shape[:1] or t.ndim == 0 for t in tensors):
            raise ValueError(f"Size mismatch between tensors: first dims {[t.shape[:1] for t in tensors]}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def _collated(self, indices):
        return [Tensor(_take(t.array, indices)) for t in self.tensors]


class ArrayDataset(Dataset):
    """Images and targets held as numpy arrays; item i is ``(transform(images[i]), target i)``.

    Integer targets are stored as int64 and returned as python ints; float targets keep their dtype and come
    back as numpy scalars, so a batch of them keeps it too. A ``Transform`` (numbaconv.data.transforms) is
    applied to whole batches by the DataLoader; any other callable item by item.
    """

    def __init__(self, images, targets, transform=None, classes=None):
        self.data = np.asarray(images)
        targets = np.asarray(targets)
        if targets.dtype.kind not in "iubf":
            raise TypeError(f"ArrayDataset: targets must be integers or floats, got dtype {targets.dtype}")
        self.targets = targets if targets.dtype.kind == "f" else targets.astype(np.int64)
        if len(self.data) != len(self.targets):
            raise ValueError(f"ArrayDataset: {len(self.data)} images but {len(self.targets)} targets")
        self.transform = transform
        self.classes = list(classes) if classes is not None else None

    def arrays(self):
        return self.data, self.targets

    def image(self, index):
        """Image ``index`` as stored (HWC uint8 for CIFAR-10), without the transform."""
        return self.data[index]

    def __len__(self):
        return len(self.data)

    def _target(self, index):
        target = self.targets[index]
        return target if self.targets.dtype.kind == "f" else int(target)

    def __getitem__(self, index):
        image = self.data[index]
        if self.transform is not None:
            image = self.transform(image)
        return image, self._target(index)

    def _collated(self, indices):
        if self.transform is not None and not isinstance(self.transform, Transform):
            return NotImplemented
        indices = np.asarray(indices, dtype=np.int64)
        images = self.data[indices]
        if self.transform is not None:
            images = self.transform(images)
        return [Tensor(images), Tensor(self.targets[indices])]


class Subset(Dataset):
    """The items of ``dataset`` at ``indices`` (torch.utils.data.Subset); stays an array dataset if its base is."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices if isinstance(indices, range) else np.asarray(indices, dtype=np.int64)
        n = len(dataset)
        if len(self.indices) and (min(self.indices) < -n or max(self.indices) >= n):
            raise IndexError(f"Subset: indices must lie in [-{n}, {n}) for a dataset of {n} items")
        self._arrays = None
        if hasattr(dataset, "arrays"):
            self.arrays = self._subset_arrays

    @property
    def transform(self):
        return getattr(self.dataset, "transform", None)

    @property
    def classes(self):
        return getattr(self.dataset, "classes", None)

    @property
    def targets(self):
        return self._subset_arrays()[1] if hasattr(self.dataset, "arrays") else np.asarray(
            [self.dataset[int(i)][1] for i in self.indices])

    def _subset_arrays(self):
        if self._arrays is None:
            images, targets = self.dataset.arrays()
            if isinstance(self.indices, range) and self.indices.step > 0 and self.indices.start >= 0:
                select = slice(self.indices.start, self.indices.stop, self.indices.step)
            else:
                select = np.asarray(self.indices, dtype=np.int64)
            self._arrays = images[select], targets[select]
        return self._arrays

    def image(self, index):
        return self.dataset.image(int(self.indices[index]))

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        if isinstance(index, list):
            return [self.dataset[int(self.indices[i])] for i in index]
        return self.dataset[int(self.indices[index])]

    def _collated(self, indices):
        collated = getattr(self.dataset, "_collated", None)
        if collated is None:
            return NotImplemented
        return collated(_take(np.asarray(self.indices), indices))


class ConcatDataset(Dataset):
    """``datasets`` one after another (torch.utils.data.ConcatDataset)."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index += len(self)
        if index >= len(self):
            raise IndexError(f"ConcatDataset: index {index} out of range for {len(self)} items")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


def _split_lengths(lengths, n):
    lengths = list(lengths)
    if lengths and all(isinstance(x, float) for x in lengths) and math.isclose(sum(lengths), 1):
        if any(not 0 <= x <= 1 for x in lengths):
            raise ValueError(f"Fraction at index {[x for x in lengths if not 0 <= x <= 1][0]} is not between 0 and 1")
        counts = [int(math.floor(n * x)) for x in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        return counts
    if any(isinstance(x, bool) or not isinstance(x, numbers.Integral) or x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must be ints >= 0 or fractions summing to 1, got {lengths}")
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    return [int(x) for x in lengths]


def random_split(dataset, lengths, generator=None):
    """Disjoint random Subsets of the given lengths or fractions (torch.utils.data.random_split).

    The permutation comes from ``generator`` (a numbaconv.Generator), else from the default generator.
    """
    counts = _split_lengths(lengths, len(dataset))
    order = nc_random.numpy_generator(generator).permutation(sum(counts))
    bounds = np.cumsum([0] + counts)
    return [Subset(dataset, order[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
