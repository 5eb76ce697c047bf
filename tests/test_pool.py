"""max_pool2d, avg_pool2d, adaptive_avg_pool2d: property tests against float64 numpy loop references."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import numbaconv as nc
from numbaconv.nn import functional as F
from op_factory import OpSpec, check_op


def out_size(n, k, s, p, d, ceil_mode):
    span = n + 2 * p - d * (k - 1) - 1
    out = (math.ceil(span / s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def ref_max_pool(x, kernel_size, stride, padding, dilation, ceil_mode):
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    n, c, h, w = x.shape
    oh, ow = out_size(h, kh, sh, ph, dh, ceil_mode), out_size(w, kw, sw, pw, dw, ceil_mode)
    out = np.empty((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            rows = [i * sh - ph + a * dh for a in range(kh) if 0 <= i * sh - ph + a * dh < h]
            cols = [j * sw - pw + b * dw for b in range(kw) if 0 <= j * sw - pw + b * dw < w]
            window = x[:, :, rows][:, :, :, cols]
            # a dilated window can skip every input row or column and see only padding: -inf, as PyTorch
            out[:, :, i, j] = window.max(axis=(2, 3)) if window.size else -np.inf
    return out


def ref_avg_pool(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    n, c, h, w = x.shape
    oh, ow = out_size(h, kh, sh, ph, 1, ceil_mode), out_size(w, kw, sw, pw, 1, ceil_mode)
    out = np.empty((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            y0, x0 = i * sh - ph, j * sw - pw
            y1, x1 = min(y0 + kh, h + ph), min(x0 + kw, w + pw)
            padded_count = (y1 - y0) * (x1 - x0)
            ya, yb, xa, xb = max(y0, 0), min(y1, h), max(x0, 0), min(x1, w)
            total = x[:, :, ya:yb, xa:xb].sum(axis=(2, 3))
            count = divisor_override or (padded_count if count_include_pad else (yb - ya) * (xb - xa))
            out[:, :, i, j] = total / count
    return out


def ref_adaptive(x, output_size):
    n, c, h, w = x.shape
    oh, ow = output_size
    out = np.empty((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            ya, yb = (i * h) // oh, math.ceil((i + 1) * h / oh)
            xa, xb = (j * w) // ow, math.ceil((j + 1) * w / ow)
            out[:, :, i, j] = x[:, :, ya:yb, xa:xb].mean(axis=(2, 3))
    return out


@st.composite
def window(draw, dilated):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilated else (1, 1)
    ceil_mode = draw(st.booleans())
    lo = [d * (k - 1) + 1 - 2 * p for k, p, d in zip(kernel, padding, dilation)]
    h, w = draw(st.integers(max(lo[0], 1), 7)), draw(st.integers(max(lo[1], 1), 7))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    return (n, c, h, w), kernel, stride, padding, dilation, ceil_mode


def _draw_max(data):
    shape, kernel, stride, padding, dilation, ceil_mode = data.draw(window(True), label="window")
    return [shape], dict(kernel_size=kernel, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)


def _draw_avg(data):
    shape, kernel, stride, padding, _, ceil_mode = data.draw(window(False), label="window")
    return [shape], dict(
        kernel_size=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode,
        count_include_pad=data.draw(st.booleans(), label="count_include_pad"),
        divisor_override=data.draw(st.sampled_from([None, 3]), label="divisor_override"),
    )


def _draw_adaptive(data):
    shape = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 3)), data.draw(st.integers(1, 7)), data.draw(st.integers(1, 7)))
    return [shape], dict(output_size=(data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))))


SPECS = [
    OpSpec("max_pool2d", _draw_max, F.max_pool2d, ref_max_pool),
    OpSpec("avg_pool2d", _draw_avg, F.avg_pool2d, ref_avg_pool),
    OpSpec("adaptive_avg_pool2d", _draw_adaptive, F.adaptive_avg_pool2d, ref_adaptive),
]


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
@given(data=st.data())
def test_pool(spec, data):
    check_op(spec, data)


def test_max_pool_2x2_fast_path_and_indices_match_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 9)).astype(np.float32)
    out, indices = F.max_pool2d(nc.tensor(x), 2, return_indices=True)
    ref, ref_indices = torch.nn.functional.max_pool2d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    np.testing.assert_array_equal(indices.numpy(), ref_indices.numpy())
    assert indices.dtype == np.int64


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
        np.add.at(expected[plane], indices.numpy().reshape(expected.shape[0], -1)[plane], grad.reshape(expected.shape[0], -1)[plane])
    np.testing.assert_array_equal(x.grad.numpy(), expected.reshape(shape))


def test_max_pool_propagates_nan():
    x = nc.zeros(1, 1, 4, 4)
    x.data[0, 0, 1, 1] = np.nan
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
    ],
)
def test_bad_arguments_are_named(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call(nc.randn(1, 4, 4, 4))
