"""numbaconv.models and the training helpers: shapes, airbench's init, recipes, parameter groups, schedules."""
import os

import numpy as np
import pytest

import numbaconv as nc
from numbaconv import models, nn
from numbaconv.nn import functional as F
from numbaconv.training import TrainConfig, make_optimizer, make_schedule, parameter_groups


@pytest.mark.parametrize("name, parameters",
                         [("keras_net", 361_034), ("torch_net", 527_946), ("default_net", 1_972_792),
                          ("vgg_bn_net", 3_661_322), ("tf_same_net", 1_147_466)])
def test_models_map_cifar_batches_to_ten_logits(name, parameters):
    model = models.build(name)
    assert sum(p.numel() for p in model.parameters()) == parameters
    x = nc.Tensor(np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32))
    assert model(x).shape == (2, 10)


@pytest.mark.parametrize("name, widths, flat", [("vgg_bn_net", [64, 128, 256, 512], 512 * 2 * 2),
                                                ("tf_same_net", [32, 64, 128], 128 * 4 * 4)])
def test_article_nets_have_same_convs_each_followed_by_a_2x2_pool(name, widths, flat):
    model = models.build(name)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == widths
    assert all(c.kernel_size == (3, 3) and c.padding == "same" for c in convs)
    assert sum(isinstance(m, nn.MaxPool2d) for m in model.modules()) == len(widths)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == (len(widths) if name == "vgg_bn_net" else 0)
    flatten = [i for i, m in enumerate(model) if isinstance(m, nn.Flatten)][0]
    x = nc.randn(2, 3, 32, 32)
    assert model[:flatten + 1](x).shape == (2, flat) and model[flatten + 1].in_features == flat


@pytest.mark.parametrize("name", ["vgg_bn_net", "tf_same_net"])
def test_article_nets_take_a_training_step_with_their_recipe(name):
    nc.manual_seed(0)
    model, config = models.build(name), TrainConfig(model=name)
    optimizer = make_optimizer(config.optimizer, parameter_groups(model, config.lr, config.weight_decay),
                               config.momentum)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    images, labels = nc.randn(4, 3, 32, 32), nc.tensor([0, 3, 5, 9])
    loss = F.cross_entropy(model(images), labels, label_smoothing=config.label_smoothing)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    assert np.isfinite(loss.item())
    after = model.state_dict()
    assert [k for k in before if np.array_equal(before[k], after[k])] == []


def test_default_net_starts_with_identity_filters_and_frozen_norm_scales():
    model = models.default_net()
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(24, 64), (64, 64), (64, 256), (256, 256), (256, 256),
                                                                (256, 256)]
    for conv in convs:
        weight, c_in = conv.weight.detach().numpy(), conv.in_channels
        identity = np.zeros((c_in, c_in, 3, 3), np.float32)
        identity[np.arange(c_in), np.arange(c_in), 1, 1] = 1
        np.testing.assert_array_equal(weight[:c_in], identity)
        assert weight.shape[0] == c_in or np.abs(weight[c_in:]).max() > 0
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(norms) == 6 and all(not n.weight.requires_grad and n.bias.requires_grad for n in norms)


def test_bias_lr_scale_gives_norm_shifts_their_own_group_with_equal_decay_per_step():
    model = models.default_net()
    plain = parameter_groups(model, 0.5, 1e-3)
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert len(plain) == 1 and [id(p) for p in plain[0]["params"]] == [id(p) for p in trainable]
    others, shifts = parameter_groups(model, 0.5, 1e-3, bias_lr_scale=64.0)
    norm_biases = [m.bias for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert {id(p) for p in shifts["params"]} == {id(p) for p in norm_biases}
    assert len(others["params"]) + len(shifts["params"]) == len(trainable)
    assert shifts["lr"] == 32.0 and others["lr"] == 0.5
    assert shifts["lr"] * shifts["weight_decay"] == pytest.approx(others["lr"] * others["weight_decay"])


def test_linear_schedule_is_airbench_triangle_per_group():
    model = models.default_net()
    optimizer = make_optimizer("sgd", parameter_groups(model, 1.0, 0.0, bias_lr_scale=10.0), momentum=0.85)
    schedule = make_schedule("linear", optimizer, epochs=2, steps_per_epoch=50)
    rates = []
    for _ in range(100):
        rates.append([group["lr"] for group in optimizer.param_groups])
        optimizer.step()
        schedule.step()
    rates = np.array(rates)
    np.testing.assert_allclose(rates[:, 1], 10 * rates[:, 0])
    assert rates[0, 0] == pytest.approx(0.2) and rates[19, 0] == pytest.approx(1.0)
    np.testing.assert_allclose(np.diff(rates[:20, 0]), 0.8 / 19)
    np.testing.assert_allclose(np.diff(rates[19:, 0]), -np.ptp(rates[19:, 0]) / 80, rtol=1e-6)
    assert rates[-1, 0] < 1e-3 and all(group["momentum"] == 0.85 for group in optimizer.param_groups)


def test_whiten_makes_stem_outputs_uncorrelated_with_unit_variance_and_freezes_them():
    rng = np.random.default_rng(0)
    mixing = rng.standard_normal((3, 3))
    images = np.einsum("ij,njhw->nihw", mixing, rng.standard_normal((40, 3, 12, 12))).astype(np.float32)
    images[:, :, :, 1:] += 0.5 * images[:, :, :, :-1]
    model = models.init_from_data("default_net", models.default_net(), images)
    stem = model[0]
    assert not stem.weight.requires_grad and stem.bias.requires_grad
    np.testing.assert_array_equal(stem.weight.detach().numpy()[12:], -stem.weight.detach().numpy()[:12])
    weight = models.whiten_(stem, images, eps=0.0).weight.detach().numpy()
    out = F.conv2d(nc.Tensor(images.astype(np.float64)), nc.Tensor(weight[:12].astype(np.float64))).numpy()
    flat = out.transpose(1, 0, 2, 3).reshape(12, -1)
    np.testing.assert_allclose(flat @ flat.T / flat.shape[1], np.eye(12), atol=1e-4)
    with pytest.raises(ValueError, match=r"needs \(N, 3, H, W\) images and 24 filters"):
        models.whiten_(stem, images[:, :2])


def test_init_from_data_leaves_other_models_as_built():
    nc.manual_seed(0)
    model = models.torch_net()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    models.init_from_data("torch_net", model, np.zeros((2, 3, 32, 32), np.float32))
    assert all(np.array_equal(before[k].numpy(), v.numpy()) for k, v in model.state_dict().items())


def test_every_model_has_a_recipe_and_unknown_names_are_refused():
    assert set(models.RECIPES) == set(models.MODELS)
    for name in ("resnet9000", None):
        with pytest.raises(ValueError, match="unknown model"):
            models.recipe(name)
        with pytest.raises(ValueError, match=r"TrainConfig.model must be one of \[.*'vgg_bn_net'\] or an alias "
                                             r"\(default_net\), got"):
            TrainConfig(model=name)


def test_train_config_fields_left_out_take_the_recipe():
    config = TrainConfig(model="default_net", lr=0.1, weight_decay=0.0)
    assert (config.lr, config.weight_decay, config.momentum) == (0.1, 0.0, 0.85)
    assert config.model == "airbench94" and config.out == os.path.join("runs", "default_net")  # the old runs folder
