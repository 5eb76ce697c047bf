"""`numbaconv train | evaluate | bench-info`: the command line (python -m numbaconv)."""
import argparse
import os
import sys

from .backends import DEVICES, unavailable_reason


def _train_parser(sub):
    p = sub.add_parser("train", help="train a CNN on CIFAR-10")
    p.add_argument("--model", default="keras_net", help="keras_net, torch_net or default_net")
    p.add_argument("--epochs", type=int, help="passes over the training set (model default if omitted)")
    p.add_argument("--batch-size", type=int, help="images per step (model default if omitted)")
    p.add_argument("--lr", type=float, help="peak learning rate (model default if omitted)")
    p.add_argument("--optimizer", help="sgd, adam or adamw")
    p.add_argument("--schedule", help="onecycle, linear, cosine, step or none")
    p.add_argument("--momentum", type=float)
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--label-smoothing", type=float)
    p.add_argument("--bias-lr-scale", type=float,
                   help="learning-rate factor for BatchNorm shifts (decay per step kept)")
    p.add_argument("--crop-padding", type=int, help="zero padding before the random 32x32 crop")
    p.add_argument("--no-augment", action="store_true", help="turn off random crop + flip")
    p.add_argument("--data-dir", help="folder with cifar-10-batches-bin/ or cifar-10-batches-py/")
    p.add_argument("--download", action="store_true", help="download the official archive if absent")
    p.add_argument("--device", default="cpu", choices=DEVICES)
    p.add_argument("--threads", type=int, help="CPU threads for the kernels (default: all cores)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="output folder (default runs/MODEL)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.npz")
    p.add_argument("--limit", type=int, help="use only the first N training images (smoke runs)")
    p.add_argument("--tta", action="store_true", help="after the last epoch also report flip test-time augmentation")


def _evaluate_parser(sub):
    p = sub.add_parser("evaluate", help="test accuracy and per-class table of a checkpoint")
    p.add_argument("checkpoint")
    p.add_argument("--data-dir")
    p.add_argument("--download", action="store_true")
    p.add_argument("--device", default="cpu", choices=DEVICES)
    p.add_argument("--grid", help="save a PNG grid of test images with predicted/true labels (needs matplotlib)")
    p.add_argument("--tta", action="store_true", help="average the logits of each image and its mirror image")


def _check_device(device):
    """A ValueError (one line, naming --device) when ``device`` cannot run here."""
    reason = unavailable_reason(device)
    if reason is not None:
        raise ValueError(f"--device {device}: {reason}")


def train_config(args):
    """The TrainConfig of parsed `train` arguments; options left out take the model's recipe (models.RECIPES)."""
    from .training import TrainConfig

    return TrainConfig(
        model=args.model, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, optimizer=args.optimizer,
        schedule=args.schedule, momentum=args.momentum, weight_decay=args.weight_decay,
        label_smoothing=args.label_smoothing, bias_lr_scale=args.bias_lr_scale, augment=not args.no_augment,
        crop_padding=args.crop_padding, data_dir=args.data_dir, download=args.download, device=args.device,
        seed=args.seed, out=args.out, resume=args.resume, limit=args.limit, tta=args.tta,
    )


def _train(args):
    from .training import fit

    _check_device(args.device)
    config = train_config(args)
    if args.threads:
        from . import set_num_threads

        set_num_threads(args.threads)
    fit(config)


def _evaluate(args):
    from . import models
    from .serialization import load
    from .training import evaluate, load_cifar, make_loader

    _check_device(args.device)
    state = load(args.checkpoint)
    for key in ("model_name", "model"):
        if key not in state:
            raise SystemExit(f"error: {args.checkpoint} is not a numbaconv training checkpoint (no {key!r})")
    model = models.build(state["model_name"])
    model.load_state_dict(state["model"])
    model.to(args.device)
    test_set = load_cifar(args.data_dir, args.download, train=False)
    loader = make_loader(test_set, 500, False, False, 0)
    loss, accuracy, predictions, truths = evaluate(model, loader, args.device, tta=args.tta)
    print(f"{state['model_name']} after epoch {state.get('epoch', '?')}: test loss {loss:.4f}, "
          f"accuracy {accuracy:.4f}" + (" (flip TTA)" if args.tta else ""))
    print(f"{'class':<12}{'accuracy':>10}{'images':>8}")
    for index, name in enumerate(test_set.classes):
        mask = truths == index
        print(f"{name:<12}{(predictions[mask] == index).mean():>10.4f}{int(mask.sum()):>8}")
    if args.grid:
        from .report import save_prediction_grid

        save_prediction_grid(args.grid, test_set, predictions)
        print(f"wrote {args.grid}")


def _bench_info(args):
    import platform

    import numba
    import numpy

    from . import __version__

    print(f"numbaconv {__version__}, numpy {numpy.__version__}, numba {numba.__version__}, "
          f"python {platform.python_version()}, {os.cpu_count()} CPUs")
    print(f"threading layer request: {numba.config.THREADING_LAYER}, threads: {numba.config.NUMBA_NUM_THREADS}")


def build_parser():
    """The `numbaconv` argument parser with its three subcommands."""
    parser = argparse.ArgumentParser(prog="numbaconv", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _train_parser(sub)
    _evaluate_parser(sub)
    sub.add_parser("bench-info", help="versions and thread settings")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    handler = {"train": _train, "evaluate": _evaluate, "bench-info": _bench_info}[args.command]
    try:
        handler(args)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
