"""Matrix product with numpy semantics: 1-D, 2-D and broadcast batches (torch.matmul)."""
from ..autograd import Function
from ..backends import namespace_of
from ..tensor import Tensor
from ._util import unbroadcast


def _stored_transposed(array):
    """Whether the last two axes of a strided array are stored swapped (as a ``.T`` view of a C-contiguous one)."""
    strides = getattr(array, "strides", None)
    return (strides is not None and array.ndim >= 2 and array.shape[-2] > 1 and array.shape[-1] > 1
            and strides[-2] == array.itemsize and strides[-1] == array.itemsize * array.shape[-2])


class MatMul(Function):
    """Each input's gradient is computed in that input's memory layout: for a ``.T`` view, as the transpose of a
    product that BLAS writes contiguously, so that no transposing copy follows (as torch's mm backward)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return namespace_of(a).matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        xp = namespace_of(grad)
        a2 = xp.reshape(a, (1,) + a.shape) if a.ndim == 1 else a
        b2 = xp.reshape(b, b.shape + (1,)) if b.ndim == 1 else b
        grad2 = grad
        if a.ndim == 1:
            grad2 = xp.reshape(grad2, grad2.shape[:-1] + (1,) + grad2.shape[-1:])
        if b.ndim == 1:
            grad2 = xp.reshape(grad2, grad2.shape + (1,))
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad_b = None
        if need_a:
            if _stored_transposed(a2):
                full = xp.swapaxes(xp.matmul(b2, xp.swapaxes(grad2, -1, -2)), -1, -2)
            else:
                full = xp.matmul(grad2, xp.swapaxes(b2, -1, -2))
            grad_a = xp.reshape(unbroadcast(xp, full, a2.shape), a.shape)
        if need_b:
            if _stored_transposed(b2):
                full = xp.swapaxes(xp.matmul(xp.swapaxes(grad2, -1, -2), a2), -1, -2)
            else:
                full = xp.matmul(xp.swapaxes(a2, -1, -2), grad2)
            grad_b = xp.reshape(unbroadcast(xp, full, b2.shape), b.shape)
        return grad_a, grad_b


def matmul(a, b):
    """a @ b: dot for 1-D, matrix product for 2-D, broadcast batches beyond (torch.matmul)."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"matmul: expected two Tensors, got {type(a).__name__} and {type(b).__name__}")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both arguments need at least 1 dim, got shapes {a.shape} and {b.shape}")
    if a.dtype != b.dtype:
        raise TypeError(f"matmul: expected one dtype, got {a.dtype} and {b.dtype}")
    inner_a = a.shape[-1]
    inner_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if inner_a != inner_b:
        raise ValueError(
            f"matmul: inner dimensions differ: shapes {a.shape} and {b.shape} "
            f"(expected a.shape[-1] == b.shape[-2], got {inner_a} and {inner_b})"
        )
    try:
        return MatMul.apply(a, b)
    except ValueError as error:
        raise ValueError(f"matmul: batch dims of shapes {a.shape} and {b.shape} are not broadcastable") from error


def _rmatmul(self, other):
    return matmul(other, self)


Tensor.matmul = Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = _rmatmul
