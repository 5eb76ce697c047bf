"""airbench's alternating flip: every image is seen mirrored and unmirrored in each two consecutive epochs."""
import numpy as np

from .. import random as nc_random
from ..tensor import Tensor
from .dataset import Dataset
from .transforms import mirror


class AlternatingFlip(Dataset):
    """The items of ``dataset`` with the images mirrored on airbench's schedule (no torchvision equivalent).

    Epoch 0 mirrors each image with probability 1/2 (drawn once, from ``generator`` or numbaconv's global RNG);
    epoch e > 0 mirrors exactly the images epoch 0 did not when e is odd, and those it did when e is even. Call
    ``set_epoch(e)`` before each epoch, as with DistributedSampler. Images follow the transforms' layouts (uint8
    HWC as stored, float CHW).
    """

    def __init__(self, dataset, generator=None):
        self.dataset = dataset
        self.first_epoch = nc_random.numpy_generator(generator).random(len(dataset)) < 0.5
        self.epoch = 0

    def set_epoch(self, epoch):
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
            raise ValueError(f"AlternatingFlip.set_epoch: epoch must be an integer >= 0, got {epoch!r}")
        self.epoch = int(epoch)

    def mirrored(self, indices):
        """Whether the items at ``indices`` are mirrored in the current epoch."""
        return self.first_epoch[indices] ^ (self.epoch % 2 == 1)

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        image, *rest = self.dataset[index]
        if self.mirrored(index):
            image = mirror(image, [True])
        return (image, *rest)

    def _collated(self, indices):
        collated = getattr(self.dataset, "_collated", None)
        batch = collated(indices) if collated is not None else NotImplemented
        if batch is NotImplemented:
            return NotImplemented
        images, *rest = batch
        return [Tensor(mirror(images.numpy(), self.mirrored(np.asarray(indices, dtype=np.int64)))), *rest]
