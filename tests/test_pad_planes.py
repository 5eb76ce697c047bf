"""backends/cpu/pad_planes.py: constant padding of a large array's last two dims equals numpy.pad's bit for bit;
other pads are refused (None) and left to numpy."""
import numpy as np
import pytest

from numbaconv.backends.cpu import array_api, pad_planes, pointwise


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("widths", [((1, 1), (1, 1)), ((0, 3), (2, 0)), ((0, 0), (0, 5)), ((4, 0), (0, 0))])
@pytest.mark.parametrize("value", [0.0, -1.5, np.nan])
def test_matches_numpy_pad(dtype, widths, value):
    x = np.random.default_rng(0).standard_normal((6, 7, 41, 43)).astype(dtype)
    assert x.size >= pointwise.PARALLEL_MIN
    full = ((0, 0), (0, 0)) + widths
    got = pad_planes.pad_planes(x, list(full), value)
    expected = np.pad(x, full, constant_values=value)
    assert got.dtype == dtype and got.flags.c_contiguous
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(array_api.pad(x, full, constant_values=value), expected)


def test_refuses_what_it_does_not_take():
    x = np.zeros((8, 8, 40, 40), np.float32)
    assert pad_planes.pad_planes(x, [(1, 0), (0, 0), (1, 1), (1, 1)], 0) is None
    assert pad_planes.pad_planes(x[:, :, ::2], [(0, 0), (0, 0), (1, 1), (1, 1)], 0) is None
    assert pad_planes.pad_planes(x.astype(np.int32), [(0, 0), (0, 0), (1, 1), (1, 1)], 0) is None
    assert pad_planes.pad_planes(x[:1, :1], [(0, 0), (0, 0), (1, 1), (1, 1)], 0) is None
    np.testing.assert_array_equal(array_api.pad(x, [(1, 0), (0, 0), (1, 1), (1, 1)]), np.pad(x, [(1, 0), (0, 0),
                                                                                                  (1, 1), (1, 1)]))
