"""numpy ufuncs and strided copies on large arrays, one part per thread (torch's elementwise ops and
``.contiguous()`` use every core).

numpy runs a ufunc on one thread, but drops the GIL inside its loops, so the parts run in parallel on
threads.run_split's workers with numpy's own SIMD loops: the same values bit for bit, the same dtype, and the
caller's ``np.errstate`` (applied in each worker; it is per thread). Measured on two threads of a Xeon, 8.4M
float32: log 4.0 -> 1.9 ms, sqrt 2.5 -> 1.3, tanh 3.2 -> 1.5; at 65,536 elements the split cost 0.11 against
numpy's 0.02 ms, hence ``SPLIT_MIN``. The first operand must be a large array, the others arrays or python
numbers. Arrays of the output's shape, each C-contiguous or one value broadcast (a zero-stride view: the gradient
of a full sum), split into flat parts; other layouts and broadcasting operands (``x + bias.reshape(-1, 1, 1)``)
into parts along the output's first axis, each part numpy's own broadcast. Where every array is one value
broadcast, the ufunc runs on that value once and its result fills the output (NegBackward of a full sum: 3.3 ms
through numpy's stride-0 loop, 1.0 as a fill of 8.4M float32). Keywords are the ufunc itself.
A large concatenation along an axis other than the first is written in parts of the first axis the same way.
A strided array's C-contiguous copy is strided_copy.py's parallel loop, or where its layout does not suit that
loop (a negative stride, more than four dims that do not merge), split along its first axis the same way.
"""
import numpy as np

from . import strided_copy, threads

SPLIT_MIN = 1 << 20  # elements; smaller calls stay on numpy's one thread


def _flat_splittable(arrays, shape):
    """Whether every array is of ``shape`` and C-contiguous or one value broadcast: then flat parts line up."""
    return all(a.shape == shape and (a.flags.c_contiguous or not any(a.strides)) for a in arrays)


def _first_element(array):
    return array[(slice(0, 1),) * array.ndim]


def _split_flat(ufunc, operands, out):
    flat = [op.reshape(-1) if type(op) is np.ndarray else op for op in operands]
    out_flat = out.reshape(-1)
    errors = np.geterr()

    def work(lo, hi):
        with np.errstate(**errors):
            ufunc(*(op[lo:hi] if type(op) is np.ndarray else op for op in flat), out=out_flat[lo:hi])

    threads.run_split(work, out_flat.size)


def _split_rows(ufunc, operands, out):
    """Parts along the output's first axis: each array operand (with leading 1s to the output's rank) is sliced
    there where it spans that axis, else passed whole for numpy to broadcast."""
    rows = out.shape[0]
    padded = [op.reshape((1,) * (out.ndim - op.ndim) + op.shape) if type(op) is np.ndarray else op
              for op in operands]
    errors = np.geterr()

    def work(lo, hi):
        with np.errstate(**errors):
            ufunc(*(op[lo:hi] if type(op) is np.ndarray and op.shape[0] == rows else op for op in padded),
                  out=out[lo:hi])

    threads.run_split(work, rows)


def split(ufunc):
    """``ufunc`` with its large calls split over the threads."""
    def run(*operands, **keywords):
        first = operands[0]
        if type(first) is not np.ndarray or first.size < SPLIT_MIN or keywords:
            return ufunc(*operands, **keywords)
        arrays = []
        for op in operands:
            if type(op) is np.ndarray:
                arrays.append(op)
            elif type(op) is not float and type(op) is not int:
                return ufunc(*operands)
        shape = first.shape
        if any(a.shape != shape for a in arrays):
            shape = np.broadcast_shapes(*(a.shape for a in arrays))
        flat = _flat_splittable(arrays, shape)
        if not flat and shape[0] < 2:
            return ufunc(*operands)
        one = ufunc(*(_first_element(op) if type(op) is np.ndarray else op for op in operands))
        out = np.empty(shape, one.dtype)
        if not any(any(a.strides) for a in arrays):
            out.fill(one.reshape(-1)[0])  # one value broadcast each (a full sum's gradient): f of it, once
        elif flat:
            _split_flat(ufunc, operands, out)
        else:
            _split_rows(ufunc, operands, out)
        return out

    run.__doc__ = f"numpy.{ufunc.__name__}, split over the threads for large operands."
    run.__name__ = ufunc.__name__
    return run


def ascontiguousarray(array):
    """numpy.ascontiguousarray; a large strided array copied by strided_copy's parallel loop where its layout
    allows, else split over the threads along its first axis."""
    if (type(array) is not np.ndarray or array.size < SPLIT_MIN or array.flags.c_contiguous
            or array.shape[0] < 2):
        return np.ascontiguousarray(array)
    out = strided_copy.contiguous_copy(array)
    if out is not None:
        return out
    out = np.empty(array.shape, array.dtype)

    def work(lo, hi):
        np.copyto(out[lo:hi], array[lo:hi])

    threads.run_split(work, array.shape[0])
    return out


def concatenate(arrays, axis=0):
    """numpy.concatenate; a large result joined along an axis other than the first is written in parts of its first
    axis, one per thread (cat of two 128x64x32x32 float32 along dim 1: numpy's one thread 5.8 ms)."""
    first = arrays[0] if len(arrays) else None
    if (type(first) is not np.ndarray or type(axis) is not int or not 0 < axis % max(first.ndim, 1) < first.ndim
            or first.shape[0] < 2 or any(type(a) is not np.ndarray or a.ndim != first.ndim
                                         or a.shape[0] != first.shape[0] for a in arrays)
            or sum(a.size for a in arrays) < SPLIT_MIN):
        return np.concatenate(arrays, axis=axis)
    axis %= first.ndim
    shape = list(first.shape)
    shape[axis] = sum(a.shape[axis] for a in arrays)
    out = np.empty(shape, np.result_type(*arrays))

    def work(lo, hi):
        np.concatenate([a[lo:hi] for a in arrays], axis=axis, out=out[lo:hi])

    threads.run_split(work, first.shape[0])
    return out
