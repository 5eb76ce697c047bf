"""backends/cpu/summation.py: a large float32 full sum split over threads gives numpy's answer, to within one
float32 ulp of the exact sum, with numpy's result type; everything else is numpy's sum itself."""
import math

import numpy as np
import pytest

from numbaconv.backends.cpu import pointwise, summation

N = pointwise.PARALLEL_MIN * 3 + 5


def _values(seed=0, shape=(N,)):
    return (np.random.default_rng(seed).standard_normal(shape) * 30).astype(np.float32)


@pytest.mark.parametrize("axis", [None, (0, 1, 2), (2, -3, 1), -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_full_sum_is_within_an_ulp_of_the_exact_sum(axis, keepdims):
    x = _values(1, (N, 2, 1)) if axis != -1 else _values(1, (2 * N,))
    expected = np.sum(x, axis=axis, keepdims=keepdims)
    got = summation.sum(x, axis=axis, keepdims=keepdims)
    assert type(got) is type(expected) and np.shape(got) == np.shape(expected)
    assert np.asarray(got).dtype == np.float32
    exact = np.float32(math.fsum(x.astype(np.float64).ravel()))
    np.testing.assert_array_max_ulp(np.asarray(got).ravel(), np.full(1, exact), maxulp=1)


@pytest.mark.parametrize("special, expected", [([np.nan], np.nan), ([np.inf], np.inf), ([np.inf, -np.inf], np.nan),
                                               ([3e38, 3e38], np.inf)])
def test_nan_inf_and_overflow_as_numpy(special, expected):
    x = np.zeros(N, np.float32)
    x[7: 7 + len(special)] = special
    with np.errstate(all="ignore"):
        got = summation.sum(x)
        np.testing.assert_array_equal(got, np.float32(expected))
        np.testing.assert_array_equal(got, np.sum(x))


def test_partial_small_float64_strided_and_dtype_sums_are_numpys():
    x = _values(2, (N, 2))
    for args, kwargs in (((x,), {"axis": 0}), ((x[:100],), {}), ((x.astype(np.float64),), {}), ((x[::2],), {}),
                         ((x,), {"dtype": np.float64}), ((x > 0,), {})):
        got, expected = summation.sum(*args, **kwargs), np.sum(*args, **kwargs)
        assert np.asarray(got).dtype == np.asarray(expected).dtype
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("axis, keepdims", [(None, False), ((0, 2, 3), False), ((0, 2, 3), True), (-1, False),
                                            ((1, 0), True)])
@pytest.mark.parametrize("value", [0.1, -0.0, np.inf, np.nan, 3e38])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_value_broadcast_sums_to_the_value_times_the_count_rounded_once(axis, keepdims, value, dtype):
    shape = (9, 4, 61, 67)
    assert math.prod(shape) >= pointwise.PARALLEL_MIN
    x = np.broadcast_to(dtype(value), shape)
    with np.errstate(all="ignore"):
        got, expected = summation.sum(x, axis=axis, keepdims=keepdims), np.sum(x, axis=axis, keepdims=keepdims)
    assert type(got) is type(expected) and np.shape(got) == np.shape(expected)
    assert np.asarray(got).dtype == dtype
    axes = range(4) if axis is None else [axis] if isinstance(axis, int) else axis
    count = math.prod(shape[d] for d in axes)
    with np.errstate(all="ignore"):
        exact = dtype(np.float64(dtype(value)) * count)
    np.testing.assert_array_equal(got, np.full(np.shape(got), exact))
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(got, expected, rtol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_squared_difference_sum_keeps_the_difference_and_sums_its_squares(dtype):
    rng = np.random.default_rng(4)
    a, b = (rng.standard_normal((N, 2)) * 30).astype(dtype), (rng.standard_normal((N, 2)) * 30).astype(dtype)
    for x, y in ((a, b), (a[:50], b[:50]), (a[::2], b[::2]), (a, b[:1])):
        difference, total = summation.squared_difference_sum(x, y)
        np.testing.assert_array_equal(difference, x - y)
        assert type(total) is dtype
        exact = math.fsum((np.float64(d) ** 2 for d in difference.ravel()))
        np.testing.assert_allclose(total, exact, rtol=2e-6 if dtype == np.float32 else 1e-12)
    a[3, 1] = np.nan
    assert np.isnan(summation.squared_difference_sum(a, b)[1])
    a[3, 1], b[3, 1] = np.finfo(dtype).max / 2, -np.finfo(dtype).max / 2
    with np.errstate(all="ignore"):
        assert summation.squared_difference_sum(a, b)[1] == np.inf
