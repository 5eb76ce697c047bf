"""backends/cpu/strided_copy.py: the parallel copy of a strided array equals numpy's C-contiguous copy bit for bit,
for any permutation, slice step, broadcast dim and item width; layouts it does not take are refused (None)."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from numbaconv.backends.cpu import strided_copy

DTYPES = [np.float32, np.float64, np.int8, np.float16, np.bool_, np.complex64]


@st.composite
def strided_views(draw):
    ndim = draw(st.integers(1, 5))
    shape = tuple(draw(st.lists(st.integers(1, 7), min_size=ndim, max_size=ndim)))
    dtype = draw(st.sampled_from(DTYPES))
    base = (np.random.default_rng(draw(st.integers(0, 2**16))).standard_normal(shape) * 4).astype(dtype)
    steps = tuple(draw(st.integers(1, 3)) for _ in shape)
    view = base[tuple(slice(None, None, step) for step in steps)]
    view = view.transpose(draw(st.permutations(range(ndim))))
    if draw(st.booleans()):
        axis = draw(st.integers(0, ndim - 1))
        view = np.broadcast_to(np.take(view, [0], axis=axis), view.shape[:axis] + (5,) + view.shape[axis + 1:])
    return view


@given(strided_views())
def test_copy_matches_numpy_bit_for_bit(view):
    got = strided_copy.contiguous_copy(view)
    if got is None:
        assert strided_copy.merged_layout(view.shape, strided_copy.element_strides(view, view.shape)) is None
        return
    assert got.flags.c_contiguous and got.dtype == view.dtype and got.shape == view.shape
    assert not np.shares_memory(got, view)
    np.testing.assert_array_equal(got.view(np.uint8), np.ascontiguousarray(view).view(np.uint8))


def test_large_transposes_and_nan_bits():
    x = np.random.default_rng(1).standard_normal((16, 64, 32, 40)).astype(np.float32)
    x[0, 0, 0, :3] = [np.nan, -0.0, np.inf]
    for view in (x.transpose(0, 2, 1, 3), x.transpose(0, 2, 3, 1), x.transpose(3, 2, 1, 0), x[:, ::2, 1:]):
        np.testing.assert_array_equal(strided_copy.contiguous_copy(view).view(np.uint32),
                                      np.ascontiguousarray(view).view(np.uint32))


def test_refuses_negative_strides_and_odd_item_widths():
    x = np.arange(24.0).reshape(4, 6)
    assert strided_copy.contiguous_copy(x[::-1]) is None
    assert strided_copy.contiguous_copy(np.zeros((4, 6), np.dtype("V3"))[:, ::2]) is None
