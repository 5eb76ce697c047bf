"""A full training step (forward, cross-entropy, backward, optimizer) of the seed CNNs, numbaconv vs PyTorch.

    python -m bench.train_step [--threads 2] [--batch 128] [--steps 15] [--memory 1000]

Interleaved rounds in one process (each timed step right after an untimed one of the same library),
medians in ms and images/s, ratio numbaconv time / torch time
(< 1: numbaconv is faster). ``--memory N`` instead trains keras_net for N steps and prints peak RSS at
step 10 and step N (a freed graph keeps it flat).
"""
import numbaconv as nc  # noqa: I001  (first: sets thread policies before numpy loads OpenBLAS)
from numbaconv import models, optim

import argparse
import resource
import statistics
import time

import numpy as np

try:
    import torch
except ImportError:
    torch = None


def numbaconv_step(name, batch):
    model = models.build(name)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    x = nc.tensor(rng.standard_normal((batch, 3, 32, 32), dtype=np.float32))
    y = nc.tensor(rng.integers(0, 10, batch))

    def step():
        loss = nc.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step


def torch_model(name):
    tnn = torch.nn
    if name == "keras_net":
        widths, pad, flat = (32, 64, 128), 0, 512
    else:
        widths, pad, flat = (64, 64, 128, 128), 1, 512
    layers, c = [], 3
    for w in widths:
        layers += [tnn.Conv2d(c, w, 3, padding=pad), tnn.ReLU(), tnn.MaxPool2d(2)]
        c = w
    return tnn.Sequential(*layers, tnn.Flatten(), tnn.Linear(flat, 512), tnn.ReLU(), tnn.Linear(512, 10))


def torch_step(name, batch):
    model = torch_model(name)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(batch, 3, 32, 32)
    y = torch.randint(0, 10, (batch,))

    def step():
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step


def timed(step):
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def compare(batch, steps):
    print("| model | numbaconv ms | torch ms | numbaconv img/s | torch img/s | nc/torch |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in ("keras_net", "torch_net"):
        runners = {"numbaconv": numbaconv_step(name, batch)}
        if torch is not None:
            runners["torch"] = torch_step(name, batch)
        times = {k: [] for k in runners}
        for _ in range(steps):
            for key, run in runners.items():
                run()  # untimed: the other library's spinning workers (PyTorch's OpenMP) settle meanwhile
                times[key].append(timed(run))
        ours = statistics.median(times["numbaconv"])
        theirs = statistics.median(times["torch"]) if torch is not None else float("nan")
        print(f"| {name} | {ours * 1e3:.1f} | {theirs * 1e3:.1f} | {batch / ours:.0f} | {batch / theirs:.0f} | "
              f"{ours / theirs:.2f} |")


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory(batch, steps):
    step = numbaconv_step("keras_net", batch)
    for i in range(1, steps + 1):
        step()
        if i in (10, steps) or i % 250 == 0:
            print(f"step {i}: peak RSS {peak_rss_mib():.0f} MiB", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--memory", type=int, help="train keras_net N steps and report peak RSS")
    args = parser.parse_args()
    nc.set_num_threads(args.threads)
    if torch is not None:
        torch.set_num_threads(args.threads)
    if args.memory:
        memory(args.batch, args.memory)
    else:
        compare(args.batch, args.steps)


if __name__ == "__main__":
    main()
