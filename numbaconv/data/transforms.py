"""Image transforms applied to whole batches at once (torchvision.transforms).

Layout follows torchvision: uint8 arrays are images as stored (HWC, batches NHWC, like PIL images), float
arrays are tensors (CHW, batches NCHW). Every transform also takes one image (3 dims) and returns one.
Random transforms draw from the ``generator`` passed at call time (the DataLoader passes its own), else the
one given to the constructor, else ``numbaconv.random.generator()``.
"""
import numpy as np

from .. import random as nc_random
from ..backends.cpu import augment


class Transform:
    """Base class: ``transform(images, generator=None)`` maps a batch (or one image) to a new array."""

    def __init__(self, generator=None):
        self.generator = generator

    def __call__(self, images, generator=None):
        images = _as_array(images)
        if images.ndim not in (3, 4):
            raise ValueError(f"{type(self).__name__}: expected one image (3 dims) or a batch (4 dims), "
                             f"got shape {images.shape}")
        single = images.ndim == 3
        batch = images[None] if single else images
        rng = generator or self.generator or nc_random.generator()
        out = self.apply(batch, rng)
        return out[0] if single else out

    def apply(self, batch, rng):
        raise NotImplementedError

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k != "generator")
        return f"{type(self).__name__}({fields})"


class Compose(Transform):
    """Apply ``transforms`` in order (torchvision.transforms.Compose); plain callables get the array only."""

    def __init__(self, transforms):
        super().__init__()
        self.transforms = list(transforms)

    def __call__(self, images, generator=None):
        rng = generator or nc_random.generator()
        for t in self.transforms:
            images = t(images, generator=rng) if isinstance(t, Transform) else t(images)
        return images

    def __repr__(self):
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose({inner}\n)"


class ToTensor(Transform):
    """uint8 NHWC in [0, 255] to float32 NCHW in [0, 1] (torchvision.transforms.ToTensor); floats pass through."""

    def apply(self, batch, rng):
        if batch.dtype != np.uint8:
            return batch.astype(np.float32, copy=False)
        channels = batch.shape[3]
        return _normalize_uint8(batch, np.full(channels, 1 / 255, np.float32), np.zeros(channels, np.float32))


class Normalize(Transform):
    """(x - mean) / std per channel (torchvision.transforms.Normalize).

    A uint8 NHWC batch is converted to float32 NCHW in [0, 1] first, fused into the same pass.
    """

    def __init__(self, mean, std):
        super().__init__()
        self.mean = tuple(float(m) for m in np.atleast_1d(mean))
        self.std = tuple(float(s) for s in np.atleast_1d(std))
        if len(self.mean) != len(self.std):
            raise ValueError(f"Normalize: mean has {len(self.mean)} values but std has {len(self.std)}")
        if any(s <= 0 for s in self.std):
            raise ValueError(f"Normalize: std must be positive, got {self.std}")

    def _scale_shift(self, channels, divisor):
        if len(self.mean) not in (1, channels):
            raise ValueError(f"Normalize: {len(self.mean)} mean/std values for images with {channels} channels")
        mean = np.broadcast_to(np.asarray(self.mean, np.float64), (channels,))
        std = np.broadcast_to(np.asarray(self.std, np.float64), (channels,))
        return (1 / (divisor * std)).astype(np.float32), (-mean / std).astype(np.float32)

    def apply(self, batch, rng):
        if batch.dtype == np.uint8:
            return _normalize_uint8(batch, *self._scale_shift(batch.shape[3], 255.0))
        if batch.dtype.kind != "f":
            raise TypeError(f"Normalize: expected uint8 or float images, got dtype {batch.dtype}")
        scale, shift = self._scale_shift(batch.shape[1], 1.0)
        out = np.empty(batch.shape, np.result_type(batch.dtype, np.float32))
        augment.normalize_nchw(batch, scale.astype(out.dtype), shift.astype(out.dtype), out)
        return out


class RandomCrop(Transform):
    """Pad by ``padding`` and cut a random ``size`` window per image (torchvision RandomCrop): a random translation.

    ``padding_mode`` "constant" pads with ``fill``; "reflect" mirrors the image at its edges without repeating
    them (airbench's translation), which needs padding smaller than the image.
    """

    def __init__(self, size, padding=0, fill=0, padding_mode="constant", generator=None):
        super().__init__(generator)
        self.size = (size, size) if np.isscalar(size) else tuple(size)
        self.padding = int(padding)
        self.fill = fill
        self.padding_mode = padding_mode
        if self.padding < 0 or min(self.size) <= 0:
            raise ValueError(f"RandomCrop: size {self.size} must be positive and padding {padding} >= 0")
        if padding_mode not in ("constant", "reflect"):
            raise ValueError(f"RandomCrop: padding_mode must be 'constant' or 'reflect', got {padding_mode!r}")

    def apply(self, batch, rng):
        nhwc = _nhwc(batch)
        n, height, width, _ = nhwc.shape
        room_y = height + 2 * self.padding - self.size[0]
        room_x = width + 2 * self.padding - self.size[1]
        if room_y < 0 or room_x < 0:
            raise ValueError(f"RandomCrop: crop {self.size} is larger than the padded image "
                             f"{(height + 2 * self.padding, width + 2 * self.padding)}")
        top = rng.integers(0, room_y + 1, n)
        left = rng.integers(0, room_x + 1, n)
        out, out_nhwc = _like(batch, self.size)
        if self.padding_mode == "constant":
            augment.random_crop(nhwc, top, left, self.padding, out.dtype.type(self.fill), out_nhwc)
        elif self.padding >= min(height, width):
            raise ValueError(f"RandomCrop: reflect padding {self.padding} must be smaller than the image "
                             f"{(height, width)}")
        else:
            augment.random_crop_reflect(nhwc, top, left, self.padding, out_nhwc)
        return out


class RandomHorizontalFlip(Transform):
    """Mirror each image left-right with probability ``p`` (torchvision RandomHorizontalFlip)."""

    def __init__(self, p=0.5, generator=None):
        super().__init__(generator)
        if not 0 <= p <= 1:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p}")
        self.p = float(p)

    def apply(self, batch, rng):
        return mirror(batch, rng.random(batch.shape[0]) < self.p)


def mirror(images, flips):
    """``images`` (a batch, or one image) mirrored left-right where the booleans ``flips`` (one per image) say."""
    images = _as_array(images)
    batch = images[None] if images.ndim == 3 else images
    nhwc = _nhwc(batch)
    out, out_nhwc = _like(batch, nhwc.shape[1:3])
    augment.hflip(nhwc, np.asarray(flips, dtype=bool).reshape(batch.shape[0]), out_nhwc)
    return out[0] if images.ndim == 3 else out


def to_float_batch(images):
    """What the DataLoader yields: float32 NCHW (uint8 NHWC batches go through ToTensor)."""
    if images.dtype == np.uint8:
        return ToTensor()(images)
    return np.ascontiguousarray(images, dtype=np.float32)


def _as_array(images):
    return images.numpy() if hasattr(images, "numpy") and not isinstance(images, np.ndarray) else np.asarray(images)


def _nhwc(batch):
    """The NHWC view of a batch: uint8 batches are NHWC already, float batches are NCHW."""
    return batch if batch.dtype == np.uint8 else batch.transpose(0, 2, 3, 1)


def _like(batch, size):
    """A new batch of ``batch``'s layout and dtype with spatial size ``size``, and its NHWC view."""
    if batch.dtype == np.uint8:
        out = np.empty((batch.shape[0], size[0], size[1], batch.shape[3]), batch.dtype)
        return out, out
    out = np.empty((batch.shape[0], batch.shape[1], size[0], size[1]), batch.dtype)
    return out, out.transpose(0, 2, 3, 1)


def _normalize_uint8(batch, scale, shift):
    n, height, width, channels = batch.shape
    out = np.empty((n, channels, height, width), np.float32)
    augment.normalize_nhwc_to_nchw(batch, scale, shift, out)
    return out
