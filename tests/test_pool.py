"""max_pool2d, avg_pool2d, adaptive_avg_pool2d: indices, backward scatter, NaN, errors.

Forward and gradients against the float64 references (tests/references.py), strided inputs, no mutation and cuda:
the op factory (tests/op_specs.py, run by tests/test_ops.py)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numbaconv as nc
from numbaconv.nn import functional as F


def test_max_pool_2x2_fast_path_and_indices_match_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 9)).astype(np.float32)
    out, indices = F.max_pool2d(nc.tensor(x), 2, return_indices=True)
    ref, ref_indices = torch.nn.functional.max_pool2d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    np.testing.assert_array_equal(indices.numpy(), ref_indices.numpy())
    assert indices.dtype == np.int64


@pytest.mark.parametrize("h,w", [(2, 2), (4, 5), (7, 7), (8, 16), (13, 13), (16, 33), (30, 30)])
def test_max_pool_2x2_kernels_agree_on_ties_nan_and_inf(h, w):
    """The two 2x2 forward kernels and the two backward ones (backends/cpu/pool.py; which one serves depends on the
    output width) give the same values, indices and gradients: the first maximum of a tie, the last NaN of a
    window, NaN and Inf gradients at their argmax only."""
    from numbaconv.backends.cpu import pool

    rng = np.random.default_rng(h * w)
    x = rng.standard_normal((12, h, w)).astype(np.float32)
    x[1] = 1.0
    x[2, ::2] = 3.0
    x[3, 0, 0], x[4, :2, :2], x[5, -1] = np.nan, np.nan, np.nan
    x[6, 0, 1], x[7, :2, :2] = np.inf, -np.inf
    shape = (12, h // 2, w // 2)
    outputs = [(np.empty(shape, np.float32), np.empty(shape, np.int32)) for _ in range(2)]
    pool._max_fwd_2x2(x, *outputs[0])
    pool._max_fwd_2x2_knockout(x, *outputs[1])
    np.testing.assert_array_equal(outputs[0][0], outputs[1][0])
    np.testing.assert_array_equal(outputs[0][1], outputs[1][1])
    grad = rng.standard_normal(shape).astype(np.float32)
    grad[0, 0, 0], grad[1, -1, -1] = np.nan, -np.inf
    grads = [np.empty_like(x) for _ in range(2)]
    pool._max_bwd_2x2(grad, outputs[0][1], grads[0])
    pool._max_bwd_2x2_masks(grad.view(np.int32), outputs[0][1], grads[1].view(np.int32))
    np.testing.assert_array_equal(grads[0], grads[1])


@pytest.mark.parametrize("shape,kwargs", [
    ((2, 3, 8, 9), dict(kernel_size=2)),
    ((1, 2, 7, 7), dict(kernel_size=2, ceil_mode=True)),
    ((1, 2, 7, 6), dict(kernel_size=(2, 2), stride=2)),
    ((2, 1, 6, 6), dict(kernel_size=2, dilation=2)),
    ((2, 1, 6, 6), dict(kernel_size=3, stride=2, padding=1)),
])
def test_max_pool_backward_puts_each_gradient_at_its_argmax(shape, kwargs):
    """Backward (the 2x2 stride-2 fast path and the general scatter) against np.add.at at the returned indices."""
    rng = np.random.default_rng(1)
    x = nc.tensor(rng.standard_normal(shape), requires_grad=True)
    out, indices = F.max_pool2d(x, return_indices=True, **kwargs)
    grad = rng.standard_normal(out.shape)
    out.backward(nc.tensor(grad))
    expected = np.zeros((shape[0] * shape[1], shape[2] * shape[3]))
    for plane in range(expected.shape[0]):
        planes = expected.shape[0]
        np.add.at(expected[plane], indices.numpy().reshape(planes, -1)[plane], grad.reshape(planes, -1)[plane])
    np.testing.assert_array_equal(x.grad.numpy(), expected.reshape(shape))


def test_max_pool_propagates_nan():
    x = nc.zeros(1, 1, 4, 4)
    x.array[0, 0, 1, 1] = np.nan
    out = F.max_pool2d(x, 2).numpy()
    assert np.isnan(out[0, 0, 0, 0]) and not np.isnan(out[0, 0, 1, 1])


def test_unbatched_input_is_accepted():
    x = nc.randn(3, 6, 6)
    assert F.max_pool2d(x, 2).shape == (3, 3, 3)
    assert F.avg_pool2d(x, 3, stride=1, padding=1).shape == (3, 6, 6)
    assert F.adaptive_avg_pool2d(x, 1).shape == (3, 1, 1)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda x: F.max_pool2d(x, 2, padding=2), r"padding \(2, 2\) must be at most half the kernel size"),
        (lambda x: F.max_pool2d(x, 2, stride=0), "stride must be >= 1"),
        (lambda x: F.max_pool2d(x, 2, dilation=0), "dilation must be >= 1"),
        (lambda x: F.max_pool2d(x, 9), r"too small for kernel \(9, 9\)"),
        (lambda x: F.avg_pool2d(x.reshape(4, 16), 2), r"expected a 4-D .* got shape \(4, 16\)"),
        (lambda x: F.avg_pool2d(x, 2, divisor_override=0), "divisor_override must be positive"),
        (lambda x: F.adaptive_avg_pool2d(x[:, :, :0], 1), r"non-empty spatial map, got input shape \(1, 4, 0, 4\)"),
        (lambda x: F.adaptive_avg_pool2d(x[0, :, :0], 2), r"non-empty spatial map, got input shape \(4, 0, 4\)"),
    ],
)
def test_bad_arguments_are_named(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call(nc.randn(1, 4, 4, 4))


@settings(max_examples=30)
@given(n=st.integers(1, 3), c=st.integers(1, 5), h=st.integers(1, 13), w=st.integers(1, 13),
       dtype=st.sampled_from([np.float32, np.float64]), transposed=st.booleans())
def test_global_average_pool_is_the_plane_mean_and_spreads_its_gradient(n, c, h, w, dtype, transposed):
    """adaptive_avg_pool2d(x, 1), the reduction path: forward and gradient against float64 numpy, strided input."""
    x = np.random.default_rng(h * 31 + w).standard_normal((n, c, w, h) if transposed else (n, c, h, w)).astype(dtype)
    x = x.transpose(0, 1, 3, 2) if transposed else x
    g = np.random.default_rng(1).standard_normal((n, c, 1, 1)).astype(dtype)
    xt = nc.tensor(x, requires_grad=True)
    out = F.adaptive_avg_pool2d(xt, 1)
    out.backward(nc.tensor(g))
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out.detach().numpy(), x.astype(np.float64).mean(axis=(2, 3), keepdims=True), rtol=rtol,
                               atol=rtol)
    np.testing.assert_allclose(xt.grad.numpy(), np.broadcast_to(g / (h * w), x.shape), rtol=rtol)
    assert out.dtype == dtype and xt.grad.dtype == dtype


def test_global_average_pool_propagates_nan_and_inf():
    x = np.zeros((1, 3, 4, 4), np.float32)
    x[0, 0, 1, 2], x[0, 1, 3, 3] = np.nan, np.inf
    out = F.adaptive_avg_pool2d(nc.tensor(x), (1, 1)).numpy().ravel()
    assert np.isnan(out[0]) and out[1] == np.inf and out[2] == 0
