"""backends/cpu/vector_exp.py: float32 exp within one ulp of the float64 value over the whole float32 range
(subnormals included), IEEE special values as numpy gives them, and float64 left to libm."""
import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from numba import njit

from numbaconv.backends.cpu import vector_exp


@njit(cache=False)
def _map(a, out):
    for i in range(a.size):
        out[i] = vector_exp.exp(a[i])


def _exp(a):
    out = np.empty_like(a)
    _map(a, out)
    return out


def _ulps(value, exact):
    """|value - exact| in units of float32's spacing at ``exact`` (float64), the subnormal spacing as a floor."""
    spacing = np.maximum(np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64), 2.0 ** -149)
    return np.abs(value.astype(np.float64) - exact) / spacing


def test_float32_within_one_ulp_on_a_dense_grid():
    a = np.linspace(-110, 88.7, 4_000_001, dtype=np.float32)
    assert _ulps(_exp(a), np.exp(a.astype(np.float64))).max() <= 1.0


@given(st.floats(-200, 100, width=32))
def test_float32_within_one_ulp(a):
    value = _exp(np.array([a], np.float32))
    with np.errstate(over="ignore"):
        exact = np.exp(np.float64(a))
    if exact > np.finfo(np.float32).max:
        assert value[0] == np.inf
    else:
        assert _ulps(value, np.array([exact]))[0] <= 1.0


def test_special_values_as_numpy():
    a = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 88.73, 1e30, -1e30, -103.9, -104.0], np.float32)
    with np.errstate(over="ignore"):
        expected = np.exp(a)
    np.testing.assert_array_equal(_exp(a), expected)


def test_float64_is_libm():
    a = np.random.default_rng(0).standard_normal(1000) * 50
    assert all(v == math.exp(x) for v, x in zip(_exp(a), a))
