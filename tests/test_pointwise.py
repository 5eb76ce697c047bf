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
    "tanh_backward": lambda g, t: g * (1 - t * t), "sqrt_backward": lambda g, s: g * 0.5 / s,
    "abs_backward": lambda g, x: g * np.sign(x), "square_backward": lambda g, x: g * 2 * x,
}
EXACT = ("sqrt_backward", "abs_backward", "square_backward")  # one numpy op per numpy op: the same bits
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


@pytest.mark.parametrize("value", [2.5, -0.0, np.nan, np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_value_broadcast_is_read_in_place(value, dtype):
    """A full sum's gradient (a zero-stride view) times or through a large array: numpy's answer, no copy."""
    other = _values(dtype, 1).reshape(-1, 1, 1)
    constant = np.broadcast_to(np.asarray(value, dtype), other.shape)
    assert pointwise._constant_value(constant, other) is not None
    with np.errstate(all="ignore"):
        for name in ("relu_backward", "sigmoid_backward", "tanh_backward", "multiply") + EXACT:
            expected = NUMPY[name](constant, other)
            got = getattr(pointwise, name)(constant, other)
            assert got.dtype == dtype and got.shape == other.shape, name
            np.testing.assert_allclose(got, expected.astype(dtype), rtol=1e-6, err_msg=name)
            np.testing.assert_array_equal(np.isnan(got), np.isnan(expected), err_msg=name)
        np.testing.assert_array_equal(pointwise.multiply(other, constant), other * constant)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_multiply_by_a_python_number_matches_numpy(dtype):
    x = _values(dtype)
    with np.errstate(all="ignore"):
        for scalar in (0.5, 1e-3, 3, -7, 1e300, float("nan")):
            for got, expected in ((pointwise.multiply(x, scalar), x * scalar),
                                  (pointwise.multiply(scalar, x), scalar * x)):
                assert got.dtype == expected.dtype == dtype
                np.testing.assert_array_equal(got, expected)
    assert pointwise.multiply(x, True).dtype == (x * True).dtype
    constant = np.broadcast_to(np.asarray(1.5, dtype), x.shape)
    for got in (pointwise.multiply(constant, 0.1), pointwise.multiply(-3, constant)):
        expected = constant * 0.1 if got[0] > 0 else -3 * constant
        assert got.dtype == dtype and got.flags.c_contiguous and got.flags.writeable
        np.testing.assert_array_equal(got, expected)


def test_copy_is_a_c_contiguous_copy_of_its_own():
    big = _values(np.float32)
    for array in (big, big.reshape(-1, 1, 1), np.broadcast_to(np.float32(-1.5), (N, 2)), big[::2], big[:50],
                  np.arange(N), np.asfortranarray(big.reshape(-1, 1)[: N - 37].reshape(256, -1))):
        got = pointwise.copy(array)
        assert got.flags.c_contiguous and got.flags.writeable and got.dtype == array.dtype
        assert not np.shares_memory(got, array)
        np.testing.assert_array_equal(got, array)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_where_reads_one_value_broadcast_in_place(dtype):
    condition = np.random.default_rng(4).random(N) < 0.5
    constant = np.broadcast_to(np.asarray(-2.5, dtype), condition.shape)
    for x, y in ((constant, 0), (0, constant), (constant, 1.25)):
        expected = np.where(condition, x, y)
        got = pointwise.where(condition, x, y)
        assert got.dtype == expected.dtype == dtype and got.flags.c_contiguous
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", EXACT)
def test_fused_backwards_and_the_square_are_numpys_bits(name, dtype):
    g, x = _values(dtype, 1), _values(dtype, 2)
    with np.errstate(all="ignore"):
        for grad, other in ((g, x), (g, x[::-1]), (g[:100], x[:100]), (g[::2], x[::2])):
            np.testing.assert_array_equal(getattr(pointwise, name)(grad, other), NUMPY[name](grad, other))
        np.testing.assert_array_equal(pointwise.power(x, 2), np.power(x, 2))
        np.testing.assert_array_equal(pointwise.power(x, 2.0), np.power(x, 2.0))
        np.testing.assert_array_equal(pointwise.power(x, 3), np.power(x, 3))
