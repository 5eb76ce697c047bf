"""backends/cpu/split_ufunc.py: a numpy ufunc split over the threads gives numpy's values bit for bit, its dtype
and its error state; small, strided and broadcast operands are numpy's own call."""
import numpy as np
import pytest

from numbaconv.backends.cpu import split_ufunc

N = split_ufunc.SPLIT_MIN + 13


def _values(dtype, seed=0):
    x = (np.random.default_rng(seed).standard_normal(N) * 3).astype(dtype)
    if x.dtype.kind == "f":
        x[:5] = [np.nan, np.inf, -np.inf, 0.0, -0.0]
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("ufunc, arity", [(np.log, 1), (np.sqrt, 1), (np.tanh, 1), (np.negative, 1), (np.sign, 1),
                                          (np.absolute, 1), (np.divide, 2), (np.power, 2)])
def test_split_calls_match_numpy_bit_for_bit(ufunc, arity, dtype):
    args = [_values(dtype, 1)] if arity == 1 else [_values(dtype, 1), _values(dtype, 2)]
    constant = np.broadcast_to(args[0][7], args[0].shape)  # a full sum's gradient: one value, zero strides
    calls = [args, [constant]] if arity == 1 else [args, [args[0], 2], [args[0], 0.5], [constant, args[1]]]
    with np.errstate(all="ignore"):
        for operands in calls:
            if ufunc is np.power and dtype == np.int64 and type(operands[1]) is not int:
                continue
            expected = ufunc(*operands)
            got = split_ufunc.split(ufunc)(*operands)
            assert got.dtype == expected.dtype and got.shape == expected.shape
            np.testing.assert_array_equal(got, expected)


def test_the_callers_error_state_holds_in_every_part():
    x = np.ones(N, np.float32)
    x[-1] = 0.0  # in the last thread's part
    log = split_ufunc.split(np.log)
    with np.errstate(divide="raise"), pytest.raises(FloatingPointError):
        log(x)
    with np.errstate(divide="ignore"):
        assert log(x)[-1] == -np.inf


def test_small_strided_broadcast_and_keyword_calls_match_numpy():
    x = _values(np.float64)
    for operands in ([x[:100], x[:100]], [x[::2], x[::2]], [x, x[:1]], [np.concatenate([x, x])[::2], x], [0.5, x]):
        with np.errstate(all="ignore"):
            np.testing.assert_array_equal(split_ufunc.split(np.divide)(*operands), np.divide(*operands))
    out = np.empty_like(x)
    with np.errstate(all="ignore"):
        assert split_ufunc.split(np.sqrt)(x, out=out) is out


@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_broadcasting_operands_split_along_the_first_axis(dtype):
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((33, 8, 64, 64)) * 3).astype(dtype)
    assert x.size >= split_ufunc.SPLIT_MIN
    calls = [(x, rng.standard_normal((8, 1, 1)).astype(dtype)), (x, x[:1]), (x, x[0, 0]), (x, 3),
             (x.transpose(0, 1, 3, 2), x), (x, x[:, :1].transpose(0, 1, 3, 2))]
    for ufunc in (np.add, np.multiply, np.maximum):
        for operands in calls:
            got = split_ufunc.split(ufunc)(*operands)
            expected = ufunc(*operands)
            assert got.dtype == expected.dtype and got.flags.c_contiguous
            np.testing.assert_array_equal(got, expected)
    with pytest.raises(ValueError):
        split_ufunc.split(np.add)(x, x[:, :3])


def test_one_value_broadcast_is_computed_once_and_filled():
    shape = (N,)
    for value in (2.5, -0.0, np.inf, np.nan):
        g = np.broadcast_to(np.float32(value), shape)
        for ufunc, operands in ((np.negative, [g]), (np.sqrt, [g]), (np.divide, [g, g]), (np.multiply, [g, 3])):
            with np.errstate(all="ignore"):
                got, expected = split_ufunc.split(ufunc)(*operands), ufunc(*operands)
            assert got.dtype == expected.dtype and got.flags.writeable and got.flags.c_contiguous
            np.testing.assert_array_equal(got, expected)
    with np.errstate(divide="raise"), pytest.raises(FloatingPointError):
        split_ufunc.split(np.log)(np.broadcast_to(np.float32(0), shape))


def test_ascontiguousarray_splits_a_strided_copy_and_leaves_the_rest_to_numpy():
    x = np.random.default_rng(3).standard_normal((64, 8, 64, 40)).astype(np.float32)
    assert x.size >= split_ufunc.SPLIT_MIN
    for view in (x.transpose(0, 2, 3, 1), x.transpose(0, 2, 1, 3), np.broadcast_to(x[:, :, :1, :1], x.shape),
                 x.astype(np.int32)[:, ::-1], x[:, :, ::2]):
        got = split_ufunc.ascontiguousarray(view)
        assert got.flags.c_contiguous and got.dtype == view.dtype and not np.shares_memory(got, view)
        np.testing.assert_array_equal(got, view)
    assert split_ufunc.ascontiguousarray(x) is x
    small = x[:2, :2].transpose(0, 2, 1, 3)
    np.testing.assert_array_equal(split_ufunc.ascontiguousarray(small), small)
    assert split_ufunc.ascontiguousarray(np.float32(2.0)).shape == np.ascontiguousarray(np.float32(2.0)).shape


def test_concatenate_splits_a_large_join_and_leaves_the_rest_to_numpy():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((16, 64, 32, 40)).astype(np.float32)
    y = rng.standard_normal((16, 8, 32, 40)).astype(np.float32)
    assert x.size >= split_ufunc.SPLIT_MIN
    for arrays, axis in (((x, y), 1), ((x, y.astype(np.float64)), -3), ((x, x), 3), ((x[:, ::2], x[:, 1::2]), 1),
                         ((x, x), 0), ((x[:2], y[:2]), 1), ((x,), 1)):
        got, expected = split_ufunc.concatenate(arrays, axis=axis), np.concatenate(arrays, axis=axis)
        assert got.dtype == expected.dtype and got.flags.c_contiguous
        np.testing.assert_array_equal(got, expected)
    with pytest.raises(ValueError):
        split_ufunc.concatenate((x, y[:, :, :3]), axis=1)
    with pytest.raises(np.exceptions.AxisError):
        split_ufunc.concatenate((x, x), axis=4)
