"""`numbaconv visualize CHECKPOINT --out DIR`: PNGs of a trained CNN's first-layer filters, every conv layer's
feature maps for a few test images, and an input image beside one channel's output (needs the `plot` extra).
Cf. Keras' "visualizing what convnets learn"; the feature maps are the conv outputs, as a forward hook on each
torch.nn.Conv2d would record them."""
import os

from . import data, models, nn
from .autograd import no_grad
from .training import load_cifar, load_weights, make_loader, read_checkpoint
from .utils import plot


def add_parser(subparsers):
    """Register `visualize` on the `numbaconv` subparsers."""
    p = subparsers.add_parser("visualize", help="PNGs of a checkpoint's filters and feature maps (needs matplotlib)")
    p.add_argument("checkpoint", help="a checkpoint.npz written by `numbaconv train`")
    p.add_argument("--data-dir", help="folder with cifar-10-batches-bin/ or cifar-10-batches-py/")
    p.add_argument("--download", action="store_true", help="download the official archive if absent")
    p.add_argument("--out", required=True, help="folder for the PNGs")
    p.add_argument("--images", type=int, default=4, help="test images to show (the first N; default 4)")
    p.add_argument("--channels", type=int, default=16, help="channels shown per conv layer (default 16)")
    p.add_argument("--layer", type=int, default=1, help="conv layer (1 = first) of the input/output figure")
    p.add_argument("--channel", type=int, default=0, help="output channel of the input/output figure")
    return p


def load_model(path):
    """The model of a `numbaconv train` checkpoint, in eval mode, and its name (a one-line ValueError for a foreign or
    mismatched file, as `numbaconv evaluate`)."""
    state = read_checkpoint(path)
    model = models.build(state["model_name"])
    load_weights(model, state, path)
    return model.eval(), state["model_name"]


def conv_layers(model):
    """The Conv2d modules of ``model`` in the order they were registered (forward order in an nn.Sequential)."""
    return [module for module in model.modules() if isinstance(module, nn.Conv2d)]


@no_grad()
def conv_outputs(model, images):
    """The output of every Conv2d of an nn.Sequential ``model`` on ``images``, as numpy arrays in forward order."""
    if not isinstance(model, nn.Sequential):
        raise ValueError(f"conv_outputs: needs an nn.Sequential model, got {type(model).__name__}")
    outputs = []
    for module in model:
        images = module(images)
        if isinstance(module, nn.Conv2d):
            outputs.append(images.numpy())
    return outputs


def _check(args, layers):
    for name, value in (("--images", args.images), ("--channels", args.channels), ("--layer", args.layer)):
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    if args.layer > len(layers):
        raise ValueError(f"--layer {args.layer}: the model has {len(layers)} conv layers")
    width = layers[args.layer - 1].out_channels
    if not 0 <= args.channel < width:
        raise ValueError(f"--channel {args.channel}: conv layer {args.layer} has channels 0-{width - 1}")


def visualize(args):
    """Write filters.png, conv{K}_feature_maps.png per conv layer and input_output.png into ``args.out``; returns
    their paths."""
    model, name = load_model(args.checkpoint)
    layers = conv_layers(model)
    _check(args, layers)
    test_set = load_cifar(args.data_dir, args.download, train=False)
    sample = data.Subset(test_set, range(min(args.images, len(test_set))))
    (batch, _), = make_loader(sample, len(sample), train=False, augment=False, seed=0)
    outputs = conv_outputs(model, batch)
    os.makedirs(args.out, exist_ok=True)
    figures = {"filters.png": plot.plot_filters(layers[0].weight, title=f"{name}: first conv layer's filters")}
    for k, maps in enumerate(outputs, 1):
        figures[f"conv{k}_feature_maps.png"] = plot.plot_feature_maps(maps, args.channels,
                                                                      title=f"{name}: conv {k} outputs")
    images = test_set.data[:len(sample)]
    channel = outputs[args.layer - 1][:, args.channel]
    figures["input_output.png"] = plot.plot_input_output(
        images, channel, title=f"input image / output image (conv {args.layer}, channel {args.channel})")
    return [plot.save_figure(figure, os.path.join(args.out, file)) for file, figure in figures.items()]


def run(args):
    """The `visualize` command: without matplotlib a ValueError naming the extra (the CLI's one-line error), before
    any work; then draw."""
    try:
        plot.require()
    except ImportError:
        raise ValueError(f"visualize needs matplotlib: {plot.EXTRA}") from None
    paths = visualize(args)
    print(f"wrote {len(paths)} PNGs to {args.out}: {', '.join(os.path.basename(p) for p in paths)}")
