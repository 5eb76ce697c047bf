"""Forward, gradient, stride and no-mutation checks of every core op through the factory."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import numbaconv as nc
from op_factory import OpSpec, broadcastable, check_op, dim_of, dims_of, one_shape


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


def _draw_matmul(d):
    kind = d.draw(st.sampled_from(["vv", "mv", "vm", "mm", "batched"]), label="kind")
    n, k, m = (d.draw(st.integers(1, 4), label=s) for s in "nkm")
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
    lead = d.draw(st.lists(st.integers(1, 3), max_size=2), label="lead")
    return [shape], {"shape": tuple(lead) + target}


def _draw_cat(d):
    shape = one_shape(d, min_dims=1, max_dims=3)
    dim = dim_of(d, len(shape))
    sizes = d.draw(st.lists(st.integers(0, 3), min_size=1, max_size=3), label="sizes")
    shapes = [shape[: dim % len(shape)] + (n,) + shape[dim % len(shape) + 1 :] for n in sizes]
    return shapes, {"dim": dim}


def _draw_stack(d):
    shape = one_shape(d, max_dims=3)
    count = d.draw(st.integers(1, 3), label="count")
    return [shape] * count, {"dim": d.draw(st.integers(-len(shape) - 1, len(shape)), label="dim")}


def _draw_pad(d):
    shape = one_shape(d, min_dims=1, max_dims=3)
    pad = d.draw(st.lists(st.integers(0, 2), min_size=2, max_size=2 * len(shape)).filter(lambda p: len(p) % 2 == 0))
    return [shape], {"pad": tuple(pad), "value": d.draw(st.sampled_from([0.0, 1.5]))}


def _np_pad(x, pad, value):
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return np.pad(x, widths, constant_values=value)


def _along_dim(d, min_dims=1):
    shape = one_shape(d, min_dims=min_dims, min_side=1)
    return [shape], {"dim": dim_of(d, len(shape))}


def _np_logsumexp(x, axis, keepdims=False):
    peak = x.max(axis=axis, keepdims=True)
    out = peak + np.log(np.exp(x - peak).sum(axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis)


def _draw_cross_entropy(d):
    n, c = d.draw(st.integers(1, 5), label="n"), d.draw(st.integers(1, 5), label="c")
    spatial = d.draw(st.sampled_from([(), (2,), (2, 3)]), label="spatial")
    return [(n, c) + spatial], {
        "label_smoothing": d.draw(st.sampled_from([0.0, 0.1, 1.0]), label="smoothing"),
        "reduction": d.draw(st.sampled_from(["mean", "sum", "none"]), label="reduction"),
    }


def _ce_target(rng, shapes, params):
    shape = shapes[0]
    return (rng.integers(0, shape[1], size=(shape[0],) + shape[2:]),)


def _np_cross_entropy(x, target, label_smoothing, reduction):
    classes = x.shape[1]
    logp = x - _np_logsumexp(x, 1, keepdims=True)
    onehot = np.moveaxis(np.eye(classes)[target], -1, 1)
    q = (1 - label_smoothing) * onehot + label_smoothing / classes
    loss = -(q * logp).sum(axis=1)
    return {"mean": loss.mean(), "sum": loss.sum(), "none": loss}[reduction]


def _np_var(x, axis, keepdims):
    return x.var(axis=axis, keepdims=keepdims, ddof=1)


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
    unary("rpow_scalar", lambda x: 2.0**x, lambda x: 2.0**x),
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
    reduction("max", lambda x, dim, keepdim: nc.max(x, dim if not isinstance(dim, int) else (dim,), keepdim), np.max, min_side=1),
    reduction("min", lambda x, dim, keepdim: nc.min(x, dim if not isinstance(dim, int) else (dim,), keepdim), np.min, min_side=1),
    reduction("var", lambda x, dim, keepdim: x.var(dim, keepdim), _np_var, min_side=2),
    OpSpec("max_dim_values", _along_dim, lambda x, dim: x.max(dim).values, lambda x, dim: x.max(axis=dim)),
    OpSpec("matmul", _draw_matmul, lambda a, b: a @ b, np.matmul),
    OpSpec("reshape", _draw_reshape, lambda x, shape: x.reshape(shape), lambda x, shape: x.reshape(shape)),
    OpSpec("flatten", lambda d: ([one_shape(d)], {}), lambda x: x.flatten(), lambda x: x.reshape(-1)),
    OpSpec("permute", _draw_permute, lambda x, dims: x.permute(*dims), lambda x, dims: x.transpose(dims)),
    OpSpec("transpose", lambda d: ([one_shape(d, min_dims=2)], {}), lambda x: x.transpose(0, -1), lambda x: np.swapaxes(x, 0, -1)),
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
    OpSpec("pad", _draw_pad, lambda x, pad, value: nc.pad(x, pad, value=value), _np_pad),
    OpSpec("softmax", _along_dim, nc.softmax, lambda x, dim: np.exp(x - _np_logsumexp(x, dim, True))),
    OpSpec("log_softmax", _along_dim, nc.log_softmax, lambda x, dim: x - _np_logsumexp(x, dim, True)),
    OpSpec("logsumexp", _along_dim, nc.logsumexp, lambda x, dim: _np_logsumexp(x, dim)),
    OpSpec(
        "cross_entropy",
        _draw_cross_entropy,
        lambda x, t, **kw: nc.cross_entropy(x, nc.Tensor(t), **kw),
        _np_cross_entropy,
        extra_inputs=_ce_target,
    ),
    OpSpec(
        "mse_loss",
        lambda d: ([one_shape(d, min_side=1)] * 2, {}),
        nc.mse_loss,
        lambda a, b: ((a - b) ** 2).mean(),
    ),
]


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
@given(data=st.data())
def test_op(spec, data):
    check_op(spec, data)
