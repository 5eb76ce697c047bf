"""nn: Module bookkeeping, state dicts, repr, init statistics, GELU, dropout, and layers against torch."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from references import ref_gelu

import numbaconv as nc
from numbaconv import nn
from numbaconv.nn import functional as F
from numbaconv.nn import init


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(3)
        self.scale = nn.Parameter(nc.ones(1))
        self.register_buffer("steps", nc.zeros(1))
        self.register_buffer("scratch", nc.zeros(2), persistent=False)
        self.note = "not registered"

    def forward(self, x):
        return self.bn(self.conv(x)) * self.scale


def _net():
    return nn.Sequential(Block(), nn.GELU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 5), nn.Dropout(0.25))


def test_registration_and_traversal():
    net = _net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["0.scale", "0.conv.weight", "0.bn.weight", "0.bn.bias", "3.weight", "3.bias"]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())
    assert [n for n, _ in net.named_buffers()] == ["0.steps", "0.scratch", "0.bn.running_mean", "0.bn.running_var",
                                                   "0.bn.num_batches_tracked"]
    assert [n for n, _ in net.named_children()] == ["0", "1", "2", "3", "4"]
    assert [n for n, _ in net.named_modules()] == ["", "0", "0.conv", "0.bn", "1", "2", "3", "4"]
    assert len(list(net.modules())) == 8 and len(net) == 5 and isinstance(net[-1], nn.Dropout)
    assert [type(m).__name__ for m in net[1:3]] == ["GELU", "Flatten"]
    assert net[0].note == "not registered" and "note" not in dict(net[0].named_parameters())
    shared = nn.Linear(2, 2)
    assert len(list(nn.Sequential(shared, shared).parameters())) == 2


def test_reassignment_and_errors():
    block = Block()
    block.scale = None
    assert "scale" not in dict(block.named_parameters())
    with pytest.raises(TypeError, match="parameter 'scale'"):
        block.scale = nc.ones(1)
    with pytest.raises(TypeError, match="buffer 'steps'"):
        block.steps = 3
    block.steps = nc.ones(1)
    assert block.steps.item() == 1.0

    class Forgetful(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(nc.ones(1))

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Forgetful()
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        block.missing


def test_train_eval_and_zero_grad():
    net = _net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net and not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net(nc.randn(2, 2, 4, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.numpy() == 0) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_state_dict_round_trip_and_strict_errors(tmp_path):
    net = _net()
    net(nc.randn(4, 2, 4, 4))
    state = net.state_dict()
    assert "0.scratch" not in state and all(isinstance(v, nc.Tensor) for v in state.values())
    assert state["0.bn.num_batches_tracked"] == 1
    nc.save(state, tmp_path / "m.npz")
    other = _net()
    params = list(other.parameters())
    result = other.load_state_dict(nc.load(tmp_path / "m.npz"))
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert list(other.parameters())[0] is params[0]
    for key, value in other.state_dict().items():
        np.testing.assert_array_equal(value, state[key])
    snapshot = {k: v.clone() for k, v in state.items()}
    with nc.no_grad():
        state["3.weight"].fill_(7)  # the values share the parameters' memory, as torch's
    assert np.all(net.state_dict()["3.weight"].numpy() == 7) and not np.any(snapshot["3.weight"].numpy() == 7)
    state = snapshot
    broken = dict(state)
    del broken["3.bias"]
    broken["extra.weight"] = np.zeros(2)
    with pytest.raises(RuntimeError, match=r"missing keys \['3.bias'\].*unexpected keys \['extra.weight'\]"):
        other.load_state_dict(broken)
    loose = other.load_state_dict(broken, strict=False)
    assert loose.missing_keys == ["3.bias"] and loose.unexpected_keys == ["extra.weight"]
    wrong = dict(state)
    wrong["3.weight"] = np.zeros((5, 3))
    with pytest.raises(RuntimeError, match=r"3.weight: shape \(5, 3\) in the state dict, \(5, 48\) in the model"):
        other.load_state_dict(wrong, strict=False)
    other.load_state_dict({k: v.numpy() for k, v in state.items()})  # numpy arrays load as Tensors do
    other.load_state_dict(state)


def test_to_dtype_keeps_identity():
    net = _net()
    weight = net[3].weight
    net.double()
    assert net[3].weight is weight and weight.dtype == np.float64
    assert net[0].bn.num_batches_tracked.dtype == np.int64
    assert net.to("cpu") is net


def test_repr_is_nested_like_torch():
    text = repr(_net())
    assert text.splitlines()[0] == "Sequential("
    assert ("  (0): Block(\n    (conv): Conv2d(2, 3, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)"
            in text)
    assert "    (bn): BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n  )" in text
    assert "  (3): Linear(in_features=48, out_features=5, bias=True)" in text
    assert text.endswith("  (4): Dropout(p=0.25, inplace=False)\n)")
    assert repr(nn.Parameter(nc.ones(2))).startswith("Parameter containing:\ntensor(")


def test_repr_matches_torch_for_leaf_layers():
    torch = pytest.importorskip("torch")
    pairs = [(nn.Conv2d(3, 8, 3, padding=1), torch.nn.Conv2d(3, 8, 3, padding=1)),
             (nn.Conv2d(3, 8, 5, stride=2, bias=False), torch.nn.Conv2d(3, 8, 5, stride=2, bias=False)),
             (nn.Linear(4, 2), torch.nn.Linear(4, 2)),
             (nn.Flatten(), torch.nn.Flatten()), (nn.Dropout(0.1), torch.nn.Dropout(0.1)), (nn.ReLU(), torch.nn.ReLU()),
             (nn.GELU(), torch.nn.GELU()), (nn.Identity(), torch.nn.Identity())]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)


def _check_uniform(values, bound):
    assert values.min() >= -bound * (1 + 1e-6) and values.max() <= bound * (1 + 1e-6)
    assert values.min() < -0.9 * bound and values.max() > 0.9 * bound
    assert abs(values.std() - bound / math.sqrt(3)) < 0.05 * bound


def test_default_init_bounds_match_torch_rules():
    nc.manual_seed(0)
    conv = nn.Conv2d(16, 32, 3)
    fan_in = 16 * 9
    _check_uniform(conv.weight.numpy() if not conv.weight.requires_grad else conv.weight.detach().numpy(),
                   1 / math.sqrt(fan_in))
    _check_uniform(nn.Linear(300, 200).weight.detach().numpy(), 1 / math.sqrt(300))
    bias = nn.Linear(50, 4000).bias.detach().numpy()
    _check_uniform(bias, 1 / math.sqrt(50))
    grouped = nn.Conv2d(8, 64, 3, groups=4).weight.detach().numpy()
    assert grouped.shape == (64, 2, 3, 3) and np.abs(grouped).max() <= 1 / math.sqrt(18)


def test_init_functions_statistics():
    nc.manual_seed(1)
    w = nc.empty(256, 128, 3, 3)
    fan_in, fan_out = 128 * 9, 256 * 9
    _check_uniform(init.kaiming_uniform_(w).numpy(), math.sqrt(6 / fan_in))
    _check_uniform(init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu").numpy(), math.sqrt(6 / fan_out))
    assert init.kaiming_normal_(w, nonlinearity="relu").numpy().std() == pytest.approx(math.sqrt(2 / fan_in), rel=0.02)
    _check_uniform(init.xavier_uniform_(w, gain=2.0).numpy(), 2.0 * math.sqrt(6 / (fan_in + fan_out)))
    assert init.xavier_normal_(w).numpy().std() == pytest.approx(math.sqrt(2 / (fan_in + fan_out)), rel=0.02)
    assert init.normal_(w, 3.0, 0.5).numpy().mean() == pytest.approx(3.0, abs=0.01)
    assert np.all(init.zeros_(w).numpy() == 0) and np.all(init.ones_(w).numpy() == 1)
    assert init.calculate_gain("tanh") == 5 / 3 and init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.xavier_uniform_(nc.empty(5))
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")


def test_init_is_seeded():
    nc.manual_seed(7)
    a = nn.Conv2d(3, 4, 3).weight.detach().numpy().copy()
    nc.manual_seed(7)
    np.testing.assert_array_equal(a, nn.Conv2d(3, 4, 3).weight.detach().numpy())


def test_init_matches_torch_bounds():
    torch = pytest.importorskip("torch")
    pairs = [(nn.Conv2d(5, 7, (3, 2)), torch.nn.Conv2d(5, 7, (3, 2))), (nn.Linear(9, 3), torch.nn.Linear(9, 3))]
    for ours, theirs in pairs:
        bound = 1 / math.sqrt(theirs.weight[0].numel())
        for name, p in theirs.named_parameters():
            values = dict(ours.named_parameters())[name].detach().numpy()
            assert values.shape == tuple(p.shape) and values.dtype == np.float32
            assert np.abs(values).max() <= bound and np.abs(p.detach().numpy()).max() <= bound


def test_dirac_matches_torch_and_makes_identity_conv():
    torch = pytest.importorskip("torch")
    for shape, groups in [((4, 4, 3, 3), 1), ((6, 2, 3, 3), 2), ((3, 5, 1, 2), 1), ((4, 2, 5), 2)]:
        expected = torch.nn.init.dirac_(torch.empty(shape), groups=groups).numpy()
        np.testing.assert_array_equal(init.dirac_(nc.empty(*shape), groups=groups).numpy(), expected)
    x = np.random.default_rng(0).standard_normal((2, 4, 5, 5)).astype(np.float32)
    weight = init.dirac_(nc.empty(4, 4, 3, 3))
    np.testing.assert_array_equal(F.conv2d(nc.Tensor(x), weight, padding=1).numpy(), x)
    with pytest.raises(ValueError, match="groups=4 must divide the 6"):
        init.dirac_(nc.empty(6, 2, 3, 3), groups=4)
    with pytest.raises(ValueError, match="3-D, 4-D or 5-D"):
        init.dirac_(nc.empty(4, 4))


@settings(max_examples=10)
@given(shape=st.lists(st.integers(1, 6), min_size=1, max_size=3), seed=st.integers(0, 100),
       approximate=st.sampled_from(["none", "tanh"]))
def test_gelu_forward_and_gradcheck(shape, seed, approximate):
    x = np.random.default_rng(seed).standard_normal(shape) * 3
    out = F.gelu(nc.Tensor(x), approximate=approximate)
    np.testing.assert_allclose(out.numpy(), ref_gelu(x, approximate), rtol=1e-12, atol=1e-14)
    t = nc.tensor(x, dtype=np.float64, requires_grad=True)
    assert nc.gradcheck(lambda t: F.gelu(t, approximate=approximate), [t])


def test_gelu_non_contiguous_and_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((5, 7)).astype(np.float32)
    for approximate in ("none", "tanh"):
        ours = nc.tensor(x, requires_grad=True)
        theirs = torch.tensor(x, requires_grad=True)
        yo = nn.GELU(approximate)(ours.T)
        yt = torch.nn.GELU(approximate)(theirs.T)
        np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-6)
        g = np.random.default_rng(1).standard_normal((7, 5)).astype(np.float32)
        yo.backward(nc.tensor(g))
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(nc.ones(2), approximate="fast")


def test_dropout_statistics_scaling_and_gradient():
    nc.manual_seed(0)
    x = nc.ones(200, 500, requires_grad=True)
    layer = nn.Dropout(0.3)
    y = layer(x)
    values = y.detach().numpy()
    kept = values != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(values[kept], 1 / 0.7, rtol=1e-6)
    assert abs(values.mean() - 1.0) < 0.02
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), values)
    layer.eval()
    assert layer(x) is x
    assert F.dropout(x, 0.5, training=False) is x
    assert np.all(F.dropout(x, 1.0).detach().numpy() == 0)
    with pytest.raises(ValueError, match="probability"):
        nn.Dropout(1.5)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_draws_are_uniform_and_uncorrelated(p):
    """The counter-based draws behind the mask: keep rate 1-p, neighbours and successive calls independent."""
    nc.manual_seed(1)
    first = F.dropout(nc.ones(1_000_000), p).numpy() != 0
    second = F.dropout(nc.ones(1_000_000), p).numpy() != 0
    sigma = np.sqrt(p * (1 - p) / first.size)
    assert abs(first.mean() - (1 - p)) < 5 * sigma
    for a, b in ((first[1:], first[:-1]), (first[::2], first[1::2]), (first, second)):
        assert abs(np.corrcoef(a, b)[0, 1]) < 0.01


def test_dropout_is_seeded():
    nc.manual_seed(3)
    a = F.dropout(nc.ones(50)).numpy()
    nc.manual_seed(3)
    np.testing.assert_array_equal(a, F.dropout(nc.ones(50)).numpy())


def test_conv_and_linear_layers_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    pairs = [(nn.Conv2d(3, 4, 3, stride=2, padding=1), torch.nn.Conv2d(3, 4, 3, stride=2, padding=1), (2, 3, 7, 6)),
             (nn.Conv2d(4, 6, (3, 1), groups=2, bias=False), torch.nn.Conv2d(4, 6, (3, 1), groups=2, bias=False),
              (1, 4, 5, 5)),
             (nn.Linear(6, 3), torch.nn.Linear(6, 3), (4, 6))]
    for ours, theirs, shape in pairs:
        theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
        x = rng.standard_normal(shape).astype(np.float32)
        xo, xt = nc.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yo, yt = ours(xo), theirs(xt)
        np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
        yo.sum().backward()
        yt.sum().backward()
        np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
        for name, p in theirs.named_parameters():
            ours_grad = dict(ours.named_parameters())[name].grad.numpy()
            np.testing.assert_allclose(ours_grad, p.grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("layer, args, shape", [
    ("MaxPool2d", (2,), (2, 3, 6, 7)),
    ("MaxPool2d", (3, 2, 1), (1, 2, 7, 7)),
    ("AvgPool2d", (2,), (2, 3, 6, 6)),
    ("AvgPool2d", (3, 1, 1), (1, 2, 5, 5)),
    ("AdaptiveAvgPool2d", (1,), (2, 3, 5, 5)),
    ("AdaptiveAvgPool2d", ((2, 3),), (1, 2, 6, 6)),
])
def test_pool_layers_match_torch(layer, args, shape):
    torch = pytest.importorskip("torch")
    function = {"MaxPool2d": "max_pool2d", "AvgPool2d": "avg_pool2d", "AdaptiveAvgPool2d": "adaptive_avg_pool2d"}[layer]
    if not hasattr(F, function):
        pytest.skip(f"F.{function} has not landed yet")
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    xo, xt = nc.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = getattr(nn, layer)(*args)(xo), getattr(torch.nn, layer)(*args)(xt)
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    yo.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert repr(getattr(nn, layer)(*args)) == repr(getattr(torch.nn, layer)(*args))


def test_identity_relu_flatten():
    x = nc.randn(2, 3, 4)
    assert nn.Identity(7, key=1)(x) is x
    np.testing.assert_array_equal(nn.ReLU()(x).numpy(), np.maximum(x.numpy(), 0))
    assert nn.Flatten()(x).shape == (2, 12) and nn.Flatten(0, 1)(x).shape == (6, 4)


def test_gelu_float32_accuracy_over_a_wide_range():
    x = np.linspace(-12, 12, 20001).astype(np.float32)
    t = nc.tensor(x, requires_grad=True)
    y = F.gelu(t)
    y.sum().backward()
    x64 = x.astype(np.float64)
    cdf = 0.5 * (1 + np.vectorize(math.erf)(x64 / math.sqrt(2)))
    np.testing.assert_allclose(y.detach().numpy(), x64 * cdf, rtol=2e-6, atol=1e-7)
    deriv = cdf + x64 * np.exp(-0.5 * x64**2) / math.sqrt(2 * math.pi)
    np.testing.assert_allclose(t.grad.numpy(), deriv, rtol=2e-6, atol=3e-7)


def test_sequential_fuses_conv_relu_with_the_same_result():
    nc.manual_seed(2)
    conv, relu = nn.Conv2d(3, 4, 3, padding=1), nn.ReLU()
    x = nc.randn(2, 3, 5, 5, requires_grad=True)
    fused = nn.Sequential(conv, relu)(x)
    assert fused.grad_fn.name() == "Conv2dBackward"
    separate = relu(conv(x))
    np.testing.assert_array_equal(fused.detach().numpy(), separate.detach().numpy())
    g = nc.randn(2, 4, 5, 5)
    fused.backward(g)
    first = [x.grad.numpy().copy(), conv.weight.grad.numpy().copy(), conv.bias.grad.numpy().copy()]
    x.grad = conv.weight.grad = conv.bias.grad = None
    separate.backward(g)
    for a, b in zip(first, [x.grad.numpy(), conv.weight.grad.numpy(), conv.bias.grad.numpy()]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_module_list_registers_slices_and_refuses_non_modules():
    layers = nn.ModuleList([nn.Linear(3, 4), nn.ReLU()])
    layers.append(nn.Linear(4, 2)).extend([nn.Identity()])
    assert len(layers) == 4 and isinstance(layers[-2], nn.Linear)
    assert [name for name, _ in layers.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    with pytest.raises(TypeError, match="not a Module"):
        layers.append(nc.ones(2))
    with pytest.raises(IndexError, match="out of range for 4 modules"):
        layers[4]


def test_loss_modules_match_the_functional_losses():
    logits, labels = nc.randn(5, 4), nc.tensor([0, 3, 1, 1, 2])
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1, reduction="sum")
    expected = F.cross_entropy(logits, labels, label_smoothing=0.1, reduction="sum")
    assert criterion(logits, labels).item() == expected.item()
    assert repr(criterion) == "CrossEntropyLoss(reduction='sum', label_smoothing=0.1)"
    target = nc.randn(5, 4)
    assert nn.MSELoss()(logits, target).item() == F.mse_loss(logits, target).item()
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.MSELoss(reduction="avg")(logits, target)
