"""conv2d: fused ReLU and gradients against the float64 reference and its adjoint (tests/references.py), gradcheck,
'same' padding, Winograd and chunking paths, bad-input errors. Forward, strided inputs, no mutation and cuda: the
op factory (tests/op_specs.py)."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from references import ref_conv2d, ref_conv2d_backward

import numbaconv as nc
import numbaconv.nn.functional as F


@st.composite
def conv_case(draw, winograd=False):
    """A conv2d case; ``winograd=True`` draws the 3x3 stride-1 convs with 16+ input channels that
    backends/cpu/conv_winograd.py serves (partial edge tiles included)."""
    groups = 1 if winograd else draw(st.sampled_from([1, 1, 2, 3]))
    # 8+ channels without groups take the channels-last kernels (backends/cpu/patches.py), fewer the NCHW ones
    if winograd:
        cin = draw(st.sampled_from([16, 17, 24]))
    else:
        cin = draw(st.sampled_from([1, 2, 3, 8, 9])) if groups == 1 else groups * draw(st.integers(1, 3))
    cout = groups * draw(st.integers(1, 3))
    kh, kw = (3, 3) if winograd else (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (1, 1) if winograd else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (1, 1) if winograd else (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, dilation[0] * (kh - 1) + 1 - 2 * ph), 13 if winograd else 9))
    w = draw(st.integers(max(1, dilation[1] * (kw - 1) + 1 - 2 * pw), 13 if winograd else 9))
    n = draw(st.integers(1, 3))
    return dict(n=n, cin=cin, cout=cout, k=(kh, kw), stride=stride, dilation=dilation, pad=(ph, pw), hw=(h, w),
                groups=groups, bias=draw(st.booleans()), dtype=draw(st.sampled_from([np.float32, np.float64])),
                strided=draw(st.booleans()), seed=draw(st.integers(0, 2**16)), winograd=winograd)


any_conv_case = st.one_of(conv_case(), conv_case(winograd=True))


def _assert_close(actual, expected, tol, scaled=True):
    """Within ``tol`` relative and absolute; ``scaled``: absolute ``tol`` of the largest magnitude instead
    (Winograd's float32 rounding, ~1e-5 of the output's magnitude, grows with the summed terms, not with each
    result)."""
    scale = max(1.0, float(np.abs(expected).max())) if scaled else 1.0
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol * scale)


def _arrays(case):
    rng = np.random.default_rng(case["seed"])
    shape = (case["n"], case["cin"]) + case["hw"]
    x = rng.standard_normal((shape[0], shape[1], shape[2], 2 * shape[3]) if case["strided"] else shape)
    x = x[..., ::2] if case["strided"] else x
    w = rng.standard_normal((case["cout"], case["cin"] // case["groups"]) + case["k"])
    b = rng.standard_normal(case["cout"]) if case["bias"] else None
    return x.astype(case["dtype"]), w.astype(case["dtype"]), None if b is None else b.astype(case["dtype"])


@given(any_conv_case)
@settings()
def test_conv2d_fused_relu_and_gradients_match_reference(case):
    """Fused ReLU forward, then grad input/weight/bias against the adjoint of the reference."""
    _check_against_reference(case)


def _check_against_reference(case):
    x, w, b = _arrays(case)
    ph, pw = case["pad"]
    args = dict(stride=case["stride"], padding=case["pad"], dilation=case["dilation"], groups=case["groups"])
    tx, tw = nc.tensor(x, requires_grad=True), nc.tensor(w, requires_grad=True)
    tb = None if b is None else nc.tensor(b, requires_grad=True)
    out = F.conv2d(tx, tw, tb, relu=True, **args)
    expected = ref_conv2d(x, w, b, case["stride"], (ph, ph, pw, pw), case["dilation"], case["groups"])
    tol = 1e-4 if case["dtype"] == np.float32 else 1e-10
    _assert_close(out.detach().numpy(), np.maximum(expected, 0), tol, case["winograd"])
    grad = np.random.default_rng(1).standard_normal(out.shape) * (expected > 0)
    grad = grad.astype(case["dtype"]).astype(np.float64)
    out.backward(nc.tensor(grad.astype(case["dtype"])))
    gx, gw = ref_conv2d_backward(x, w, grad, case["stride"], (ph, ph, pw, pw), case["dilation"], case["groups"])
    _assert_close(tx.grad.numpy(), gx, 10 * tol, case["winograd"])
    _assert_close(tw.grad.numpy(), gw, 10 * tol, case["winograd"])
    if tb is not None:
        _assert_close(tb.grad.numpy(), grad.sum(axis=(0, 2, 3)), 10 * tol, case["winograd"])


@given(any_conv_case, st.sampled_from([1, 2]), st.booleans())
@settings()
def test_pixel_major_patches_match_reference(case, threads, tap_rows):
    """The pixel-major patches (backends/cpu/pixel_patches.py), which the dispatcher keeps for convs with more
    output channels than output pixels per part of the split, on every drawn ungrouped case (kernels 1-4,
    strides, dilations, and the written-out 3x3 of the Winograd-shaped cases, with Winograd off; padding or none;
    the backward in chunks of one image or not), in either patch layout (``tap_rows``: im2col's (c*kh*kw, pixels),
    which wide maps take): forward with fused ReLU, and gradients."""
    from numbaconv.backends.cpu import conv as cpu_conv

    assume(case["groups"] == 1)
    previous = nc.get_num_threads()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cpu_conv, "_pixel_major", lambda *args: True)
        patch.setattr(cpu_conv, "WINOGRAD_MIN_TILES", 10**9)
        patch.setattr(cpu_conv, "TAP_ROWS_MIN_WIDTH", 1 if tap_rows else 10**9)
        patch.setattr(cpu_conv, "CHUNK_BYTES", 1 if case["seed"] % 2 else cpu_conv.CHUNK_BYTES)
        nc.set_num_threads(min(threads, previous))
        try:
            _check_against_reference(dict(case, winograd=False))
        finally:
            nc.set_num_threads(previous)


def test_pixel_major_patches_serve_convs_with_more_channels_than_pixels(monkeypatch):
    """Per thread's share of the batch: 16 pixels against 128 channels take the pixel-major patches, 256 against
    64 the channels-last ones."""
    from numbaconv.backends.cpu import conv as cpu_conv
    from numbaconv.backends.cpu import pixel_patches

    calls = []
    original = pixel_patches.im2col_pixels
    monkeypatch.setattr(pixel_patches, "im2col_pixels", lambda *args: calls.append(args[-1].shape) or original(*args))
    monkeypatch.setattr(cpu_conv, "WINOGRAD_MIN_TILES", 10**9)
    rng = np.random.default_rng(0)
    for x_shape, cout, expected in [((1, 64, 4, 4), 128, [(16, 576)]), ((1, 64, 16, 16), 64, [])]:
        calls.clear()
        x, w = rng.standard_normal(x_shape), rng.standard_normal((cout, x_shape[1], 3, 3))
        out = F.conv2d(nc.tensor(x), nc.tensor(w), padding=1)
        assert calls == expected
        np.testing.assert_allclose(out.numpy(), ref_conv2d(x, w, None, (1, 1), (1,) * 4), rtol=1e-10, atol=1e-10)
    assert cpu_conv._pixel_major(np.zeros((2, 64, 4, 4)), (16, 64, 3, 3), 1, 4, 4) == (nc.get_num_threads() > 1)
    assert not cpu_conv._pixel_major(np.zeros((1, 64, 4, 4)), (128, 32, 3, 3), 2, 4, 4)


@pytest.mark.parametrize("tap_rows", [False, True])
@pytest.mark.parametrize("kwargs", [dict(padding=1), dict(stride=(1, 2), dilation=(2, 1)), dict(padding=(0, 2))])
def test_pixel_major_patches_of_a_batch_split_between_threads(tap_rows, kwargs, monkeypatch):
    """Three images, each thread writing its images' patches into the batch's one patch matrix (conftest.py lets
    such small convs split), in both layouts (tap_rows: im2col's, which maps of TAP_ROWS_MIN_WIDTH columns and
    more take), against the reference."""
    from numbaconv.backends.cpu import conv as cpu_conv
    from numbaconv.backends.cpu import threads

    if nc.get_num_threads() < 2 or threads.split_count(3, 0) < 2:
        pytest.skip("needs the batch split over two threads")

    monkeypatch.setattr(cpu_conv, "_pixel_major", lambda *args: True)
    monkeypatch.setattr(cpu_conv, "TAP_ROWS_MIN_WIDTH", 1 if tap_rows else 10**9)
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((3, 5, 14, 13)), rng.standard_normal((6, 5, 3, 3)), rng.standard_normal(6)
    out = F.conv2d(nc.tensor(x), nc.tensor(w), nc.tensor(b), **kwargs)
    stride, dilation = (kwargs.get(k, (1, 1)) for k in ("stride", "dilation"))
    pad = kwargs.get("padding", 0)
    ph, pw = (pad, pad) if isinstance(pad, int) else pad
    expected = ref_conv2d(x, w, b, stride, (ph, ph, pw, pw), dilation)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("kwargs", [
    dict(stride=2, padding=1, groups=2),
    dict(padding="same", dilation=(2, 1)),
    dict(padding="valid", stride=(1, 2), relu=True),
    dict(padding=(2, 1), stride=(2, 1), dilation=(1, 2), channels=8),
    dict(padding=(1, 0), relu=True, channels=16, kernel=(3, 3)),
])
def test_conv2d_gradcheck(kwargs):
    rng = np.random.default_rng(0)
    c = kwargs.pop("channels", 4)
    kernel = kwargs.pop("kernel", (2, 3))
    x = nc.tensor(rng.standard_normal((2, c, 5, 6)), requires_grad=True)
    w = nc.tensor(rng.standard_normal((4, c // kwargs.get("groups", 1), *kernel)), requires_grad=True)
    b = nc.tensor(rng.standard_normal(4), requires_grad=True)
    assert nc.gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kwargs), [x, w, b])


@pytest.mark.parametrize("k,dilation", [(2, 1), (3, 1), (4, 1), (3, 2), (2, 3)])
def test_padding_same_keeps_size_and_matches_asymmetric_reference(k, dilation):
    rng = np.random.default_rng(k)
    x, w = rng.standard_normal((1, 2, 5, 6)), rng.standard_normal((3, 2, k, k))
    out = F.conv2d(nc.tensor(x), nc.tensor(w), padding="same", dilation=dilation)
    total = dilation * (k - 1)
    pad = (total // 2, total - total // 2) * 2
    assert out.shape == (1, 3, 5, 6)
    np.testing.assert_allclose(out.numpy(), ref_conv2d(x, w, None, (1, 1), pad, (dilation,) * 2, 1), atol=1e-10)


def test_kernel_equal_to_input_and_one_by_one_and_unbatched():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((6, 3, 4, 5))
    out = F.conv2d(nc.tensor(x), nc.tensor(w))
    assert out.shape == (2, 6, 1, 1)
    np.testing.assert_allclose(out.numpy()[:, :, 0, 0], x.reshape(2, -1) @ w.reshape(6, -1).T, atol=1e-10)
    w1 = rng.standard_normal((4, 3, 1, 1))
    np.testing.assert_allclose(F.conv2d(nc.tensor(x), nc.tensor(w1)).numpy(),
                               np.einsum("nchw,oc->nohw", x, w1[:, :, 0, 0]), atol=1e-10)
    single = F.conv2d(nc.tensor(x[0]), nc.tensor(w1))
    assert single.shape == (4, 4, 5)
    np.testing.assert_allclose(single.numpy(), F.conv2d(nc.tensor(x[:1]), nc.tensor(w1)).numpy()[0])


@pytest.mark.parametrize("x_shape,w_shape", [
    ((0, 16, 6, 6), (4, 16, 3, 3)),  # an empty batch on the Winograd path
    ((0, 3, 5, 5), (4, 3, 2, 2)),
    ((2, 0, 5, 5), (4, 0, 3, 3)),  # no input channels: the output is the bias
    ((2, 3, 5, 5), (0, 3, 3, 3)),  # no output channels
])
def test_empty_sums_forward_and_backward(x_shape, w_shape):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b = np.linspace(-1, 1, w_shape[0])
    tx, tw, tb = (nc.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.conv2d(tx, tw, tb, padding=1, relu=True)
    expected = np.maximum(ref_conv2d(x, w, b, padding=1), 0)
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out.detach().numpy(), expected)
    grad = rng.standard_normal(out.shape)
    out.backward(nc.tensor(grad))
    np.testing.assert_array_equal(tx.grad.numpy(), np.zeros(x_shape))
    np.testing.assert_array_equal(tw.grad.numpy(), np.zeros(w_shape))
    np.testing.assert_allclose(tb.grad.numpy(), (grad * (expected > 0)).sum(axis=(0, 2, 3)), atol=1e-12)


@pytest.mark.parametrize("x_shape,w_shape,kwargs,match", [
    ((1, 3, 5, 5), (4, 2, 3, 3), {}, r"input has 3 channels .* weight expects 2"),
    ((1, 4, 5, 5), (4, 2, 3, 3), dict(groups=3), r"groups=3 must divide in_channels=4"),
    ((1, 3, 2, 2), (4, 3, 3, 3), {}, r"kernel size 3x3 .* larger than the padded input 2x2"),
    ((1, 3, 5, 5), (4, 3, 3, 3), dict(stride=0), r"stride must be >= 1"),
    ((1, 3, 5, 5), (4, 3, 3, 3), dict(dilation=(1, -1)), r"dilation must be >= 1"),
    ((1, 3, 5, 5), (4, 3, 3, 3), dict(padding="same", stride=2), r"padding='same' needs stride 1"),
    ((1, 3, 5, 5), (4, 3, 3, 3), dict(padding="full"), r"'valid' or 'same'"),
    ((1, 3, 5, 5), (4, 3, 3, 3), dict(padding=-1), r"padding must be >= 0"),
    ((5, 5), (4, 3, 3, 3), {}, r"expected 3-D \(C, H, W\) or 4-D"),
    ((1, 3, 5, 5), (4, 3, 3), {}, r"expected 4-D weight"),
])
def test_bad_input_errors(x_shape, w_shape, kwargs, match):
    with pytest.raises(ValueError, match=match):
        F.conv2d(nc.zeros(x_shape), nc.zeros(w_shape), **kwargs)


def test_bias_and_dtype_errors():
    with pytest.raises(ValueError, match=r"bias must have shape \(4,\)"):
        F.conv2d(nc.zeros((1, 3, 5, 5)), nc.zeros((4, 3, 3, 3)), nc.zeros(3))
    with pytest.raises(TypeError, match="share a dtype"):
        F.conv2d(nc.zeros((1, 3, 5, 5), dtype=nc.float64), nc.zeros((4, 3, 3, 3), dtype=nc.float32))


@pytest.mark.parametrize("hidden", [8, 16])
def test_scratch_reuse_does_not_leak_between_layers(hidden):
    """Two convs in one graph share scratch buffers; backward must still see each layer's own input
    (16 hidden channels: the second conv runs through Winograd)."""
    rng = np.random.default_rng(0)
    x = nc.tensor(rng.standard_normal((2, 3, 6, 6)), requires_grad=True)
    w1 = nc.tensor(rng.standard_normal((hidden, 3, 3, 3)), requires_grad=True)
    w2 = nc.tensor(rng.standard_normal((2, hidden, 3, 3)), requires_grad=True)
    assert nc.gradcheck(lambda x, w1, w2: F.conv2d(F.conv2d(x, w1, padding=1, relu=True), w2), [x, w1, w2])


@pytest.mark.parametrize("cin", [8, 16])
def test_thread_count_does_not_change_results_and_is_checked(cin):
    rng = np.random.default_rng(0)
    x = nc.tensor(rng.standard_normal((5, cin, 7, 7)), requires_grad=True)
    w = nc.tensor(rng.standard_normal((4, cin, 3, 3)), requires_grad=True)
    results = []
    before = nc.get_num_threads()
    try:
        for n in sorted({1, before}):
            nc.set_num_threads(n)
            assert nc.get_num_threads() == n
            x.grad = w.grad = None
            out = F.conv2d(x, w, padding=1, relu=True)
            out.sum().backward()
            results.append((out.detach().numpy(), x.grad.numpy(), w.grad.numpy()))
    finally:
        nc.set_num_threads(before)
    for a, b in zip(results[0], results[-1]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="set_num_threads: n must be an int"):
        nc.set_num_threads(0)


def test_small_batches_and_maps_take_the_patch_gemm(monkeypatch):
    """Winograd serves a batch from WINOGRAD_MIN_TILES 4x4 output tiles up (here 3 x 3 tiles per 9x10 image)."""
    from numbaconv.backends.cpu import conv as cpu_conv

    monkeypatch.setattr(cpu_conv, "WINOGRAD_MIN_TILES", 27)
    w_shape = (8, 32, 3, 3)
    assert not cpu_conv._winograd(np.zeros((2, 32, 9, 10)), w_shape, (1, 1), (1, 1), 1, 9, 10)
    assert cpu_conv._winograd(np.zeros((3, 32, 9, 10)), w_shape, (1, 1), (1, 1), 1, 9, 10)
    assert not cpu_conv._winograd(np.zeros((3, 32, 9, 10)), w_shape, (1, 1), (1, 1), 1, 8, 8)


@pytest.mark.parametrize("cin,groups,kernel", [(8, 1, (3, 2)), (3, 1, (3, 2)), (4, 2, (3, 2)), (16, 1, (3, 3))])
def test_chunked_pipeline_matches_one_chunk(monkeypatch, cin, groups, kernel):
    """Images split into many chunks per thread (grad weight accumulated across chunks) give the same result."""
    from numbaconv.backends.cpu import conv as cpu_conv
    from numbaconv.backends.cpu import conv_winograd

    rng = np.random.default_rng(cin)
    x = nc.tensor(rng.standard_normal((5, cin, 6, 7)), requires_grad=True)
    w = nc.tensor(rng.standard_normal((6, cin // groups, *kernel)), requires_grad=True)
    b = nc.tensor(rng.standard_normal(6), requires_grad=True)
    results = []
    for scale in (1, 0):
        monkeypatch.setattr(cpu_conv, "CHUNK_BYTES", max(1, scale * cpu_conv.CHUNK_BYTES))
        monkeypatch.setattr(conv_winograd, "CHUNK_BYTES", max(1, scale * conv_winograd.CHUNK_BYTES))
        x.grad = w.grad = b.grad = None
        out = F.conv2d(x, w, b, padding=(1, 0), groups=groups, relu=True)
        out.backward(nc.tensor(np.linspace(-1, 1, out.numel()).reshape(out.shape)))
        results.append([out.detach().numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()])
    for one, many in zip(*results):
        np.testing.assert_allclose(many, one, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype,wanted", [(np.float32, "xwb"), (np.float64, "xwb"), (np.float64, "w"),
                                          (np.float64, "x"), (np.float64, "b")])
def test_winograd_path_serves_3x3_convs_and_agrees_with_patch_gemm(monkeypatch, dtype, wanted):
    """The dispatcher sends 3x3 stride-1 convs with 16+ channels to Winograd; turning it off (the patch-GEMM
    path) gives the same output and gradients to rounding, also when only some gradients are wanted."""
    from numbaconv.backends.cpu import conv as cpu_conv

    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 32, 9, 10)).astype(dtype)
    w = rng.standard_normal((8, 32, 3, 3)).astype(dtype)
    b = rng.standard_normal(8).astype(dtype)
    assert cpu_conv._winograd(x, w.shape, (1, 1), (1, 1), 1, 9, 10)
    assert not cpu_conv._winograd(x, w.shape, (2, 2), (1, 1), 1, 5, 5)
    assert not cpu_conv._winograd(x[:, :8], w[:, :8].shape, (1, 1), (1, 1), 1, 9, 10)
    results = []
    for min_channels in (cpu_conv.WINOGRAD_MIN_CHANNELS, 10**9):
        monkeypatch.setattr(cpu_conv, "WINOGRAD_MIN_CHANNELS", min_channels)
        tensors = [nc.tensor(a, requires_grad=name in wanted) for a, name in zip((x, w, b), "xwb")]
        out = F.conv2d(*tensors, padding=1, relu=True)
        out.backward(nc.tensor(np.linspace(-1, 1, out.numel()).reshape(out.shape).astype(dtype)))
        results.append([out.detach().numpy()] + [t.grad.numpy() for t in tensors if t.requires_grad])
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert len(results[0]) == 1 + len(wanted)
    for winograd, patches in zip(*results):
        _assert_close(winograd, patches, tol)


def test_winograd_backward_from_two_python_threads_at_once():
    """Concurrent callers share the worker threads; each call's grad weight must stay its own."""
    import threading

    from numbaconv.backends.cpu import conv as cpu_conv

    rng = np.random.default_rng(4)
    cases = [(rng.standard_normal((4, 16, 8, 8)), rng.standard_normal((8, 16, 3, 3)), rng.standard_normal((4, 8, 8, 8)))
             for _ in range(2)]
    args = ((1, 1), (1, 1, 1, 1), (1, 1), 1, False)
    expected = [cpu_conv.conv2d_backward(g, x, w, None, *args)[1] for x, w, g in cases]
    mismatches = []

    def hammer(case, want):
        x, w, g = case
        for _ in range(60):
            got = cpu_conv.conv2d_backward(g, x, w, None, *args, needs=(False, True, False))[1]
            if not np.allclose(got, want, rtol=1e-10, atol=1e-10):
                mismatches.append(float(np.abs(got - want).max()))

    workers = [threading.Thread(target=hammer, args=(case, want)) for case, want in zip(cases, expected)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert not mismatches
