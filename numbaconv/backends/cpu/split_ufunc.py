"""numpy ufuncs and strided copies on large arrays, one part per thread (torch's elementwise ops and
``.contiguous()`` use every core).

numpy runs a ufunc on one thread, but drops the GIL inside its loops, so the parts run in parallel on
threads.run_split's workers with numpy's own SIMD loops: the same values bit for bit, the same dtype, and the
caller's ``np.errstate`` (applied in each worker; it is per thread). Measured on two threads of a Xeon, 8.4M
float32: log 4.0 -> 1.9 ms, sqrt 2.5 -> 1.3, tanh 3.2 -> 1.5; at 65,536 elements the split cost 0.11 against
numpy's 0.02 ms, hence ``SPLIT_MIN``. The first operand must be a large array, the others arrays of its shape or
python numbers, each array C-contiguous or one value broadcast (a zero-stride view: the gradient of a full sum,
which numpy reads as a scalar); anything else (broadcasting, strides, keywords) is the ufunc itself.
A strided array's C-contiguous copy is strided_copy.py's parallel loop, or where its layout does not suit that
loop (a negative stride, more than four dims that do not merge), split along its first axis the same way.
"""
import numpy as np

from . import strided_copy, threads

SPLIT_MIN = 1 << 20  # elements; smaller calls stay on numpy's one thread


def _splittable(operands):
    shape = None
    for operand in operands:
        if type(operand) is np.ndarray:
            if (not (operand.flags.c_contiguous or not any(operand.strides))
                    or (shape is not None and operand.shape != shape)):
                return None
            shape = operand.shape
        elif type(operand) is not float and type(operand) is not int:
            return None
    return shape


def split(ufunc):
    """``ufunc`` with its large calls split over the threads."""
    def run(*operands, **keywords):
        first = operands[0]
        if type(first) is not np.ndarray or first.size < SPLIT_MIN or keywords:
            return ufunc(*operands, **keywords)
        shape = _splittable(operands)
        if shape is None:
            return ufunc(*operands)
        flat = [op.reshape(-1) if type(op) is np.ndarray else op for op in operands]
        dtype = ufunc(*(op[:1] if type(op) is np.ndarray else op for op in flat)).dtype
        out = np.empty(shape, dtype)
        out_flat = out.reshape(-1)
        errors = np.geterr()

        def work(lo, hi):
            with np.errstate(**errors):
                ufunc(*(op[lo:hi] if type(op) is np.ndarray else op for op in flat), out=out_flat[lo:hi])

        threads.run_split(work, out_flat.size)
        return out

    run.__doc__ = f"numpy.{ufunc.__name__}, split over the threads for large C-contiguous operands."
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
