"""The PyTorch twin of a shipped numbaconv model: the same layers, weights, frozen parameters and optimizer groups.

``twin(model)`` walks numbaconv's Sequential layer by layer (every shipped model is one) and builds the
torch.nn equivalent with the same weights; ``twin_optimizer(name, model, torch_model)`` builds the recipe's
optimizer over the same parameter groups (training.parameter_groups), matched by parameter name. Torch is
optional in bench/: this module needs it.
"""
import numpy as np
import torch

from numbaconv import models, nn, training


class Scale(torch.nn.Module):
    """Multiply by a constant (the twin of models._Scale)."""

    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def forward(self, input):
        return input * self.factor


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _layer(module):
    """The torch.nn module matching one numbaconv layer (weights copied by ``twin``)."""
    t = torch.nn
    if isinstance(module, nn.Conv2d):
        return t.Conv2d(module.in_channels, module.out_channels, module.kernel_size, stride=module.stride,
                        padding=module.padding, dilation=module.dilation, groups=module.groups,
                        bias=module.bias is not None)
    if isinstance(module, nn.BatchNorm2d):
        return t.BatchNorm2d(module.num_features, eps=module.eps, momentum=module.momentum, affine=module.affine)
    if isinstance(module, nn.MaxPool2d):
        return t.MaxPool2d(module.kernel_size, module.stride, module.padding, module.dilation,
                           ceil_mode=module.ceil_mode)
    if isinstance(module, nn.Linear):
        return t.Linear(module.in_features, module.out_features, bias=module.bias is not None)
    simple = {nn.ReLU: t.ReLU, nn.Flatten: t.Flatten, nn.Identity: t.Identity}
    if type(module) in simple:
        return simple[type(module)]()
    if isinstance(module, nn.GELU):
        return t.GELU(approximate=module.approximate)
    if isinstance(module, models._Scale):
        return Scale(module.factor)
    raise NotImplementedError(f"no PyTorch twin for layer {type(module).__name__}")


def twin(model):
    """A torch.nn.Sequential with ``model``'s layers, weights (in their dtype), buffers, frozen parameters and
    train/eval mode."""
    dtype = getattr(torch, str(next(model.parameters()).dtype))
    layers = torch.nn.Sequential(*[_layer(m) for m in model]).to(dtype)
    theirs = dict(layers.named_parameters())
    for name, value in model.state_dict().items():
        target = layers.state_dict()[name]
        target.copy_(torch.from_numpy(np.asarray(value)).to(target.dtype))
    for name, parameter in model.named_parameters():
        theirs[name].requires_grad_(parameter.requires_grad)
    return layers.train(model.training)


def twin_optimizer(name, model, torch_model):
    """The recipe's optimizer of model ``name`` over the torch twin's parameters, group by group."""
    recipe = models.recipe(name)
    names = {id(p): n for n, p in model.named_parameters()}
    theirs = dict(torch_model.named_parameters())
    groups = [dict(group, params=[theirs[names[id(p)]] for p in group["params"]])
              for group in training.parameter_groups(model, recipe.lr, recipe.weight_decay, recipe.bias_lr_scale)]
    if recipe.optimizer == "sgd":
        return torch.optim.SGD(groups, momentum=recipe.momentum, nesterov=recipe.momentum > 0)
    if recipe.optimizer == "adam":
        return torch.optim.Adam(groups)
    if recipe.optimizer == "adamw":
        return torch.optim.AdamW(groups)
    raise NotImplementedError(f"no PyTorch twin for optimizer {recipe.optimizer!r}")
