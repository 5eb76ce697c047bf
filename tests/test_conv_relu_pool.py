"""conv2d_relu_max_pool2d (numbaconv's fused conv, ReLU and 2x2 max pool; backends/cpu/relu_pool.py) against the
three ops it replaces, on each conv path (NCHW, channels-last and pixel-major patch GEMMs, Winograd), chunked and
threaded, with NaN and Inf, and its use by nn.Sequential. Against the float64 reference and on cuda:
tests/op_specs.py."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_conv import conv_case

import numbaconv as nc
import numbaconv.nn.functional as F
from numbaconv import nn
from numbaconv.backends.cpu import conv as cpu_conv
from numbaconv.backends.cpu import conv_winograd


def _composed(x, w, b, **args):
    return F.max_pool2d(F.conv2d(x, w, b, relu=True, **args), 2)


def _run(op, x, w, b, grad, args):
    """(output, grad input, grad weight, grad bias) of ``op`` on fresh leaves."""
    leaves = [nc.tensor(a, requires_grad=True) if a is not None else None for a in (x, w, b)]
    out = op(*leaves, **args)
    out.backward(nc.tensor(grad))
    return [out.detach().numpy()] + [None if t is None else t.grad.numpy() for t in leaves]


def _arrays(case):
    rng = np.random.default_rng(case["seed"])
    shape = (case["n"], case["cin"]) + case["hw"]
    x = rng.standard_normal((*shape[:3], 2 * shape[3]))[..., ::2] if case["strided"] else rng.standard_normal(shape)
    w = rng.standard_normal((case["cout"], case["cin"] // case["groups"]) + case["k"])
    b = rng.standard_normal(case["cout"]) if case["bias"] else None
    dtype = case["dtype"]
    return x.astype(dtype), w.astype(dtype), None if b is None else b.astype(dtype)


def _assert_same(fused, composed, dtype):
    """The same forward values; the same gradients up to the order of the bias's sum."""
    np.testing.assert_array_equal(fused[0], composed[0])
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(fused[1:], composed[1:]):
        if b is not None:
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol * max(1.0, float(np.abs(b).max())))


def _check(case):
    x, w, b = _arrays(case)
    args = dict(stride=case["stride"], padding=case["pad"], dilation=case["dilation"], groups=case["groups"])
    out = _composed(nc.tensor(x), nc.tensor(w), None if b is None else nc.tensor(b), **args)
    grad = np.random.default_rng(1).standard_normal(out.shape).astype(case["dtype"])
    fused = _run(F.conv2d_relu_max_pool2d, x, w, b, grad, args)
    _assert_same(fused, _run(_composed, x, w, b, grad, args), case["dtype"])


def _big_enough(case):
    """Whether the conv output is at least 2x2 (else max_pool2d has nothing to pool)."""
    sizes = [(size + 2 * p - d * (k - 1) - 1) // s + 1
             for size, p, d, k, s in zip(case["hw"], case["pad"], case["dilation"], case["k"], case["stride"])]
    return min(sizes) >= 2


@given(st.one_of(st.tuples(conv_case(), st.just(False)), st.tuples(conv_case(winograd=True), st.booleans())))
@settings()
def test_fused_matches_conv_relu_then_max_pool(drawn):
    """``every_tile``: Winograd from a single tile, so the drawn 3x3 16+ channel cases take it."""
    case, every_tile = drawn
    assume(_big_enough(case))
    with pytest.MonkeyPatch.context() as patch:
        if every_tile:
            patch.setattr(cpu_conv, "WINOGRAD_MIN_TILES", 1)
        _check(case)


@given(st.one_of(conv_case(), conv_case(winograd=True)), st.booleans())
@settings()
def test_fused_matches_on_the_pixel_major_patches(case, tap_rows):
    """The pooled epilogue behind the pixel-major patches (backends/cpu/pixel_patches.py, or im2col's layout
    with ``tap_rows``, which wide maps take), on every drawn ungrouped case."""
    assume(_big_enough(case) and case["groups"] == 1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cpu_conv, "_pixel_major", lambda *args: True)
        patch.setattr(cpu_conv, "WINOGRAD_MIN_TILES", 10**9)
        patch.setattr(cpu_conv, "TAP_ROWS_MIN_WIDTH", 1 if tap_rows else 10**9)
        _check(case)


@pytest.mark.parametrize("cin,kernel", [(3, 3), (9, 3), (16, 3), (9, 2)])
@pytest.mark.parametrize("per_chunk", [1, 2])
def test_fused_matches_across_chunks_and_threads(monkeypatch, cin, kernel, per_chunk):
    """7 images on 2 threads in chunks of ``per_chunk`` images: chunks that start past the thread's first image
    and images past the chunk's first."""
    hw = (11, 10)
    out_pixels = (hw[0] + 3 - kernel) * (hw[1] + 3 - kernel)
    monkeypatch.setattr(cpu_conv, "CHUNK_BYTES", per_chunk * cin * kernel * kernel * out_pixels * 4)
    monkeypatch.setattr(conv_winograd, "CHUNK_BYTES", 1)
    monkeypatch.setattr(conv_winograd, "MIN_CHUNK_TILES", per_chunk * 3 * 3)
    monkeypatch.setattr(cpu_conv, "WINOGRAD_MIN_TILES", 1)
    previous = nc.get_num_threads()
    nc.set_num_threads(2)
    try:
        case = dict(n=7, cin=cin, cout=4, k=(kernel, kernel), stride=(1, 1), dilation=(1, 1), pad=(1, 1), hw=hw,
                    groups=1, bias=True, dtype=np.float32, strided=False, seed=3)
        _check(case)
    finally:
        nc.set_num_threads(previous)


@pytest.mark.parametrize("cin", [3, 9, 16])
def test_ties_go_to_the_first_maximum_as_through_the_three_ops(cin):
    """Integer-valued operands and a zero weight plane: windows with equal maxima, whose gradient goes to the first
    (row-major) of them, as max_pool2d's (and torch's) does."""
    rng = np.random.default_rng(6)
    x = rng.integers(-1, 2, (2, cin, 12, 12)).astype(np.float64)
    w = rng.integers(-1, 2, (4, cin, 3, 3)).astype(np.float64)
    w[1] = 0
    b = np.array([0.5, 2.0, -1.0, 0.0])
    grad = rng.standard_normal((2, 4, 6, 6))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cpu_conv, "WINOGRAD_MIN_TILES", 1)
        fused = _run(F.conv2d_relu_max_pool2d, x, w, b, grad, dict(padding=1))
        composed = _run(_composed, x, w, b, grad, dict(padding=1))
    _assert_same(fused, composed, np.float64)


@pytest.mark.parametrize("cin", [3, 9, 16])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_spread_as_through_the_three_ops(cin, bad):
    """Winograd refuses non-finite operands (the patch GEMM takes over); the pooled NaN/Inf pattern and the
    gradients are those of conv, ReLU and max pool."""
    case = dict(n=2, cin=cin, cout=3, k=(3, 3), stride=(1, 1), dilation=(1, 1), pad=(1, 1), hw=(12, 12), groups=1,
                bias=True, dtype=np.float64, strided=False, seed=4)
    x, w, b = _arrays(case)
    x[0, 1, 3, 4] = bad
    x[1, 0, 7, 7:9] = bad
    args = dict(padding=1)
    grad = np.random.default_rng(5).standard_normal((2, 3, 6, 6))
    pooled = F.conv2d_relu_max_pool2d(nc.tensor(x), nc.tensor(w), nc.tensor(b), **args).numpy()
    grad[pooled <= 0] = bad  # where the ReLU stopped the gradient: the conv's gradients must not see it
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cpu_conv, "WINOGRAD_MIN_TILES", 1)
        fused = _run(F.conv2d_relu_max_pool2d, x, w, b, grad, args)
        composed = _run(_composed, x, w, b, grad, args)
    assert not np.isfinite(fused[0]).all()
    _assert_same(fused, composed, np.float64)


def test_sequential_fuses_conv_relu_max_pool_with_the_same_result():
    nc.manual_seed(3)
    conv, relu, pool = nn.Conv2d(3, 4, 3), nn.ReLU(), nn.MaxPool2d(2)
    x = nc.randn(2, 3, 9, 8, requires_grad=True)
    pooled = nn.Sequential(conv, relu, pool)(x)
    assert pooled.grad_fn.name() == "Conv2dReluMaxPool2dBackward"
    separate = pool(relu(conv(x)))
    np.testing.assert_array_equal(pooled.detach().numpy(), separate.detach().numpy())
    g = nc.randn(*pooled.shape)
    grads = []
    for out in (pooled, separate):
        out.backward(g)
        grads.append([t.grad.numpy().copy() for t in (x, conv.weight, conv.bias)])
        x.grad = conv.weight.grad = conv.bias.grad = None
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("pool", [nn.MaxPool2d(3), nn.MaxPool2d(2, 1), nn.MaxPool2d(2, padding=1),
                                  nn.MaxPool2d(2, ceil_mode=True), nn.MaxPool2d(2, dilation=2), nn.AvgPool2d(2)])
def test_sequential_fuses_only_the_plain_2x2_max_pool(pool):
    out = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), pool)(nc.randn(1, 3, 9, 9, requires_grad=True))
    assert out.grad_fn.name() != "Conv2dReluMaxPool2dBackward"


def test_small_and_empty_cases_take_the_three_ops():
    w = nc.randn(4, 3, 3, 3)
    empty = F.conv2d_relu_max_pool2d(nc.randn(0, 3, 8, 8), w)
    assert empty.shape == (0, 4, 3, 3)
    unbatched = F.conv2d_relu_max_pool2d(nc.randn(3, 8, 8), w)
    assert unbatched.shape == (4, 3, 3)
    with pytest.raises(ValueError, match="^conv2d_relu_max_pool2d: the conv's output is 1x1 .* smaller than the 2x2"):
        F.conv2d_relu_max_pool2d(nc.randn(1, 3, 3, 3), w)


def test_bad_arguments_name_the_op_and_conv2d_module_needs_relu():
    with pytest.raises(ValueError, match="^conv2d_relu_max_pool2d: input has 2 channels"):
        F.conv2d_relu_max_pool2d(nc.randn(1, 2, 8, 8), nc.randn(4, 3, 3, 3))
    with pytest.raises(ValueError, match="max_pool=True needs relu=True"):
        nn.Conv2d(3, 4, 3)(nc.randn(1, 3, 8, 8), max_pool=True)
