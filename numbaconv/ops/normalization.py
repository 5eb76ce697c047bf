"""Normalisation (torch.nn.functional): batch_norm as one fused Function over (N, C, *) inputs, sync_batch_norm
its twin over every rank's batch; group_norm, layer_norm and instance_norm as one Standardize node over equal
runs of elements, then the affine ops."""
import numpy as np

from .. import distributed
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

    @classmethod
    def backward(cls, ctx, grad):
        x3, w, mean, invstd = ctx.saved_tensors
        xp = namespace_of(grad)
        kernels = kernels_of(grad, "batchnorm")
        g3 = _as_ncl(xp, grad)
        sum_g, sum_gxhat = kernels.batchnorm_backward_reduce(g3, x3, mean, invstd)
        need = ctx.needs_input_grad
        gx = None
        if need[0]:
            gx = kernels.batchnorm_backward_input(g3, x3, mean, invstd, w, *cls._input_sums(ctx, xp, x3, sum_g,
                                                                                           sum_gxhat))
            gx = xp.reshape(gx, ctx.shape)
        return gx, (sum_gxhat if need[1] else None), (sum_g if need[2] else None)

    @staticmethod
    def _input_sums(ctx, xp, x3, sum_g, sum_gxhat):
        """(sum of grad, sum of grad * xhat, whether the statistics are the batch's) for the input's gradient."""
        return sum_g, sum_gxhat, ctx.params.batch_stats


def _check_channel_vector(op, name, value, channels, dtype):
    if value is None:
        return
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor or None, got {type(value).__name__}")
    if value.shape != (channels,):
        raise ValueError(f"{op}: {name} must have shape ({channels},) for the input's channels, "
                         f"got {value.shape}")
    if value.dtype != dtype:
        raise TypeError(f"{op}: {name} has dtype {value.dtype}, expected the input's {dtype}")


def _check_batch_norm(op, input, running_mean, running_var, weight, bias):
    """A TypeError/ValueError naming ``op`` unless the arguments fit an (N, C, *) floating ``input``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(f"{op}: expected an (N, C, *) input, got shape {input.shape}")
    check_kernel_dtype(op, input.dtype, floating=True)
    vectors = (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias))
    for name, value in vectors:
        _check_channel_vector(op, name, value, input.shape[1], input.dtype)
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{op}: give both running_mean and running_var, or neither")


def _update_running_stats(running_mean, running_var, mean, var, count, momentum):
    """new = (1 - momentum)·old + momentum·batch in place, the variance unbiased over ``count`` values (as PyTorch)."""
    unbiased = var * (count / (count - 1))
    for running, value in ((running_mean, mean), (running_var, unbiased)):
        running.array[...] = running.array * (1 - momentum) + value * momentum
        running._version[0] += 1


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalise each channel of an (N, C, *) input (torch.nn.functional.batch_norm).

    In training (or without running statistics) the batch statistics are used and, when given,
    ``running_mean``/``running_var`` are updated in place: new = (1 - momentum)·old + momentum·batch, the
    variance unbiased (as PyTorch). Otherwise the running statistics normalise.
    """
    _check_batch_norm("batch_norm", input, running_mean, running_var, weight, bias)
    xp = namespace_of(input.array)
    batch_stats = training or running_mean is None
    if batch_stats:
        count = input.numel() // max(input.shape[1], 1)
        if training and count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                             f"got input shape {input.shape}")
        mean, var = kernels_of(input.array, "batchnorm").batchnorm_stats(_as_ncl(xp, input.array))
        if training and running_mean is not None:
            _update_running_stats(running_mean, running_var, mean, var, count, momentum)
    else:
        mean, var = running_mean.array, running_var.array
    invstd = 1.0 / xp.sqrt(var + eps)
    invstd = xp.astype(invstd, input.dtype)
    return BatchNorm.apply(input, weight, bias, mean=mean, invstd=invstd, batch_stats=bool(batch_stats))


class SyncBatchNorm(BatchNorm):
    """BatchNorm with the global batch's statistics (torch.nn.modules._functions.SyncBatchNorm): backward sums the
    two per-channel reductions over the ranks first; ``count`` is the values per channel in the global batch."""

    @staticmethod
    def forward(ctx, x, weight, bias, *, mean, invstd, count):
        return BatchNorm.forward(ctx, x, weight, bias, mean=mean, invstd=invstd, batch_stats=True)

    @staticmethod
    def _input_sums(ctx, xp, x3, sum_g, sum_gxhat):
        """The two sums over every rank (the weight and bias gradients stay this rank's own; DistributedDataParallel
        averages them), scaled so that the kernel, which divides by this rank's count, divides by the global one."""
        scale = x3.shape[0] * x3.shape[2] / ctx.params.count
        return (*_summed_over_ranks(xp, sum_g, sum_gxhat, scale), True)


def _summed_over_ranks(xp, sum_g, sum_gxhat, scale):
    """The two per-channel sums added up over the ranks (one all-reduce), times ``scale``."""
    sums = xp.concatenate([sum_g, sum_gxhat])
    distributed.all_reduce(Tensor(sums))
    sums = sums * scale
    return sums[:sum_g.shape[0]], sums[sum_g.shape[0]:]


def _global_stats(xp, x3):
    """(values per channel, mean, biased variance) of every rank's (N, C, L) ``x3`` together, in float64: each
    rank's count, mean and variance per channel all-gathered and combined exactly (Chan's pairwise formula, stable
    where sums of squares would cancel)."""
    n, channels, length = x3.shape
    mean, var = kernels_of(x3, "batchnorm").batchnorm_stats(x3)
    local = xp.concatenate([xp.full(1, float(n * length)), xp.astype(mean, np.float64), xp.astype(var, np.float64)])
    gathered = xp.empty(distributed.get_world_size() * local.shape[0], np.float64)
    distributed.all_gather_into_tensor(Tensor(gathered), Tensor(local))
    rows = xp.reshape(gathered, (-1, local.shape[0]))
    counts, means, variances = rows[:, :1], rows[:, 1:1 + channels], rows[:, 1 + channels:]
    count = float(xp.sum(counts))
    global_mean = xp.sum(counts * means, axis=0) / count
    global_var = xp.sum(counts * (variances + (means - global_mean) ** 2), axis=0) / count
    return count, global_mean, global_var


def sync_batch_norm(input, running_mean, running_var, weight=None, bias=None, momentum=0.1, eps=1e-5):
    """batch_norm in training over the global batch: each rank of the default process group passes its part, an
    (N, C, *) CPU tensor, normalised with the statistics of all the parts and back-propagated through them
    (torch.nn.SyncBatchNorm's training forward). Forward all-gathers each rank's per-channel count, mean and
    variance; backward all-reduces the per-channel sums of the gradient and of gradient × normalised input.
    ``running_mean``/``running_var``, when given, are updated as by batch_norm, with the global statistics."""
    _check_batch_norm("sync_batch_norm", input, running_mean, running_var, weight, bias)
    if not isinstance(input.array, np.ndarray):
        raise TypeError(f"sync_batch_norm: CPU tensors only (the collectives run on host memory), got one on "
                        f"{input.device}")
    xp = namespace_of(input.array)
    count, mean, var = _global_stats(xp, _as_ncl(xp, input.array))
    if count <= 1:
        raise ValueError(f"sync_batch_norm: expected more than 1 value per channel when training, got {count:.0f} "
                         "over the ranks")
    if running_mean is not None:
        _update_running_stats(running_mean, running_var, mean, var, count, momentum)
    invstd = xp.astype(1.0 / xp.sqrt(var + eps), input.dtype)
    return SyncBatchNorm.apply(input, weight, bias, mean=xp.astype(mean, input.dtype), invstd=invstd, count=count)


class Standardize(Function):
    """(x - mean) / sqrt(var + eps) along the last axis of an (R, M) array, the variance biased: group_norm's and
    layer_norm's core in one node. Backward: invstd · (g - mean(g) - x̂ · mean(g · x̂))."""

    @staticmethod
    def forward(ctx, x, *, eps):
        xp = namespace_of(x)
        count = x.shape[1]
        centred = x - xp.sum(x, axis=1, keepdims=True) / count
        invstd = 1.0 / xp.sqrt(xp.sum(centred * centred, axis=1, keepdims=True) / count + eps)
        normalized = centred * xp.astype(invstd, x.dtype)
        ctx.save_for_backward(normalized, invstd)
        return normalized

    @staticmethod
    def backward(ctx, grad):
        normalized, invstd = ctx.saved_tensors
        xp = namespace_of(grad)
        count = grad.shape[1]
        mean_grad = xp.sum(grad, axis=1, keepdims=True) / count
        mean_projection = xp.sum(grad * normalized, axis=1, keepdims=True) / count
        return (grad - mean_grad - normalized * mean_projection) * invstd


def _normalize(x, run, eps):
    """``x`` standardised over each run of ``run`` consecutive elements (C order), in its own shape."""
    if x.numel() == 0:
        return x * 1.0
    return Standardize.apply(x.reshape(-1, run), eps=float(eps)).reshape(x.shape)


def _check_affine(op, name, value, shape, dtype):
    if value is None:
        return
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor or None, got {type(value).__name__}")
    if value.shape != shape:
        raise ValueError(f"{op}: {name} must have shape {shape}, got {value.shape}")
    if value.dtype != dtype:
        raise TypeError(f"{op}: {name} has dtype {value.dtype}, expected the input's {dtype}")


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise each of ``num_groups`` channel groups of every sample of an (N, C, *) input, then scale and shift
    per channel (torch.nn.functional.group_norm)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"group_norm: input must be a Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(f"group_norm: expected an (N, C, *) input, got shape {input.shape}")
    check_kernel_dtype("group_norm", input.dtype, floating=True)
    channels = input.shape[1]
    if isinstance(num_groups, bool) or not isinstance(num_groups, int) or num_groups < 1 or channels % num_groups:
        raise ValueError(f"group_norm: num_groups must be a positive int dividing the {channels} channels, "
                         f"got {num_groups!r}")
    for name, value in (("weight", weight), ("bias", bias)):
        _check_affine("group_norm", name, value, (channels,), input.dtype)
    out = _normalize(input, input.numel() // max(input.shape[0] * num_groups, 1), eps)
    per_channel = (1, channels) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(per_channel)
    if bias is not None:
        out = out + bias.reshape(per_channel)
    return out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last ``len(normalized_shape)`` dims, then scale and shift elementwise
    (torch.nn.functional.layer_norm)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"layer_norm: input must be a Tensor, got {type(input).__name__}")
    check_kernel_dtype("layer_norm", input.dtype, floating=True)
    shape = (int(normalized_shape),) if isinstance(normalized_shape, int) else tuple(int(v) for v in normalized_shape)
    if not shape or input.shape[input.ndim - len(shape):] != shape or len(shape) > input.ndim:
        raise ValueError(f"layer_norm: normalized_shape {shape} must be the trailing dims of the input's shape "
                         f"{input.shape}")
    for name, value in (("weight", weight), ("bias", bias)):
        _check_affine("layer_norm", name, value, shape, input.dtype)
    run = 1
    for n in shape:
        run *= n
    out = _normalize(input, run, eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalise every channel of every sample on its own statistics, then a per-channel scale and shift
    (torch.nn.functional.instance_norm); numbaconv keeps no running statistics (group_norm with one channel per
    group)."""
    if running_mean is not None or running_var is not None or not use_input_stats:
        raise NotImplementedError("instance_norm: running statistics are not supported; use the input's statistics "
                                  "(use_input_stats=True, no running_mean/running_var)")
    if not isinstance(input, Tensor) or input.ndim < 3:
        raise ValueError(f"instance_norm: expected an (N, C, *) input with spatial dims, got "
                         f"{getattr(input, 'shape', type(input).__name__)}")
    return group_norm(input, input.shape[1], weight, bias, eps)
