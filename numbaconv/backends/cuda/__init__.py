"""CUDA backend: numba.cuda kernels on device arrays wrapped in ``CudaArray`` (see array.py).

Modules here import numba.cuda; nothing imports them until a tensor is placed on "cuda".
"""
