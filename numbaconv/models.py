"""The CIFAR-10 CNNs: the two seed examples and the stronger default (cf. torchvision.models builders)."""
from . import nn


def keras_net(num_classes=10):
    """Keras example: conv 3→32→64→128 (3×3 valid), each + ReLU + max-pool 2; dense 512, 10."""
    return nn.Sequential(
        nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(128 * 2 * 2, 512), nn.ReLU(), nn.Linear(512, num_classes),
    )


def torch_net(num_classes=10):
    """PyTorch example: conv 3→64→64→128→128 (3×3, padding 1), each + ReLU + max-pool 2; fc 512→512→10."""
    return nn.Sequential(
        nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(128, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(128 * 2 * 2, 512), nn.ReLU(), nn.Linear(512, num_classes),
    )


def _conv_bn(c_in, c_out):
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.GELU()]


def default_net(num_classes=10, widths=(64, 128, 256)):
    """airbench-style: a conv stem, then per width two conv-BN-GELU with a max-pool; global pool, linear."""
    layers = _conv_bn(3, widths[0] // 2)
    c_in = widths[0] // 2
    for width in widths:
        layers += [nn.Conv2d(c_in, width, 3, padding=1, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(width), nn.GELU()]
        layers += _conv_bn(width, width)
        c_in = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, num_classes)]
    return nn.Sequential(*layers)


MODELS = {"keras_net": keras_net, "torch_net": torch_net, "default_net": default_net}


def build(name, **kwargs):
    """The model called ``name`` (one of MODELS), or a ValueError listing the names."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; expected one of {sorted(MODELS)}")
    return MODELS[name](**kwargs)
