"""Batch image augmentation kernels (torchvision.transforms.v2 on whole batches).

Every kernel works on NHWC views (uint8 images, or float NCHW arrays passed through ``transpose(0, 2, 3, 1)``)
and writes into ``out``. They are serial and release the GIL (``nogil=True``): the DataLoader runs them in its
prefetch thread while the training step keeps Numba's parallel pool busy on the other work.
"""
from numba import njit


@njit(nogil=True, cache=True)
def random_crop(images, top, left, padding, fill, out):
    """out[n, i, j] = zero-padded images[n] at (top[n] + i, left[n] + j); padding is added on every side."""
    n_images, height, width, channels = images.shape
    out_h, out_w = out.shape[1], out.shape[2]
    for n in range(n_images):
        for i in range(out_h):
            y = top[n] + i - padding
            for j in range(out_w):
                x = left[n] + j - padding
                if 0 <= y < height and 0 <= x < width:
                    for c in range(channels):
                        out[n, i, j, c] = images[n, y, x, c]
                else:
                    for c in range(channels):
                        out[n, i, j, c] = fill


@njit(nogil=True, cache=True)
def random_crop_reflect(images, top, left, padding, out):
    """random_crop of the images padded by reflection (numpy's and torch's "reflect": the edge is not repeated);
    needs padding < height and padding < width."""
    n_images, height, width, channels = images.shape
    out_h, out_w = out.shape[1], out.shape[2]
    for n in range(n_images):
        for i in range(out_h):
            y = top[n] + i - padding
            y = -y if y < 0 else (2 * height - 2 - y if y >= height else y)
            for j in range(out_w):
                x = left[n] + j - padding
                x = -x if x < 0 else (2 * width - 2 - x if x >= width else x)
                for c in range(channels):
                    out[n, i, j, c] = images[n, y, x, c]


@njit(nogil=True, cache=True)
def hflip(images, flip, out):
    """out[n] = images[n] mirrored left-right where flip[n], else a copy."""
    n_images, height, width, channels = images.shape
    for n in range(n_images):
        for i in range(height):
            for j in range(width):
                source = width - 1 - j if flip[n] else j
                for c in range(channels):
                    out[n, i, j, c] = images[n, i, source, c]


@njit(nogil=True, cache=True)
def normalize_nchw(images, scale, shift, out):
    """out[n, c] = images[n, c] * scale[c] + shift[c] for float NCHW batches."""
    n_images, channels, height, width = images.shape
    for n in range(n_images):
        for c in range(channels):
            s = scale[c]
            b = shift[c]
            for i in range(height):
                for j in range(width):
                    out[n, c, i, j] = images[n, c, i, j] * s + b


def normalize_nhwc_to_nchw(images, scale, shift, out):
    """out[n, c, i, j] = images[n, i, j, c] * scale[c] + shift[c]: uint8 NHWC to normalised float NCHW
    (normalize_nchw on the NCHW view of ``images``: the same loads, strided, and contiguous stores)."""
    normalize_nchw(images.transpose(0, 3, 1, 2), scale, shift, out)
