"""CUDA backend cases: kernels against the CPU backend (or a float64 numpy reference), forward and backward, on
shapes that span several thread blocks, plus the device model (transfers, errors, in-place, memory pool).
Every op on tiny shapes, against the float64 references: the op factory (tests/op_specs.py, test_ops.test_op_cuda).

Run by tests/test_cuda_sim.py (with nn_cuda_cases.py and the cuda op specs of test_ops.py) under the CUDA
simulator (tiny shapes); on a GPU machine run it directly: ``python -m pytest tests/cuda_cases.py``.
"""
import numpy as np
import pytest
from references import ref_avg_pool2d, ref_max_pool2d

import numbaconv as nc

if not nc.cuda.is_available():
    pytest.skip("no CUDA GPU (or simulator) available", allow_module_level=True)

from numbaconv.backends.cpu import conv as cpu_conv
from numbaconv.backends.cuda import array_api as xp
from numbaconv.backends.cuda import conv as gpu_conv
from numbaconv.backends.cuda import optim as gpu_optim
from numbaconv.backends.cuda import pool as gpu_pool

RNG = np.random.default_rng(1234)


def _rand(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


def _run(fn, arrays, device, others=()):
    tensors = [nc.tensor(a, device=device, requires_grad=True) for a in arrays]
    extra = [nc.tensor(o, device=device) for o in others]
    out = fn(*tensors, *extra)
    weights = nc.tensor(np.linspace(-1, 1, out.numel()).reshape(out.shape), device=device)
    (out * weights).sum().backward()
    return out.detach().numpy(), [t.grad.numpy() for t in tensors]


def _same(fn, *arrays, others=(), rtol=1e-9, atol=1e-9):
    out_cpu, grads_cpu = _run(fn, arrays, "cpu", others)
    out_gpu, grads_gpu = _run(fn, arrays, "cuda", others)
    assert out_gpu.dtype == out_cpu.dtype
    np.testing.assert_allclose(out_gpu, out_cpu, rtol=rtol, atol=atol)
    for g_gpu, g_cpu in zip(grads_gpu, grads_cpu):
        np.testing.assert_allclose(g_gpu, g_cpu, rtol=rtol, atol=atol)


@pytest.mark.parametrize(
    "fn",
    [
        lambda a: a.sum(),
        lambda a: a.sum((0, 2), keepdim=True),
        lambda a: a.mean(1),
        lambda a: a.max(2).values + a.min(0).values.sum(),
        lambda a: a.max(),
        lambda a: a.var(1),
        lambda a: a.logsumexp(2),
        lambda a: a.softmax(1) + a.log_softmax(0),
    ],
)
def test_reductions(fn):
    _same(fn, _rand(3, 4, 5))


def test_argmax_and_comparisons():
    a = _rand(4, 6)
    a[1, 2] = a[1, 4] = a[1].max() + 1
    for dim in (None, 0, 1):
        got = nc.tensor(a, device="cuda").argmax(dim).numpy()
        np.testing.assert_array_equal(got, a.argmax() if dim is None else a.argmax(dim))
    t = nc.tensor(a, device="cuda")
    np.testing.assert_array_equal((t >= 0).numpy(), a >= 0)
    np.testing.assert_array_equal((t == t).numpy(), np.ones_like(a, bool))


@pytest.mark.parametrize(
    "fn",
    [
        lambda a: a.permute(2, 0, 1).reshape(4, -1) * 2,
        lambda a: a[1:, ::2, -1] + a[0, 1:3, :2].sum(),
        lambda a: a[[2, 0, 2]],
        lambda a: nc.cat([a, a.transpose(0, 1) if a.shape[0] == a.shape[1] else a * 2], 1),
        lambda a: nc.stack([a[0], a[1]], 2),
        lambda a: nc.pad(a, (1, 2, 0, 1)),
        lambda a: a[:, :1].expand(3, 4, 4) * a,
    ],
)
def test_movement(fn):
    _same(fn, _rand(3, 4, 4))


@pytest.mark.parametrize(
    "shapes",
    [((5, 7), (7, 3)), ((2, 3, 4), (4, 5)), ((4,), (2, 4, 3)), ((3, 4), (4,)), ((2, 1, 3, 4), (3, 4, 2))],
)
def test_matmul(shapes):
    _same(lambda a, b: a @ b, _rand(*shapes[0]), _rand(*shapes[1]))


def test_matmul_noncontiguous_float32():
    a, b = _rand(9, 20, dtype=np.float32), _rand(33, 20, dtype=np.float32)
    _same(lambda x, y: x @ y.T, a, b, rtol=1e-4, atol=1e-4)


CONV_CASES = [
    # n, c, h, w, cout, k, stride, padding (t, b, l, r), dilation, groups, relu
    (2, 3, 5, 6, 4, 3, 1, (1, 1, 1, 1), 1, 1, True),
    (1, 4, 6, 5, 6, 3, 2, (1, 0, 2, 1), 2, 2, False),
    (2, 2, 4, 4, 3, 1, 1, (0, 0, 0, 0), 1, 1, True),
]


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_forward_backward(case):
    n, c, h, w, cout, k, s, pad, d, g, relu = case
    x, weight, bias = _rand(n, c, h, w), _rand(cout, c // g, k, k), _rand(cout)
    args = ((s, s), pad, (d, d), g)
    ref = cpu_conv.conv2d_forward(x, weight, bias, *args, relu)
    got = gpu_conv.conv2d_forward(xp.asarray(x), xp.asarray(weight), xp.asarray(bias), *args, relu)
    np.testing.assert_allclose(got.copy_to_host(), ref, rtol=1e-10, atol=1e-10)
    grad = _rand(*ref.shape)
    refs = cpu_conv.conv2d_backward(grad, x, weight, ref, *args, relu)
    gots = gpu_conv.conv2d_backward(xp.asarray(grad), xp.asarray(x), xp.asarray(weight), got, *args, relu)
    for r, q in zip(refs, gots):
        np.testing.assert_allclose(q.copy_to_host(), r, rtol=1e-9, atol=1e-9)


def test_conv2d_float32_large_tile():
    x, weight = _rand(1, 8, 9, 9, dtype=np.float32), _rand(64, 8, 3, 3, dtype=np.float32)
    bias = _rand(64, dtype=np.float32)
    args = ((1, 1), (1, 1, 1, 1), (1, 1), 1)
    ref = cpu_conv.conv2d_forward(x, weight, bias, *args, True)
    got = gpu_conv.conv2d_forward(xp.asarray(x), xp.asarray(weight), xp.asarray(bias), *args, True)
    np.testing.assert_allclose(got.copy_to_host(), ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("k, s, p", [(2, 2, 0), (3, 2, 1)])
def test_pooling(k, s, p):
    x = _rand(2, 3, 5, 6)
    out, idx = gpu_pool.max_pool2d_forward(xp.asarray(x), (k, k), (s, s), (p, p))
    np.testing.assert_allclose(out.copy_to_host(), ref_max_pool2d(x, k, s, p))
    grad = _rand(*out.shape)
    gx = gpu_pool.max_pool2d_backward(xp.asarray(grad), idx, x.shape).copy_to_host()
    expected = np.zeros_like(x).reshape(2, 3, -1)
    flat_idx = idx.copy_to_host().reshape(2, 3, -1)
    for a in range(2):
        for b in range(3):
            np.add.at(expected[a, b], flat_idx[a, b], grad.reshape(2, 3, -1)[a, b])
    np.testing.assert_allclose(gx, expected.reshape(x.shape))
    avg = gpu_pool.avg_pool2d_forward(xp.asarray(x), (k, k), (s, s), (p, p))
    np.testing.assert_allclose(avg.copy_to_host(), ref_avg_pool2d(x, k, s, p), atol=1e-12)
    # avg backward is the adjoint of forward: <avg(x), g> == <x, avg_backward(g)>
    g_avg = _rand(*avg.shape)
    back = gpu_pool.avg_pool2d_backward(xp.asarray(g_avg), x.shape, (k, k), (s, s), (p, p)).copy_to_host()
    np.testing.assert_allclose((avg.copy_to_host() * g_avg).sum(), (x * back).sum(), rtol=1e-10)


def test_adaptive_avg_pool():
    x = _rand(1, 2, 5, 7)
    out = gpu_pool.adaptive_avg_pool2d_forward(xp.asarray(x), (2, 3)).copy_to_host()
    for i in range(2):
        for j in range(3):
            r0, r1 = (i * 5) // 2, -(-(i + 1) * 5 // 2)
            c0, c1 = (j * 7) // 3, -(-(j + 1) * 7 // 3)
            np.testing.assert_allclose(out[:, :, i, j], x[:, :, r0:r1, c0:c1].mean((2, 3)))
    g = _rand(*out.shape)
    back = gpu_pool.adaptive_avg_pool2d_backward(xp.asarray(g), x.shape).copy_to_host()
    np.testing.assert_allclose((out * g).sum(), (x * back).sum(), rtol=1e-10)


def test_optimizer_kernels():
    p, g, buf = _rand(37), _rand(37), _rand(37)
    param = xp.asarray(p)
    state = xp.asarray(buf)
    gpu_optim.sgd_step(param, xp.asarray(g), state, 0.1, momentum=0.9, weight_decay=0.01, nesterov=True)
    d = g + 0.01 * p
    b = 0.9 * buf + d
    np.testing.assert_allclose(param.copy_to_host(), p - 0.1 * (d + 0.9 * b))
    m, v = np.zeros(37), np.zeros(37)
    param, mm, vv = xp.asarray(p), xp.asarray(m), xp.asarray(v)
    gpu_optim.adam_step(param, xp.asarray(g), mm, vv, 1, 0.01, weight_decay=0.1, decoupled=True)
    m1, v1 = 0.1 * g, 0.001 * g * g
    expected = p * (1 - 0.01 * 0.1) - 0.01 / 0.1 * m1 / (np.sqrt(v1) / np.sqrt(0.001) + 1e-8)
    np.testing.assert_allclose(param.copy_to_host(), expected, rtol=1e-7)


def test_device_model_and_errors():
    a = nc.tensor(_rand(2, 3), requires_grad=True)
    b = a.to("cuda")
    assert b.device == "cuda" and a.device == "cpu"
    assert b.array.__cuda_array_interface__["shape"] == (2, 3)
    (b * 2).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), 2 * np.ones((2, 3)))
    with pytest.raises(RuntimeError, match="cpu and cuda"):
        nc.add(a, b)
    with pytest.raises(TypeError, match="host copy"):
        np.asarray(b.array)
    nc.cuda.synchronize()
    assert b.cpu().device == "cpu"


def test_inplace_and_zero():
    t = nc.tensor(_rand(3, 4), device="cuda")
    t[1] = 5.0
    t[:, 0] = nc.tensor(np.arange(3.0), device="cuda")
    expected = t.numpy().copy()
    t += 1
    np.testing.assert_allclose(t.numpy(), expected + 1)
    t.zero_()
    assert not t.numpy().any()


def test_leaf_gradients_accumulate_in_place():
    x = nc.tensor(_rand(2, 3), device="cuda", requires_grad=True)
    (x * 2).sum().backward()
    first = x.grad.array
    (x * 3).sum().backward()
    assert x.grad.array is first
    np.testing.assert_allclose(x.grad.numpy(), np.full((2, 3), 5.0))


def test_views_keep_pooled_memory_alive():
    base = xp.reshape(xp.arange(12.0), (3, 4))
    row = base[1]
    del base
    for _ in range(3):
        xp.full((3, 4), -1.0, np.float64)
    np.testing.assert_array_equal(row.copy_to_host(), [4.0, 5.0, 6.0, 7.0])


def test_0d_arrays_keep_their_shape():
    assert nc.tensor(np.array(0.5), device="cuda").shape == ()
    assert nc.tensor(np.array(0.5)).to("cuda").shape == ()


def test_0d_views_in_elementwise_ops():
    x = nc.tensor(np.arange(3.0), device="cuda")
    assert (x[1] * 2.0).item() == 2.0


def test_inplace_on_the_graph_and_promotion():
    """x += y / x.mul_(w) on non-leaf cuda tensors: the same values and gradients as on the cpu; torch's dtypes."""
    def block(x, w):
        out = x * w
        out += x
        out.mul_(w)
        out.clamp_(-1.0, 1.0)
        return out

    _same(block, _rand(2, 3), _rand(2, 3))
    ints = nc.tensor(np.array([1, 2, 3]), device="cuda")
    assert (ints / 2).dtype == np.float32 and (ints / 2).numpy().tolist() == [0.5, 1.0, 1.5]
    pixels = nc.tensor(np.array([0, 255], np.uint8), device="cuda") / 255
    assert pixels.dtype == np.float32 and pixels.numpy().tolist() == [0.0, 1.0]
    assert (nc.tensor(np.array([-3, 3]), device="cuda") // 2).numpy().tolist() == [-2, 1]
    np.testing.assert_allclose((nc.tensor([-3.5, 3.5], device="cuda") % -2).numpy(), [-1.5, -0.5])
    x = nc.tensor([[1.0, 0.0, -2.0], [np.nan, 3.0, 0.0]], device="cuda")
    assert ((x > 0) & ~(x > 2) | (x < -1) ^ x.isnan()).numpy().tolist() == [[True, False, True], [True, False, False]]
    assert (x > 0).any(1).numpy().tolist() == [True, True] and not x.isfinite().all().item()
