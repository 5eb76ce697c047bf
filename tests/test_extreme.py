"""backends/cpu/extreme.py: the one-pass gradient of a max/min over one axis equals numpy's grad * hit / count (ties
share it, a NaN extreme's line is NaN) on large arrays; the rest is numpy's formula itself."""
import numpy as np
import pytest

from numbaconv.backends.cpu import extreme, pointwise


def _numpy(grad, a, out, dims):
    hit = a == out
    return grad * hit / np.sum(hit, axis=dims, keepdims=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("axis", [0, 1, 3])
@pytest.mark.parametrize("reduce", [np.max, np.min])
def test_one_axis_matches_numpy_with_ties_and_nan(dtype, axis, reduce):
    rng = np.random.default_rng(axis)
    a = rng.integers(-3, 4, (9, 8, 33, 34)).astype(dtype)  # small integers: many ties
    a[0, 0, 0, 0] = np.nan
    a[1, 1, 1, 1] = np.inf
    assert a.size >= pointwise.PARALLEL_MIN
    out = reduce(a, axis=axis, keepdims=True)
    grad = rng.standard_normal(out.shape).astype(dtype)
    with np.errstate(all="ignore"):
        got, expected = extreme.extreme_backward(grad, a, out, (axis,)), _numpy(grad, a, out, (axis,))
    assert got.dtype == dtype and got.shape == a.shape
    np.testing.assert_allclose(got, expected.astype(dtype), rtol=1e-6)
    constant = np.broadcast_to(dtype(2), out.shape)  # a full sum's gradient
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(extreme.extreme_backward(constant, a, out, (axis,)),
                                   _numpy(constant, a, out, (axis,)).astype(dtype), rtol=1e-6)


def test_several_axes_small_and_strided_inputs_take_numpys_formula():
    a = np.random.default_rng(0).integers(-2, 3, (6, 40, 30, 30)).astype(np.float32)
    for x, dims in ((a, (1, 2)), (a[:1, :2], (1,)), (a.transpose(0, 2, 1, 3), (1,))):
        out = np.max(x, axis=dims, keepdims=True)
        grad = np.ones(out.shape, np.float32)
        np.testing.assert_array_equal(extreme.extreme_backward(grad, x, out, dims), _numpy(grad, x, out, dims))
