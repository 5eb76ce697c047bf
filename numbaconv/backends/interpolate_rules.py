"""Where each output pixel of an upsampling reads the input, one axis at a time (PyTorch's index rules of
torch.nn.functional.interpolate), shared by the CPU and CUDA kernels.

``axis_table`` gives, for one spatial axis, the two source indices and the two weights of every output position:
nearest and nearest-exact read one index (weights 1 and 0), linear two neighbours. The arithmetic is torch's,
in torch's precision: nearest in float32 whatever the dtype (as its CPU kernels do), linear in the data's dtype.
Plain numpy on the host; each backend keeps its tables (a few values per output row or column) once per geometry.
"""
import functools

import numpy as np

MODES = ("nearest", "nearest-exact", "bilinear")


def scale_for(in_size, out_size, scale_factor, align_corners, linear, dtype):
    """torch's area_pixel_compute_scale: the step in input units between output positions."""
    t = np.float32 if not linear else dtype
    if linear and align_corners:
        return t((in_size - 1) / (out_size - 1)) if out_size > 1 else t(0)
    if scale_factor is not None:
        return t(1.0 / scale_factor)
    return t(in_size) / t(out_size)


@functools.lru_cache(maxsize=256)
def axis_table(in_size, out_size, scale_factor, mode, align_corners, dtype):
    """(index (2, out) int64, weight (2, out) of ``dtype``) for one axis: output j reads index[0, j] with weight
    weight[0, j] plus index[1, j] with weight[1, j]."""
    dtype = np.dtype(dtype).type
    linear = mode == "bilinear"
    scale = scale_for(in_size, out_size, scale_factor, align_corners, linear, dtype)
    t = type(scale)
    dst = np.arange(out_size).astype(t)
    index = np.zeros((2, out_size), np.int64)
    weight = np.zeros((2, out_size), dtype)
    if not linear:
        if out_size == in_size:
            source = np.arange(out_size)
        elif out_size == 2 * in_size and mode == "nearest":
            source = np.arange(out_size) >> 1
        else:
            offset = t(0.5) if mode == "nearest-exact" else t(0)
            source = np.floor((dst + offset) * scale).astype(np.int64)
        index[0] = index[1] = np.minimum(source, in_size - 1)
        weight[0] = 1
        return index, weight
    if align_corners:
        source = scale * dst
    else:
        source = np.maximum(scale * (dst + t(0.5)) - t(0.5), t(0))
    low = source.astype(np.int64)
    index[0] = low
    index[1] = low + (low < in_size - 1)
    upper = (source - low.astype(t)).astype(dtype)
    weight[1] = upper
    weight[0] = dtype(1) - upper
    return index, weight
