"""Batch normalisation (torch.nn.functional.batch_norm): one fused Function over (N, C, *) inputs."""
from ..autograd import Function
from ..backends import kernels_of, namespace_of
from ..tensor import Tensor
from ._util import check_kernel_dtype


def _as_ncl(xp, x):
    """``x`` as a C-contiguous (N, C, L) array."""
    return xp.reshape(xp.ascontiguousarray(x), (x.shape[0], x.shape[1], -1))


class BatchNorm(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, *, mean, invstd, batch_stats):
        xp = namespace_of(x)
        kernels = kernels_of(x, "batchnorm")
        x3 = _as_ncl(xp, x)
        c = x.shape[1]
        w = weight if weight is not None else xp.ones((c,), x.dtype)
        b = bias if bias is not None else xp.zeros((c,), x.dtype)
        ctx.save_for_backward(x3, w, mean, invstd)
        ctx.shape = tuple(x.shape)
        return xp.reshape(kernels.batchnorm_forward(x3, mean, invstd, w, b), ctx.shape)

    @staticmethod
    def backward(ctx, grad):
        x3, w, mean, invstd = ctx.saved_tensors
        xp = namespace_of(grad)
        kernels = kernels_of(grad, "batchnorm")
        g3 = _as_ncl(xp, grad)
        sum_g, sum_gxhat = kernels.batchnorm_backward_reduce(g3, x3, mean, invstd)
        need = ctx.needs_input_grad
        gx = None
        if need[0]:
            gx = kernels.batchnorm_backward_input(g3, x3, mean, invstd, w, sum_g, sum_gxhat, ctx.params.batch_stats)
            gx = xp.reshape(gx, ctx.shape)
        return gx, (sum_gxhat if need[1] else None), (sum_g if need[2] else None)


def _check_channel_vector(name, value, channels, dtype):
    if value is None:
        return
    if not isinstance(value, Tensor):
        raise TypeError(f"batch_norm: {name} must be a Tensor or None, got {type(value).__name__}")
    if value.shape != (channels,):
        raise ValueError(f"batch_norm: {name} must have shape ({channels},) for the input's channels, "
                         f"got {value.shape}")
    if value.dtype != dtype:
        raise TypeError(f"batch_norm: {name} has dtype {value.dtype}, expected the input's {dtype}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalise each channel of an (N, C, *) input (torch.nn.functional.batch_norm).

    In training (or without running statistics) the batch statistics are used and, when given,
    ``running_mean``/``running_var`` are updated in place: new = (1 - momentum)·old + momentum·batch, the
    variance unbiased (as PyTorch). Otherwise the running statistics normalise.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"batch_norm: input must be a Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an (N, C, *) input, got shape {input.shape}")
    check_kernel_dtype("batch_norm", input.dtype, floating=True)
    channels = input.shape[1]
    vectors = (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias))
    for name, value in vectors:
        _check_channel_vector(name, value, channels, input.dtype)
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: give both running_mean and running_var, or neither")
    xp = namespace_of(input.data)
    batch_stats = training or running_mean is None
    if batch_stats:
        count = input.numel() // max(channels, 1)
        if training and count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                             f"got input shape {input.shape}")
        mean, var = kernels_of(input.data, "batchnorm").batchnorm_stats(_as_ncl(xp, input.data))
        if training and running_mean is not None:
            unbiased = var * (count / (count - 1))
            running_mean.data[...] = running_mean.data * (1 - momentum) + mean * momentum
            running_var.data[...] = running_var.data * (1 - momentum) + unbiased * momentum
            running_mean._version[0] += 1
            running_var._version[0] += 1
    else:
        mean, var = running_mean.data, running_var.data
    invstd = 1.0 / xp.sqrt(var + eps)
    invstd = xp.astype(invstd, input.dtype)
    return BatchNorm.apply(input, weight, bias, mean=mean, invstd=invstd, batch_stats=bool(batch_stats))
