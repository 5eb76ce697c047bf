"""backends/cpu/broadcast_binary.py: a + b, a - b and a * b of broadcasting float arrays equal numpy's bit for bit,
for any broadcast pattern, permutation and slice step; what the loop does not take is refused (None)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from numbaconv.backends.cpu import broadcast_binary, pointwise

OPS = {broadcast_binary.ADD: np.add, broadcast_binary.SUBTRACT: np.subtract, broadcast_binary.MULTIPLY: np.multiply}


@st.composite
def operand_pairs(draw):
    ndim = draw(st.integers(1, 5))
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=ndim, max_size=ndim)))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))

    def operand():
        kept = tuple(n if draw(st.booleans()) else 1 for n in shape)[draw(st.integers(0, ndim - 1)):]
        order = draw(st.permutations(range(len(kept))))
        base = (rng.standard_normal(tuple(kept[d] for d in order)) * 10).astype(dtype)
        base.reshape(-1)[:1] = draw(st.sampled_from([0.0, -0.0, np.inf, np.nan, 1e38]))
        return base.transpose(np.argsort(order))

    a = operand()
    return (np.broadcast_to(a, shape) if draw(st.booleans()) else a), operand()


@given(operand_pairs(), st.sampled_from(sorted(OPS)))
def test_matches_numpy_bit_for_bit(pair, code):
    a, b = pair
    with np.errstate(all="ignore"):
        expected = OPS[code](a, b)
        got = broadcast_binary.binary(code, a, b)
    if got is None:
        return
    assert got.dtype == expected.dtype and got.shape == expected.shape and got.flags.c_contiguous
    np.testing.assert_array_equal(got.view(np.uint8), np.ascontiguousarray(expected).view(np.uint8))


def test_large_bias_and_scale_through_pointwise():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((16, 64, 16, 16)).astype(np.float32)
    assert x.size >= pointwise.PARALLEL_MIN
    bias, row = rng.standard_normal((64, 1, 1)).astype(np.float32), rng.standard_normal(16).astype(np.float32)
    channels_last, channel = x.transpose(0, 2, 3, 1), rng.standard_normal(64).astype(np.float32)
    for got, expected in ((pointwise.add(x, bias), x + bias), (pointwise.subtract(x, row), x - row),
                          (pointwise.multiply(x, bias), x * bias),
                          (pointwise.multiply(channels_last, channel), channels_last * channel)):
        np.testing.assert_array_equal(got, expected)


def test_refuses_mixed_dtypes_integers_negative_strides_and_bad_shapes():
    x = np.ones((4, 6), np.float32)
    assert broadcast_binary.binary(broadcast_binary.ADD, x, x.astype(np.float64)) is None
    assert broadcast_binary.binary(broadcast_binary.ADD, x.astype(np.int32), x.astype(np.int32)) is None
    assert broadcast_binary.binary(broadcast_binary.ADD, x, x[::-1]) is None
    assert broadcast_binary.binary(broadcast_binary.ADD, x, x[:, :4]) is None
    with pytest.raises(ValueError):
        pointwise.add(np.ones((300, 300), np.float32), np.ones((300, 2), np.float32))
