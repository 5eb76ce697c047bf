"""view and reshape: view aliases or refuses (numpy's no-copy reshape as the reference), bad shapes are named."""
import numpy as np
import pytest

import numbaconv as nc

BASE = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)

VIEW_CASES = [
    (lambda a: a, (6, 20)),
    (lambda a: a, (-1,)),
    (lambda a: a, (2, 1, 3, 20, 1)),
    (lambda a: a.transpose(0, 1, 3, 2), (6, 5, 4)),  # merges the untouched leading dims only
    (lambda a: a.transpose(0, 1, 3, 2), (6, 20)),
    (lambda a: a.transpose(3, 2, 1, 0), (-1,)),
    (lambda a: a[:, :, :2], (6, 2, 5)),  # a slice of one dim keeps its neighbours' runs
    (lambda a: a[:, :, :2], (2, 3, 10)),
    (lambda a: a[..., ::2], (6, 4, 3)),
    (lambda a: a[..., ::2], (2, 36)),
    (lambda a: a[:, :1], (2, 20)),
    (lambda a: np.broadcast_to(a[:, :, :1], (2, 3, 7, 5)), (6, 7, 5)),
    (lambda a: np.broadcast_to(a[:, :, :1], (2, 3, 7, 5)), (6, 35)),
    (lambda a: a[:, :, :0], (3, 0, 2)),
    (lambda a: a[0, 0, 0, 0], (1, 1)),
]


def _numpy_can_view(array, shape):
    try:
        np.reshape(array, shape, copy=False)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("case", range(len(VIEW_CASES)))
def test_view_aliases_or_refuses_as_a_no_copy_reshape(case):
    make, shape = VIEW_CASES[case]
    array = make(BASE.copy())
    t = nc.from_numpy(np.asarray(array))
    if not _numpy_can_view(array, shape):
        with pytest.raises(RuntimeError, match=r"view: .*not compatible .* use \.reshape\(\.\.\.\) instead"):
            t.view(shape)
        assert t.reshape(shape).shape == np.reshape(array, shape).shape
        return
    v = t.view(*shape)
    expected = np.reshape(array, shape)
    np.testing.assert_array_equal(v.numpy(), expected)
    assert expected.size == 0 or np.shares_memory(v.array, t.array)


def test_view_writes_through_and_its_gradient_flows():
    x = nc.zeros(2, 6)
    v = x.view(3, 4)
    v[1] = 1.0
    assert x.numpy()[0, 4:].tolist() == [1.0, 1.0] and x.numpy()[1, :2].tolist() == [1.0, 1.0]
    w = nc.tensor(np.arange(6.0), requires_grad=True)
    (w.view(2, 3) * nc.tensor([[1.0], [2.0]])).sum().backward()
    assert w.grad.numpy().tolist() == [1, 1, 1, 2, 2, 2]


@pytest.mark.parametrize("shape, message", [
    ((-2, 3), r"invalid shape dimension -2 in \(-2, 3\)"),
    ((-1, -1), r"only one dimension can be inferred"),
    ((5, 5), r"cannot view shape \(4, 6\) as \(5, 5\)"),
])
@pytest.mark.parametrize("op", ["reshape", "view"])
def test_bad_shapes_are_named(op, shape, message):
    with pytest.raises(ValueError, match=message):
        getattr(nc.zeros(4, 6), op)(*shape)
