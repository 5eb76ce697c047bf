"""The nn additions of issue 16 as modules: against PyTorch from the same weights where torch is installed (a DCGAN-
style generator and discriminator, BatchNorm1d, GroupNorm/LayerNorm, Upsample, the loss modules, gradient clipping,
containers' state_dict keys), and their own behaviour and errors everywhere."""
import math

import numpy as np
import pytest

import numbaconv as nc
import numbaconv.nn as nn
import numbaconv.nn.functional as F

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed (it is the oracle of these tests)")
RNG = np.random.default_rng(16)


def _copy_from_torch(ours, theirs):
    """Write every parameter and buffer of the torch module ``theirs`` into the same-named one of ``ours``."""
    mine = dict(ours.named_parameters()) | dict(ours.named_buffers())
    theirs_state = theirs.state_dict()
    assert sorted(mine) == sorted(theirs_state)
    for name, value in theirs_state.items():
        mine[name].array[...] = value.detach().numpy()


def _close(ours, theirs, rtol=1e-5, atol=1e-6, err_msg=""):
    np.testing.assert_allclose(np.asarray(ours.detach() if isinstance(ours, nc.Tensor) else ours),
                               theirs.detach().numpy(), rtol=rtol, atol=atol, err_msg=err_msg)


def _dcgan(lib):
    """A tiny DCGAN (the PyTorch tutorial's layer pattern): a generator from a latent vector to 1x8x8 images and a
    discriminator back to a probability."""
    n = lib.nn
    generator = n.Sequential(
        n.ConvTranspose2d(4, 6, 4, 1, 0, bias=False), n.BatchNorm2d(6), n.ReLU(True),
        n.ConvTranspose2d(6, 3, 4, 2, 1, bias=False), n.BatchNorm2d(3), n.ReLU(True),
        n.ConvTranspose2d(3, 1, 3, 1, 1, bias=False), n.Tanh())
    discriminator = n.Sequential(
        n.Conv2d(1, 3, 4, 2, 1, bias=False), n.LeakyReLU(0.2, inplace=True),
        n.Conv2d(3, 6, 4, 2, 1, bias=False), n.BatchNorm2d(6), n.LeakyReLU(0.2, inplace=True),
        n.Conv2d(6, 1, 2, 1, 0, bias=False), n.Sigmoid())
    return generator, discriminator


@needs_torch
def test_dcgan_training_steps_match_torch():
    torch.manual_seed(0)
    theirs = _dcgan(torch)
    ours = _dcgan(nc)
    for a, b in zip(ours, theirs):
        _copy_from_torch(a, b)
    noise = RNG.standard_normal((5, 4, 1, 1)).astype(np.float32)
    real = np.tanh(RNG.standard_normal((5, 1, 8, 8))).astype(np.float32)
    opts = [[nc.optim.Adam(m.parameters(), lr=2e-3, betas=(0.5, 0.999)) for m in ours],
            [torch.optim.Adam(m.parameters(), lr=2e-3, betas=(0.5, 0.999)) for m in theirs]]
    for lib, (gen, disc), (opt_g, opt_d) in ((nc, ours, opts[0]), (torch, theirs, opts[1])):
        criterion = lib.nn.BCELoss()
        for _ in range(3):
            fake = gen(lib.tensor(noise))
            ones, zeros = lib.ones(5, 1, 1, 1), lib.zeros(5, 1, 1, 1)
            opt_d.zero_grad()
            loss_d = criterion(disc(lib.tensor(real)), ones) + criterion(disc(fake.detach()), zeros)
            loss_d.backward()
            opt_d.step()
            opt_g.zero_grad()
            loss_g = criterion(disc(fake), ones)
            loss_g.backward()
            opt_g.step()
    for ours_model, theirs_model in zip(ours, theirs):
        theirs_state = theirs_model.state_dict()
        for name, value in dict(ours_model.named_parameters()).items():
            _close(value, theirs_state[name], rtol=1e-4, atol=1e-5, err_msg=name)
    gen_o, gen_t = ours[0], theirs[0]
    gen_o.eval()
    gen_t.eval()
    _close(gen_o(nc.tensor(noise)), gen_t(torch.tensor(noise)), rtol=1e-4, atol=1e-5)


@needs_torch
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
def test_batchnorm1d_matches_torch_in_training_and_eval(shape):
    ours, theirs = nn.BatchNorm1d(3, momentum=0.3), torch.nn.BatchNorm1d(3, momentum=0.3)
    theirs.weight.data.uniform_(0.5, 1.5)
    _copy_from_torch(ours, theirs)
    x = RNG.standard_normal(shape).astype(np.float32) * 2 + 1
    for _ in range(2):
        _close(ours(nc.tensor(x)), theirs(torch.tensor(x)), atol=1e-5)
    _close(ours.running_var, theirs.running_var)
    ours.eval()
    theirs.eval()
    _close(ours(nc.tensor(x)), theirs(torch.tensor(x)), atol=1e-5)
    with pytest.raises(ValueError, match="BatchNorm1d: expected a 2-D"):
        ours(nc.zeros(2, 3, 4, 4))


@needs_torch
@pytest.mark.parametrize("make", [lambda lib: lib.nn.GroupNorm(2, 6), lambda lib: lib.nn.GroupNorm(3, 6, affine=False),
                                  lambda lib: lib.nn.LayerNorm((4, 5)), lambda lib: lib.nn.LayerNorm(5, bias=False),
                                  lambda lib: lib.nn.InstanceNorm2d(6),
                                  lambda lib: lib.nn.InstanceNorm2d(6, affine=True)])
def test_group_and_layer_norm_modules_match_torch(make):
    ours, theirs = make(nc), make(torch)
    for p in theirs.parameters():
        p.data.normal_()
    _copy_from_torch(ours, theirs)
    x = RNG.standard_normal((3, 6, 4, 5)).astype(np.float32)
    xo, xt = nc.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    _close(yo, yt, atol=1e-5)
    (yo * yo).sum().backward()
    (yt * yt).sum().backward()
    _close(xo.grad, xt.grad, rtol=1e-4, atol=1e-4)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        _close(p.grad, q.grad, rtol=1e-4, atol=1e-4, err_msg=name)
    assert repr(ours) == repr(theirs)


@needs_torch
def test_activation_modules_match_torch():
    x = RNG.standard_normal((2, 3, 4)).astype(np.float32)
    for name, kwargs in [("LeakyReLU", {}), ("LeakyReLU", {"negative_slope": 0.3}), ("Sigmoid", {}), ("Tanh", {}),
                         ("SiLU", {}), ("Softmax", {"dim": 1}), ("LogSoftmax", {"dim": -1}), ("Softmax", {}),
                         ("ELU", {"alpha": 0.5}), ("ReLU6", {}), ("Hardtanh", {"min_val": -0.3, "max_val": 0.4}),
                         ("Softplus", {"beta": 2, "threshold": 1.0})]:
        ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
        implicit = name == "Softmax" and not kwargs
        with pytest.warns(UserWarning) if implicit else _no_warning():
            expected = theirs(torch.tensor(x))
        with pytest.warns(UserWarning, match="implicit dim choice") if implicit else _no_warning():
            _close(ours(nc.tensor(x)), expected, err_msg=name)
        assert repr(ours) == repr(theirs)


class _no_warning:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@needs_torch
@pytest.mark.parametrize("kwargs", [dict(scale_factor=2), dict(size=(5, 7), mode="bilinear"),
                                    dict(scale_factor=1.5, mode="bilinear", align_corners=True),
                                    dict(size=(3, 3), mode="nearest-exact")])
def test_upsample_module_matches_torch_forward_and_backward(kwargs):
    x = RNG.standard_normal((2, 3, 4, 6)).astype(np.float32)
    xo, xt = nc.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = nn.Upsample(**kwargs)(xo), torch.nn.Upsample(**kwargs)(xt)
    _close(yo, yt)
    weights = RNG.standard_normal(tuple(yt.shape)).astype(np.float32)
    (yo * nc.tensor(weights)).sum().backward()
    (yt * torch.tensor(weights)).sum().backward()
    _close(xo.grad, xt.grad, atol=1e-5)


@needs_torch
def test_upsampling_bilinear2d_aligns_corners_like_torch():
    x = RNG.standard_normal((1, 2, 3, 3)).astype(np.float32)
    _close(nn.UpsamplingBilinear2d(scale_factor=2)(nc.tensor(x)),
           torch.nn.UpsamplingBilinear2d(scale_factor=2)(torch.tensor(x)))


def _loss_cases():
    logits = RNG.standard_normal((6, 4)).astype(np.float32)
    labels = np.array([0, 3, -100, 1, 2, 3])
    weight = (RNG.random(4) + 0.5).astype(np.float32)
    probs = RNG.random((6, 4)).astype(np.float32)
    probs /= probs.sum(1, keepdims=True)
    binary = RNG.random((6, 4)).astype(np.float32)
    sigm = (1 / (1 + np.exp(-logits))).astype(np.float32)
    return [
        ("NLLLoss", dict(weight=weight), logits, labels),
        ("NLLLoss", dict(ignore_index=3, reduction="sum"), logits, np.abs(labels) % 4),
        ("CrossEntropyLoss", dict(weight=weight, label_smoothing=0.1), logits, labels),
        ("CrossEntropyLoss", dict(reduction="none"), logits, np.abs(labels) % 4),
        ("CrossEntropyLoss", dict(weight=weight, label_smoothing=0.2), logits, probs),
        ("BCELoss", dict(weight=weight), sigm, binary),
        ("BCEWithLogitsLoss", dict(pos_weight=weight * 2), logits * 5, binary),
        ("BCEWithLogitsLoss", dict(reduction="sum"), logits, binary),
        ("L1Loss", {}, logits, binary),
        ("SmoothL1Loss", dict(beta=0.3), logits, binary),
        ("HuberLoss", dict(delta=0.4, reduction="sum"), logits, binary),
        ("MSELoss", dict(reduce=False), logits, binary),
        ("L1Loss", dict(size_average=False), logits, binary),
    ]


@needs_torch
@pytest.mark.parametrize("case", _loss_cases(), ids=lambda c: c[0] if isinstance(c, tuple) else str(c))
def test_loss_modules_match_torch(case):
    name, kwargs, x, target = case
    ours_kwargs = {k: nc.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    theirs_kwargs = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    with pytest.warns(UserWarning) if "reduce" in kwargs or "size_average" in kwargs else _no_warning():
        theirs = getattr(torch.nn, name)(**theirs_kwargs)
    ours = getattr(nn, name)(**ours_kwargs)
    xo, xt = nc.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lo, lt = ours(xo, nc.tensor(target)), theirs(xt, torch.tensor(target))
    _close(lo, lt, err_msg=name)
    weights = RNG.standard_normal(tuple(lt.shape)).astype(np.float32)
    (lo * nc.tensor(weights)).sum().backward()
    (lt * torch.tensor(weights)).sum().backward()
    _close(xo.grad, xt.grad, atol=1e-6, err_msg=name)


def test_loss_modules_keep_weights_as_buffers_and_check_reduction():
    criterion = nn.CrossEntropyLoss(weight=nc.ones(3))
    assert [name for name, _ in criterion.named_buffers()] == ["weight"]
    assert "weight" in criterion.state_dict()
    with pytest.raises(ValueError, match="NLLLoss: reduction must be one of"):
        nn.NLLLoss(reduction="avg")


def test_nll_loss_errors_name_the_problem():
    x = nc.zeros(3, 4)
    with pytest.raises(IndexError, match=r"nll_loss: target values must lie in \[0, 4\) or equal ignore_index=-100"):
        F.nll_loss(x, nc.tensor([0, 4, 1]))
    with pytest.raises(ValueError, match=r"nll_loss: target shape .* does not match input shape .*; expected \(3,\)"):
        F.nll_loss(x, nc.tensor([0, 1]))
    with pytest.raises(TypeError, match="integer class indices"):
        F.nll_loss(x, nc.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"weight must have shape \(4,\)"):
        F.nll_loss(x, nc.tensor([0, 1, 2]), nc.ones(3))
    with pytest.raises(ValueError, match="probability targets must have the input's shape"):
        F.cross_entropy(x, nc.zeros(3, 5))


def test_binary_cross_entropy_rejects_values_outside_zero_one():
    with pytest.raises(ValueError, match=r"input values must lie in \[0, 1\].*got range \[-0.5, 0.5\]"):
        F.binary_cross_entropy(nc.tensor([-0.5, 0.5]), nc.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="input shape"):
        F.binary_cross_entropy(nc.tensor([0.5, 0.5]), nc.tensor([0.0]))


def test_binary_cross_entropy_with_logits_is_finite_for_large_logits():
    x = nc.tensor([-200.0, 200.0], requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, nc.tensor([1.0, 0.0]), reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [200.0, 200.0])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [-1.0, 1.0])


@needs_torch
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf])
def test_clip_grad_norm_matches_torch(norm_type):
    grads = [RNG.standard_normal((3, 4)).astype(np.float32), RNG.standard_normal(5).astype(np.float32)]
    ours = [nn.Parameter(nc.zeros(*g.shape)) for g in grads]
    theirs = [torch.nn.Parameter(torch.zeros(*g.shape)) for g in grads]
    for o, t, g in zip(ours, theirs, grads):
        o.grad, t.grad = nc.tensor(g), torch.tensor(g)
    total_o = nn.utils.clip_grad_norm_(ours, 1.5, norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(theirs, 1.5, norm_type)
    assert total_o.shape == () and total_o.dtype == np.float32
    _close(total_o, total_t)
    for o, t in zip(ours, theirs):
        _close(o.grad, t.grad)


@needs_torch
def test_clip_grad_value_matches_torch_and_skips_missing_grads():
    g = RNG.standard_normal((4, 4)).astype(np.float32)
    ours, theirs = nn.Parameter(nc.zeros(4, 4)), torch.nn.Parameter(torch.zeros(4, 4))
    ours.grad, theirs.grad = nc.tensor(g), torch.tensor(g)
    assert nn.utils.clip_grad_value_([ours, nn.Parameter(nc.zeros(2))], 0.5) is None
    torch.nn.utils.clip_grad_value_([theirs], 0.5)
    _close(ours.grad, theirs.grad)


def test_clip_grad_norm_nonfinite_and_no_grads():
    p = nn.Parameter(nc.zeros(2))
    p.grad = nc.tensor(np.array([np.inf, 1.0], np.float32))
    with pytest.raises(RuntimeError, match="total norm of order 2.0 of the gradients is inf"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert nn.utils.clip_grad_norm_([nn.Parameter(nc.zeros(2))], 1.0).item() == 0.0
    q = nn.Parameter(nc.zeros(2))
    q.grad = nc.tensor(np.array([3.0, 4.0], np.float32))
    assert nn.utils.clip_grad_norm_(q, 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(q.grad.numpy(), [0.6, 0.8], rtol=1e-5)
    with pytest.raises(ValueError, match="norm_type must be positive"):
        nn.utils.clip_grad_norm_([q], 1.0, norm_type=0)


def test_dropout2d_zeroes_whole_channels_and_is_identity_in_eval():
    nc.manual_seed(3)
    layer = nn.Dropout2d(0.5)
    x = nc.ones(4, 8, 3, 3, requires_grad=True)
    y = layer(x)
    values = y.detach().numpy().reshape(32, 9)
    assert set(np.unique(values)) <= {0.0, 2.0}
    assert (values == values[:, :1]).all(), "each channel is dropped or kept as a whole"
    assert 0 < (values[:, 0] == 0).sum() < 32
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())
    with pytest.warns(UserWarning, match=r"read as \(N, C, L\)"):
        rows = F.dropout2d(nc.ones(6, 5, 4), 0.5).numpy().reshape(30, 4)
    assert (rows == rows[:, :1]).all() and 0 < (rows[:, 0] == 0).sum() < 30
    layer.eval()
    assert layer(x) is x
    with pytest.raises(ValueError, match="dropout2d: expected a 3-D"):
        F.dropout2d(nc.ones(2, 3))
    with pytest.raises(ValueError, match="Dropout2d: p must be a probability"):
        nn.Dropout2d(1.5)


@needs_torch
def test_containers_register_like_torch():
    def build(lib):
        n = lib.nn
        block = n.Module()
        block.heads = n.ModuleDict({"a": n.Linear(2, 3), "b": n.Conv2d(1, 2, 3)})
        block.scales = n.ParameterList([n.Parameter(lib.ones(2)), n.Parameter(lib.zeros(3))])
        block.extra = n.ParameterDict({"gain": n.Parameter(lib.ones(1))})
        return block

    ours, theirs = build(nc), build(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert len(list(ours.parameters())) == len(list(theirs.parameters())) == 7
    assert list(ours.heads) == ["a", "b"] and "a" in ours.heads and len(ours.scales) == 2
    ours.heads["c"] = nn.Tanh()
    ours.scales.append(nc.zeros(4))
    assert isinstance(ours.scales[-1], nn.Parameter) and ours.scales[2].shape == (4,)
    assert ours.heads.pop("c").__class__ is nn.Tanh and list(ours.heads.keys()) == ["a", "b"]
    with pytest.raises(TypeError, match="ModuleDict: value for 'x' must be a Module"):
        ours.heads["x"] = 3
    with pytest.raises(IndexError, match="out of range for 3 parameters"):
        ours.scales[3]


@needs_torch
def test_conv_transpose2d_module_init_repr_and_output_size():
    nc.manual_seed(0)
    ours = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, groups=2)
    theirs = torch.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, groups=2)
    assert ours.weight.shape == tuple(theirs.weight.shape) == (4, 3, 3, 3)
    bound = 1 / math.sqrt(3 * 9)
    assert np.abs(ours.bias.detach().numpy()).max() <= bound
    assert np.abs(ours.weight.detach().numpy()).max() <= bound  # kaiming-uniform(a=√5): the same bound
    assert repr(ours) == repr(theirs)
    _copy_from_torch(ours, theirs)
    x = RNG.standard_normal((2, 4, 5, 5)).astype(np.float32)
    for size in (None, (10, 10), (2, 6, 9, 10)):
        _close(ours(nc.tensor(x), output_size=size), theirs(torch.tensor(x), output_size=size), atol=1e-5)
    with pytest.raises(ValueError, match=r"output_size \(12, 12\) is not reachable"):
        ours(nc.tensor(x), output_size=(12, 12))


def test_conv_transpose2d_errors_name_the_argument():
    x, w = nc.zeros(1, 2, 3, 3), nc.zeros(2, 1, 3, 3)
    with pytest.raises(ValueError, match=r"output_padding \(2, 2\) must be smaller than either stride \(2, 2\)"):
        F.conv_transpose2d(x, w, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="input has 3 channels"):
        F.conv_transpose2d(nc.zeros(1, 3, 3, 3), w)
    with pytest.raises(ValueError, match="the output would be"):
        F.conv_transpose2d(nc.zeros(1, 2, 1, 1), nc.zeros(2, 1, 1, 1), padding=1)
    with pytest.raises(ValueError, match=r"bias must have shape \(1,\)"):
        F.conv_transpose2d(x, w, nc.zeros(2))


def test_interpolate_errors_name_the_argument():
    x = nc.zeros(1, 1, 4, 4)
    with pytest.raises(ValueError, match="give exactly one of size and scale_factor, got both"):
        F.interpolate(x, size=2, scale_factor=2)
    with pytest.raises(NotImplementedError, match="mode 'bicubic' is not supported"):
        F.interpolate(x, scale_factor=2, mode="bicubic")
    with pytest.raises(ValueError, match="align_corners can only be set"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match="gives an empty output"):
        F.interpolate(x, scale_factor=0.1)
    with pytest.raises(NotImplementedError, match="3-D .* and 4-D"):
        F.interpolate(nc.zeros(1, 1, 2, 2, 2), scale_factor=2)


def test_normalisation_errors():
    with pytest.raises(ValueError, match="num_channels=6 must be divisible by num_groups=4"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match=r"GroupNorm: expected an \(N, 6, \*\) input"):
        nn.GroupNorm(3, 6)(nc.zeros(2, 4, 3))
    with pytest.raises(ValueError, match=r"normalized_shape \(3,\) must be the trailing dims"):
        F.layer_norm(nc.zeros(2, 4), (3,))
    with pytest.raises(NotImplementedError, match="track_running_stats=True is not supported"):
        nn.InstanceNorm2d(3, track_running_stats=True)
    with pytest.raises(ValueError, match=r"InstanceNorm2d: expected an \(N, 3, H, W\)"):
        nn.InstanceNorm2d(3)(nc.zeros(2, 4, 5, 5))
    np.testing.assert_allclose(nn.InstanceNorm2d(2)(nc.tensor(np.arange(8.0).reshape(2, 2, 2))).numpy(),
                               np.tile([-1.5, -0.5, 0.5, 1.5], 2).reshape(2, 2, 2) / np.sqrt(1.25 + 1e-5),
                               rtol=1e-5)


def _mnist_net(lib):
    """pytorch/examples mnist/main.py's Net, scaled down (8x8 inputs)."""
    n, func = lib.nn, lib.nn.functional

    class Net(n.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = n.Conv2d(1, 4, 3, 1)
            self.conv2 = n.Conv2d(4, 6, 3, 1)
            self.dropout1 = n.Dropout(0.25)
            self.dropout2 = n.Dropout(0.5)
            self.fc1 = n.Linear(6 * 2 * 2, 16)
            self.fc2 = n.Linear(16, 10)

        def forward(self, x):
            x = func.relu(self.conv1(x))
            x = func.relu(self.conv2(x))
            x = func.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = x.flatten(1)
            x = func.relu(self.fc1(x))
            x = self.dropout2(x)
            return func.log_softmax(self.fc2(x), dim=1)

    return Net()


@needs_torch
def test_mnist_example_loop_with_adadelta_and_steplr_matches_torch():
    """The example's train loop (nll_loss on log_softmax, Adadelta, StepLR(gamma=0.7)) with dropout in eval mode
    (its masks are random), and its test loss summed with reduction='sum'."""
    torch.manual_seed(1)
    theirs, ours = _mnist_net(torch), _mnist_net(nc)
    _copy_from_torch(ours, theirs)
    images = RNG.standard_normal((3, 4, 1, 8, 8)).astype(np.float32)
    labels = RNG.integers(0, 10, (3, 4))
    results = []
    for lib, model in ((nc, ours), (torch, theirs)):
        model.eval()
        optimizer = lib.optim.Adadelta(model.parameters(), lr=1.0)
        scheduler = lib.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
        for epoch in range(2):
            for data, target in zip(images, labels):
                optimizer.zero_grad()
                loss = lib.nn.functional.nll_loss(model(lib.tensor(data)), lib.tensor(target))
                loss.backward()
                optimizer.step()
            scheduler.step()
        output = model(lib.tensor(images[0]))
        results.append((lib.nn.functional.nll_loss(output, lib.tensor(labels[0]), reduction="sum").item(),
                        output.argmax(dim=1).tolist(), optimizer.param_groups[0]["lr"]))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-4)
    assert results[0][1:] == results[1][1:]
