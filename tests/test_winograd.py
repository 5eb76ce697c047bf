"""The Winograd F(4x4, 3x3) pieces of backends/cpu/winograd.py against their matrices and a direct correlation.

conv2d through Winograd as a whole is checked in test_conv.py (reference loops, gradcheck, patch-GEMM path).
"""
import numpy as np

from numbaconv.backends.cpu import winograd

CONSTANTS = (2.0, 4.0, 5.0, 8.0)


def test_matrices_give_a_3x3_correlation_of_a_6x6_tile():
    rng = np.random.default_rng(0)
    d, g = rng.standard_normal((6, 6)), rng.standard_normal((3, 3))
    b_t, a_t, big_g = winograd.B_T, winograd.A_T, winograd.G
    y = a_t @ ((big_g @ g @ big_g.T) * (b_t @ d @ b_t.T)) @ a_t.T
    direct = np.array([[np.sum(d[i:i + 3, j:j + 3] * g) for j in range(4)] for i in range(4)])
    np.testing.assert_allclose(y, direct, atol=1e-12)


def test_hard_coded_transforms_equal_the_matrices():
    rng = np.random.default_rng(1)
    six, four = rng.standard_normal(6), rng.standard_normal(4)
    np.testing.assert_allclose(winograd._bt(*six, CONSTANTS), winograd.B_T @ six, atol=1e-12)
    np.testing.assert_allclose(winograd._b(*six, CONSTANTS), winograd.B_T.T @ six, atol=1e-12)
    np.testing.assert_allclose(winograd._at(*six, CONSTANTS), winograd.A_T @ six, atol=1e-12)
    np.testing.assert_allclose(winograd._a(*four, CONSTANTS), winograd.A_T.T @ four, atol=1e-12)


def test_weight_transform_and_its_adjoint():
    rng = np.random.default_rng(2)
    w = rng.standard_normal((5, 7, 3, 3))
    u = winograd.transform_weight(w)
    expected = np.einsum("ai,ocij,bj->aboc", winograd.G, w, winograd.G).reshape(36, 5, 7)
    np.testing.assert_allclose(u, expected, atol=1e-12)
    u_t = winograd.transform_weight(w, inputs_first=True)
    assert u_t.flags.c_contiguous and u_t.shape == (36, 7, 5)
    np.testing.assert_array_equal(u_t, u.transpose(0, 2, 1))
    du = rng.standard_normal(u.shape)
    dw = winograd.weight_grad(du)
    assert dw.shape == w.shape and dw.flags.c_contiguous
    np.testing.assert_allclose(np.vdot(u, du), np.vdot(w, dw), rtol=1e-12)
