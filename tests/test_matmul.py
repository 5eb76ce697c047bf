"""matmul with operands stored transposed (``.T`` views): the gradients come out in the operands' layouts.

Values and gradients of every layout against float64 numpy; the op factory (tests/op_specs.py) covers shapes,
strided views and finite differences."""
import numpy as np
import pytest

import numbaconv as nc


def _layouts(shape, transposed, rng):
    """A float64 array of ``shape``, stored transposed in its last two axes when ``transposed``."""
    if not transposed:
        return rng.standard_normal(shape)
    return np.swapaxes(rng.standard_normal(shape[:-2] + shape[::-1][:2]), -1, -2)


def _sum_to(grad, shape):
    """``grad`` summed over the axes broadcasting added or stretched."""
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    return grad.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)


@pytest.mark.parametrize("a_shape,b_shape", [((5, 7), (7, 3)), ((2, 4, 6), (6, 5)), ((3, 1, 4, 5), (2, 5, 3))])
@pytest.mark.parametrize("a_transposed", [False, True])
@pytest.mark.parametrize("b_transposed", [False, True])
def test_gradients_of_transposed_operands(a_shape, b_shape, a_transposed, b_transposed):
    rng = np.random.default_rng(sum(a_shape) + 10 * sum(b_shape))
    a, b = _layouts(a_shape, a_transposed, rng), _layouts(b_shape, b_transposed, rng)
    at, bt = nc.Tensor(a, requires_grad=True), nc.Tensor(b, requires_grad=True)
    out = at @ bt
    g = rng.standard_normal(out.shape)
    out.backward(nc.tensor(g))
    np.testing.assert_allclose(out.detach().numpy(), a @ b, rtol=1e-12)
    np.testing.assert_allclose(at.grad.numpy(), _sum_to(g @ np.swapaxes(b, -1, -2), a.shape), rtol=1e-12)
    np.testing.assert_allclose(bt.grad.numpy(), _sum_to(np.swapaxes(a, -1, -2) @ g, b.shape), rtol=1e-12)


def test_flat_activations_times_their_transpose():
    """(N, C*H*W) @ (C*H*W, N) through reshape and .T, the long-inner-dimension case, against float64."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((4, 3, 5, 5)), rng.standard_normal((4, 3, 5, 5))
    xt, yt = nc.tensor(x, requires_grad=True), nc.tensor(y, requires_grad=True)
    (xt.reshape(4, -1) @ yt.reshape(4, -1).T).sum().backward()
    ones = np.ones((4, 4))
    np.testing.assert_allclose(xt.grad.numpy(), (ones @ y.reshape(4, -1)).reshape(x.shape), rtol=1e-12)
    np.testing.assert_allclose(yt.grad.numpy(), (ones.T @ x.reshape(4, -1)).reshape(y.shape), rtol=1e-12)
    assert yt.grad.array.flags.c_contiguous


@pytest.mark.parametrize("rows,inner,cols", [(1, 9, 4), (3, 16, 12), (8, 33, 40), (128, 8, 512), (129, 8, 520),
                                             (8, 16, 31)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cpu_matmul_by_a_transposed_matrix_gives_numpys_values(rows, inner, cols, dtype):
    """backends/cpu/linalg.py runs few rows by a wide ``w.T`` as ``(w @ x.T).T`` (rows <= FEW_ROWS, cols >= WIDE *
    rows; the last two shapes here take numpy's product): C-contiguous, and the direct product's values."""
    from numbaconv.backends.cpu import linalg

    rng = np.random.default_rng(rows * cols)
    x, w = rng.standard_normal((rows, inner)).astype(dtype), rng.standard_normal((cols, inner)).astype(dtype)
    assert linalg._reversed(x, w.T) == (rows <= linalg.FEW_ROWS and cols >= linalg.WIDE * rows)
    assert not linalg._reversed(x, np.ascontiguousarray(w.T))
    out = linalg.matmul(x, w.T)
    assert out.shape == (rows, cols) and out.dtype == dtype and out.flags.c_contiguous
    np.testing.assert_allclose(out, x.astype(np.float64) @ w.T.astype(np.float64),
                               rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5 if dtype == np.float32 else 1e-12)
