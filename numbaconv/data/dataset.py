"""In-memory datasets (torch.utils.data.TensorDataset, Subset).

A dataset with an ``arrays()`` method returning ``(images, targets)`` numpy arrays is an *array dataset*:
the DataLoader indexes whole batches from those arrays, with no per-item Python loop.
"""
import numpy as np


class ArrayDataset:
    """Images and targets held as numpy arrays (torch.utils.data.TensorDataset)."""

    def __init__(self, images, targets, transform=None, classes=None):
        self.data = np.asarray(images)
        self.targets = np.asarray(targets, dtype=np.int64)
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

    def __getitem__(self, index):
        image = self.data[index]
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.targets[index])


class Subset:
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
            [self.dataset[int(i)][1] for i in self.indices], dtype=np.int64)

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
        return self.dataset[int(self.indices[index])]
