"""`numbaconv train | evaluate | visualize | bench-info`: the command line (python -m numbaconv).

Every option is checked before any work starts; a bad one, a missing or foreign file, ends the run with one
line ``error: --OPTION ...`` (or naming the file) on stderr and exit status 2, never a traceback. Ctrl-C ends
with status 130 and says where the last complete checkpoint is and how to resume from it.
"""
import argparse
import importlib.util
import os
import shlex
import sys
import time

from . import visualize
from .backends import DEVICES, unavailable_reason

TRAIN_EPILOG = """\
data-parallel training over MPI (pip install 'numbaconv[mpi]'):
  mpiexec -n 2 numbaconv train --threads 1
      2 processes on this machine, 1 thread each; --batch-size is the global batch, split evenly
  mpiexec -n 16 --hostfile hosts numbaconv train --out /shared/runs/airbench94
      16 processes over the machines in the file hosts (one line per machine: "node1 slots=8"); --out on a
      disk every machine sees, for --resume
  Only rank 0 prints and writes metrics.csv, the checkpoint and the plot; --resume needs the same -n.
  --lr belongs to the global batch: the same options train as one process would on that batch. When you
  make the global batch k times larger, scale --lr by about k (the linear scaling rule; keep a warm-up).
  --threads is per process (default: this machine's cores divided among its processes). Open MPI wants
  --oversubscribe when processes x threads exceed the cores, and --allow-run-as-root as root.
"""


def _train_parser(sub):
    p = sub.add_parser("train", help="train a CNN on CIFAR-10 (also under mpiexec: see below)",
                       epilog=TRAIN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="airbench94",
                   help="airbench94 (the default; default_net is its old name), keras_net, torch_net, vgg_bn_net or "
                        "tf_same_net")
    p.add_argument("--epochs", type=float,
                   help="passes over the training set, a fraction stopping the last one early (model default if "
                        "omitted)")
    p.add_argument("--batch-size", type=int,
                   help="images per step, over all processes under mpiexec (model default if omitted)")
    p.add_argument("--lr", type=float, help="peak learning rate (model default if omitted)")
    p.add_argument("--optimizer", help="sgd, adam or adamw")
    p.add_argument("--schedule", help="triangle (airbench94's), onecycle, linear, cosine, step or none (model "
                                      "default if omitted)")
    p.add_argument("--momentum", type=float)
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--label-smoothing", type=float)
    p.add_argument("--bias-lr-scale", type=float,
                   help="learning-rate factor for BatchNorm shifts (decay per step kept)")
    p.add_argument("--crop-padding", type=int, help="padding before the random 32x32 crop (the translation)")
    p.add_argument("--padding-mode", help="constant (black) or reflect padding for the translation")
    p.add_argument("--flip", help="random, alternating (random in epoch 1, then each image mirrored every other "
                                  "epoch) or none")
    p.add_argument("--lookahead", action=argparse.BooleanOptionalAction,
                   help="airbench's weight averaging every 5 steps (SGD only)")
    p.add_argument("--drop-last", action=argparse.BooleanOptionalAction,
                   help="drop each epoch's last partial batch (model default if omitted)")
    p.add_argument("--stem-bias-epochs", type=int,
                   help="train the first conv's bias only in the first N epochs (0: always; model default if omitted)")
    p.add_argument("--no-augment", action="store_true",
                   help="turn off the training augmentation: the random crop and every --flip (alternating too)")
    p.add_argument("--data-dir", help="folder with cifar-10-batches-bin/ or cifar-10-batches-py/")
    p.add_argument("--download", action="store_true", help="download the official archive if absent")
    p.add_argument("--device", default="cpu", choices=DEVICES)
    p.add_argument("--threads", type=int,
                   help="CPU threads for the kernels, per process (default: all cores, shared among the "
                        "processes mpiexec started on this machine)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="output folder (default runs/MODEL)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.npz")
    p.add_argument("--limit", type=int, help="use only the first N training images (smoke runs)")
    p.add_argument("--tta", type=int, nargs="?", const=1,
                   help="test-time augmentation level of the final evaluation, reported beside the plain accuracy: "
                        "0 none, 1 mirror (--tta alone), 2 mirror and 1-pixel translations (model default if omitted)")
    p.add_argument("--eval-every", type=int,
                   help="evaluate the test set every N epochs too (0: only after the last; model default if omitted)")


def _evaluate_parser(sub):
    p = sub.add_parser("evaluate", help="test accuracy and per-class table of a checkpoint")
    p.add_argument("checkpoint")
    p.add_argument("--data-dir")
    p.add_argument("--download", action="store_true")
    p.add_argument("--device", default="cpu", choices=DEVICES)
    p.add_argument("--grid", help="save a PNG grid of test images with predicted/true labels (needs matplotlib)")
    p.add_argument("--tta", type=int, nargs="?", const=1, default=0,
                   help="test-time augmentation: 0 none, 1 mirror (--tta alone), 2 mirror and 1-pixel translations")


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
        seed=args.seed, out=args.out, resume=args.resume, limit=args.limit, tta=args.tta, flip=args.flip,
        padding_mode=args.padding_mode, lookahead=args.lookahead, eval_every=args.eval_every,
        drop_last=args.drop_last, stem_bias_epochs=args.stem_bias_epochs,
    )


def _check_threads(threads):
    """A ConfigError naming --threads unless ``threads`` is None or within what Numba was started with."""
    import numba

    from .training import ConfigError

    limit = numba.config.NUMBA_NUM_THREADS
    if threads is not None and not 1 <= threads <= limit:
        raise ConfigError("threads", f"must be an integer in [1, {limit}] (NUMBA_NUM_THREADS), got {threads}")


def _default_threads():
    """Under mpiexec: this machine's cores shared among its processes (None alone: Numba's default, all)."""
    import numba

    from . import distributed

    local = distributed.launch_local_size()
    if not distributed.is_mpi_launch() or local <= 1:
        return None
    return max(1, min(numba.config.NUMBA_NUM_THREADS, (os.cpu_count() or 1) // local))


def _train(args):
    from . import distributed
    from .models import ALIASES
    from .training import check_world, fit

    _check_device(args.device)
    config = train_config(args)
    if args.model in ALIASES and distributed.launch_rank() == 0:
        print(f"note: --model {args.model} is the old name of {ALIASES[args.model]}; training {config.model}")
    _check_threads(args.threads)
    check_world(config, distributed.launch_world_size())
    if distributed.is_mpi_launch():
        if not distributed.is_available():
            raise ValueError(f"started by mpiexec as {distributed.launch_world_size()} processes, but mpi4py is "
                             "not installed: pip install 'numbaconv[mpi]'")
        distributed.init_process_group("mpi")
        distributed.abort_on_exception()
    threads = args.threads if args.threads is not None else _default_threads()
    if threads is not None:
        from . import set_num_threads

        set_num_threads(threads)
    fit(config)


def _evaluate(args):
    from . import models
    from .training import evaluate, load_cifar, load_weights, make_loader, read_checkpoint
    from .tta import LEVELS

    _check_device(args.device)
    if args.tta not in LEVELS:
        raise ValueError(f"--tta must be one of {list(LEVELS)}, got {args.tta}")
    if os.path.isdir(args.checkpoint):
        raise ValueError(f"checkpoint {args.checkpoint!r} is a folder; expected a checkpoint file such as "
                         f"{os.path.join(args.checkpoint, 'checkpoint.npz')!r}")
    if args.grid is not None and importlib.util.find_spec("matplotlib") is None:
        raise ValueError("--grid needs matplotlib: pip install 'numbaconv[plot]'")
    state = read_checkpoint(args.checkpoint)
    model = models.build(state["model_name"])
    load_weights(model, state, args.checkpoint)
    model.to(args.device)
    test_set = load_cifar(args.data_dir, args.download, train=False)
    loader = make_loader(test_set, 500, False, False, 0)
    loss, accuracy, predictions, truths = evaluate(model, loader, args.device, tta=args.tta)
    print(f"{state['model_name']} after epoch {state.get('epoch', '?')}: test loss {loss:.4f}, "
          f"accuracy {accuracy:.4f}" + (f" (TTA level {args.tta})" if args.tta else ""))
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
    """The `numbaconv` argument parser with its four subcommands."""
    parser = argparse.ArgumentParser(prog="numbaconv", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _train_parser(sub)
    _evaluate_parser(sub)
    visualize.add_parser(sub)
    sub.add_parser("bench-info", help="versions and thread settings")
    return parser


def _describe(error):
    """One line for an OSError (what failed, on which file) or any other error (its message)."""
    if isinstance(error, OSError) and error.strerror and error.filename is not None:
        return f"{error.filename}: {error.strerror}"
    return str(error)


def _interrupted(stop, argv):
    if stop.checkpoint is None:
        return "interrupted before the first epoch ended; no checkpoint was written"
    again = argv if "--resume" in argv else [*argv, "--resume"]
    return (f"interrupted: the last complete checkpoint is {stop.checkpoint} (after epoch {stop.epoch}); "
            f"continue with: numbaconv {shlex.join(again)}")


def main(argv=None):
    """Run one subcommand; returns the exit status (0, 2 for bad input, 130 for Ctrl-C)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    handlers = {"train": _train, "evaluate": _evaluate, "visualize": visualize.run, "bench-info": _bench_info}
    handler = handlers[args.command]
    from .training import ConfigError, Interrupted

    try:
        handler(args)
    except ConfigError as error:
        return _fail(f"error: --{error.field.replace('_', '-')} {error.message}", 2, everywhere=False)
    except (OSError, ValueError) as error:
        return _fail(f"error: {_describe(error)}", 2)
    except Interrupted as stop:
        return _fail(f"\n{_interrupted(stop, argv)}", 130, everywhere=False)
    except KeyboardInterrupt:
        return _fail("\ninterrupted", 130, everywhere=False)
    return 0


def _fail(message, status, everywhere=True):
    """Print ``message`` and return ``status``; under mpiexec print it on rank 0 (every rank, naming itself, when
    ``everywhere``: the error may be this rank's own) and, once MPI runs, end the whole job (MPI abort), since the
    other ranks may be waiting for this one in a collective. An error that is usually every rank's (not
    ``everywhere``) is printed by another rank too, naming itself, when rank 0 has not ended the job 2 s later:
    then it was that rank's alone."""
    from . import distributed

    if not distributed.is_initialized():
        if not distributed.is_mpi_launch() or everywhere or distributed.launch_rank() == 0:
            print(message, file=sys.stderr)
        else:
            time.sleep(2.0)  # mpiexec ends the job when a rank exits with an error: let rank 0 print first
        return status
    rank = distributed.get_rank()
    if rank == 0 and not everywhere:
        print(message, file=sys.stderr)
    else:
        if not everywhere:
            time.sleep(2.0)  # rank 0 prints the message and aborts the job, ending this process, if it failed too
        print(f"rank {rank}: {message.lstrip()}", file=sys.stderr)
    sys.stderr.flush()
    distributed.abort(status)
    return status
