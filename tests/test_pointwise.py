"""backends/cpu/pointwise.py: the parallel loops give numpy's answers (dtype, NaN, Inf, signed zeros aside from
rounding) on large arrays, and small, strided, mixed or integer operands take numpy's path."""
import numpy as np
import pytest

from numbaconv.backends.cpu import pointwise

N = pointwise.PARALLEL_MIN + 37
SMALL = 1001  # below PARALLEL_MIN: the serial loops of relu, sigmoid and the backwards, numpy for the others


def _values(dtype, seed=0, n=N):
    x = (np.random.default_rng(seed).standard_normal(n) * 30).astype(dtype)
    x[:6] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30]
    return x


NUMPY = {
    "exp": np.exp, "relu": lambda x: np.maximum(x, 0),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x.astype(np.float64))),
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply,
    "relu_backward": lambda g, o: np.where(o <= 0, 0, g), "sigmoid_backward": lambda g, s: g * s * (1 - s),
    "tanh_backward": lambda g, t: g * (1 - t * t),
}
UNARY = {"exp", "relu", "sigmoid"}


@pytest.mark.parametrize("n", [N, SMALL])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(NUMPY))
def test_loops_match_numpy(name, dtype, n):
    args = [_values(dtype, seed, n) for seed in range(1 if name in UNARY else 2)]
    with np.errstate(all="ignore"):
        if name == "sigmoid_backward":
            args[1] = 1 / (1 + np.exp(-args[1]))
        expected = NUMPY[name](*args)
        got = getattr(pointwise, name)(*args)
    assert got.dtype == dtype and got.shape == args[0].shape
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(got, expected.astype(dtype), rtol=rtol, atol=rtol * 1e-30)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))


def test_small_strided_mixed_and_integer_operands_take_numpy():
    big = _values(np.float32)
    assert not pointwise._parallel(big[:100])
    assert not pointwise._parallel(np.concatenate([big, big])[::2])
    assert not pointwise._parallel(big, big.astype(np.float64))
    assert not pointwise._parallel(np.arange(N))
    assert not pointwise._parallel(big, big[:-1])
    assert pointwise._parallel(big, big)
    np.testing.assert_array_equal(pointwise.relu(np.arange(-3, 3)), [0, 0, 0, 0, 1, 2])
    strided = np.concatenate([big, big])[::2]
    np.testing.assert_array_equal(pointwise.multiply(strided, strided), strided * strided)
    out = np.maximum(strided, 0)
    np.testing.assert_array_equal(pointwise.relu_backward(strided, out), np.where(out <= 0, 0, strided))
    small_out = np.maximum(_values(np.float32, 0, SMALL), 0)
    broadcast = np.broadcast_to(np.float32(2), small_out.shape)  # sum's gradient: a read-only zero-stride view
    np.testing.assert_array_equal(pointwise.relu_backward(broadcast, small_out), np.where(small_out <= 0, 0, 2))
    half = big.astype(np.float16)
    assert not pointwise._parallel(half) and pointwise.relu(half).dtype == np.float16


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_where_loops_match_numpy_with_arrays_and_numbers(dtype):
    a, b = _values(dtype, 1), _values(dtype, 2)
    condition = np.random.default_rng(3).random(N) < 0.5
    for x, y in ((a, b), (a, 0), (0.5, b), (a, -2)):
        expected = np.where(condition, x, y)
        got = pointwise.where(condition, x, y)
        assert got.dtype == expected.dtype == dtype
        np.testing.assert_array_equal(got, expected)
    small = condition[:100]
    np.testing.assert_array_equal(pointwise.where(small, a[:100], 1), np.where(small, a[:100], 1))
    np.testing.assert_array_equal(pointwise.where(condition, a, b[::-1]), np.where(condition, a, b[::-1]))
