"""Numerical edge cases: conv2d with NaN, Inf and huge values (the direct sum's values and NaN/Inf pattern on
every CPU path); dtypes the compiled kernels lack (float16, long double) refused at the op in one line.

The Winograd path (3x3, stride 1, 16+ channels) mixes a whole 6x6 tile into each output, so it must hand such
operands to the patch GEMM. "The direct sum's pattern" is that of the float64 reference loop
(tests/references.py): an output is NaN when one of its products is NaN (NaN * w, Inf * 0) or its products hold
both +Inf and -Inf, +Inf or -Inf when its products hold only that infinity, finite otherwise; the order of
the sums does not matter.
"""
import numpy as np
import pytest
from references import ref_conv2d, ref_conv2d_backward

import numbaconv as nc
import numbaconv.nn.functional as F
from numbaconv.backends.cpu import conv as cpu_conv
from numbaconv.backends.cpu import conv_epilogue, conv_winograd

DTYPES = [np.float32, np.float64]
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")

HUGE = {np.float32: 1e37, np.float64: 1e307}  # the direct sums stay finite; Winograd's intermediates do not


def _assert_direct(actual, expected, rtol):
    """Same NaN, +Inf and -Inf positions as ``expected``, finite values within ``rtol`` of its magnitude."""
    for name, kind in (("NaN", np.isnan), ("+Inf", np.isposinf), ("-Inf", np.isneginf)):
        np.testing.assert_array_equal(kind(actual), kind(expected), err_msg=f"{name} positions differ")
    finite = np.isfinite(expected)
    scale = max(1.0, float(np.abs(expected[finite]).max(initial=0)))
    np.testing.assert_allclose(actual[finite], expected[finite], rtol=rtol, atol=rtol * scale)


def _arrays(dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 16, 9, 10)).astype(dtype)
    w = rng.standard_normal((3, 16, 3, 3)).astype(dtype)
    w[1, 2, 0, 1] = 0  # Inf * 0 in the direct sum: NaN there too
    return x, w


def _poison(a):
    """NaN, +Inf and -Inf at tile edges, a corner and inside, in a copy of ``a``."""
    a = a.copy()
    a[0, 1, 4, 5] = np.nan
    a[0, 2, 0, 0] = np.inf
    a[1, 2, 7, 3] = -np.inf
    a[1, a.shape[1] - 1, 3, 4] = np.inf
    return a


def _tol(dtype):
    return 1e-4 if dtype == np.float32 else 1e-10


def _forward(x, w, b=None, relu=False):
    return F.conv2d(nc.tensor(x), nc.tensor(w), None if b is None else nc.tensor(b), padding=1, relu=relu).numpy()


@pytest.mark.parametrize("dtype", DTYPES)
def test_non_finite_input_and_weight_keep_the_direct_pattern(dtype):
    x, w = _arrays(dtype)
    _assert_direct(_forward(_poison(x), w), ref_conv2d(_poison(x), w, padding=1), _tol(dtype))
    w_bad = w.copy()
    w_bad[0, 3, 1, 1], w_bad[2, 4, 0, 2] = np.inf, np.nan
    _assert_direct(_forward(x, w_bad), ref_conv2d(x, w_bad, padding=1), _tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_huge_inputs_do_not_overflow_where_the_direct_sum_is_finite(dtype):
    x, w = _arrays(dtype)
    x = (x * HUGE[dtype]).astype(dtype)
    w = (w / 100).astype(dtype)
    expected = ref_conv2d(x, w, padding=1)
    assert np.isfinite(expected).all() and np.abs(expected).max() < np.finfo(dtype).max / 10
    _assert_direct(_forward(x, w), expected, _tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bad", ["grad", "input", "weight", "huge input", "huge grad"])
def test_backward_keeps_the_direct_pattern(dtype, bad):
    """Grad input and grad weight against the adjoint loop when the output gradient, the input or the weight
    holds NaN/Inf, or the input or the output gradient is huge."""
    x, w = _arrays(dtype)
    grad = np.random.default_rng(1).standard_normal((2, 3, 9, 10)).astype(dtype)
    if bad == "grad":
        grad = _poison(grad)
    elif bad == "input":
        x = _poison(x)
    elif bad == "weight":
        w[0, 3, 1, 1], w[2, 4, 0, 2] = np.inf, np.nan
    elif bad == "huge input":
        x, w, grad = (x * HUGE[dtype]).astype(dtype), (w / 100).astype(dtype), (grad / 100).astype(dtype)
    else:
        x, w, grad = (x / 100).astype(dtype), (w / 100).astype(dtype), (grad * HUGE[dtype]).astype(dtype)
    tx, tw = nc.tensor(x, requires_grad=True), nc.tensor(w, requires_grad=True)
    F.conv2d(tx, tw, padding=1).backward(nc.tensor(grad))
    gx, gw = ref_conv2d_backward(x, w, grad, padding=1)
    _assert_direct(tx.grad.numpy(), gx, _tol(dtype))
    _assert_direct(tw.grad.numpy(), gw, _tol(dtype))


def test_fused_relu_passes_the_gradient_where_the_output_is_nan():
    """As torch's threshold_backward: the gradient is zeroed where the output is <= 0, not where it is NaN."""
    x, w = _arrays(np.float64)
    b = np.array([0.5, np.nan, -0.5])
    tx, tw, tb = (nc.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.conv2d(tx, tw, tb, padding=1, relu=True)
    grad = np.random.default_rng(2).standard_normal(out.shape)
    out.backward(nc.tensor(grad))
    masked = np.where(out.detach().numpy() <= 0, 0, grad)
    gx, gw = ref_conv2d_backward(x, w, masked, padding=1)
    _assert_direct(tx.grad.numpy(), gx, 1e-10)
    _assert_direct(tw.grad.numpy(), gw, 1e-10)
    _assert_direct(tb.grad.numpy(), masked.sum(axis=(0, 2, 3)), 1e-10)


def _winograd_forward(x, w):
    output = conv_epilogue.Output((x.shape[0], w.shape[0], *x.shape[2:]), x.dtype, np.zeros(w.shape[0], x.dtype), False)
    return output.result() if conv_winograd.forward(x, w, (1, 1, 1, 1), *x.shape[2:], output) else None


def _winograd_backward(grad, x, w, needs):
    grad3 = grad.reshape(*grad.shape[:2], -1)
    source = conv_epilogue.Gradient(grad3, grad3, False, x.shape[3])
    return conv_winograd.backward(source, x, w, (1, 1, 1, 1), *x.shape[2:], needs)


@pytest.mark.parametrize("dtype", DTYPES)
def test_winograd_serves_ordinary_values_and_refuses_the_others(dtype):
    """Each Winograd pass returns None (conv.py then takes the patch GEMM) exactly when an operand it reads
    holds a NaN or an Inf or is large enough to overflow the transforms."""
    x, w = _arrays(dtype)
    grad = x[:, :3]
    w_bad = w.copy()
    w_bad[0, 3, 1, 1], w_bad[2, 4, 0, 2] = np.inf, np.nan
    assert cpu_conv._winograd(x, w.shape, (1, 1), (1, 1), 1, x.shape[2], x.shape[3])
    np.testing.assert_allclose(_winograd_forward(x, w), ref_conv2d(x, w, padding=1), rtol=_tol(dtype),
                               atol=_tol(dtype))
    assert _winograd_forward((x * 1e30).astype(dtype), w) is not None
    assert _winograd_backward(grad, x, w, (True, True, True)) is not None
    assert _winograd_forward(_poison(x), w) is None
    assert _winograd_forward(x, w_bad) is None
    assert _winograd_forward((x * HUGE[dtype]).astype(dtype), w) is None
    assert _winograd_backward(_poison(grad), x, w, (True, False, False)) is None
    assert _winograd_backward(grad, _poison(x), w, (False, True, False)) is None
    assert _winograd_backward(grad, x, w_bad, (True, False, False)) is None
    assert _winograd_backward((grad * HUGE[dtype]).astype(dtype), x, w, (False, True, False)) is None
    assert _winograd_backward(grad, _poison(x), w, (True, False, False)) is not None
    assert _winograd_backward(grad, x, w_bad, (False, True, True)) is not None


KERNEL_OPS = {
    "conv2d": lambda x: F.conv2d(x, x[:1]),
    "max_pool2d": lambda x: F.max_pool2d(x, 2),
    "avg_pool2d": lambda x: F.avg_pool2d(x, 2),
    "adaptive_avg_pool2d": lambda x: F.adaptive_avg_pool2d(x, 1),
    "gelu": F.gelu,
    "dropout": lambda x: F.dropout(x, 0.5),
    "batch_norm": lambda x: F.batch_norm(x, None, None, training=True),
}


@pytest.mark.parametrize("dtype", [np.float16, np.longdouble])
@pytest.mark.parametrize("op", sorted(KERNEL_OPS))
def test_dtypes_without_kernels_are_refused_at_the_op(op, dtype):
    x = nc.tensor(np.ones((2, 2, 4, 4)), dtype=dtype)
    with pytest.raises(TypeError) as error:
        KERNEL_OPS[op](x)
    message = str(error.value)
    assert message.startswith(f"{op}: dtype {np.dtype(dtype)} is not supported") and "float32 or float64" in message
    assert "\n" not in message
