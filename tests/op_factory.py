"""One factory that tests every op the same way (in the spirit of MyGrad's tests/wrappers/uber.py).

An ``OpSpec`` says how to draw an op's inputs and parameters, how to call it on Tensors and how to compute it
on float64 numpy arrays. ``check_op`` then checks, for one drawn case:
  forward in float64 and float32 against the numpy reference (dtype preserved),
  non-contiguous inputs (strided views) give the same values and gradients as contiguous ones,
  inputs are not mutated by forward or backward,
  gradients against central finite differences (``nc.gradcheck``).
Values come from a seeded normal generator (no ties, so max/min/relu kinks are almost surely avoided);
hypothesis explores the shapes, the parameters and the seed.
"""
import dataclasses
from typing import Callable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import numbaconv as nc


@dataclasses.dataclass
class OpSpec:
    name: str
    draw: Callable  # draw(data) -> (list of input shapes, params dict)
    fn: Callable  # fn(*tensors, **params) -> Tensor
    ref: Callable  # ref(*float64 arrays, **params) -> ndarray
    domain: Callable = None  # maps standard normals to the op's domain, per input index
    grad: bool = True
    rtol32: float = 1e-5
    extra_inputs: Callable = None  # extra_inputs(rng, shapes, params) -> non-differentiable np arrays


def draw_values(seed, shapes, domain):
    rng = np.random.default_rng(seed)
    values = []
    for i, shape in enumerate(shapes):
        x = np.asarray(rng.standard_normal(shape))
        values.append(np.asarray(domain(i, x)) if domain is not None else x)
    return values, rng


def strided_copy(array):
    """The same values in a non-contiguous view (every other element of a larger buffer)."""
    if array.ndim == 0 or array.size == 0:
        return array
    big = np.zeros(array.shape[:-1] + (2 * array.shape[-1],), array.dtype)
    big[..., ::2] = array
    view = big[..., ::2]
    assert not view.flags.c_contiguous or array.shape[-1] == 1
    return view


def _run(spec, arrays, extras, params, requires_grad):
    tensors = [nc.Tensor(a, requires_grad=requires_grad) for a in arrays]
    out = spec.fn(*tensors, *extras, **params)
    grads = None
    if requires_grad:
        projection = np.random.default_rng(1).standard_normal(out.shape).astype(out.dtype)
        (out * nc.Tensor(projection)).sum().backward()
        grads = [np.zeros(t.shape) if t.grad is None else t.grad.numpy() for t in tensors]
    return out, grads


def check_op(spec, data):
    shapes, params = spec.draw(data)
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    arrays, rng = draw_values(seed, shapes, spec.domain)
    extras = spec.extra_inputs(rng, shapes, params) if spec.extra_inputs else ()
    expected = spec.ref(*arrays, *extras, **params)

    originals = [a.copy() for a in arrays]
    out64, grads = _run(spec, arrays, extras, params, spec.grad)
    for a, original in zip(arrays, originals):
        np.testing.assert_array_equal(a, original, err_msg=f"{spec.name} mutated an input")
    assert out64.dtype == np.float64, f"{spec.name}: float64 in, {out64.dtype} out"
    np.testing.assert_allclose(out64.detach().numpy(), expected, rtol=1e-9, atol=1e-12, err_msg=spec.name)

    out32, _ = _run(spec, [a.astype(np.float32) for a in arrays], extras, params, False)
    assert out32.dtype == np.float32, f"{spec.name}: float32 in, {out32.dtype} out"
    np.testing.assert_allclose(out32.numpy(), expected, rtol=spec.rtol32, atol=spec.rtol32, err_msg=spec.name)

    strided = [strided_copy(a) for a in arrays]
    out_strided, grads_strided = _run(spec, strided, extras, params, spec.grad)
    np.testing.assert_allclose(out_strided.detach().numpy(), out64.detach().numpy(), rtol=1e-12, atol=1e-12)
    if spec.grad:
        for g, gs in zip(grads, grads_strided):
            np.testing.assert_allclose(gs, g, rtol=1e-12, atol=1e-12, err_msg=f"{spec.name} strided grad")
        if not np.isfinite(expected).all():
            return  # an infinite output (a max-pool window of padding only) has no finite differences
        tensors = [nc.Tensor(a.copy(), requires_grad=True) for a in arrays]
        nc.gradcheck(lambda *ts: spec.fn(*ts, *extras, **params), tensors, eps=1e-6, atol=1e-5, rtol=1e-4)


# ---- shape strategies -------------------------------------------------------------------------------

def broadcastable(data, count, min_side=0, max_dims=3):
    shapes = data.draw(
        hnp.mutually_broadcastable_shapes(num_shapes=count, min_dims=0, max_dims=max_dims, min_side=min_side, max_side=4),
        label="shapes",
    )
    return list(shapes.input_shapes)


def one_shape(data, min_dims=0, max_dims=4, min_side=0, max_side=4):
    return data.draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side), label="shape")


def dim_of(data, ndim):
    return data.draw(st.integers(-ndim, ndim - 1), label="dim")


def dims_of(data, ndim):
    """None, an int, or a tuple of distinct dims."""
    return data.draw(
        st.one_of(
            st.none(),
            st.integers(-ndim, ndim - 1),
            st.lists(st.integers(0, ndim - 1), unique=True, min_size=1, max_size=ndim).map(tuple),
        ),
        label="dims",
    )
