"""Pooling output sizes, shared by the CPU and CUDA pooling kernels (PyTorch's formula)."""


def pool_output_size(size, kernel, stride, padding, dilation=1, ceil_mode=False):
    """Output length of one spatial axis; with ceil_mode the last window must start inside input or left pad."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out
