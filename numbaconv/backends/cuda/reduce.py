"""Reductions over any set of axes (torch.sum / amax / amin / argmax): one block per output element; and the
rank sort along rows (torch.sort).

The source is addressed through (kept shape, kept strides) and (reduced shape, reduced strides) tuples, so
no transposed copy is made first.
"""
import numpy as np

from .elementwise import strided_offset
from .launch import THREADS, blocks, cached, cuda, device

REDUCE_THREADS = 128


def _start(op, dtype):
    """The identity of ``op`` in ``dtype``."""
    if op == "sum":
        return 0
    if dtype.kind == "f":
        return -np.inf if op == "max" else np.inf
    if dtype.kind == "b":
        return op != "max"
    info = np.iinfo(dtype)
    return int(info.min if op == "max" else info.max)


@cached
def _reduce_kernel(op, dtype_name, threads):
    dtype = np.dtype(dtype_name)
    from numba import from_dtype

    nb_dtype = from_dtype(dtype)
    start = _start(op, dtype)
    is_sum = op == "sum"
    is_max = op == "max"

    @cuda.jit(device=True)
    def combine(acc, v):
        if is_sum:
            return acc + v
        if is_max:
            return v if (v > acc or v != v) else acc
        return v if (v < acc or v != v) else acc

    at = device(strided_offset)

    @cuda.jit
    def kernel(out, src, kept_shape, kept_strides, red_shape, red_strides, count):
        o = cuda.blockIdx.x
        t = cuda.threadIdx.x
        base = at(o, kept_shape, kept_strides, 0)
        acc = nb_dtype(start)
        for r in range(t, count, threads):
            acc = combine(acc, nb_dtype(src[at(r, red_shape, red_strides, base)]))
        shared = cuda.shared.array(threads, nb_dtype)
        shared[t] = acc
        cuda.syncthreads()
        step = threads // 2
        while step > 0:
            if t < step:
                shared[t] = combine(shared[t], shared[t + step])
            cuda.syncthreads()
            step //= 2
        if t == 0:
            out[o] = shared[0]

    return kernel


def _threads_for(count):
    threads = 1
    while threads < min(count, REDUCE_THREADS):
        threads *= 2
    return max(threads, 32) if count >= 32 else threads


def reduce(op, out, src, kept_shape, kept_strides, red_shape, red_strides, count):
    """out[o] = op over the reduced index of src (out is flat over the kept shape)."""
    threads = _threads_for(count)
    _reduce_kernel(op, out.dtype.name, threads)[out.size, threads](
        out, src, kept_shape, kept_strides, red_shape, red_strides, count
    )


@cached
def _argmax_kernel(dtype_name, threads):
    from numba import from_dtype

    nb_dtype = from_dtype(np.dtype(dtype_name))
    at = device(strided_offset)

    @cuda.jit
    def kernel(out, src, kept_shape, kept_strides, red_stride, count):
        o = cuda.blockIdx.x
        t = cuda.threadIdx.x
        base = at(o, kept_shape, kept_strides, 0)
        best = src[base]
        best_i = count
        for r in range(t, count, threads):
            v = src[base + r * red_stride]
            if best_i == count or v > best or (v != v and best == best):
                best = v
                best_i = r
        values = cuda.shared.array(threads, nb_dtype)
        indices = cuda.shared.array(threads, np.int64)
        values[t] = best
        indices[t] = best_i
        cuda.syncthreads()
        step = threads // 2
        while step > 0:
            if t < step:
                v, i = values[t + step], indices[t + step]
                w, j = values[t], indices[t]
                if i < count and (j == count or v > w or (v == w and i < j) or (v != v and (w == w or i < j))):
                    values[t] = v
                    indices[t] = i
            cuda.syncthreads()
            step //= 2
        if t == 0:
            out[o] = indices[0]

    return kernel


def argmax(out, src, kept_shape, kept_strides, red_stride, count):
    """out[o] = first index of the maximum along one axis (NaN wins, as numpy)."""
    threads = _threads_for(count)
    _argmax_kernel(src.dtype.name, threads)[out.size, threads](out, src, kept_shape, kept_strides, red_stride, count)


def _before(y, x):
    """y < x with NaN as the largest value (torch's sort order)."""
    return y < x or (x != x and y == y)


def _same(y, x):
    return y == x or (y != y and x != x)


@cached
def _rank_sort_kernel(descending):
    before = device(_before)
    same = device(_same)

    @cuda.jit
    def kernel(values, indices, src, n, count):
        i = cuda.grid(1)
        if i < count:
            base = (i // n) * n
            j = i - base
            x = src[i]
            rank = 0
            for k in range(n):
                y = src[base + k]
                first = before(x, y) if descending else before(y, x)
                if first or (k < j and same(y, x)):
                    rank += 1
            values[base + rank] = x
            indices[base + rank] = j

    return kernel


def rank_sort(values, indices, src, n, descending):
    """Stable sort of each contiguous row of ``n`` elements of ``src``: every element counts the ones that come
    before it (NaN last ascending, first descending; ties by position) and lands at that rank."""
    _rank_sort_kernel(bool(descending))[blocks(src.size), THREADS](values, indices, src, n, src.size)
