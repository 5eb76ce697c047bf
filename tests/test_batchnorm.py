"""batch_norm / BatchNorm2d: the float64 reference (tests/references.py), gradcheck, running statistics, torch parity.

The op factory (tests/op_specs.py) checks it too: strided inputs, no mutation, float32, cuda."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from references import ref_batch_norm, ref_batch_norm_running_stats, ref_batch_stats

import numbaconv as nc
from numbaconv import nn
from numbaconv.nn import functional as F


@settings(max_examples=15)
@given(n=st.integers(1, 4), c=st.integers(1, 5), h=st.integers(1, 5), w=st.integers(1, 4),
       seed=st.integers(0, 1000), transposed=st.booleans())
def test_training_forward_matches_reference(n, c, h, w, seed, transposed):
    if n * h * w < 2:
        return
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, w, h)).swapaxes(2, 3) if transposed else rng.standard_normal((n, c, h, w))
    x = x * 3 + 1
    wt, bs = rng.standard_normal(c), rng.standard_normal(c)
    rm, rv = nc.tensor(rng.standard_normal(c), dtype=np.float64), nc.tensor(rng.random(c) + 0.5, dtype=np.float64)
    old_m, old_v = rm.numpy().copy(), rv.numpy().copy()
    out = F.batch_norm(nc.Tensor(x), rm, rv, nc.tensor(wt, dtype=np.float64), nc.tensor(bs, dtype=np.float64),
                       training=True, momentum=0.2, eps=1e-3)
    expected = ref_batch_norm(x, old_m, old_v, wt, bs, training=True, eps=1e-3)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-10)
    new_m, new_v = ref_batch_norm_running_stats(x, old_m, old_v, momentum=0.2)
    np.testing.assert_allclose(rm.numpy(), new_m, rtol=1e-12)
    np.testing.assert_allclose(rv.numpy(), new_v, rtol=1e-12)


def test_eval_uses_running_stats_and_leaves_them():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4, 5, 5))
    rm, rv = nc.tensor(rng.standard_normal(4), dtype=np.float64), nc.tensor(rng.random(4) + 0.5, dtype=np.float64)
    out = F.batch_norm(nc.Tensor(x), rm, rv, training=False)
    np.testing.assert_allclose(out.numpy(), ref_batch_norm(x, rm.numpy(), rv.numpy()), rtol=1e-12)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(3, 2, 3, 4), (4, 3), (2, 3, 5)])
def test_gradcheck(training, shape):
    rng = np.random.default_rng(1)
    c = shape[1]
    x = nc.tensor(rng.standard_normal(shape) * 2, dtype=np.float64, requires_grad=True)
    w = nc.tensor(rng.standard_normal(c), dtype=np.float64, requires_grad=True)
    b = nc.tensor(rng.standard_normal(c), dtype=np.float64, requires_grad=True)
    rm, rv = nc.tensor(rng.standard_normal(c), dtype=np.float64), nc.tensor(rng.random(c) + 0.5, dtype=np.float64)
    assert nc.gradcheck(lambda x, w, b: F.batch_norm(x, None if training else rm, None if training else rv, w, b,
                                                     training=training), [x, w, b])


def test_gradcheck_without_affine():
    x = nc.tensor(np.random.default_rng(2).standard_normal((4, 3, 2, 2)), dtype=np.float64, requires_grad=True)
    assert nc.gradcheck(lambda x: F.batch_norm(x, None, None, training=True), [x])


def test_errors():
    x = nc.randn(2, 3, 4, 4)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(nc.randn(1, 3, 1, 1), nc.zeros(3), nc.ones(3), training=True)
    with pytest.raises(ValueError, match=r"running_mean must have shape \(3,\)"):
        F.batch_norm(x, nc.zeros(4), nc.ones(3))
    with pytest.raises(TypeError, match="dtype"):
        F.batch_norm(x, nc.zeros(3, dtype=np.float64), nc.ones(3, dtype=np.float64))
    with pytest.raises(ValueError, match="4-D"):
        nn.BatchNorm2d(3)(nc.randn(2, 3))


def test_momentum_none_is_cumulative_average():
    bn = nn.BatchNorm2d(2, momentum=None).double()
    rng = np.random.default_rng(3)
    batches = [rng.standard_normal((4, 2, 3, 3)) + i for i in range(3)]
    for x in batches:
        bn(nc.Tensor(x))
    means = [ref_batch_stats(x)[0] for x in batches]
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean(means, axis=0), rtol=1e-12)
    assert int(bn.num_batches_tracked.item()) == 3


def test_module_matches_torch_train_and_eval():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    ours, theirs = nn.BatchNorm2d(5, momentum=0.3), torch.nn.BatchNorm2d(5, momentum=0.3)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(rng.standard_normal(5), dtype=torch.float32))
        theirs.bias.copy_(torch.tensor(rng.standard_normal(5), dtype=torch.float32))
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for step in range(3):
        x = (rng.standard_normal((6, 5, 7, 3)) * 2 + 1).astype(np.float32)
        g = rng.standard_normal(x.shape).astype(np.float32)
        xo, xt = nc.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yo, yt = ours(xo), theirs(xt)
        np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
        yo.backward(nc.tensor(g))
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours.bias.grad.numpy(), theirs.bias.grad.numpy(), rtol=1e-4, atol=1e-4)
    for name, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[name], value.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((2, 5, 4, 4)).astype(np.float32)
    xo, xt = nc.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    yo.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(ours.running_mean.numpy(), theirs.running_mean.numpy())


def test_without_running_stats_always_uses_batch_stats():
    bn = nn.BatchNorm2d(3, track_running_stats=False, affine=False).eval()
    x = np.random.default_rng(5).standard_normal((4, 3, 2, 2)).astype(np.float32)
    np.testing.assert_allclose(bn(nc.tensor(x)).numpy(), ref_batch_norm(x, training=True),
                               rtol=1e-4, atol=1e-5)
    assert list(bn.state_dict()) == []
