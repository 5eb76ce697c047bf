"""nn/optim on the cuda device vs the cpu (run under the CUDA simulator by tests/test_cuda_sim.py, or on a GPU)."""
import numpy as np
import pytest

import numbaconv as nc
from numbaconv import nn, optim
from numbaconv.nn import functional as F

if not nc.cuda.is_available():
    pytest.skip("no cuda device (nor simulator)", allow_module_level=True)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_cpu(training):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4, 3, 5)) * 2 + 1
    g = rng.standard_normal(x.shape)
    results = []
    for device in ("cpu", "cuda"):
        xt = nc.tensor(x, dtype=np.float64).to(device).detach().requires_grad_()
        w = nc.tensor(np.arange(1.0, 5.0), dtype=np.float64).to(device).detach().requires_grad_()
        b = nc.tensor(np.arange(4) * 0.5, dtype=np.float64).to(device).detach().requires_grad_()
        rm = nc.tensor(np.full(4, 0.3), dtype=np.float64).to(device)
        rv = nc.tensor(np.full(4, 1.5), dtype=np.float64).to(device)
        y = F.batch_norm(xt, rm, rv, w, b, training, 0.1, 1e-5)
        y.backward(nc.tensor(g, dtype=np.float64).to(device))
        results.append([np.array(t.detach()) for t in (y, xt.grad, w.grad, b.grad, rm, rv)])
    for ours, ref in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_cpu(approximate):
    x = np.linspace(-6, 6, 50)
    outs = []
    for device in ("cpu", "cuda"):
        t = nc.tensor(x, dtype=np.float64).to(device).detach().requires_grad_()
        y = F.gelu(t, approximate)
        y.sum().backward()
        outs.append((np.array(y.detach()), np.array(t.grad)))
    np.testing.assert_allclose(outs[1][0], outs[0][0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(outs[1][1], outs[0][1], rtol=1e-12, atol=1e-15)


def test_dropout_mask_is_drawn_on_device_and_equals_cpu_mask():
    """Same seed, same mask on both devices (counter-based draws); the gradient is the mask."""
    outs = []
    for device in ("cpu", "cuda"):
        nc.manual_seed(5)
        x = nc.ones(3, 70).to(device).detach().requires_grad_()
        y = F.dropout(x, 0.4)
        y.sum().backward()
        outs.append((np.array(y.detach()), np.array(x.grad)))
    np.testing.assert_array_equal(outs[1][0], outs[0][0])
    np.testing.assert_array_equal(outs[1][1], outs[0][0])
    assert 0.4 < (outs[0][0] != 0).mean() < 0.8


def test_module_to_cuda_train_step_and_state_dict():
    nc.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, bias=False), nn.BatchNorm2d(3), nn.GELU(), nn.Flatten(),
                        nn.Dropout(0.2), nn.Linear(3 * 4 * 4, 2))
    reference = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, bias=False), nn.BatchNorm2d(3), nn.GELU(), nn.Flatten(),
                              nn.Dropout(0.0), nn.Linear(3 * 4 * 4, 2))
    reference.load_state_dict(net.state_dict())
    net[4].p = 0.0
    weight = net[0].weight
    net.to("cuda")
    assert net[0].weight is weight and weight.device == "cuda" and net[1].num_batches_tracked.shape == ()
    x = np.random.default_rng(1).standard_normal((4, 2, 4, 4)).astype(np.float32)
    opts = [optim.SGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
            optim.SGD(reference.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)]
    for _ in range(2):
        for model, opt, device in ((net, opts[0], "cuda"), (reference, opts[1], "cpu")):
            opt.zero_grad()
            (model(nc.tensor(x).to(device)) ** 2).sum().backward()
            opt.step()
    ours, ref = net.state_dict(), reference.state_dict()
    assert list(ours) == list(ref)
    for key in ref:
        np.testing.assert_allclose(ours[key], ref[key], rtol=1e-4, atol=1e-5, err_msg=key)
    net.load_state_dict(ref)
    net.cpu()
    assert net[0].weight.device == "cpu" and net[1].num_batches_tracked.shape == ()


def test_adam_amsgrad_on_cuda_matches_cpu():
    rng = np.random.default_rng(2)
    start, grads = rng.standard_normal((3, 4)), [rng.standard_normal((3, 4)) for _ in range(3)]
    results = []
    for device in ("cpu", "cuda"):
        p = nn.Parameter(nc.tensor(start, dtype=np.float64).to(device).detach())
        opt = optim.AdamW([p], lr=0.1, amsgrad=True)
        for g in grads:
            p.grad = nc.tensor(g, dtype=np.float64).to(device)
            opt.step()
        results.append(np.array(p.detach()))
    np.testing.assert_allclose(results[1], results[0], rtol=1e-12)


@pytest.mark.parametrize("make", [
    lambda p: optim.Adagrad([p], lr=0.1, lr_decay=0.05, weight_decay=0.01, initial_accumulator_value=0.2),
    lambda p: optim.RMSprop([p], lr=0.01, momentum=0.9, centered=True, weight_decay=0.01),
    lambda p: optim.RMSprop([p], lr=0.01),
    lambda p: optim.Adadelta([p], lr=0.5, weight_decay=0.01),
], ids=["adagrad", "rmsprop_centered_momentum", "rmsprop", "adadelta"])
def test_adaptive_optimizers_on_cuda_match_cpu(make):
    rng = np.random.default_rng(3)
    start, grads = rng.standard_normal((3, 4)), [rng.standard_normal((3, 4)) for _ in range(3)]
    results = []
    for device in ("cpu", "cuda"):
        p = nn.Parameter(nc.tensor(start, dtype=np.float64).to(device).detach())
        opt = make(p)
        for g in grads:
            p.grad = nc.tensor(g, dtype=np.float64).to(device)
            opt.step()
        results.append(np.array(p.detach()))
    np.testing.assert_allclose(results[1], results[0], rtol=1e-12)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_clip_grad_norm_on_cuda_matches_cpu(norm_type):
    rng = np.random.default_rng(4)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    results = []
    for device in ("cpu", "cuda"):
        params = [nn.Parameter(nc.zeros(*g.shape, dtype=np.float64).to(device).detach()) for g in grads]
        for p, g in zip(params, grads):
            p.grad = nc.tensor(g, dtype=np.float64).to(device)
        total = nn.utils.clip_grad_norm_(params, 0.5, norm_type)
        assert total.device == device
        results.append([np.array(total)] + [np.array(p.grad) for p in params])
    for ours, ref in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, ref, rtol=1e-12)


def test_dropout2d_mask_on_cuda_equals_cpu_mask():
    outs = []
    for device in ("cpu", "cuda"):
        nc.manual_seed(6)
        x = nc.ones(2, 6, 2, 3).to(device).detach().requires_grad_()
        y = F.dropout2d(x, 0.5)
        y.sum().backward()
        outs.append((np.array(y.detach()), np.array(x.grad)))
    np.testing.assert_array_equal(outs[1][0], outs[0][0])
    np.testing.assert_array_equal(outs[1][1], outs[0][0])


def test_cross_entropy_with_ignored_targets_and_weights_on_cuda_matches_cpu():
    rng = np.random.default_rng(5)
    x, target, weight = rng.standard_normal((4, 3)), np.array([2, -100, 0, 1]), rng.random(3) + 0.5
    results = []
    for device in ("cpu", "cuda"):
        xt = nc.tensor(x).to(device).detach().requires_grad_()
        loss = F.cross_entropy(xt, nc.tensor(target).to(device), nc.tensor(weight).to(device), label_smoothing=0.1)
        loss.backward()
        results.append((np.array(loss.detach()), np.array(xt.grad)))
    for ours, ref in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-15)
