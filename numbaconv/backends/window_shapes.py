"""Output sizes and window bounds of convolution and pooling, shared by the CPU and CUDA kernels (PyTorch's rules).

Plain functions of ints: host code calls them directly, and kernels compile the window rules for themselves
(numba.njit(inline="always") on the CPU, numba.cuda.jit(device=True) on CUDA), as counter_rng.py is shared.
"""


def conv_output_size(size, kernel, stride, pad_lo, pad_hi, dilation):
    """Output length of one spatial axis of conv2d (torch.nn.Conv2d's formula), padded by pad_lo and pad_hi."""
    return (size + pad_lo + pad_hi - dilation * (kernel - 1) - 1) // stride + 1


def pool_output_size(size, kernel, stride, padding, dilation=1, ceil_mode=False):
    """Output length of one spatial axis of pooling (torch.nn.MaxPool2d's formula): ceil_mode rounds the division
    up, but the last window must start inside the input or the left padding."""
    out = conv_output_size(size + (stride - 1 if ceil_mode else 0), kernel, stride, padding, padding, dilation)
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def avg_window(i, size, kernel, stride, padding, count_include_pad):
    """(start, stop, count) of output ``i``'s avg_pool2d window on one axis: the input range it sums and the
    divisor's factor (the window clipped to the padded input, or to the input without count_include_pad)."""
    start = i * stride - padding
    stop = min(start + kernel, size + padding)
    count = stop - start
    lo, hi = max(start, 0), min(stop, size)
    return lo, hi, count if count_include_pad else hi - lo


def adaptive_window(i, size, out):
    """(start, stop, count) of output ``i``'s adaptive_avg_pool2d window: floor(i*size/out) to ceil((i+1)*size/out)."""
    lo = (i * size) // out
    hi = ((i + 1) * size + out - 1) // out
    return lo, hi, hi - lo
