"""Every op as an OpSpec of the factory (tests/op_factory.py): how to draw its case, call it, and its reference.

``SPECS`` is what tests/test_ops.py runs on each device; the draws keep to a few elements per input on cuda
(``tiny()``), where the CUDA simulator runs each kernel in Python.
"""
import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from op_factory import OpSpec, broadcastable, dim_of, dims_of, one_shape, tiny
from references import (
    ref_adaptive_avg_pool2d,
    ref_avg_pool2d,
    ref_batch_norm,
    ref_conv2d,
    ref_cross_entropy,
    ref_gather,
    ref_gelu,
    ref_linear,
    ref_log_softmax,
    ref_logsumexp,
    ref_masked_fill,
    ref_max_pool2d,
    ref_mse_loss,
    ref_pad,
    ref_repeat,
    ref_scatter_add,
    ref_softmax,
    ref_sort,
    ref_split_scaled,
    ref_std,
    ref_topk,
    ref_var,
)

import numbaconv as nc
import numbaconv.nn.functional as F
from numbaconv.ops import indexing, sorting, tiling  # noqa: F401 (their Tensor methods)


def positive(i, x):
    return np.abs(x) + 0.5


def away_from_zero(i, x):
    return np.where(x >= 0, x + 0.1, x - 0.1)


def unary(name, fn, ref, domain=None, rtol32=1e-5):
    return OpSpec(name, lambda d: ([one_shape(d)], {}), fn, ref, domain=domain, rtol32=rtol32)


def binary(name, fn, ref, domain=None):
    return OpSpec(name, lambda d: (broadcastable(d, 2), {}), fn, ref, domain=domain)


def _axes(dims, ndim):
    if dims is None:
        return tuple(range(ndim))
    dims = (dims,) if isinstance(dims, int) else dims
    return tuple(sorted({d % ndim for d in dims}))


def reduction(name, fn, ref, min_side=0):
    def draw(d):
        shape = one_shape(d, min_dims=1, min_side=min_side)
        return [shape], {"dim": dims_of(d, len(shape)), "keepdim": d.draw(st.booleans(), label="keepdim")}

    return OpSpec(name, draw, fn, lambda x, dim, keepdim: ref(x, axis=_axes(dim, x.ndim), keepdims=keepdim))


def _as_dims(dim):
    return dim if not isinstance(dim, int) else (dim,)


# ---- draws of the core ops ----------------------------------------------------------------------------

def _draw_matmul(d):
    kind = d.draw(st.sampled_from(["vv", "mv", "vm", "mm", "batched"]), label="kind")
    n, k, m = (d.draw(st.integers(1, 3 if tiny() else 4), label=s) for s in "nkm")
    if kind == "vv":
        return [(k,), (k,)], {}
    if kind == "mv":
        return [(n, k), (k,)], {}
    if kind == "vm":
        return [(k,), (k, m)], {}
    if kind == "mm":
        return [(n, k), (k, m)], {}
    batch_a, batch_b = broadcastable(d, 2, min_side=1, max_dims=2)
    return [batch_a + (n, k), batch_b + (k, m)], {}


def _draw_getitem(d):
    shape = one_shape(d, min_dims=1, min_side=1)
    index = tuple(
        d.draw(st.one_of(st.integers(-n, n - 1), st.slices(n)), label=f"index{i}") for i, n in enumerate(shape)
    )
    return [shape], {"index": index}


def _draw_gather(d):
    n, c = d.draw(st.integers(1, 5), label="n"), d.draw(st.integers(1, 5), label="c")
    labels = d.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n), label="labels")
    return [(n, c)], {"labels": np.array(labels)}


def _draw_reshape(d):
    shape = one_shape(d, min_side=1)
    return [shape], {"shape": (-1,) + shape[::-1][1:] if shape else ()}


def _draw_permute(d):
    shape = one_shape(d, min_dims=1)
    return [shape], {"dims": tuple(d.draw(st.permutations(range(len(shape))), label="perm"))}


def _draw_unsqueeze(d):
    shape = one_shape(d, max_dims=3)
    return [shape], {"dim": d.draw(st.integers(-len(shape) - 1, len(shape)), label="dim")}


def _draw_expand(d):
    shape = one_shape(d, max_dims=3, min_side=1, max_side=3)
    target = tuple(d.draw(st.integers(1, 3)) if n == 1 else n for n in shape)
    lead = d.draw(st.lists(st.integers(1, 3), max_size=1 if tiny() else 2), label="lead")
    return [shape], {"shape": tuple(lead) + target}


def _draw_cat(d):
    shape = one_shape(d, min_dims=1, max_dims=3)
    dim = dim_of(d, len(shape))
    sizes = d.draw(st.lists(st.integers(0, 3), min_size=1, max_size=3), label="sizes")
    shapes = [shape[: dim % len(shape)] + (n,) + shape[dim % len(shape) + 1:] for n in sizes]
    return shapes, {"dim": dim}


def _draw_stack(d):
    shape = one_shape(d, max_dims=3)
    count = d.draw(st.integers(1, 3), label="count")
    return [shape] * count, {"dim": d.draw(st.integers(-len(shape) - 1, len(shape)), label="dim")}


def _draw_pad(d):
    shape = one_shape(d, min_dims=1, max_dims=3)
    pad = d.draw(st.lists(st.integers(0, 2), min_size=2, max_size=2 * len(shape)).filter(lambda p: len(p) % 2 == 0))
    return [shape], {"pad": tuple(pad), "value": d.draw(st.sampled_from([0.0, 1.5]))}


def _along_dim(d, min_dims=1):
    shape = one_shape(d, min_dims=min_dims, min_side=1)
    return [shape], {"dim": dim_of(d, len(shape))}


def _draw_cross_entropy(d):
    most = 3 if tiny() else 5
    n, c = d.draw(st.integers(1, most), label="n"), d.draw(st.integers(1, most), label="c")
    spatial = d.draw(st.sampled_from([(), (2,)] if tiny() else [(), (2,), (2, 3)]), label="spatial")
    return [(n, c) + spatial], {
        "label_smoothing": d.draw(st.sampled_from([0.0, 0.1, 1.0]), label="smoothing"),
        "reduction": d.draw(st.sampled_from(["mean", "sum", "none"]), label="reduction"),
    }


def _ce_target(rng, shapes, params):
    shape = shapes[0]
    return (rng.integers(0, shape[1], size=(shape[0],) + shape[2:]),)


# ---- pooling ------------------------------------------------------------------------------------------

@st.composite
def _window(draw, dilated):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilated else (1, 1)
    ceil_mode = draw(st.booleans())
    lo = [d * (k - 1) + 1 - 2 * p for k, p, d in zip(kernel, padding, dilation)]
    side = 5 if tiny() else 7
    h, w = draw(st.integers(max(lo[0], 1), max(lo[0], side))), draw(st.integers(max(lo[1], 1), max(lo[1], side)))
    n, c = draw(st.integers(1, 1 if tiny() else 2)), draw(st.integers(1, 2 if tiny() else 3))
    return (n, c, h, w), kernel, stride, padding, dilation, ceil_mode


def _draw_max_pool(data):
    shape, kernel, stride, padding, dilation, ceil_mode = data.draw(_window(True), label="window")
    return [shape], dict(kernel_size=kernel, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)


def _draw_avg_pool(data):
    shape, kernel, stride, padding, _, ceil_mode = data.draw(_window(False), label="window")
    return [shape], dict(
        kernel_size=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode,
        count_include_pad=data.draw(st.booleans(), label="count_include_pad"),
        divisor_override=data.draw(st.sampled_from([None, 3]), label="divisor_override"),
    )


def _draw_adaptive_pool(data):
    side = 5 if tiny() else 7
    shape = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 3)), data.draw(st.integers(1, side)),
             data.draw(st.integers(1, side)))
    if tiny():
        shape = (1,) + shape[1:]
    return [shape], dict(output_size=(data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))))


# ---- conv2d, linear, batch_norm, gelu -----------------------------------------------------------------

def _draw_conv2d(d):
    """Odd shapes, stride, padding (ints, pairs, 'same', 'valid'), dilation, groups, bias or not, fused ReLU or not,
    3-D or 4-D input; on cpu also the Winograd path (3x3 stride 1 with 16+ input channels, partial edge tiles) and the
    channels-last kernels (8+ channels without groups)."""
    small = tiny()
    winograd = not small and d.draw(st.integers(0, 3), label="winograd") == 0
    groups = 1 if winograd else d.draw(st.sampled_from([1, 1, 2, 3]), label="groups")
    if winograd:
        cin = d.draw(st.sampled_from([16, 17]), label="cin")
    elif groups == 1:
        cin = d.draw(st.sampled_from([1, 2, 3] if small else [1, 2, 3, 8, 9]), label="cin")
    else:
        cin = groups * d.draw(st.integers(1, 1 if small else 2), label="cin_g")
    cout = groups * d.draw(st.integers(1, 2 if small or winograd else 3), label="cout_g")
    kh, kw = (3, 3) if winograd else (d.draw(st.integers(1, 3), label="kh"), d.draw(st.integers(1, 3), label="kw"))
    stride = (1, 1) if winograd else (d.draw(st.integers(1, 3), label="sh"), d.draw(st.integers(1, 3), label="sw"))
    dilation = (1, 1) if winograd else (d.draw(st.integers(1, 2), label="dh"), d.draw(st.integers(1, 2), label="dw"))
    choices = [st.integers(0, 2), st.tuples(st.integers(0, 2), st.integers(0, 2)), st.just("valid")]
    if stride == (1, 1):
        choices.append(st.just("same"))
    padding = d.draw(st.one_of(*choices), label="padding")
    if padding == "same":
        pad = (0, 0)  # 'same' keeps the size; any input fits
    else:
        pad = (0, 0) if padding == "valid" else (padding, padding) if isinstance(padding, int) else padding
    side = 5 if small else (6 if winograd else 7)  # Winograd's 4x4 output tiles: 6 leaves a partial one
    lo = [max(1, dil * (k - 1) + 1 - 2 * p) for dil, k, p in zip(dilation, (kh, kw), pad)]
    h, w = (d.draw(st.integers(low, max(low, side)), label=s) for low, s in zip(lo, "hw"))
    n = 1 if small or winograd else d.draw(st.integers(1, 2), label="n")
    batched = d.draw(st.booleans(), label="batched") if n == 1 else True
    shapes = [(n, cin, h, w) if batched else (cin, h, w), (cout, cin // groups, kh, kw)]
    if d.draw(st.booleans(), label="bias"):
        shapes.append((cout,))
    relu = d.draw(st.booleans(), label="relu")  # numbaconv's fused ReLU
    return shapes, dict(stride=stride, padding=padding, dilation=dilation, groups=groups, relu=relu)


def _conv2d(x, w, b=None, **kw):
    return F.conv2d(x, w, b, **kw)


def _draw_conv2d_relu_max_pool(d):
    """_draw_conv2d's cases (without its relu flag) whose conv output is at least 2x2."""
    shapes, params = _draw_conv2d(d)
    del params["relu"]
    assume(min(_ref_conv2d_relu_max_pool(*(np.zeros(shape) for shape in shapes[:2]), **params, pool=False)
               .shape[-2:]) >= 2)
    return shapes, params


def _ref_conv2d_relu_max_pool(x, w, b=None, pool=True, **params):
    out = np.maximum(ref_conv2d(x, w, b, **params), 0)
    if not pool:
        return out
    return ref_max_pool2d(out[None] if out.ndim == 3 else out, 2)[0 if out.ndim == 3 else slice(None)]


def _draw_linear(d):
    lead = d.draw(st.lists(st.integers(1, 3 if tiny() else 4), max_size=1 if tiny() else 2), label="lead")
    features, outputs = d.draw(st.integers(1, 6), label="features"), d.draw(st.integers(1, 5), label="outputs")
    shapes = [tuple(lead) + (features,), (outputs, features)]
    if d.draw(st.booleans(), label="bias"):
        shapes.append((outputs,))
    return shapes, {}


def _draw_batch_norm(d):
    n = d.draw(st.integers(1, 3), label="n")
    c = d.draw(st.integers(1, 3 if tiny() else 4), label="c")
    spatial = d.draw(st.sampled_from([(), (3,), (2, 3)] if tiny() else [(), (3,), (2, 3), (3, 5)]), label="spatial")
    if n * int(np.prod(spatial)) < 2:
        n = 2  # training needs two values per channel
    training = d.draw(st.booleans(), label="training")
    return [(n, c) + spatial] + ([(c,), (c,)] if d.draw(st.booleans(), label="affine") else []), dict(
        training=training, running=d.draw(st.booleans(), label="running"),
        momentum=d.draw(st.sampled_from([0.1, 0.5]), label="momentum"), eps=d.draw(st.sampled_from([1e-5, 1e-2])),
    )


def _bn_domain(i, x):
    return x * 2 + 1 if i == 0 else x


def _bn_running_stats(rng, shapes, params):
    c = shapes[0][1]
    return (rng.standard_normal(c), rng.random(c) + 0.5) if params["running"] else ()


def _split_bn(tensors, running):
    inputs = list(tensors)
    mean, var = (inputs[-2], inputs[-1]) if running else (None, None)
    inputs = inputs[:-2] if running else inputs
    weight, bias = (inputs[1], inputs[2]) if len(inputs) == 3 else (None, None)
    return inputs[0], mean, var, weight, bias


def _batch_norm(*tensors, training, running, momentum, eps):
    x, mean, var, weight, bias = _split_bn(tensors, running)
    return F.batch_norm(x, mean, var, weight, bias, training=training, momentum=momentum, eps=eps)


def _ref_batch_norm(*arrays, training, running, momentum, eps):
    x, mean, var, weight, bias = _split_bn(arrays, running)
    return ref_batch_norm(x, mean, var, weight, bias, training=training, momentum=momentum, eps=eps)


def _draw_gelu(d):
    approximate = d.draw(st.sampled_from(["none", "tanh"]), label="approximate")
    return [one_shape(d, max_dims=3)], {"approximate": approximate}


# ---- sorting, indexing along a dim, masks, tiling ------------------------------------------------------

def _draw_sort(d):
    shapes, params = _along_dim(d)
    return shapes, dict(params, descending=d.draw(st.booleans(), label="descending"))


def _draw_topk(d):
    shapes, params = _along_dim(d)
    k = d.draw(st.integers(0, shapes[0][params["dim"]]), label="k")
    return shapes, dict(params, k=k, largest=d.draw(st.booleans(), label="largest"))


def _draw_along_index(d, bigger_src=False):
    """An input shape, a dim and an index shape that fits inside it outside that dim (torch.gather's rule)."""
    shape = one_shape(d, min_dims=1, max_dims=3, min_side=1)
    dim = dim_of(d, len(shape))
    axis = dim % len(shape)
    index_shape = tuple(d.draw(st.integers(1, 3), label="along") if i == axis else
                        d.draw(st.integers(1, n), label=f"side{i}") for i, n in enumerate(shape))
    return shape, dim, index_shape


def _draw_gather_along(d):
    shape, dim, index_shape = _draw_along_index(d)
    return [shape], {"dim": dim, "index_shape": index_shape}


def _draw_scatter_add(d):
    shape, dim, index_shape = _draw_along_index(d)
    src = tuple(n + d.draw(st.integers(0, 1), label="src_extra") for n in index_shape)
    return [shape, src], {"dim": dim, "index_shape": index_shape}


def _along_index(rng, shapes, params):
    return (rng.integers(0, shapes[0][params["dim"]], size=params["index_shape"]),)


def _draw_masked_fill(d):
    shape = one_shape(d, max_dims=3)
    mask = tuple(n if d.draw(st.booleans(), label="keep") else 1 for n in shape)
    return [shape], {"mask_shape": mask[d.draw(st.integers(0, len(mask)), label="drop"):]}


def _mask(rng, shapes, params):
    return (rng.random(params["mask_shape"]) < 0.5,)


def _draw_repeat(d):
    shape = one_shape(d, max_dims=3, max_side=3)
    lead = d.draw(st.integers(0, 1), label="lead")
    sizes = tuple(d.draw(st.integers(0 if i == 0 else 1, 2), label="size") for i in range(len(shape) + lead))
    return [shape], {"sizes": sizes}


def _draw_flip(d):
    shape = one_shape(d, min_dims=1)
    return [shape], {"dims": tuple(d.draw(st.lists(st.integers(0, len(shape) - 1), unique=True, min_size=1),
                                          label="dims"))}


def _draw_split(d):
    shapes, params = _along_dim(d)
    return shapes, dict(params, size=d.draw(st.integers(1, 4), label="size"))


def _split_scaled(x, size, dim):
    return nc.cat([p * (i + 1) for i, p in enumerate(x.split(size, dim))], dim)


SPECS = [
    unary("neg", lambda x: -x, np.negative),
    unary("exp", nc.exp, np.exp),
    unary("log", nc.log, np.log, domain=positive),
    unary("sqrt", nc.sqrt, np.sqrt, domain=positive),
    unary("tanh", nc.tanh, np.tanh),
    unary("sigmoid", nc.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
    unary("relu", nc.relu, lambda x: np.maximum(x, 0), domain=away_from_zero),
    unary("abs", nc.abs, np.abs, domain=away_from_zero),
    unary("clamp", lambda x: nc.clamp(x, -0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7)),
    unary("clamp_min", lambda x: x.clamp(min=0.2), lambda x: np.maximum(x, 0.2)),
    unary("pow_scalar", lambda x: x**3, lambda x: x**3),
    OpSpec("rpow_scalar", lambda d: ([one_shape(d)], {}), lambda x: 2.0**x, lambda x: 2.0**x),
    unary("rsub_scalar", lambda x: 1.5 - x, lambda x: 1.5 - x),
    unary("rdiv_scalar", lambda x: 2.0 / x, lambda x: 2.0 / x, domain=away_from_zero),
    binary("add", lambda a, b: a + b, np.add),
    binary("sub", lambda a, b: a - b, np.subtract),
    binary("mul", lambda a, b: a * b, np.multiply),
    binary("div", lambda a, b: a / b, np.divide, domain=lambda i, x: away_from_zero(i, x) if i else x),
    binary("pow", lambda a, b: a**b, np.power, domain=lambda i, x: positive(i, x) if i == 0 else x),
    binary("maximum", nc.maximum, np.maximum),
    binary("minimum", nc.minimum, np.minimum),
    OpSpec(
        "where",
        lambda d: (broadcastable(d, 2), {}),
        lambda a, b: nc.where(a.detach() > b.detach(), a, b),
        lambda a, b: np.where(a > b, a, b),
    ),
    reduction("sum", lambda x, dim, keepdim: x.sum(dim, keepdim), np.sum),
    reduction("mean", lambda x, dim, keepdim: x.mean(dim, keepdim), np.mean, min_side=1),
    reduction("max", lambda x, dim, keepdim: nc.max(x, _as_dims(dim), keepdim), np.max, min_side=1),
    reduction("min", lambda x, dim, keepdim: nc.min(x, _as_dims(dim), keepdim), np.min, min_side=1),
    reduction("var", lambda x, dim, keepdim: x.var(dim, keepdim=keepdim), ref_var, min_side=2),
    OpSpec("max_dim_values", _along_dim, lambda x, dim: x.max(dim).values, lambda x, dim: x.max(axis=dim)),
    OpSpec("matmul", _draw_matmul, lambda a, b: a @ b, np.matmul),
    OpSpec("reshape", _draw_reshape, lambda x, shape: x.reshape(shape), lambda x, shape: x.reshape(shape)),
    OpSpec("flatten", lambda d: ([one_shape(d)], {}), lambda x: x.flatten(), lambda x: x.reshape(-1)),
    OpSpec("permute", _draw_permute, lambda x, dims: x.permute(*dims), lambda x, dims: x.transpose(dims)),
    OpSpec("transpose", lambda d: ([one_shape(d, min_dims=2)], {}), lambda x: x.transpose(0, -1),
           lambda x: np.swapaxes(x, 0, -1)),
    OpSpec("squeeze", lambda d: ([one_shape(d, max_side=2)], {}), lambda x: x.squeeze(), np.squeeze),
    OpSpec("unsqueeze", _draw_unsqueeze, lambda x, dim: x.unsqueeze(dim), lambda x, dim: np.expand_dims(x, dim)),
    OpSpec("expand", _draw_expand, lambda x, shape: x.expand(*shape), lambda x, shape: np.broadcast_to(x, shape)),
    OpSpec("getitem_basic", _draw_getitem, lambda x, index: x[index], lambda x, index: x[index]),
    OpSpec(
        "getitem_gather",
        _draw_gather,
        lambda x, labels: x[np.arange(len(labels)), labels],
        lambda x, labels: x[np.arange(len(labels)), labels],
    ),
    OpSpec("cat", _draw_cat, lambda *xs, dim: nc.cat(xs, dim), lambda *xs, dim: np.concatenate(xs, dim)),
    OpSpec("stack", _draw_stack, lambda *xs, dim: nc.stack(xs, dim), lambda *xs, dim: np.stack(xs, dim)),
    OpSpec("pad", _draw_pad, lambda x, pad, value: nc.pad(x, pad, value=value), ref_pad),
    OpSpec("softmax", _along_dim, nc.softmax, ref_softmax),
    OpSpec("log_softmax", _along_dim, nc.log_softmax, ref_log_softmax),
    OpSpec("logsumexp", _along_dim, nc.logsumexp, ref_logsumexp),
    OpSpec("cross_entropy", _draw_cross_entropy, nc.cross_entropy, ref_cross_entropy, extra_inputs=_ce_target),
    OpSpec("mse_loss", lambda d: ([one_shape(d, min_side=1)] * 2, {}), nc.mse_loss, ref_mse_loss),
    OpSpec("max_pool2d", _draw_max_pool, F.max_pool2d, ref_max_pool2d),
    OpSpec("avg_pool2d", _draw_avg_pool, F.avg_pool2d, ref_avg_pool2d),
    OpSpec("adaptive_avg_pool2d", _draw_adaptive_pool, F.adaptive_avg_pool2d, ref_adaptive_avg_pool2d),
    # float32 sums of up to 17·9 products: the tolerance is relative to the output's largest magnitude (Winograd's
    # rounding is ~1e-5 of it)
    OpSpec("conv2d", _draw_conv2d, _conv2d, ref_conv2d, rtol32=1e-4, scaled32=True),
    OpSpec("conv2d_relu_max_pool2d", _draw_conv2d_relu_max_pool, F.conv2d_relu_max_pool2d, _ref_conv2d_relu_max_pool,
           rtol32=1e-4, scaled32=True),
    OpSpec("linear", _draw_linear, F.linear, ref_linear, rtol32=1e-5, scaled32=True),
    OpSpec("batch_norm", _draw_batch_norm, _batch_norm, _ref_batch_norm, domain=_bn_domain, rtol32=1e-4,
           scaled32=True, extra_inputs=_bn_running_stats),
    OpSpec("gelu", _draw_gelu, F.gelu, ref_gelu, domain=lambda i, x: 3 * x),
    binary("remainder", lambda a, b: a % b, np.remainder, domain=lambda i, x: positive(i, x) if i else 3 * x),
    reduction("std", lambda x, dim, keepdim: x.std(dim, keepdim=keepdim), ref_std, min_side=2),
    OpSpec("t", lambda d: ([one_shape(d, max_dims=2)], {}), lambda x: x.t(), lambda x: x.T),
    OpSpec("sort", _draw_sort, lambda x, dim, descending: x.sort(dim, descending).values, ref_sort),
    OpSpec("topk", _draw_topk, lambda x, k, dim, largest: x.topk(k, dim, largest).values, ref_topk),
    OpSpec("gather", _draw_gather_along, lambda x, index, dim, index_shape: x.gather(dim, index),
           lambda x, index, dim, index_shape: ref_gather(x, index, dim), extra_inputs=_along_index),
    OpSpec("scatter_add", _draw_scatter_add, lambda x, src, index, dim, index_shape: x.scatter_add(dim, index, src),
           lambda x, src, index, dim, index_shape: ref_scatter_add(x, src, index, dim), extra_inputs=_along_index),
    OpSpec("masked_fill", _draw_masked_fill, lambda x, mask, mask_shape: x.masked_fill(mask, 1.5),
           lambda x, mask, mask_shape: ref_masked_fill(x, mask, 1.5), extra_inputs=_mask),
    OpSpec("repeat", _draw_repeat, lambda x, sizes: x.repeat(*sizes), ref_repeat),
    OpSpec("flip", _draw_flip, lambda x, dims: x.flip(dims), lambda x, dims: np.flip(x, dims)),
    OpSpec("split", _draw_split, _split_scaled, ref_split_scaled),
]
