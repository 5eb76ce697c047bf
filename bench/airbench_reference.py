"""airbench94's recipe in PyTorch: the reference numbaconv's `numbaconv train` (the airbench94 recipe) is checked
against, step for step in float64 (tests/test_airbench_equivalence.py) and side by side in accuracy and time.

    python -m bench.airbench_reference --data-dir .data/cifar10 [--seeds 0,1] [--epochs 9.9] [--threads 2]
                                       [--device cpu|cuda] [--channels-last]

The network is the PyTorch twin (bench/torch_twin.py) of numbaconv's airbench94 built with the same seed: the same
layers and initial weights, the stem conv whitened from the same 5,000 normalised training images. The data are
the same too: each epoch's batches come from numbaconv's pipeline for that seed (training.epoch_loader:
alternating flip, 2-pixel reflect-padded translation, shuffled, the last partial batch of 1024 dropped), so both
libraries see identical batches in the same order. Everything else is PyTorch, written from airbench's public
description: SGD with Nesterov momentum 0.85 over the BatchNorm shifts (64x the rate, decay per step kept) and the
other parameters; the triangle schedule (0.2 -> 1 over the first 23 % of the steps, then -> 0.07); label
smoothing 0.2 on a mean loss; the stem bias trained only in the first 3 epochs; the Lookahead average every 5
steps (decay 0.95^5 (step/total)^3), copied into the weights at the end; evaluation with and without TTA level 2.
Torch is optional in bench/: this module needs it.
"""
import argparse
import itertools
import math
import time

import numpy as np
import torch
import torch.nn.functional as F

import numbaconv as nc
from numbaconv import data, models, training

from . import torch_twin

LOOKAHEAD_EVERY = 5
# airbench94's published hyper-parameters, for a loss summed over the batch: lr and weight decay per 1024 images.
HYP = dict(lr=11.5, momentum=0.85, weight_decay=0.0153, bias_scaler=64.0, label_smoothing=0.2, whiten_bias_epochs=3)


class Reference:
    """airbench94's training of ``net`` (a torch.nn.Sequential twin) over ``total_steps`` steps.

    The rates come from HYP as airbench derives them for its batch of ``rates_batch`` = 1024 (lr / (1024 (1 + 1 /
    (1 - momentum))) for torch's SGD, the decay as ``wd / lr`` per group), here for a mean loss: that lr times the
    batch, the same decay per step; they stay fixed when the batch actually trained on differs, as numbaconv's
    recipe keeps its rates under --batch-size.
    """

    def __init__(self, net, total_steps, rates_batch=1024, whiten_bias_epochs=HYP["whiten_bias_epochs"]):
        self.net, self.total, self.whiten_bias_epochs = net, total_steps, whiten_bias_epochs
        norm_biases = [m.bias for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d) and m.bias.requires_grad]
        ids = {id(p) for p in norm_biases}
        others = [p for p in net.parameters() if p.requires_grad and id(p) not in ids]
        kilostep = 1024 * (1 + 1 / (1 - HYP["momentum"]))
        lr = HYP["lr"] / kilostep * rates_batch
        decay = HYP["weight_decay"] * rates_batch / kilostep
        biases_lr = lr * HYP["bias_scaler"]
        self.optimizer = torch.optim.SGD([dict(params=others, lr=lr, weight_decay=decay / lr),
                                          dict(params=norm_biases, lr=biases_lr, weight_decay=decay / biases_lr)],
                                         momentum=HYP["momentum"], nesterov=True)
        knots = [0, int(0.23 * total_steps), total_steps]
        self.schedule = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda step: float(np.interp(step, knots, [0.2, 1.0, 0.07])))
        self.average = {k: v.detach().clone() for k, v in net.state_dict().items() if v.dtype.is_floating_point}
        self.steps = 0

    def set_epoch(self, epoch_index):
        """The stem bias trains only in the recipe's first epochs."""
        self.net[0].bias.requires_grad_(epoch_index < self.whiten_bias_epochs)

    def _lookahead(self, decay):
        state = self.net.state_dict()
        with torch.no_grad():
            for name, average in self.average.items():
                average.lerp_(state[name], 1 - decay)
                state[name].copy_(average)

    def train_step(self, images, labels):
        """One step of the recipe; returns the loss."""
        self.net.train()
        loss = F.cross_entropy(self.net(images), labels, label_smoothing=HYP["label_smoothing"])
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.schedule.step()
        self.steps += 1
        if self.steps % LOOKAHEAD_EVERY == 0:
            self._lookahead(0.95 ** 5 * (self.steps / self.total) ** 3)
        if self.steps == self.total:
            self._lookahead(1.0)
        return loss.detach()

    @torch.no_grad()
    def logits(self, images, tta):
        """airbench's inference: plain (0), with the mirror (1), plus the 1-pixel reflect-padded translations (2)."""
        self.net.eval()

        def with_mirror(x):
            return 0.5 * self.net(x) + 0.5 * self.net(x.flip(-1))

        if tta == 0:
            return self.net(images)
        logits = with_mirror(images)
        if tta == 1:
            return logits
        padded = F.pad(images, (1, 1, 1, 1), mode="reflect")
        height, width = images.shape[-2:]
        shifted = (with_mirror(padded[..., :height, :width]) + with_mirror(padded[..., 2:, 2:])) / 2
        return 0.5 * logits + 0.5 * shifted


def _torch(tensor, device, dtype=None):
    return torch.from_numpy(np.ascontiguousarray(tensor.numpy())).to(device=device, dtype=dtype)


def _images(batch, device, memory_format):
    return _torch(batch, device).contiguous(memory_format=memory_format)


def run(config, device="cpu", log=print, memory_format=torch.contiguous_format):
    """Train the reference on CIFAR-10 as ``numbaconv train`` would with ``config``; returns (test accuracy,
    TTA accuracy, seconds from start to the end of the final evaluation). ``memory_format=torch.channels_last``
    runs PyTorch's NHWC kernels, the same arithmetic in another order (on CPU the faster of the two)."""
    start = time.perf_counter()
    nc.manual_seed(config.seed)
    model = models.build(config.model)
    train_set = training.load_cifar(config.data_dir, config.download, True, config.limit)
    sample = data.Subset(train_set, range(min(training.WHITENING_IMAGES, len(train_set))))
    (images, _), = training.make_loader(sample, len(sample), train=False, augment=False, seed=0)
    models.init_from_data(config.model, model, images)
    per_epoch = training.steps_per_epoch(config, len(train_set))
    total = training.total_steps(config.epochs, per_epoch)
    reference = Reference(torch_twin.twin(model).to(device, memory_format=memory_format), total)
    train_set = training.flipped(config, train_set)
    for epoch in range(1, math.ceil(config.epochs) + 1):
        reference.set_epoch(epoch - 1)
        steps = min(per_epoch, total - (epoch - 1) * per_epoch)
        began, losses = time.perf_counter(), []
        for images, labels in itertools.islice(training.epoch_loader(config, train_set, epoch), steps):
            losses.append(reference.train_step(_images(images, device, memory_format), _torch(labels, device)))
        log(f"epoch {epoch}: train loss {float(torch.stack(losses).mean()):.4f}, {time.perf_counter() - began:.1f} s")
    test_loader = training.make_loader(training.load_cifar(config.data_dir, config.download, False), 500,
                                       train=False, augment=False, seed=0)
    correct = {0: 0, config.tta: 0}
    count = 0
    for images, labels in test_loader:
        x, y = _images(images, device, memory_format), _torch(labels, device)
        for level in correct:
            correct[level] += int((reference.logits(x, level).argmax(1) == y).sum())
        count += len(y)
    return correct[0] / count, correct[config.tta] / count, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--seeds", default="0", help="comma-separated seeds, one run each")
    parser.add_argument("--epochs", type=float, help="the recipe's 9.9 unless given")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--limit", type=int, help="only the first N training images (smoke runs)")
    parser.add_argument("--channels-last", action="store_true", help="PyTorch's NHWC layout (faster on CPU)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    nc.set_num_threads(args.threads)
    memory_format = torch.channels_last if args.channels_last else torch.contiguous_format
    print(f"torch {torch.__version__} on {args.device}, {args.threads} threads, {memory_format}")
    for seed in (int(s) for s in args.seeds.split(",")):
        config = training.TrainConfig(model="airbench94", data_dir=args.data_dir, seed=seed, epochs=args.epochs,
                                      limit=args.limit)
        accuracy, tta_accuracy, seconds = run(config, args.device, memory_format=memory_format)
        print(f"seed {seed}: test accuracy {accuracy:.4f}, TTA level {config.tta} {tta_accuracy:.4f}, "
              f"{seconds:.0f} s wall", flush=True)


if __name__ == "__main__":
    main()
