"""softmax/log_softmax keep their accuracy when the logits are huge (shift, exp, then subtract the log-sum)."""
import numpy as np
import pytest

import numbaconv as nc


@pytest.mark.parametrize("scale", [1e4, 1e5, 1e8])
def test_softmax_and_log_softmax_exact_at_huge_logits(scale):
    logits = np.array([scale, scale, scale - 1.0])
    expected_log = np.array([0.0, 0.0, -1.0]) - np.log(2.0 + np.exp(-1.0))
    x = nc.tensor(logits, dtype=nc.float64, requires_grad=True)
    np.testing.assert_allclose(nc.log_softmax(x, 0).detach().numpy(), expected_log, rtol=1e-12)
    np.testing.assert_allclose(nc.softmax(x, 0).detach().numpy(), np.exp(expected_log), rtol=1e-12)
    weights = nc.tensor([1.0, -2.0, 0.5], dtype=nc.float64)
    (nc.log_softmax(x, 0) * weights).sum().backward()
    expected_grad = weights.numpy() - np.exp(expected_log) * weights.numpy().sum()
    np.testing.assert_allclose(x.grad.numpy(), expected_grad, rtol=1e-10)


def _huge_logits(shape, dtype, rng):
    """Logits of ``shape`` large enough for the parallel loops, with one line of each special kind along axis 1:
    a NaN, a +inf, all -inf, and huge values."""
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    x[0, :, 0, 0] = rng.standard_normal(shape[1]) * 1e8
    x[1, 3, 1, 1] = np.nan
    x[1, 2, 2, 2] = np.inf
    x[2, :, 3, 3] = -np.inf
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("axis", [0, 1, 2])
@pytest.mark.parametrize("log", [True, False])
def test_parallel_loops_match_the_numpy_rules(dtype, axis, log):
    """The CPU backend's parallel path (arrays of >= PARALLEL_MIN elements) against backends/softmax_rules.py
    with numpy, forward and backward, NaN/Inf lines included."""
    from numbaconv.backends import softmax_rules
    from numbaconv.backends.cpu import pointwise
    from numbaconv.backends.cpu import softmax as kernels

    rng = np.random.default_rng(3)
    shape = (6, 40, 25, 12)
    assert np.prod(shape) >= pointwise.PARALLEL_MIN
    x = _huge_logits(shape, dtype, rng)
    with np.errstate(all="ignore"):
        expected = softmax_rules.log_softmax(np, x, axis)
        expected = expected if log else np.exp(expected)
        got = (kernels.log_softmax if log else kernels.softmax)(x, axis)
        grad = rng.standard_normal(shape).astype(dtype)
        expected_back = softmax_rules.softmax_backward(np, grad, expected, axis, log)
        got_back = kernels.softmax_backward(grad, expected, axis, log)
        ones = np.broadcast_to(np.asarray(1.5, dtype), shape)  # x.sum()'s gradient: made dense, then the loops
        expected_ones = softmax_rules.softmax_backward(np, np.ascontiguousarray(ones), expected, axis, log)
        got_ones = kernels.softmax_backward(ones, expected, axis, log)
    rtol = 2e-5 if dtype == np.float32 else 1e-12  # numpy's float32 log-sum rounds where the loops' float64 does not
    for a, b in ((got, expected), (got_back, expected_back), (got_ones, expected_ones)):
        assert a.dtype == dtype and a.shape == shape
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("axis", [0, 1, 3])
def test_logsumexp_parallel_loops_match_the_float64_reference(dtype, axis):
    """The CPU backend's logsumexp and its backward on arrays of >= PARALLEL_MIN elements (NaN, +Inf and all -Inf
    lines included) against backends/softmax_rules.py in float64 (which, like torch, gives +Inf for a line holding
    one), the gradient against grad * exp(x - lse); and through the op, a full sum's broadcast gradient."""
    from numbaconv.backends import softmax_rules
    from numbaconv.backends.cpu import pointwise
    from numbaconv.backends.cpu import softmax as kernels

    rng = np.random.default_rng(4)
    shape = (6, 40, 25, 12)
    assert np.prod(shape) >= pointwise.PARALLEL_MIN
    x = _huge_logits(shape, dtype, rng)
    with np.errstate(all="ignore"):
        expected = softmax_rules.logsumexp(np, x.astype(np.float64), axis)
        got = kernels.logsumexp(x, axis)
        grad = rng.standard_normal(expected.shape).astype(dtype)
        expected_back = grad * np.exp(x.astype(np.float64) - expected)
        got_back = kernels.logsumexp_backward(grad, x, got, axis)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for a, b in ((got, expected), (got_back, expected_back)):
        assert a.dtype == dtype and a.shape == b.shape
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)
    assert np.isnan(got).any() and np.isposinf(got).any() and (axis != 1 or np.isneginf(got).any())
    tensor = nc.Tensor(x, requires_grad=True)
    nc.logsumexp(tensor, axis).sum().backward()
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(tensor.grad.numpy(), np.exp(x.astype(np.float64) - expected), rtol=rtol, atol=rtol)
