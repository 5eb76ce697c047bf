"""Affine map input @ weight.T + bias (torch.nn.functional.linear), one fused Function."""
from ..autograd import Function
from ..backends import namespace_of
from ..tensor import Tensor


class Linear(Function):
    @staticmethod
    def forward(ctx, x, w, b):
        xp = namespace_of(x)
        x2 = x if x.ndim == 2 else xp.reshape(x, (-1, x.shape[-1]))
        ctx.save_for_backward(x2, w)
        ctx.shape = x.shape
        out = xp.matmul(x2, xp.swapaxes(w, 0, 1))
        if b is not None:
            out += b
        return out if x.ndim == 2 else xp.reshape(out, tuple(x.shape[:-1]) + (w.shape[0],))

    @staticmethod
    def backward(ctx, grad):
        x2, w = ctx.saved_tensors
        xp = namespace_of(grad)
        g2 = xp.reshape(grad, (-1, w.shape[0]))
        need = ctx.needs_input_grad
        gx = xp.reshape(xp.matmul(g2, w), ctx.shape) if need[0] else None
        gw = xp.matmul(xp.swapaxes(g2, 0, 1), x2) if need[1] else None
        gb = xp.sum(g2, axis=0) if need[2] else None
        return gx, gw, gb


def linear(input, weight, bias=None):
    """input @ weight.T + bias over the last dim of ``input`` (torch.nn.functional.linear)."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"linear: input and weight must be Tensors, got {type(input).__name__} and "
                        f"{type(weight).__name__}")
    shape, w_shape = input.array.shape, weight.array.shape
    if len(w_shape) != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {weight.shape}")
    if not shape or shape[-1] != w_shape[1]:
        raise ValueError(
            f"linear: input's last dim must equal weight.shape[1]={w_shape[1]}, got input shape {input.shape}"
        )
    if bias is not None and bias.array.shape != (w_shape[0],):
        raise ValueError(f"linear: bias must have shape ({w_shape[0]},), got {bias.shape}")
    dtype = input.array.dtype
    if weight.array.dtype != dtype or (bias is not None and bias.array.dtype != dtype):
        dtypes = {input.dtype, weight.dtype} | ({bias.dtype} if bias is not None else set())
        raise TypeError(f"linear: input, weight and bias must share a dtype, got {sorted(map(str, dtypes))}")
    return Linear.apply(input, weight, bias)
