"""The autograd engine: graph walk, accumulation, freeing, grad mode, in-place safety, errors."""

import weakref

import numpy as np
import pytest

import numbaconv as nc


def test_long_chain_has_no_recursion_limit():
    x = nc.tensor(1.0, dtype=np.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_gradients_accumulate_across_backward_calls():
    x = nc.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])


def test_accumulation_is_in_place_and_leaves_fed_one_array_stay_apart():
    x = nc.tensor([1.0, 2.0], requires_grad=True)
    y = nc.tensor([5.0, 7.0], requires_grad=True)
    (x + y).sum().backward()
    first = x.grad.array
    (x + y).sum().backward()
    assert x.grad.array is first
    assert not np.shares_memory(x.grad.array, y.grad.array)
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])
    np.testing.assert_allclose(y.grad.numpy(), [2.0, 2.0])


class _NewGradient(nc.autograd.Function):
    """Identity whose backward returns a new array (held here only by a weak reference) or, with ``keep``, an
    array it also keeps in ``_NewGradient.kept`` (as a tuple, to test that a kept tuple counts too)."""

    made = None
    kept = None

    @staticmethod
    def forward(ctx, x, *, keep):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        fresh = np.full(grad.shape, 3.0, grad.dtype)
        _NewGradient.made = weakref.ref(fresh)
        if ctx.params.keep == "array":
            _NewGradient.kept = fresh
        elif ctx.params.keep == "tuple":
            _NewGradient.kept = (fresh,)
            return _NewGradient.kept
        elif ctx.params.keep == "view":
            return np.full((2 * grad.size,), 3.0, grad.dtype)[: grad.size].reshape(grad.shape)
        elif ctx.params.keep in ("reshaped", "reshaped and kept"):
            flat = np.full(grad.size, 3.0, grad.dtype)
            _NewGradient.made = weakref.ref(flat)
            _NewGradient.kept = flat if ctx.params.keep == "reshaped and kept" else None
            return flat.reshape(grad.shape)
        return fresh


@pytest.mark.parametrize("keep", ["", "array", "tuple", "view", "reshaped", "reshaped and kept"])
def test_a_leaf_adopts_a_gradient_nothing_else_holds_and_copies_a_shared_one(keep):
    x = nc.tensor([[1.0, 2.0]], requires_grad=True)
    _NewGradient.apply(x, keep=keep).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[3.0, 3.0]])
    made = _NewGradient.made()
    adopted = made is not None and (made is x.grad.array or made is x.grad.array.base)
    assert adopted == (keep in ("", "reshaped")), keep
    if keep in ("array", "tuple", "reshaped and kept"):
        x.grad.array[:] = 0.0
        kept = _NewGradient.kept[0] if keep == "tuple" else _NewGradient.kept
        np.testing.assert_allclose(kept.reshape(-1), [3.0, 3.0])
    _NewGradient.kept = None


def test_a_leafs_own_gradient_passed_to_backward_is_copied():
    x = nc.tensor([1.0, 2.0], requires_grad=True)
    gradient = np.array([4.0, 5.0], np.float32)
    x.backward(gradient)
    x.grad.array[:] = 0.0
    np.testing.assert_allclose(gradient, [4.0, 5.0])


@pytest.mark.parametrize("n", [3, 70_000])
def test_leaves_fed_one_gradient_get_arrays_of_their_own(n):
    x = nc.ones(n, requires_grad=True)
    y = nc.ones(n, requires_grad=True)
    ((x + y) * 2.0).backward(nc.ones(n))
    x.grad.array[:] = 0.0
    np.testing.assert_allclose(y.grad.numpy(), np.full(n, 2.0))


def test_grad_returns_gradients_of_leaves_and_intermediates_without_touching_dot_grad():
    x = nc.tensor([1.0, -2.0, 3.0], dtype=np.float64, requires_grad=True)
    w = nc.tensor([0.5, 4.0, -1.0], dtype=np.float64, requires_grad=True)
    hidden = (x * w).tanh()
    loss = (hidden * hidden + x).sum()
    gx, gw, gh = nc.autograd.grad(loss, [x, w, hidden], retain_graph=True)
    assert x.grad is None and w.grad is None
    xs, ws = x.detach().numpy(), w.detach().numpy()
    h = np.tanh(xs * ws)
    np.testing.assert_allclose(gh.numpy(), 2 * h)
    np.testing.assert_allclose(gx.numpy(), 2 * h * (1 - h**2) * ws + 1)
    np.testing.assert_allclose(gw.numpy(), 2 * h * (1 - h**2) * xs)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), gx.numpy())


def test_grad_errors_and_allow_unused():
    x = nc.tensor([1.0, 2.0], requires_grad=True)
    unused = nc.tensor([3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"inputs\[1\] was not used"):
        nc.autograd.grad((x * 2).sum(), [x, unused])
    gx, none = nc.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    np.testing.assert_allclose(gx.numpy(), [2.0, 2.0])
    assert none is None
    with pytest.raises(RuntimeError, match=r"inputs\[0\] is not a tensor that requires grad"):
        nc.autograd.grad((x * 2).sum(), [nc.ones(2)])
    with pytest.raises(RuntimeError, match="implicit only for scalar outputs"):
        nc.autograd.grad(x * 2, x)


def test_shared_subexpression_sums_both_paths():
    x = nc.tensor(3.0, dtype=np.float64, requires_grad=True)
    y = x * x
    z = y + y * x
    z.backward()
    np.testing.assert_allclose(x.grad.item(), 2 * 3.0 + 3 * 9.0)


def test_graph_is_freed_and_second_backward_raises():
    x = nc.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = nc.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


def test_freed_graph_releases_activations():
    import weakref

    x = nc.randn(100, requires_grad=True)
    hidden = x.exp()
    ref = weakref.ref(hidden)
    loss = hidden.sum()
    del hidden
    loss.backward()
    assert ref() is None


def test_backward_on_non_scalar_needs_gradient():
    x = nc.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"scalar outputs, got shape \(2,\)"):
        (x * 2).backward()
    (x * 2).backward(gradient=nc.tensor([1.0, 0.5]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 1.0])


def test_broadcast_gradient_is_summed_back():
    a = nc.ones(3, 1, requires_grad=True)
    b = nc.ones(4, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (4,)
    np.testing.assert_allclose(a.grad.numpy(), np.full((3, 1), 4.0))
    np.testing.assert_allclose(b.grad.numpy(), np.full(4, 3.0))


def test_no_grad_context_and_decorator():
    x = nc.ones(2, requires_grad=True)
    with nc.no_grad():
        y = x * 2
        with nc.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad

    @nc.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad
    assert nc.is_grad_enabled()


def test_inplace_on_tensor_requiring_grad_raises():
    x = nc.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        x += 1
    with nc.no_grad():
        x += 1
    np.testing.assert_allclose(x.detach().numpy(), [2.0, 2.0])


def test_inplace_on_saved_input_is_detected_at_backward():
    w = nc.ones(2, requires_grad=True)
    x = nc.tensor([1.0, 2.0])
    y = (w * x).sum()
    x += 1
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_inplace_through_a_view_is_detected():
    w = nc.ones(2, 2, requires_grad=True)
    x = nc.ones(2, 2)
    y = (w * x).sum()
    row = x[0]
    row *= 3
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point.*int64"):
        nc.tensor([1, 2], requires_grad=True)
    x = nc.tensor([1, 2])
    for make in (lambda: setattr(x, "requires_grad", True), lambda: x.requires_grad_()):
        with pytest.raises(RuntimeError, match="floating point.*int64"):
            make()
        assert not x.requires_grad
    x.requires_grad = False
    y = nc.tensor([1.0, 2.0])
    y.requires_grad = True
    (y * y).sum().backward()
    assert y.grad.numpy().tolist() == [2.0, 4.0]
    y.requires_grad = False
    assert not (y * y).requires_grad


def test_mismatched_shapes_name_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\) are not broadcastable"):
        nc.ones(2, 3) + nc.ones(4)


def test_matmul_inner_dimension_error():
    with pytest.raises(ValueError, match=r"matmul: inner dimensions differ: shapes \(2, 3\) and \(4, 5\)"):
        nc.ones(2, 3) @ nc.ones(4, 5)


def test_matmul_refuses_mixed_dtypes():
    with pytest.raises(TypeError, match="matmul: expected one dtype, got float32 and float64"):
        nc.ones(2, 2) @ nc.ones(2, 2, dtype=np.float64)


def test_nan_propagates():
    x = nc.tensor([np.nan, 1.0], requires_grad=True)
    y = nc.clamp(x, -1, 1)
    assert np.isnan(y.detach().numpy()[0])
    assert np.isnan(nc.log_softmax(x, 0).detach().numpy()).all()
    assert np.isnan(x.max().item())


def test_gradcheck_reports_the_worst_element():
    class WrongSquare(nc.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, grad):
            (a,) = ctx.saved_tensors
            return grad * a

    x = nc.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    with pytest.raises(nc.GradcheckError, match=r"input 0 at \(\d,\): analytical .* vs numerical"):
        nc.gradcheck(WrongSquare.apply, [x])
    assert nc.gradcheck(lambda t: t * t, [x])


def test_gradcheck_fails_on_nan_gradients():
    """A NaN on either side is a mismatch, not a pass (here the finite differences of log at 0 are NaN)."""
    x = nc.tensor([0.0, 2.0], dtype=np.float64, requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"), pytest.raises(nc.GradcheckError, match=r"input 0 at \(0,\)"):
        nc.gradcheck(lambda t: t.log(), [x])


def test_gradcheck_wants_float64():
    with pytest.raises(TypeError, match="float64"):
        nc.gradcheck(lambda t: t * t, [nc.ones(2, requires_grad=True)])


def test_cross_entropy_rejects_out_of_range_targets():
    with pytest.raises(IndexError, match=r"target values must lie in \[0, 3\)"):
        nc.cross_entropy(nc.zeros(2, 3), nc.tensor([0, 3]))


def test_tensor_api_basics():
    x = nc.arange(6).reshape(2, 3)
    assert x.dtype == np.int64 and x.shape == (2, 3) and x.ndim == 2 and x.numel() == 6 and x.size(1) == 3
    assert x.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert nc.tensor([1.5]).dtype == np.float32
    y = nc.tensor([[1.0, 2.0]], requires_grad=True)
    assert "requires_grad=True" in repr(y)
    assert "grad_fn=<MulBackward>" in repr(y * 2)
    assert np.asarray(y.detach()).shape == (1, 2)
    assert y.clone().requires_grad and y.detach().grad_fn is None
    assert y.to(np.float64).dtype == np.float64
    with pytest.raises(RuntimeError, match="detach"):
        y.numpy()


def test_manual_seed_repeats_draws():
    nc.manual_seed(3)
    a = nc.randn(4).numpy()
    nc.manual_seed(3)
    np.testing.assert_array_equal(a, nc.randn(4).numpy())


def test_import_compiles_no_kernel():
    import subprocess
    import sys

    code = "import time; t=time.perf_counter(); import numbaconv, sys; print('numba.core.registry' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_unknown_device_is_refused():
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        nc.zeros(2, device="tpu")


def test_tensor_from_0d_array_keeps_its_shape():
    assert nc.tensor(np.array(5)).shape == ()
    assert nc.tensor(np.arange(6.0).reshape(2, 3).T).array.flags.c_contiguous
