"""One tiled shared-memory GEMM kernel with pluggable operand loaders and output stores.

``C[z][m, n] = sum_k A[z][m, k] * B[z][k, n]`` over a (n-tiles, m-tiles, z * ksplit) grid. Each block stages a
BK x BM slice of A and a BK x BN slice of B in shared memory and every thread accumulates a TM x TN
register tile. The loaders turn (z, m, k) / (z, k, n) into an element of the operand: a strided matrix
(matmul), or the implicit im2col view of a convolution's input, so conv never materialises im2col columns.
With ksplit > 1 the K range is split across blocks that add their partial sums atomically (for skinny
outputs with a long K, such as conv weight gradients). The store fuses a bias and a ReLU epilogue.

Parameters travel in one int tuple ``p`` (see ``matmul_params`` and conv.py's ``conv_params``).
"""
import numpy as np
from numba import from_dtype

from .launch import cached, cuda

# p layout shared by every loader: geometry first, epilogue flags at fixed places.
BIAS, RELU = 17, 18
P_LEN = 20


def _matmul_a(A, z, m, k, p):
    return A[z * p[0] + m * p[1] + k * p[2]]


def _matmul_b(B, z, k, n, p):
    return B[z * p[3] + k * p[4] + n * p[5]]


def _matmul_c(z, m, n, p):
    return z * p[6] + m * p[7] + n * p[8]


def _matmul_bias_index(z, m, n, p):
    return m if p[BIAS] == 1 else n


# conv p: 0 N, 1 C, 2 H, 3 W, 4 O, 5 OH, 6 OW, 7 KH, 8 KW, 9 SH, 10 SW, 11 PH, 12 PW, 13 DH, 14 DW, 15 Cg, 16 Og
def _image(X, z, c, nidx, oh, ow, i, j, p):
    h = oh * p[9] - p[11] + i * p[13]
    w = ow * p[10] - p[12] + j * p[14]
    if h < 0 or h >= p[2] or w < 0 or w >= p[3]:
        return X[0] * 0
    return X[((nidx * p[1] + z * p[15] + c) * p[2] + h) * p[3] + w]


def _fwd_a(Wt, z, m, k, p):
    return Wt[(z * p[16] + m) * (p[15] * p[7] * p[8]) + k]


def _fwd_b(X, z, k, n, p):
    khkw = p[7] * p[8]
    c = k // khkw
    r = k - c * khkw
    i = r // p[8]
    j = r - i * p[8]
    plane = p[5] * p[6]
    nidx = n // plane
    q = n - nidx * plane
    oh = q // p[6]
    return _image_dev(X, z, c, nidx, oh, q - oh * p[6], i, j, p)


def _fwd_c(z, m, n, p):
    plane = p[5] * p[6]
    nidx = n // plane
    return (nidx * p[4] + z * p[16] + m) * plane + (n - nidx * plane)


def _fwd_bias_index(z, m, n, p):
    return z * p[16] + m


def _dx_a(Wt, z, m, k, p):
    khkw = p[7] * p[8]
    o = k // khkw
    return Wt[((z * p[16] + o) * p[15] + m) * khkw + (k - o * khkw)]


def _dx_b(G, z, k, n, p):
    khkw = p[7] * p[8]
    o = k // khkw
    r = k - o * khkw
    i = r // p[8]
    j = r - i * p[8]
    hw = p[2] * p[3]
    nidx = n // hw
    q = n - nidx * hw
    h = q // p[3]
    w = q - h * p[3]
    th = h + p[11] - i * p[13]
    tw = w + p[12] - j * p[14]
    if th < 0 or tw < 0:
        return G[0] * 0
    oh = th // p[9]
    ow = tw // p[10]
    if oh * p[9] != th or ow * p[10] != tw or oh >= p[5] or ow >= p[6]:
        return G[0] * 0
    return G[((nidx * p[4] + z * p[16] + o) * p[5] + oh) * p[6] + ow]


def _dx_c(z, m, n, p):
    hw = p[2] * p[3]
    nidx = n // hw
    return (nidx * p[1] + z * p[15] + m) * hw + (n - nidx * hw)


def _dw_a(G, z, m, k, p):
    plane = p[5] * p[6]
    nidx = k // plane
    return G[(nidx * p[4] + z * p[16] + m) * plane + (k - nidx * plane)]


def _dw_b(X, z, k, n, p):
    return _fwd_b_swapped(X, z, n, k, p)


def _dw_c(z, m, n, p):
    return (z * p[16] + m) * (p[15] * p[7] * p[8]) + n


_image_dev = cuda.jit(device=True, inline=True)(_image)
_fwd_b_swapped = cuda.jit(device=True, inline=True)(_fwd_b)

LOADERS = {
    "matmul": (_matmul_a, _matmul_b, _matmul_c, _matmul_bias_index),
    "conv_fwd": (_fwd_a, _fwd_b, _fwd_c, _fwd_bias_index),
    "conv_dx": (_dx_a, _dx_b, _dx_c, _fwd_bias_index),
    "conv_dw": (_dw_a, _dw_b, _dw_c, _fwd_bias_index),
}

# (BM, BN, BK, TM, TN): the large tile fills the GPU on big problems; the small one keeps tiny problems cheap
# (and the CUDA simulator fast).
LARGE = (128, 128, 8, 8, 8)
SMALL = (16, 16, 8, 2, 2)


@cached
def gemm_kernel(kind, dtype_name, tile, a_k_fast, b_k_fast):
    bm, bn, bk, tm, tn = tile
    threads_n = bn // tn
    threads_m = bm // tm
    nt = threads_n * threads_m
    a_per = bm * bk // nt
    b_per = bn * bk // nt
    nb_dtype = from_dtype(np.dtype(dtype_name))
    load_a, load_b, store_index, bias_index = (cuda.jit(device=True, inline=True)(f) for f in LOADERS[kind])

    @cuda.jit(fastmath=True)
    def kernel(C, A, B, bias, M, N, K, ksplit, p):
        t = cuda.threadIdx.x
        tx = t % threads_n
        ty = t // threads_n
        m0 = cuda.blockIdx.y * bm
        n0 = cuda.blockIdx.x * bn
        z = cuda.blockIdx.z // ksplit
        s = cuda.blockIdx.z - z * ksplit
        kchunk = ((K + ksplit - 1) // ksplit + bk - 1) // bk * bk
        kbeg = s * kchunk
        kend = min(K, kbeg + kchunk)
        As = cuda.shared.array((bk, bm), nb_dtype)
        Bs = cuda.shared.array((bk, bn), nb_dtype)
        acc = cuda.local.array((tm, tn), nb_dtype)
        a_reg = cuda.local.array(tm, nb_dtype)
        b_reg = cuda.local.array(tn, nb_dtype)
        for i in range(tm):
            for j in range(tn):
                acc[i, j] = 0
        for k0 in range(kbeg, kend, bk):
            for r in range(a_per):
                e = t + r * nt
                if a_k_fast:
                    kk = e % bk
                    mm = e // bk
                else:
                    mm = e % bm
                    kk = e // bm
                m = m0 + mm
                k = k0 + kk
                v = nb_dtype(0)
                if m < M and k < kend:
                    v = load_a(A, z, m, k, p)
                As[kk, mm] = v
            for r in range(b_per):
                e = t + r * nt
                if b_k_fast:
                    kk = e % bk
                    nn = e // bk
                else:
                    nn = e % bn
                    kk = e // bn
                n = n0 + nn
                k = k0 + kk
                v = nb_dtype(0)
                if n < N and k < kend:
                    v = load_b(B, z, k, n, p)
                Bs[kk, nn] = v
            cuda.syncthreads()
            for kk in range(bk):
                for i in range(tm):
                    a_reg[i] = As[kk, ty + i * threads_m]
                for j in range(tn):
                    b_reg[j] = Bs[kk, tx + j * threads_n]
                for i in range(tm):
                    for j in range(tn):
                        acc[i, j] += a_reg[i] * b_reg[j]
            cuda.syncthreads()
        for i in range(tm):
            m = m0 + ty + i * threads_m
            if m < M:
                for j in range(tn):
                    n = n0 + tx + j * threads_n
                    if n < N:
                        v = acc[i, j]
                        index = store_index(z, m, n, p)
                        if ksplit > 1:
                            cuda.atomic.add(C, index, v)
                        else:
                            if p[BIAS] != 0:
                                v += bias[bias_index(z, m, n, p)]
                            if p[RELU] != 0 and v < 0:
                                v = 0
                            C[index] = v

    return kernel, nt


def pick_tile(M, N, K):
    """The large tile when the problem covers the GPU with it, else the small one."""
    return LARGE if M >= 64 and N >= 64 and K >= 8 else SMALL


def launch(kind, C, A, B, bias, M, N, K, batches, p, a_k_fast=True, b_k_fast=False, ksplit=1, tile=None):
    """Run the GEMM of ``kind`` into the flat output ``C`` (zeroed by the caller when ksplit > 1)."""
    tile = tile or pick_tile(M, N, K)
    kernel, nt = gemm_kernel(kind, C.dtype.name, tile, bool(a_k_fast), bool(b_k_fast))
    grid = ((N + tile[1] - 1) // tile[1], (M + tile[0] - 1) // tile[0], batches * ksplit)
    kernel[grid, nt](C, A, B, bias, M, N, K, ksplit, tuple(int(v) for v in p))


def params(values, bias=0, relu=0):
    """A P_LEN tuple: ``values`` first, then the epilogue flags."""
    p = list(values) + [0] * (P_LEN - len(values))
    p[BIAS] = bias
    p[RELU] = relu
    return tuple(int(v) for v in p)
