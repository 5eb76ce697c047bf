"""CPU backend: numpy arrays, Numba parallel kernels, BLAS through numpy."""
