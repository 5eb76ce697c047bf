"""A counter-based uniform generator shared by the CPU and CUDA kernels (dropout masks without RNG state).

``uniform(key, i)`` is splitmix64's finalizer applied to ``key + i * golden``: the i-th draw of stream
``key`` as a float in [0, 1) with 24 random bits. Each backend compiles this plain function for itself
(numba.njit / numba.cuda.jit(device=True)), so the same key gives the same mask on both devices and a GPU
kernel needs no state array and no host copy; the key is drawn from the package generator (nc.manual_seed).
"""
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S40 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(40)
_SCALE = 1.0 / (1 << 24)


def uniform(key, i):
    """The i-th float32-exact uniform draw in [0, 1) of stream ``key`` (both uint64)."""
    z = key + i * _GOLDEN
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    z = z ^ (z >> _S31)
    return (z >> _S40) * _SCALE
