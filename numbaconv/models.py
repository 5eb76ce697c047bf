"""The CIFAR-10 CNNs, the four networks of the articles and the stronger default, each with its training recipe
(cf. torchvision.models builders and their weights' recipes)."""
import dataclasses

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import nn
from .tensor import Tensor


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


def _bn_block(c_in, c_out):
    return [nn.Conv2d(c_in, c_out, 3, padding="same"), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]


def vgg_bn_net(num_classes=10):
    """TensorFlow article's BatchNorm network (Keras Conv2D 'same' → BatchNormalization → ReLU): conv 3×3 with
    64, 128, 256, 512 filters, each + BN + ReLU; flatten, dense 1024 + ReLU, dense 10. The convs keep their biases
    (Keras' default), though BN cancels them.

    The article's code has no pooling, which would give the first dense layer 512·32·32·1024 ≈ 537 M weights on
    32×32 inputs; here a 2×2 max-pool follows each block (as in VGG), so it sees 512·2·2."""
    layers = []
    for c_in, c_out in ((3, 64), (64, 128), (128, 256), (256, 512)):
        layers += _bn_block(c_in, c_out)
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(512 * 2 * 2, 1024), nn.ReLU(),
                         nn.Linear(1024, num_classes))


def tf_same_net(num_classes=10):
    """TensorFlow example of the neural-network article: conv 3→32→64→128 (3×3 'same'), each + ReLU + max-pool 2;
    dense 512, 10. The flatten is 128·4·4 = 2048 on 32×32 inputs (the article's 768 does not match) and the
    output has CIFAR-10's 10 classes (the article's has 3)."""
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(128 * 4 * 4, 512), nn.ReLU(), nn.Linear(512, num_classes),
    )


class _Scale(nn.Module):
    """Multiply by a constant (airbench's output scaling; PyTorch has no module for it)."""

    def __init__(self, factor):
        super().__init__()
        self.factor = float(factor)

    def forward(self, input):
        return input * self.factor

    def extra_repr(self):
        return f"factor={self.factor}"


def _conv(c_in, c_out):
    """3×3 'same' conv without bias whose first ``c_in`` filters start as the identity (airbench's init)."""
    conv = nn.Conv2d(c_in, c_out, 3, padding="same", bias=False)
    nn.init.dirac_(Tensor(conv.weight.array[:min(c_in, c_out)]))
    return conv


def _batch_norm(width):
    """BatchNorm with the scale frozen at 1 (only the shift learns), fast running statistics and eps 1e-12, as
    airbench."""
    norm = nn.BatchNorm2d(width, eps=1e-12, momentum=0.4)
    norm.weight.requires_grad_(False)
    return norm


def _conv_group(c_in, c_out):
    return [_conv(c_in, c_out), nn.MaxPool2d(2), _batch_norm(c_out), nn.GELU(),
            _conv(c_out, c_out), _batch_norm(c_out), nn.GELU()]


def airbench94(num_classes=10, widths=(64, 256, 256)):
    """airbench94's network (Keller Jordan's CIFAR-10 speedrun): a 2×2 stem conv (3→24, whitened and frozen by
    ``init_from_data``, its bias zero and trained for the recipe's first epochs) + GELU, three groups of conv,
    max-pool, BN-GELU, conv, BN-GELU, a final 3×3 max-pool and a bias-free linear layer scaled by 1/9."""
    stem = nn.Conv2d(3, 24, 2)
    nn.init.zeros_(stem.bias)
    layers = [stem, nn.GELU()]
    c_in = 24
    for width in widths:
        layers += _conv_group(c_in, width)
        c_in = width
    layers += [nn.MaxPool2d(3), nn.Flatten(), nn.Linear(c_in, num_classes, bias=False), _Scale(1 / 9)]
    return nn.Sequential(*layers)


def default_net(num_classes=10, widths=(64, 256, 256)):
    """The old name of airbench94 (an alias: ``--model default_net`` trains airbench94 with its recipe)."""
    return airbench94(num_classes, widths)


def whiten_(conv, images, eps=5e-4):
    """airbench's patch-whitening start for a stem conv with 2·C·kh·kw filters: the eigenvectors of the covariance of
    the ``images``' kh×kw patches scaled by 1/sqrt(eigenvalue + eps), then their negatives; the weights are frozen."""
    c_out, c_in, kh, kw = conv.weight.shape
    images = np.asarray(images.numpy() if isinstance(images, Tensor) else images, dtype=np.float64)
    if images.ndim != 4 or images.shape[1] != c_in or c_out != 2 * c_in * kh * kw:
        raise ValueError(f"whiten_: needs (N, {c_in}, H, W) images and {2 * c_in * kh * kw} filters; got images "
                         f"{images.shape} for a conv of weight {conv.weight.shape}")
    patches = sliding_window_view(images, (kh, kw), axis=(2, 3)).transpose(0, 2, 3, 1, 4, 5).reshape(-1, c_in * kh * kw)
    eigenvalues, eigenvectors = np.linalg.eigh(patches.T @ patches / len(patches))
    filters = (eigenvectors / np.sqrt(eigenvalues + eps)).T[::-1].reshape(-1, c_in, kh, kw)
    conv.weight.array[...] = np.concatenate([filters, -filters])
    conv.weight.requires_grad_(False)
    return conv


def init_from_data(name, model, images):
    """The data-dependent start of model ``name`` from normalised training ``images`` (airbench94 whitens its stem
    conv); the other models are left as built."""
    if canonical(name) == "airbench94":
        whiten_(model[0], images)
    return model


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How a model trains unless told otherwise: what `numbaconv train` and training.TrainConfig default to.

    ``epochs`` may be fractional (the last epoch stops early); ``flip`` is "random" (each image mirrored with
    probability 1/2 in every epoch), "alternating" (random in the first epoch, then each image mirrored in every
    other epoch, data.AlternatingFlip) or "none"; ``padding_mode`` is the random translation's padding
    ("constant": black, "reflect"); ``lookahead`` averages the weights as airbench does (optim.swa_utils.Lookahead);
    ``tta`` is the test-time augmentation level of the final evaluation (numbaconv.tta); ``stem_bias_epochs`` > 0
    trains the first conv's bias only for that many epochs; ``eval_every`` N evaluates the test set every N epochs
    (0: only after the last).
    """

    batch_size: int
    lr: float
    optimizer: str
    schedule: str
    momentum: float
    weight_decay: float
    label_smoothing: float = 0.0
    bias_lr_scale: float = 1.0
    crop_padding: int = 4
    epochs: float = 10
    flip: str = "random"
    padding_mode: str = "constant"
    lookahead: bool = False
    tta: int = 0
    drop_last: bool = False
    stem_bias_epochs: int = 0
    eval_every: int = 1


_ADAM = Recipe(batch_size=128, lr=2e-3, optimizer="adam", schedule="onecycle", momentum=0.9, weight_decay=0.0)
MODELS = {"keras_net": keras_net, "torch_net": torch_net, "airbench94": airbench94, "vgg_bn_net": vgg_bn_net,
          "tf_same_net": tf_same_net}
ALIASES = {"default_net": "airbench94"}
RECIPES = {
    "keras_net": _ADAM,
    "torch_net": _ADAM,
    # airbench94's hyperparameters (lr 11.5 and decay 0.0153 per 1024 images of a summed loss, momentum 0.85) as a
    # mean loss: lr 11.5 * 1024 / (1024 * (1 + 1 / 0.15)) = 1.5 and decay 0.0153 / 11.5 at any batch size; the
    # "triangle" schedule goes 0.2 -> 1 over the first 23 % of the steps, then -> 0.07
    "airbench94": Recipe(batch_size=1024, lr=1.5, optimizer="sgd", schedule="triangle", momentum=0.85,
                         weight_decay=0.0153 / 11.5, label_smoothing=0.2, bias_lr_scale=64.0, crop_padding=2,
                         epochs=9.9, flip="alternating", padding_mode="reflect", lookahead=True, tta=2,
                         drop_last=True, stem_bias_epochs=3, eval_every=0),
    # rates picked by 2-epoch pilots on 10,000 images, test accuracy: vgg_bn_net 0.05 54.1 % (0.2: 14.0 % after its
    # first epoch, stopped; 0.05 had 31.5 % there), tf_same_net 3e-3 45.8 % (1e-3: 44.2 %); epochs: what fit ~25 min
    "vgg_bn_net": Recipe(batch_size=128, lr=0.05, optimizer="sgd", schedule="onecycle", momentum=0.9,
                         weight_decay=5e-4, epochs=2),
    "tf_same_net": Recipe(batch_size=128, lr=3e-3, optimizer="adam", schedule="onecycle", momentum=0.9,
                          weight_decay=0.0, epochs=3),
}


def canonical(name):
    """The model ``name`` stands for (an alias's target), or a ValueError listing the names."""
    name = ALIASES.get(name, name)
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; expected one of {sorted(MODELS)} (or an alias: "
                         f"{', '.join(f'{a} = {t}' for a, t in ALIASES.items())})")
    return name


def build(name, **kwargs):
    """The model called ``name`` (one of MODELS or an alias), or a ValueError listing the names."""
    return MODELS[canonical(name)](**kwargs)


def recipe(name):
    """The training Recipe of model ``name`` (or of an alias's target), or a ValueError listing the names."""
    return RECIPES[canonical(name)]
