"""CUDA backend: numba.cuda kernels on device arrays wrapped in ``CudaArray`` (see array_api.py).

Modules here import numba.cuda; nothing imports them until a tensor is placed on "cuda".
"""
