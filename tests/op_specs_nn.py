"""The nn ops (losses, activations, group/layer norm, transposed convolution, interpolation) as OpSpecs of the
factory (tests/op_factory.py); tests/test_ops.py runs ``SPECS_NN`` beside tests/op_specs.py's ``SPECS`` on each
device. References: tests/references_nn.py. Draws keep to a few elements per input on cuda (``tiny()``).
"""
import numpy as np
from hypothesis import strategies as st
from op_factory import OpSpec, one_shape, tiny
from references_nn import (
    ref_binary_cross_entropy,
    ref_binary_cross_entropy_with_logits,
    ref_conv_transpose2d,
    ref_cross_entropy,
    ref_elu,
    ref_group_norm,
    ref_hardtanh,
    ref_huber_loss,
    ref_interpolate,
    ref_l1_loss,
    ref_layer_norm,
    ref_leaky_relu,
    ref_nll_loss,
    ref_silu,
    ref_smooth_l1_loss,
    ref_softplus,
)

import numbaconv.nn.functional as F

REDUCTIONS = ["mean", "sum", "none"]


def _reduction(d):
    return d.draw(st.sampled_from(REDUCTIONS), label="reduction")


# ---- class-index losses ---------------------------------------------------------------------------------

def _draw_class_loss(d, smoothing):
    """An (N, C, d...) or (C,) input, class weights or not, ignore_index -100 (some targets set to it) or a class."""
    most = 3 if tiny() else 5
    classes = d.draw(st.integers(1, most), label="classes")
    layout = d.draw(st.sampled_from(["flat", "batch", "spatial"]), label="layout")
    n = d.draw(st.integers(1, most), label="n")
    shape = {"flat": (classes,), "batch": (n, classes), "spatial": (n, classes, 2)}[layout]
    ignore = d.draw(st.sampled_from([-100] + ([1] if classes > 1 else [])), label="ignore_index")
    params = dict(reduction=_reduction(d), ignore_index=ignore, weighted=d.draw(st.booleans(), label="weighted"),
                  drop=d.draw(st.booleans(), label="drop some"))
    if smoothing:
        params["label_smoothing"] = d.draw(st.sampled_from([0.0, 0.2]), label="label_smoothing")
    return [shape], params


def _class_extras(rng, shapes, params):
    """(targets, with the first kept, and some set to ignore_index when ``drop``; class weights when ``weighted``)."""
    shape = shapes[0]
    classes = shape[0] if len(shape) == 1 else shape[1]
    target_shape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    target = rng.integers(0, classes, size=target_shape)
    flat = target.reshape(-1)
    if params["drop"] and flat.size > 1:
        flat[1:][rng.random(flat.size - 1) < 0.4] = params["ignore_index"]
    if flat[0] == params["ignore_index"]:
        flat[0] = 0
    extras = (target,)
    return extras + ((rng.random(classes) + 0.5,) if params["weighted"] else ())


def _nll_loss(x, target, weight=None, *, weighted, drop, **params):
    return F.nll_loss(x, target, weight, **params)


def _ref_nll_loss(x, target, weight=None, *, weighted, drop, **params):
    return ref_nll_loss(x, target, weight, **params)


def _cross_entropy(x, target, weight=None, *, weighted, drop, **params):
    return F.cross_entropy(x, target, weight, **params)


def _ref_cross_entropy(x, target, weight=None, *, weighted, drop, **params):
    return ref_cross_entropy(x, target, weight, **params)


def _draw_soft_cross_entropy(d):
    most = 3 if tiny() else 5
    classes, n = d.draw(st.integers(1, most), label="classes"), d.draw(st.integers(1, most), label="n")
    shape = d.draw(st.sampled_from([(classes,), (n, classes), (n, classes, 2)]), label="shape")
    return [shape], dict(reduction=_reduction(d), label_smoothing=d.draw(st.sampled_from([0.0, 0.3])),
                         weighted=d.draw(st.booleans(), label="weighted"))


def _soft_extras(rng, shapes, params):
    shape = shapes[0]
    dim = 0 if len(shape) == 1 else 1
    q = rng.random(shape) + 0.1
    q = q / q.sum(axis=dim, keepdims=True)
    return (q,) + ((rng.random(shape[dim]) + 0.5,) if params["weighted"] else ())


def _soft_cross_entropy(x, q, weight=None, *, weighted, **params):
    return F.cross_entropy(x, q, weight, **params)


def _ref_soft_cross_entropy(x, q, weight=None, *, weighted, **params):
    return ref_cross_entropy(x, q, weight, **params)


# ---- binary and regression losses -----------------------------------------------------------------------

def _draw_pair_loss(d, **choices):
    shape = one_shape(d, min_dims=1, max_dims=3, min_side=1)
    params = {"reduction": _reduction(d)}
    for name, values in choices.items():
        params[name] = d.draw(st.sampled_from(values), label=name)
    return [shape, shape], params


def _probability_pair(i, x):
    """Input probabilities in (0.05, 0.95) (finite differences stay inside (0, 1)); targets in (0, 1)."""
    return 0.05 + 0.9 / (1 + np.exp(-x)) if i == 0 else 1 / (1 + np.exp(-x))


def _target_in_unit(i, x):
    return 3 * x if i == 0 else 1 / (1 + np.exp(-x))


def _binary_extras(rng, shapes, params):
    """A class weight over the last dim and, for the logits loss, pos_weight over it."""
    last = shapes[0][-1]
    extras = (rng.random(last) + 0.5,) if params["weighted"] else ()
    return extras + ((rng.random(last) * 2 + 0.2,) if params.get("positive") else ())


def _split_binary(extras, weighted, positive=False):
    extras = list(extras)
    weight = extras.pop(0) if weighted else None
    return weight, (extras.pop(0) if positive else None)


def _bce(x, t, *extras, weighted, reduction):
    weight, _ = _split_binary(extras, weighted)
    return F.binary_cross_entropy(x, t, weight, reduction=reduction)


def _ref_bce(x, t, *extras, weighted, reduction):
    weight, _ = _split_binary(extras, weighted)
    return ref_binary_cross_entropy(x, t, weight, reduction)


def _bce_logits(x, t, *extras, weighted, positive, reduction):
    weight, pos = _split_binary(extras, weighted, positive)
    return F.binary_cross_entropy_with_logits(x, t, weight, reduction=reduction, pos_weight=pos)


def _ref_bce_logits(x, t, *extras, weighted, positive, reduction):
    weight, pos = _split_binary(extras, weighted, positive)
    return ref_binary_cross_entropy_with_logits(x, t, weight, reduction, pos)


# ---- activations, normalisation -------------------------------------------------------------------------

def _away_from_zero(i, x):
    return np.where(x >= 0, x + 0.1, x - 0.1)


def _away_from(*kinks):
    """Standard normals scaled by 3 and moved at least 0.05 away from each kink (finite differences cross none)."""
    def domain(i, x):
        x = 3 * x
        for k in kinks:
            x = np.where(np.abs(x - k) < 0.05, k + np.where(x >= k, 0.05, -0.05), x)
        return x

    return domain


def _draw_group_norm(d):
    n = d.draw(st.integers(1, 2 if tiny() else 3), label="n")
    groups = d.draw(st.integers(1, 2 if tiny() else 3), label="groups")
    per = d.draw(st.integers(1, 2), label="channels per group")
    spatial = d.draw(st.sampled_from([(), (3,), (2, 3)] if not tiny() else [(), (3,)]), label="spatial")
    if per * int(np.prod(spatial)) < 2:
        per = 2  # a group of one value has no variance to normalise by
    c = groups * per
    affine = [(c,), (c,)] if d.draw(st.booleans(), label="affine") else []
    return [(n, c) + spatial] + affine, dict(num_groups=groups, eps=d.draw(st.sampled_from([1e-5, 1e-2])))


def _group_norm(x, weight=None, bias=None, **params):
    return F.group_norm(x, weight=weight, bias=bias, **params)


def _ref_group_norm(x, weight=None, bias=None, **params):
    return ref_group_norm(x, weight=weight, bias=bias, **params)


def _draw_layer_norm(d):
    shape = one_shape(d, min_dims=1, max_dims=3, min_side=2)
    k = d.draw(st.integers(1, len(shape)), label="normalized dims")
    normalized = shape[len(shape) - k:]
    affine = [normalized, normalized] if d.draw(st.booleans(), label="affine") else []
    return [shape] + affine, dict(normalized_shape=normalized, eps=d.draw(st.sampled_from([1e-5, 1e-2])))


def _layer_norm(x, weight=None, bias=None, **params):
    return F.layer_norm(x, weight=weight, bias=bias, **params)


def _ref_layer_norm(x, weight=None, bias=None, **params):
    return ref_layer_norm(x, weight=weight, bias=bias, **params)


# ---- conv_transpose2d -----------------------------------------------------------------------------------

def _draw_conv_transpose2d(d):
    """Stride, padding, output_padding (below the stride or the dilation), dilation, groups, bias, 3-D or 4-D input;
    on cpu also the paths conv2d's backward takes: Winograd (3x3, stride 1, 16+ output channels) and channels-last
    (8+ output channels without groups)."""
    small = tiny()
    path = "plain" if small else d.draw(st.sampled_from(["plain", "plain", "winograd", "channels_last"]), label="path")
    groups = 1 if path != "plain" else d.draw(st.sampled_from([1, 1, 2]), label="groups")
    cin = groups * d.draw(st.integers(1, 2), label="cin_g")
    cout_g = {"winograd": 16, "channels_last": 9}.get(path) or d.draw(st.integers(1, 2 if small else 3), label="cout")
    if path == "winograd":
        kh = kw = 3
        stride, dilation = (1, 1), (1, 1)
    else:
        kh, kw = d.draw(st.integers(1, 3), label="kh"), d.draw(st.integers(1, 3), label="kw")
        stride = (d.draw(st.integers(1, 3), label="sh"), d.draw(st.integers(1, 3), label="sw"))
        dilation = (d.draw(st.integers(1, 2), label="dh"), d.draw(st.integers(1, 2), label="dw"))
    padding = (d.draw(st.integers(0, 2), label="ph"), d.draw(st.integers(0, 2), label="pw"))
    output_padding = tuple(d.draw(st.integers(0, max(s, dl) - 1), label="op") for s, dl in zip(stride, dilation))
    side = 3 if small else 5
    sizes = []
    for p, k, s, dl, op in zip(padding, (kh, kw), stride, dilation, output_padding):
        low = 1
        while (low - 1) * s - 2 * p + dl * (k - 1) + op + 1 < 1:
            low += 1
        sizes.append(d.draw(st.integers(low, max(low, side)), label="size"))
    n = 1 if small else d.draw(st.integers(1, 2), label="n")
    batched = n > 1 or d.draw(st.booleans(), label="batched")
    shapes = [((n,) if batched else ()) + (cin, *sizes), (cin, cout_g, kh, kw)]
    if d.draw(st.booleans(), label="bias"):
        shapes.append((cout_g * groups,))
    return shapes, dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups,
                        dilation=dilation)


def _conv_transpose2d(x, w, b=None, **params):
    return F.conv_transpose2d(x, w, b, **params)


# ---- interpolate ----------------------------------------------------------------------------------------

def _draw_interpolate(d):
    spatial = d.draw(st.sampled_from([1, 2]), label="spatial dims")
    side = 3 if tiny() else 5
    shape = (1 if tiny() else d.draw(st.integers(1, 2)), d.draw(st.integers(1, 2))) + tuple(
        d.draw(st.integers(1, side), label="side") for _ in range(spatial))
    linear = "linear" if spatial == 1 else "bilinear"
    mode = d.draw(st.sampled_from(["nearest", "nearest-exact", linear]), label="mode")
    params = {"mode": mode}
    if mode == linear:
        params["align_corners"] = d.draw(st.booleans(), label="align_corners")
    if d.draw(st.booleans(), label="by size"):
        params["size"] = tuple(d.draw(st.integers(1, side + 2), label="out") for _ in range(spatial))
    else:
        factors = [d.draw(st.sampled_from([0.5, 0.8, 1.0, 1.7, 2.0, 2.5]), label="factor") for _ in range(spatial)]
        params["scale_factor"] = tuple(f if n * f >= 1 else 1.0 for f, n in zip(factors, shape[2:]))  # 1+ pixel
    return [shape], params


def _interpolate(x, **params):
    return F.interpolate(x, **params)


SPECS_NN = [
    OpSpec("nll_loss", lambda d: _draw_class_loss(d, False), _nll_loss, _ref_nll_loss, extra_inputs=_class_extras),
    OpSpec("cross_entropy_weighted", lambda d: _draw_class_loss(d, True), _cross_entropy, _ref_cross_entropy,
           extra_inputs=_class_extras),
    OpSpec("cross_entropy_probabilities", _draw_soft_cross_entropy, _soft_cross_entropy, _ref_soft_cross_entropy,
           extra_inputs=_soft_extras),
    OpSpec("binary_cross_entropy", lambda d: _draw_pair_loss(d, weighted=[False, True]), _bce, _ref_bce,
           domain=_probability_pair, extra_inputs=_binary_extras),
    OpSpec("binary_cross_entropy_with_logits",
           lambda d: _draw_pair_loss(d, weighted=[False, True], positive=[False, True]), _bce_logits,
           _ref_bce_logits, domain=_target_in_unit, extra_inputs=_binary_extras),
    OpSpec("l1_loss", lambda d: _draw_pair_loss(d), F.l1_loss, ref_l1_loss),
    OpSpec("smooth_l1_loss", lambda d: _draw_pair_loss(d, beta=[0.0, 0.5, 1.0]), F.smooth_l1_loss,
           ref_smooth_l1_loss),
    OpSpec("huber_loss", lambda d: _draw_pair_loss(d, delta=[0.5, 2.0]), F.huber_loss, ref_huber_loss),
    OpSpec("leaky_relu", lambda d: ([one_shape(d)], {"negative_slope": d.draw(st.sampled_from([0.01, 0.2, -0.5]))}),
           F.leaky_relu, ref_leaky_relu, domain=_away_from_zero),
    OpSpec("silu", lambda d: ([one_shape(d)], {}), F.silu, ref_silu),
    OpSpec("elu", lambda d: ([one_shape(d)], {"alpha": d.draw(st.sampled_from([1.0, 0.3]))}), F.elu, ref_elu,
           domain=_away_from(0.0)),
    OpSpec("softplus", lambda d: ([one_shape(d)], {"beta": d.draw(st.sampled_from([1.0, 2.0])),
                                                   "threshold": d.draw(st.sampled_from([20.0, 2.0]))}),
           F.softplus, ref_softplus, domain=_away_from(1.0, 2.0)),
    OpSpec("hardtanh", lambda d: ([one_shape(d)], {"min_val": -1.0, "max_val": d.draw(st.sampled_from([1.0, 6.0]))}),
           F.hardtanh, ref_hardtanh, domain=_away_from(-1.0, 1.0, 6.0)),
    OpSpec("group_norm", _draw_group_norm, _group_norm, _ref_group_norm, rtol32=1e-4, scaled32=True),
    OpSpec("layer_norm", _draw_layer_norm, _layer_norm, _ref_layer_norm, rtol32=1e-4, scaled32=True),
    OpSpec("conv_transpose2d", _draw_conv_transpose2d, _conv_transpose2d, ref_conv_transpose2d, rtol32=1e-4,
           scaled32=True),
    OpSpec("interpolate", _draw_interpolate, _interpolate, ref_interpolate, rtol32=1e-5, scaled32=True),
]

# Under the CUDA simulator (seconds per kernel launch) only these run on cuda: the ops with kernels or device code of
# their own. The others are compositions of ops whose cuda specs already run there (log_softmax, sums, where, abs).
SIMULATED_NN = ("nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "leaky_relu", "group_norm",
                "conv_transpose2d", "interpolate")
