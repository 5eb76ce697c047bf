"""One factory that tests every op the same way on every device (in the spirit of MyGrad's tests/wrappers/uber.py).

An ``OpSpec`` says how to draw an op's inputs and parameters (``draw``, which asks ``tiny()`` whether to keep
the shapes tiny: it does on cuda, whose simulator runs kernels in Python), how to call it on Tensors and how to
compute it on float64 numpy arrays (the ``ref_*`` functions of tests/references.py). ``check_op(spec, data,
device)`` then checks, for one drawn case:
  forward in float64 and float32 on ``device`` against the numpy reference (dtype preserved),
  non-contiguous inputs (strided views, on the device) give the same values and gradients as contiguous ones,
  inputs are not mutated by forward or backward,
  gradients against central finite differences (``nc.gradcheck``, on the cpu) and, on cuda, against the cpu's.
Values come from a seeded normal generator (no ties, so max/min/relu kinks are almost surely avoided);
hypothesis explores the shapes, the parameters and the seed. The specs themselves live in tests/op_specs.py.
"""
import contextlib
import contextvars
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
    fn: Callable  # fn(*tensors, *extra tensors, **params) -> Tensor
    ref: Callable  # ref(*float64 arrays, *extra arrays, **params) -> ndarray
    domain: Callable = None  # maps standard normals to the op's domain, per input index
    grad: bool = True
    rtol32: float = 1e-5
    extra_inputs: Callable = None  # extra_inputs(rng, shapes, params) -> non-differentiable np arrays
    tol64: float = 1e-9  # forward float64 tolerance (relative and absolute) against the reference
    scaled32: bool = False  # float32 tolerance relative to the output's largest magnitude (sums of many terms)


_TINY = contextvars.ContextVar("tiny", default=False)


def tiny():
    """True while drawing a case for a non-cpu device: draws keep to a few dozen elements per input (under the
    CUDA simulator a 32-thread block costs ~0.1 s)."""
    return _TINY.get()


@contextlib.contextmanager
def _drawing_for(device):
    token = _TINY.set(device != "cpu")
    try:
        yield
    finally:
        _TINY.reset(token)


def draw_values(seed, shapes, domain):
    rng = np.random.default_rng(seed)
    values = []
    for i, shape in enumerate(shapes):
        x = np.asarray(rng.standard_normal(shape))
        values.append(np.asarray(domain(i, x)) if domain is not None else x)
    return values, rng


def _strided_leaf(array, device, requires_grad):
    """The same values in a non-contiguous view on ``device`` (every other element of a larger buffer)."""
    if array.ndim == 0 or array.size == 0:
        return nc.tensor(array, device=device, requires_grad=requires_grad)
    big = np.zeros(array.shape[:-1] + (2 * array.shape[-1],), array.dtype)
    big[..., ::2] = array
    view = nc.tensor(big, device=device).array[..., ::2]
    if device == "cpu":
        assert not view.flags.c_contiguous or array.shape[-1] == 1
    return nc.Tensor(view, requires_grad=requires_grad)


def _host(tensor):
    return tensor.detach().numpy()


def _run(spec, arrays, extras, params, requires_grad, device="cpu", strided=False):
    """Forward (and backward along a fixed random projection) of ``spec`` on ``device``; checks that no input
    changed. Returns (output on the host, input gradients on the host or None)."""
    if strided:
        tensors = [_strided_leaf(a, device, requires_grad) for a in arrays]
    else:
        tensors = [nc.tensor(a, device=device, requires_grad=requires_grad) for a in arrays]
    dtype = arrays[0].dtype if arrays else np.float64
    # non-differentiable float inputs (running statistics) follow the inputs' dtype; integer ones (targets) stay
    extra_tensors = [nc.tensor(e, dtype=dtype if np.asarray(e).dtype.kind == "f" else None, device=device)
                     for e in extras]
    out = spec.fn(*tensors, *extra_tensors, **params)
    assert out.device == device, f"{spec.name}: inputs on {device}, output on {out.device}"
    grads = None
    if requires_grad:
        projection = np.random.default_rng(1).standard_normal(out.shape).astype(out.dtype)
        (out * nc.tensor(projection, device=device)).sum().backward()
        grads = [np.zeros(t.shape) if t.grad is None else t.grad.numpy() for t in tensors]
    for t, a in zip(tensors, arrays):
        np.testing.assert_array_equal(_host(t), a, err_msg=f"{spec.name} mutated an input on {device}")
    return out, grads


def check_op(spec, data, device="cpu"):
    with _drawing_for(device):
        shapes, params = spec.draw(data)
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    arrays, rng = draw_values(seed, shapes, spec.domain)
    extras = spec.extra_inputs(rng, shapes, params) if spec.extra_inputs else ()
    expected = spec.ref(*arrays, *[np.array(e) for e in extras], **params)
    tag = f"{spec.name} on {device}"

    out64, grads = _run(spec, arrays, extras, params, spec.grad, device)
    assert out64.dtype == np.float64, f"{tag}: float64 in, {out64.dtype} out"
    assert out64.shape == np.shape(expected), f"{tag}: shape {out64.shape}, expected {np.shape(expected)}"
    np.testing.assert_allclose(_host(out64), expected, rtol=spec.tol64, atol=spec.tol64, err_msg=tag)

    out32, _ = _run(spec, [a.astype(np.float32) for a in arrays], extras, params, False, device)
    assert out32.dtype == np.float32, f"{tag}: float32 in, {out32.dtype} out"
    scale = max(1.0, float(np.abs(expected[np.isfinite(expected)]).max(initial=0))) if spec.scaled32 else 1.0
    np.testing.assert_allclose(_host(out32), expected, rtol=spec.rtol32, atol=spec.rtol32 * scale, err_msg=tag)

    out_strided, grads_strided = _run(spec, arrays, extras, params, spec.grad, device, strided=True)
    np.testing.assert_allclose(_host(out_strided), _host(out64), rtol=1e-12, atol=1e-12, err_msg=f"{tag} strided")
    if not spec.grad:
        return
    for g, gs in zip(grads, grads_strided):
        np.testing.assert_allclose(gs, g, rtol=1e-12, atol=1e-12, err_msg=f"{tag} strided grad")
    if device != "cpu":
        _, grads_cpu = _run(spec, arrays, extras, params, True, "cpu")
        for g, gc in zip(grads, grads_cpu):
            np.testing.assert_allclose(g, gc, rtol=1e-9, atol=1e-9, err_msg=f"{tag}: grad differs from the cpu's")
    if not np.isfinite(expected).all():
        return  # an infinite output (a max-pool window of padding only) has no finite differences
    tensors = [nc.tensor(a, requires_grad=True) for a in arrays]
    extra_tensors = [nc.tensor(e) for e in extras]
    nc.gradcheck(lambda *ts: spec.fn(*ts, *extra_tensors, **params), tensors, eps=1e-6, atol=1e-5, rtol=1e-4)


# ---- shape strategies -------------------------------------------------------------------------------

def broadcastable(data, count, min_side=0, max_dims=3):
    shapes = data.draw(
        hnp.mutually_broadcastable_shapes(num_shapes=count, min_dims=0, max_dims=max_dims,
                                          min_side=min_side, max_side=3 if tiny() else 4),
        label="shapes",
    )
    return list(shapes.input_shapes)


def one_shape(data, min_dims=0, max_dims=4, min_side=0, max_side=4):
    if tiny():  # at most 3 dims of 0 to 3
        max_dims, max_side = min(max_dims, max(min_dims, 3)), min(max_side, 3)
    return data.draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side),
                     label="shape")


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
