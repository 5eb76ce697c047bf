"""The loops behind `numbaconv train` and `numbaconv evaluate`: fit with checkpoints and metrics, evaluate."""
import csv
import dataclasses
import io
import itertools
import math
import numbers
import os
import time

import numpy as np

from . import data, distributed, models, nn, optim
from . import random as nc_random
from .atomic import remove_stale, write_atomically
from .autograd import no_grad
from .data.alternating_flip import AlternatingFlip
from .data.distributed_sampler import DistributedSampler
from .nn.parallel import DistributedDataParallel
from .ops.loss import cross_entropy
from .optim.swa_utils import Lookahead, lookahead_decay
from .progress import ProgressBar
from .serialization import load, save
from .tensor import Tensor
from .tta import LEVELS as TTA_LEVELS
from .tta import plain_and_tta_logits

CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)
METRIC_COLUMNS = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "images_per_s", "seconds",
                  "test_acc_tta")
OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("cosine", "linear", "none", "onecycle", "step", "triangle")
FLIPS = ("alternating", "none", "random")
PADDING_MODES = ("constant", "reflect")
LOOKAHEAD_EVERY = 5
CHECKPOINT = "checkpoint.npz"
WHITENING_IMAGES = 5000


@dataclasses.dataclass
class TrainConfig:
    """What ``fit`` trains (the options of `numbaconv train`; ``augment=False`` is --no-augment: no crop and no flip
    of any kind); fields left None take the model's models.Recipe and ``out`` defaults to runs/MODEL. Every field
    is checked on construction: a ConfigError names the first bad one (the CLI prints it as its option)."""

    model: str = "airbench94"
    epochs: float = None
    batch_size: int = None
    lr: float = None
    optimizer: str = None
    schedule: str = None
    momentum: float = None
    weight_decay: float = None
    label_smoothing: float = None
    bias_lr_scale: float = None
    augment: bool = True
    crop_padding: int = None
    data_dir: str = None
    download: bool = False
    device: str = "cpu"
    seed: int = 0
    out: str = None
    resume: bool = False
    limit: int = None
    tta: int = None
    flip: str = None
    padding_mode: str = None
    lookahead: bool = None
    drop_last: bool = None
    stem_bias_epochs: int = None
    eval_every: int = None

    def __post_init__(self):
        if self.out is None and isinstance(self.model, str):
            self.out = os.path.join("runs", self.model)  # as typed: an alias keeps its old runs folder
        try:
            self.model = models.canonical(self.model)
        except ValueError:
            raise ConfigError("model", f"must be one of {sorted(models.MODELS)} or an alias "
                              f"({', '.join(models.ALIASES)}), got {self.model!r}") from None
        for name, value in dataclasses.asdict(models.recipe(self.model)).items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        if self.out is None:
            self.out = os.path.join("runs", self.model)
        check_config(self)


class ConfigError(ValueError):
    """A bad TrainConfig field: ``field`` names it, ``message`` says what was expected and what came."""

    def __init__(self, field, message):
        super().__init__(f"TrainConfig.{field} {message}")
        self.field, self.message = field, message


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


_CHECKS = {
    "epochs": (lambda v: _is_real(v) and v >= 1, "a number >= 1 (a fraction trains part of the last epoch)"),
    "batch_size": (lambda v: _is_int(v) and v >= 1, "a positive integer"),
    "limit": (lambda v: v is None or _is_int(v) and v >= 1, "a positive integer"),
    "crop_padding": (lambda v: _is_int(v) and v >= 0, "an integer >= 0"),
    "seed": (lambda v: _is_int(v) and v >= 0, "an integer >= 0"),
    "lr": (lambda v: _is_real(v) and v > 0, "a positive finite number"),
    "bias_lr_scale": (lambda v: _is_real(v) and v > 0, "a positive finite number"),
    "weight_decay": (lambda v: _is_real(v) and v >= 0, "a finite number >= 0"),
    "momentum": (lambda v: _is_real(v) and 0 <= v < 1, "a number in [0, 1)"),
    "label_smoothing": (lambda v: _is_real(v) and 0 <= v <= 1, "a number in [0, 1]"),
    "optimizer": (lambda v: v in OPTIMIZERS, f"one of {list(OPTIMIZERS)}"),
    "schedule": (lambda v: v in SCHEDULES, f"one of {list(SCHEDULES)}"),
    "flip": (lambda v: v in FLIPS, f"one of {list(FLIPS)}"),
    "padding_mode": (lambda v: v in PADDING_MODES, f"one of {list(PADDING_MODES)}"),
    "tta": (lambda v: _is_int(v) and v in TTA_LEVELS, f"one of {list(TTA_LEVELS)}"),
    "stem_bias_epochs": (lambda v: _is_int(v) and v >= 0, "an integer >= 0"),
    "eval_every": (lambda v: _is_int(v) and v >= 0, "an integer >= 0 (0: only after the last epoch)"),
}


def check_config(config):
    """A ConfigError for the first field of ``config`` out of range (every field is checked before training)."""
    for field, (valid, expected) in _CHECKS.items():
        value = getattr(config, field)
        if not valid(value):
            raise ConfigError(field, f"must be {expected}, got {value!r}")
    if config.lookahead and config.optimizer != "sgd":
        raise ConfigError("lookahead", f"is airbench's averaging of an SGD run; got optimizer {config.optimizer!r} "
                          "(use --optimizer sgd or --no-lookahead)")
    if config.crop_padding and config.padding_mode == "reflect" and config.crop_padding >= 32:
        raise ConfigError("crop_padding", f"must be below the 32-pixel image for reflect padding, got "
                          f"{config.crop_padding}")
    if os.path.exists(config.out) and not os.path.isdir(config.out):
        raise ConfigError("out", f"must be a folder, got {config.out!r}, which is a file")


def parameter_groups(model, lr, weight_decay, bias_lr_scale=1.0):
    """The trainable parameters as optimizer groups. With ``bias_lr_scale`` != 1 the BatchNorm shifts get their own
    group at ``bias_lr_scale`` times the rate and ``weight_decay / bias_lr_scale`` (the same decay per step), as
    airbench."""
    trainable = [p for p in model.parameters() if p.requires_grad]
    if bias_lr_scale == 1.0:
        return [dict(params=trainable, lr=lr, weight_decay=weight_decay)]
    shifts = {id(m.bias): m.bias for m in model.modules()
              if isinstance(m, (nn.BatchNorm2d, nn.SyncBatchNorm)) and m.bias is not None and m.bias.requires_grad}
    return [dict(params=[p for p in trainable if id(p) not in shifts], lr=lr, weight_decay=weight_decay),
            dict(params=list(shifts.values()), lr=lr * bias_lr_scale, weight_decay=weight_decay / bias_lr_scale)]


def make_optimizer(name, groups, momentum):
    """SGD (Nesterov momentum), Adam or AdamW by name over parameter ``groups`` (each with its lr and weight_decay)."""
    if name == "sgd":
        return optim.SGD(groups, momentum=momentum, nesterov=momentum > 0)
    if name == "adam":
        return optim.Adam(groups)
    if name == "adamw":
        return optim.AdamW(groups)
    raise ValueError(f"unknown optimizer {name!r}; expected one of {list(OPTIMIZERS)}")


def make_schedule(name, optimizer, epochs, steps_per_epoch):
    """A per-step LR schedule by name peaking at each group's lr, or None for a constant rate.

    ``onecycle``: cosine 1cycle with momentum cycling; ``linear``: warm up linearly from lr/5 over the first 20 % of
    steps, then linearly to ~0, momentum fixed; ``triangle``: airbench94's, 0.2 -> 1 times the lr over the first
    23 % of the steps, then -> 0.07. ``epochs`` may be fractional: the schedule spans ``total_steps``."""
    total = total_steps(epochs, steps_per_epoch)
    peaks = [group["lr"] for group in optimizer.param_groups]
    if name == "none":
        return None
    if name == "triangle":
        knots = [0, int(0.23 * total), total]
        return optim.lr_scheduler.LambdaLR(optimizer, lambda step: float(np.interp(step, knots, [0.2, 1.0, 0.07])))
    if name == "onecycle":
        return optim.lr_scheduler.OneCycleLR(optimizer, max_lr=peaks, total_steps=total, pct_start=0.25)
    if name == "linear":
        return optim.lr_scheduler.OneCycleLR(optimizer, max_lr=peaks, total_steps=total, pct_start=0.2,
                                             anneal_strategy="linear", cycle_momentum=False, div_factor=5.0)
    if name == "cosine":
        return optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    if name == "step":
        return optim.lr_scheduler.StepLR(optimizer, step_size=max(1, total // 3), gamma=0.1)
    raise ValueError(f"unknown schedule {name!r}; expected one of {list(SCHEDULES)}")


def total_steps(epochs, steps_per_epoch):
    """The steps of a run of ``epochs`` (possibly fractional) epochs of ``steps_per_epoch``."""
    return math.ceil(epochs * steps_per_epoch)


def load_cifar(data_dir, download, train, limit=None):
    """CIFAR-10 from ``data_dir`` (or the download cache), optionally only the first ``limit`` images."""
    dataset = data.CIFAR10(data_dir, train=train, download=download)
    if limit is not None:
        dataset = data.Subset(dataset, range(min(limit, len(dataset))))
    return dataset


def make_loader(dataset, batch_size, train, augment, seed, crop_padding=4, padding_mode="constant",
                random_flip=True, drop_last=False):
    """Batches of ``dataset``, normalised; ``augment`` adds a random translation (a 32x32 crop after
    ``crop_padding`` pixels of ``padding_mode`` padding) and, with ``random_flip``, a random mirror."""
    transforms = data.transforms
    steps = []
    if augment:
        steps.append(transforms.RandomCrop(32, padding=crop_padding, padding_mode=padding_mode))
        if random_flip:
            steps.append(transforms.RandomHorizontalFlip())
    transform = transforms.Compose(steps + [transforms.Normalize(CIFAR_MEAN, CIFAR_STD)])
    return data.DataLoader(dataset, batch_size=batch_size, shuffle=train, drop_last=drop_last, seed=seed,
                           transform=transform)


class World:
    """This process's place in a data-parallel run (`mpiexec -n N numbaconv train`): rank 0 of 1 without a
    process group of more than one rank. ``sum``/``max`` combine numbers over the ranks."""

    def __init__(self):
        self.parallel = distributed.is_initialized() and distributed.get_world_size() > 1
        self.rank = distributed.get_rank() if self.parallel else 0
        self.size = distributed.get_world_size() if self.parallel else 1
        self.leader = self.rank == 0

    def _reduce(self, values, op):
        values = np.asarray(values, dtype=np.float64)
        if self.parallel:
            distributed.all_reduce(Tensor(values), op=op)
        return values.tolist()

    def sum(self, *values):
        return self._reduce(values, distributed.ReduceOp.SUM)

    def max(self, value):
        return self._reduce([value], distributed.ReduceOp.MAX)[0]

    def bounds(self, value):
        """(smallest, largest) ``value`` over the ranks, in one all-reduce."""
        most, negated_fewest = self._reduce([value, -value], distributed.ReduceOp.MAX)
        return -negated_fewest, most


def _silent(*args, **kwargs):
    pass


def train_one_epoch(model, loader, optimizer, schedule, device, label_smoothing, label, world=None, steps=None,
                    after_step=None):
    """One pass over ``loader`` (its first ``steps`` batches if given); returns (mean loss, accuracy, images/s,
    seconds), over every rank's batches when ``world`` is a data-parallel World (the progress bar shows rank 0's
    share, only on rank 0). ``after_step()`` runs after each optimizer and schedule step (weight averaging)."""
    world = world if world is not None else World()
    model.train()
    total_loss = correct = seen = 0
    steps = len(loader) if steps is None else min(steps, len(loader))
    bar = ProgressBar(steps, label, disable=not world.leader)
    start = time.perf_counter()
    batches = iter(loader)
    try:
        for images, labels in itertools.islice(batches, steps):
            images, labels = images.to(device), labels.to(device)
            logits = model(images)
            loss = cross_entropy(logits, labels, label_smoothing=label_smoothing)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if schedule is not None:
                schedule.step()
            if after_step is not None:
                after_step()
            n = labels.shape[0]
            total_loss += loss.item() * n
            correct += int((logits.detach().argmax(1) == labels).numpy().sum())
            seen += n
            elapsed = time.perf_counter() - start
            bar.update(1, loss=total_loss / seen, acc=correct / seen, img_s=round(seen * world.size / elapsed))
    finally:
        # End the pass here, not in a garbage collection later: its prefetch thread is joined now, and a Ctrl-C
        # landing in that join propagates instead of being lost in a finalizer.
        getattr(batches, "close", lambda: None)()
    bar.close()
    seconds = world.max(time.perf_counter() - start)
    total_loss, correct, seen = world.sum(total_loss, correct, seen)
    return total_loss / max(seen, 1), correct / max(seen, 1), seen / seconds, seconds


@no_grad()
def evaluate(model, loader, device, tta=0):
    """(mean loss, accuracy, predictions, labels) of ``model`` over ``loader`` in eval mode.

    ``tta`` is the test-time augmentation level (numbaconv.tta): 0 none, 1 (or True) each image and its mirror,
    2 airbench's mirror and one-pixel translations.
    """
    losses, predictions, truths = [], [], []
    for _, logits, labels in _test_batches(model, loader, device, tta):
        losses.append(cross_entropy(logits, labels, reduction="sum").item())
        predictions.append(logits.argmax(1).numpy())
        truths.append(labels.numpy())
    predictions, truths = np.concatenate(predictions), np.concatenate(truths)
    return sum(losses) / len(truths), float((predictions == truths).mean()), predictions, truths


def _write_metrics(path, rows):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=METRIC_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    write_atomically(path, lambda handle: handle.write(buffer.getvalue()), mode="w")


def _read_metrics(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as handle:
        return [{k: (int(v) if k == "epoch" else "" if v in ("", None) else float(v)) for k, v in row.items()}
                for row in csv.DictReader(handle)]


def _plot_curves(path, rows):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    epochs = [r["epoch"] for r in rows]
    tested = [r for r in rows if r["test_acc"] != ""]  # epochs without an evaluation (--eval-every) are gaps
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    left.plot(epochs, [r["train_loss"] for r in rows], label="train")
    left.plot([r["epoch"] for r in tested], [r["test_loss"] for r in tested], "o-", label="test")
    left.set_title("loss")
    right.plot(epochs, [r["train_acc"] for r in rows], label="train")
    right.plot([r["epoch"] for r in tested], [r["test_acc"] for r in tested], "o-", label="test")
    right.set_title("accuracy")
    for axis in (left, right):
        axis.set_xlabel("epoch")
        axis.legend()
    figure.tight_layout()
    try:
        write_atomically(path, lambda handle: figure.savefig(handle, format="png"))
    finally:
        plt.close(figure)
    return True


def read_checkpoint(path, keys=("model_name", "model")):
    """The dict of the training checkpoint at ``path`` with at least ``keys``, else a ValueError naming the file."""
    state = load(path)
    missing = [key for key in keys if not isinstance(state, dict) or key not in state]
    if missing:
        raise ValueError(f"{path!r} is not a numbaconv training checkpoint (no {missing[0]!r})")
    name = state["model_name"]
    if not isinstance(name, str) or models.ALIASES.get(name, name) not in models.MODELS:
        raise ValueError(f"{path!r} holds an unknown model {name!r}; this numbaconv builds {sorted(models.MODELS)}")
    state["model_name"] = models.canonical(name)
    return state


def load_weights(model, state, path):
    """Copy the checkpoint ``state``'s weights into ``model``; a ValueError naming ``path`` when they do not fit."""
    try:
        model.load_state_dict(state["model"])
    except (RuntimeError, TypeError, ValueError, KeyError) as error:
        raise ValueError(f"{path!r} does not hold {state['model_name']} weights: {error}") from None


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during ``fit``: ``checkpoint`` is the last complete checkpoint (None if none yet), after ``epoch``."""

    def __init__(self, checkpoint, epoch):
        super().__init__(checkpoint, epoch)
        self.checkpoint, self.epoch = checkpoint, epoch


def _resume(config, path, model, optimizer, schedule, steps_per_epoch, world_size=1, lookahead=None):
    """Restore a checkpoint for ``--resume``; returns (the epoch it is after, its metrics rows).

    The model, the optimizer's per-parameter state (momentum, Adam moments) and the RNG come from the checkpoint;
    the hyper-parameters and the schedule come from ``config``: the schedule is the one of a run planned with
    ``config.epochs`` from the start, advanced to the checkpoint's step. Resuming unchanged continues exactly
    where the run stopped; resuming with a larger --epochs stretches the schedule to the new length and keeps
    training (as rebuilding a PyTorch scheduler for the new total and setting its position would), rather than
    failing at the end of the old schedule or training on at its final, near-zero rate.
    """
    state = read_checkpoint(path, ("model_name", "model", "optimizer", "epoch", "rng"))
    trained_on = state.get("world_size", 1)
    if trained_on != world_size:
        raise ValueError(f"{path!r} was trained by {trained_on} process(es) and this run has {world_size}; resume "
                         f"with the same count ({'mpiexec -n ' + str(trained_on) + ' ' if trained_on > 1 else ''}"
                         "numbaconv train ... --resume) or start a new --out")
    if state["model_name"] != config.model:
        raise ConfigError("model", f"{config.model!r} cannot resume {path}, which holds a {state['model_name']}")
    trained_with = state.get("optimizer_name", config.optimizer)
    if trained_with != config.optimizer:
        raise ConfigError("optimizer", f"{config.optimizer!r} cannot resume {path}, which was trained with "
                          f"{trained_with!r}; resume with that optimizer or start a new --out")
    epoch = state["epoch"]
    if not isinstance(epoch, int) or epoch < 1:
        raise ValueError(f"{path!r} is not a numbaconv training checkpoint (epoch {epoch!r})")
    if epoch > math.ceil(config.epochs):
        raise ConfigError("epochs", f"must be more than {epoch - 1} to resume {path}, which is after epoch {epoch}; "
                          f"got {config.epochs}")
    if (lookahead is not None) != ("lookahead" in state):
        raise ConfigError("lookahead", f"{'on' if lookahead is not None else 'off'} cannot resume {path}, "
                          f"which was trained with it {'off' if lookahead is not None else 'on'}; resume with "
                          f"{'--no-lookahead' if lookahead is not None else '--lookahead'} or start a new --out")
    load_weights(model, state, path)
    current = optimizer.state_dict()["param_groups"]
    try:
        saved = state["optimizer"]
        if len(saved["param_groups"]) != len(current):
            raise ValueError(f"{len(saved['param_groups'])} parameter groups, this run has {len(current)} "
                             f"(another --bias-lr-scale?)")
        optimizer.load_state_dict({"state": saved["state"], "param_groups": [
            {**group, "params": old["params"]} for group, old in zip(current, saved["param_groups"])]})
        nc_random.set_rng_state(state["rng"])
        if lookahead is not None:
            lookahead.load_state_dict(state["lookahead"])
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path!r} does not fit this run's optimizer: {error}") from None
    if schedule is not None:
        for _ in range(epoch * steps_per_epoch):
            schedule.step()
    rows = state.get("metrics")
    if rows is None:
        rows = [r for r in _read_metrics(os.path.join(config.out, "metrics.csv")) if r["epoch"] <= epoch]
    return epoch, rows


def check_world(config, world_size):
    """A ConfigError unless the global batch splits evenly over ``world_size`` processes."""
    if config.batch_size % world_size:
        raise ConfigError("batch_size", f"must be a multiple of the {world_size} processes (each takes an equal "
                          f"part of the global batch), got {config.batch_size}")


class StepHook:
    """Runs after every optimizer step of a run of ``total`` steps (``done`` already taken): with a Lookahead, every
    LOOKAHEAD_EVERY steps the weights are pulled to their average (decay ``lookahead_decay``), and at the last
    step they become the average (airbench94)."""

    def __init__(self, lookahead, total, done=0):
        self.lookahead, self.total, self.done = lookahead, total, done

    def __call__(self):
        self.done += 1
        if self.lookahead is None:
            return
        if self.done % LOOKAHEAD_EVERY == 0:
            self.lookahead.update(lookahead_decay(self.done, self.total))
        if self.done == self.total:
            self.lookahead.update(1.0)


def set_stem_bias(model, epoch_index, stem_bias_epochs):
    """Train the first convolution's bias only in the first ``stem_bias_epochs`` epochs (0: always)."""
    if not stem_bias_epochs:
        return
    stem = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    if stem is not None and stem.bias is not None:
        stem.bias.requires_grad_(epoch_index < stem_bias_epochs)


def steps_per_epoch(config, images, world_size=1):
    """Optimizer steps per epoch of ``images`` training images split over ``world_size`` processes."""
    per_rank, shard = config.batch_size // world_size, -(-images // world_size)
    steps = shard // per_rank if config.drop_last else -(-shard // per_rank)
    if steps == 0:
        limit = (f"the {images} training images" if world_size == 1 else f"{shard * world_size} ({world_size} "
                 f"processes x {shard}, their shares of the {images} training images)")
        raise ConfigError("batch_size", f"must be at most {limit} when the last partial batch is dropped, got "
                          f"{config.batch_size} (or train with --no-drop-last)")
    return steps


def make_training(config, model, per_epoch):
    """(optimizer, schedule, Lookahead or None) of ``config`` for ``model`` with ``per_epoch`` steps per epoch; under
    data parallelism call it after DistributedDataParallel's broadcast, so every rank's Lookahead average starts
    from rank 0's weights."""
    groups = parameter_groups(model, config.lr, config.weight_decay, config.bias_lr_scale)
    optimizer = make_optimizer(config.optimizer, groups, config.momentum)
    schedule = make_schedule(config.schedule, optimizer, config.epochs, per_epoch)
    return optimizer, schedule, Lookahead(model) if config.lookahead else None


def flipped(config, train_set):
    """``train_set`` mirrored on airbench's alternating schedule when ``config`` augments with that flip."""
    if config.augment and config.flip == "alternating":
        return AlternatingFlip(train_set, generator=np.random.default_rng(config.seed))
    return train_set


def resume_point(config, path, world):
    """Whether to resume from the checkpoint ``path``: with ``config.resume``, when every rank finds it; a
    ConfigError naming --out when only some do (each rank would train on from another point, then hang)."""
    found = bool(config.resume and os.path.exists(path))
    fewest, most = world.bounds(found)
    if fewest != most:
        raise ConfigError("out", f"must be one folder every process sees to --resume: {path} exists for some of the "
                          f"{world.size} processes and not for others")
    return found


def check_same_epoch(epoch, path, world):
    """A ConfigError naming --out unless every rank resumed ``path`` after the same ``epoch``."""
    fewest, most = world.bounds(epoch)
    if fewest != most:
        raise ConfigError("out", f"must be one folder every process sees to --resume: {path} is after epoch "
                          f"{fewest:.0f} for some of the {world.size} processes and after {most:.0f} for others")


def epoch_loader(config, train_set, epoch, world=None):
    """The batches of training epoch ``epoch`` (1-based) of ``config``: this rank's shard under data parallelism,
    shuffled and augmented from the epoch's seed (an AlternatingFlip ``train_set`` set to the epoch first)."""
    world = world if world is not None else World()
    if isinstance(train_set, AlternatingFlip):
        train_set.set_epoch(epoch - 1)
    seed = config.seed * 100_003 + epoch
    options = dict(crop_padding=config.crop_padding, padding_mode=config.padding_mode,
                   random_flip=config.flip == "random", drop_last=config.drop_last)
    if not world.parallel:
        return make_loader(train_set, config.batch_size, True, config.augment, seed=seed, **options)
    sampler = DistributedSampler(train_set, world.size, world.rank, shuffle=True, seed=config.seed)
    sampler.set_epoch(epoch)
    return make_loader(data.Subset(train_set, sampler.indices()), config.batch_size // world.size, False,
                       config.augment, seed=seed + 1_000_003 * world.rank, **options)


def fit(config, log=print):
    """Train ``config.model`` on CIFAR-10, checkpointing and writing metrics.csv after every epoch.

    The checkpoint holds the metrics rows too and is written first, so metrics.csv (rewritten from it on resume)
    never lacks an epoch the checkpoint has. Temporaries a killed run left in ``config.out`` are removed.
    Ctrl-C raises ``Interrupted`` naming the last complete checkpoint. A fractional ``epochs`` stops the last
    epoch early; the test set is evaluated every ``eval_every`` epochs and after the last, with the ``tta`` level
    too when it is above 0.

    With a numbaconv.distributed process group of N > 1 ranks (`mpiexec -n N numbaconv train`) the model is
    wrapped in DistributedDataParallel: each rank trains on its DistributedSampler shard with ``batch_size / N``
    images per step (the global batch, and so the learning rate, mean the same as in one process), the metrics
    are over all ranks, and only rank 0 logs and writes the checkpoint (the bare model's weights, loadable
    anywhere), metrics.csv and the plot. Every rank reads the checkpoint on ``resume`` (``out`` on a shared disk;
    a ConfigError naming it when the ranks find different checkpoints, or only some of them one).
    """
    check_config(config)
    world = World()
    check_world(config, world.size)
    if not world.leader:
        log = _silent
    else:
        os.makedirs(config.out, exist_ok=True)
        remove_stale(config.out)
    checkpoint_path = os.path.join(config.out, CHECKPOINT)
    metrics_path = os.path.join(config.out, "metrics.csv")
    nc_random.manual_seed(config.seed)
    model = models.build(config.model)
    train_set = load_cifar(config.data_dir, config.download, True, config.limit)
    sample = data.Subset(train_set, range(min(WHITENING_IMAGES, len(train_set))))
    (images, _), = make_loader(sample, len(sample), train=False, augment=False, seed=0)
    models.init_from_data(config.model, model, images).to(config.device)
    test_set = load_cifar(config.data_dir, config.download, False)
    per_epoch = steps_per_epoch(config, len(train_set), world.size)
    total, epochs = total_steps(config.epochs, per_epoch), math.ceil(config.epochs)
    trainer = DistributedDataParallel(model) if world.parallel else model
    optimizer, schedule, lookahead = make_training(config, model, per_epoch)
    train_set = flipped(config, train_set)
    saved_epoch, rows = 0, []
    if resume_point(config, checkpoint_path, world):
        saved_epoch, rows = _resume(config, checkpoint_path, model, optimizer, schedule, per_epoch, world.size,
                                    lookahead)
        check_same_epoch(saved_epoch, checkpoint_path, world)
        if world.leader:
            _write_metrics(metrics_path, rows)
        log(f"resumed from {checkpoint_path} after epoch {saved_epoch}")
    hook = StepHook(lookahead, total, saved_epoch * per_epoch)
    if world.parallel:
        shard = np.array_split(np.arange(len(test_set)), world.size)[world.rank]
        test_set = data.Subset(test_set, range(int(shard[0]), int(shard[-1]) + 1) if len(shard) else range(0))
    test_loader = make_loader(test_set, 500, train=False, augment=False, seed=0)
    log(f"{config.model}: {sum(p.numel() for p in model.parameters()):,} parameters, {len(train_set):,} training "
        f"images, {config.epochs} epochs ({total} steps), batch {config.batch_size}"
        + (f" ({world.size} processes x {config.batch_size // world.size})" if world.parallel else "")
        + f", {config.optimizer} lr {config.lr}, {config.device}")
    try:
        for epoch in range(saved_epoch + 1, epochs + 1):
            set_stem_bias(model, epoch - 1, config.stem_bias_epochs)
            rows.append(_train_epoch(config, epoch, trainer, train_set, test_loader, optimizer, schedule, log,
                                     world, min(per_epoch, total - (epoch - 1) * per_epoch), hook))
            if world.leader:
                save({"model_name": config.model, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                      "optimizer_name": config.optimizer, "epoch": epoch, "rng": nc_random.get_rng_state(),
                      "metrics": rows, "config": dataclasses.asdict(config), "world_size": world.size,
                      **({"lookahead": lookahead.state_dict()} if lookahead is not None else {})},
                     checkpoint_path)
            saved_epoch = epoch
            if world.leader:
                _write_metrics(metrics_path, rows)
                _plot_curves(os.path.join(config.out, "curves.png"), rows)
    except KeyboardInterrupt:
        raise Interrupted(checkpoint_path if saved_epoch else None, saved_epoch) from None
    evaluated = [r for r in rows if r["test_acc"] != ""]
    if evaluated:
        best = max(evaluated, key=lambda r: r["test_acc"])
        final = rows[-1]
        tta = f", TTA level {config.tta} {final['test_acc_tta']:.4f}" if final["test_acc_tta"] != "" else ""
        log(f"done: final test acc {final['test_acc']:.4f}{tta} (best {best['test_acc']:.4f} at epoch "
            f"{best['epoch']}), {sum(r['seconds'] for r in rows):.0f} s training; {metrics_path}, {checkpoint_path}")
    return rows, model


def _train_epoch(config, epoch, trainer, train_set, test_loader, optimizer, schedule, log, world, steps, hook):
    """Train ``steps`` steps of one epoch, evaluate when due, log; returns the epoch's metrics row (all ranks)."""
    loader = epoch_loader(config, train_set, epoch, world)
    epochs = math.ceil(config.epochs)
    train_loss, train_acc, speed, seconds = train_one_epoch(
        trainer, loader, optimizer, schedule, config.device, config.label_smoothing, f"epoch {epoch}/{epochs}",
        world, steps, hook,
    )
    model = trainer.module if world.parallel else trainer
    last = epoch == epochs
    test_loss = test_acc = tta_acc = ""
    if last or (config.eval_every and epoch % config.eval_every == 0):
        if world.parallel:
            trainer.sync_buffers()  # every rank evaluates with rank 0's BatchNorm statistics, the checkpoint's
        tta = config.tta if last else 0
        test_loss, test_acc, tta_acc = _evaluate_everywhere(model, test_loader, config.device, world, tta)
        tta_acc = tta_acc if tta else ""
    tested = "" if test_acc == "" else f" | test loss {test_loss:.4f} acc {test_acc:.4f}"
    tested += "" if tta_acc == "" else f" (TTA level {config.tta} {tta_acc:.4f})"
    log(f"epoch {epoch}: train loss {train_loss:.4f} acc {train_acc:.4f}{tested} | {speed:.0f} img/s, "
        f"{seconds:.1f} s")
    return dict(epoch=epoch, train_loss=train_loss, train_acc=train_acc, test_loss=test_loss, test_acc=test_acc,
                images_per_s=speed, seconds=seconds, test_acc_tta=tta_acc)


def _test_batches(model, loader, device, tta):
    """(plain logits, logits with TTA level ``tta``, labels) per batch of ``loader``, ``model`` in eval mode; the
    plain logits are TTA's first view (tta.plain_and_tta_logits), so both cost the augmented passes only."""
    model.eval()
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        yield (*plain_and_tta_logits(model, images, int(tta)), labels)


@no_grad()
def _test_sums(model, loader, device, tta):
    """(summed loss, correct predictions without and with TTA level ``tta``, images) over ``loader``."""
    loss, correct, tta_correct, count = 0.0, 0, 0, 0
    for plain, augmented, labels in _test_batches(model, loader, device, tta):
        truths = labels.numpy()
        loss += cross_entropy(plain, labels, reduction="sum").item()
        correct += int((plain.argmax(1).numpy() == truths).sum())
        tta_correct += int((augmented.argmax(1).numpy() == truths).sum())
        count += len(truths)
    return loss, correct, tta_correct, count


def _evaluate_everywhere(model, loader, device, world, tta):
    """(mean loss, accuracy, accuracy with TTA level ``tta``) over every rank's part of the test set."""
    sums = _test_sums(model, loader, device, tta) if len(loader.dataset) else (0.0, 0, 0, 0)
    loss, correct, tta_correct, count = world.sum(*sums)
    return loss / count, correct / count, tta_correct / count
