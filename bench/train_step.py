"""Every shipped model's full training step and inference latency, numbaconv vs its PyTorch twin, side by side.

    python -m bench.train_step [--threads 2] [--steps 15] [--models keras_net,torch_net] [--batch default]
    python -m bench.train_step --latency           # eval-mode forward without grad at batch 1 and 8
    python -m bench.train_step --profile           # numbaconv.profiler's table beside torch.profiler's
    python -m bench.train_step --memory 1000 --library torch --models keras_net   # peak RSS, one library
    python -m bench.train_step --isolated          # each library in a process of its own (bench/isolated.py)

A step is what ``numbaconv train`` runs: forward, cross-entropy with the recipe's label smoothing, backward,
the recipe's optimizer over its parameter groups (models.RECIPES), at the recipe's batch size unless --batch
says otherwise; the twin (bench/torch_twin.py) has the same layers, weights and groups. Interleaved rounds in
one process, each timed call right after an untimed one of the same library; medians. In one process the two
libraries share one OpenMP runtime, whose wait policy is torch's here (torch loads it first), which slows
numbaconv's steps (bench/isolated.py); ``--isolated`` runs each library in a process of its own instead, the
rounds still interleaved. Speed ratio = torch
time / numbaconv time (> 1: numbaconv is faster). The table also gives each model's forward FLOPs per image
(direct-convolution count), a step's FLOPs taken as 3x the forward (forward, input and weight gradients),
and the fraction of this machine's sgemm peak (numpy float32 4096^3 matmul on the same threads) that
numbaconv's step reaches.
"""
import numbaconv as nc  # noqa: I001  (first: sets thread policies before numpy loads OpenBLAS)
from numbaconv import nn

import argparse
import os
import resource
import statistics
import time

import numpy as np

from . import isolated as isolated_runner
from . import workload

try:
    import torch
    from torch import profiler as torch_profiler

    from . import torch_twin
except ImportError:
    torch = None


def torch_training_step(name, size):
    """The twin of workload.training_step: same weights, batch, loss and optimizer groups, in PyTorch."""
    images, labels = workload.batch(size)
    model = torch_twin.twin(workload.build(name, images))
    optimizer = torch_twin.twin_optimizer(name, workload.build(name, images), model)
    x, y = torch.from_numpy(images.numpy()), torch.from_numpy(labels.numpy())
    smoothing = workload.require("models", "recipe")(name).label_smoothing

    def step():
        loss = torch.nn.functional.cross_entropy(model(x), y, label_smoothing=smoothing)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    return step


def torch_inference(name, size):
    images, _ = workload.batch(size)
    model = torch_twin.twin(workload.build(name, images)).eval()
    x = torch.from_numpy(images.numpy())

    def forward():
        with torch.no_grad():
            return model(x)

    return forward


def forward_flops(model, shape=(1, 3, 32, 32)):
    """Multiply-adds x 2 of one image through ``model``'s convolutions and linear layers (direct count)."""
    flops = 0
    x = nc.zeros(shape)
    with nc.no_grad():
        for layer in model:
            y = layer(x)
            if isinstance(layer, nn.Conv2d):
                kh, kw = layer.kernel_size
                flops += 2 * y.numel() * (layer.in_channels // layer.groups) * kh * kw
            elif isinstance(layer, nn.Linear):
                flops += 2 * layer.in_features * layer.out_features
            x = y
    return flops // shape[0]


def sgemm_peak(size=4096, repeat=3):
    """GFLOP/s of numpy's float32 matmul of two size x size matrices (best of ``repeat``)."""
    a = np.random.default_rng(0).standard_normal((size, size), dtype=np.float32)
    a @ a
    best = min(_seconds(lambda: a @ a) for _ in range(repeat))
    return 2 * size ** 3 / best / 1e9


def _seconds(call):
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _timer(run):
    """Seconds of one call of ``run``, right after an untimed one (the other library's spinning workers, PyTorch's
    OpenMP, settle meanwhile)."""
    def timed():
        run()
        return _seconds(run)

    return timed


def interleaved(runners, rounds):
    """Median seconds per runner; each round asks every runner in turn for one timed call."""
    times = {key: [] for key in runners}
    for _ in range(rounds):
        for key, timed in runners.items():
            times[key].append(timed())
    return {key: statistics.median(t) for key, t in times.items()}


def _measure(kind, name, size, rounds, threads, isolated):
    """Median seconds of numbaconv's and the twin's ``kind`` ("step" or "inference"): in this process, or with
    ``isolated`` each library in a process of its own (bench/isolated.py: they share no OpenMP runtime there)."""
    if isolated:
        libraries = ["numbaconv"] + (["torch"] if torch is not None else [])
        runners = {library: isolated_runner.Runner(library, kind, name, size, threads) for library in libraries}
        try:
            return interleaved(runners, rounds)
        finally:
            for runner in runners.values():
                runner.close()
    steps = (workload.training_step, torch_training_step) if kind == "step" else (workload.inference, torch_inference)
    runners = {"numbaconv": _timer(steps[0](name, size))}
    if torch is not None:
        runners["torch"] = _timer(steps[1](name, size))
    return interleaved(runners, rounds)


def compare(names, batch, rounds, peak, threads, isolated):
    print(f"sgemm peak {peak:.0f} GFLOP/s")
    print("| model | batch | numbaconv ms | torch ms | numbaconv img/s | torch img/s | speed ratio | "
          "MFLOP/img (fwd) | numbaconv % of peak |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in names:
        size = workload.batch_size(name, batch)
        t = _measure("step", name, size, rounds, threads, isolated)
        ours, theirs = t["numbaconv"], t.get("torch", float("nan"))
        flops = forward_flops(workload.build(name))
        share = 100 * 3 * flops * size / ours / 1e9 / peak
        print(f"| {name} | {size} | {ours * 1e3:.1f} | {theirs * 1e3:.1f} | {size / ours:.0f} | {size / theirs:.0f} | "
              f"{theirs / ours:.2f} | {flops / 1e6:.0f} | {share:.1f} |", flush=True)


def latency(names, rounds, threads, isolated):
    print("| model | batch | numbaconv ms | torch ms | speed ratio |\n|---|---:|---:|---:|---:|")
    for name in names:
        for size in (1, 8):
            t = _measure("inference", name, size, rounds, threads, isolated)
            ours, theirs = t["numbaconv"], t.get("torch", float("nan"))
            print(f"| {name} | {size} | {ours * 1e3:.2f} | {theirs * 1e3:.2f} | {theirs / ours:.2f} |", flush=True)


def profiles(names, batch, steps, rows=15):
    from numbaconv import profiler

    for name in names:
        size = workload.batch_size(name, batch)
        step = workload.training_step(name, size)
        step()
        with profiler.profile() as prof:
            for _ in range(steps):
                step()
        print(f"\n## {name}, batch {size}: numbaconv, {steps} steps\n")
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows))
        if torch is None:
            continue
        twin_step = torch_training_step(name, size)
        twin_step()
        with torch_profiler.profile(activities=[torch_profiler.ProfilerActivity.CPU]) as tprof:
            for _ in range(steps):
                twin_step()
        print(f"\n## {name}, batch {size}: PyTorch, {steps} steps\n")
        print(tprof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows))


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory(name, batch, steps, library):
    size = workload.batch_size(name, batch)
    step = workload.training_step(name, size) if library == "numbaconv" else torch_training_step(name, size)
    for i in range(1, steps + 1):
        step()
        if i in (10, steps) or i % 250 == 0:
            print(f"{library} {name} batch {size} step {i}: peak RSS {peak_rss_mib():.0f} MiB", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", default="default", help="batch size, or 'default': each model's recipe")
    parser.add_argument("--steps", type=int, default=15, help="interleaved rounds (or profiled steps)")
    parser.add_argument("--models", default=",".join(workload.model_names()))
    parser.add_argument("--latency", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--memory", type=int, metavar="N", help="train N steps of one library; print peak RSS")
    parser.add_argument("--library", choices=["numbaconv", "torch"], default="numbaconv")
    parser.add_argument("--isolated", action="store_true",
                        help="time each library in a process of its own (they share no OpenMP runtime)")
    args = parser.parse_args(argv)
    names = args.models.split(",")
    unknown = sorted(set(names) - set(workload.model_names()))
    if unknown:
        parser.error(f"--models: unknown {unknown}; expected a comma-separated subset of {workload.model_names()}")
    if args.batch != "default" and not args.batch.isdigit():
        parser.error(f"--batch: expected a positive integer or 'default', got {args.batch!r}")
    if args.library == "torch" and torch is None:
        parser.error("--library torch: torch is not installed")
    nc.set_num_threads(args.threads)
    if torch is not None:
        torch.set_num_threads(args.threads)
    print(f"{args.threads} threads; torch {torch.__version__ if torch else 'not installed'}, numpy {np.__version__}, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}")
    if args.memory:
        for name in names:
            memory(name, args.batch, args.memory, args.library)
    elif args.latency:
        latency(names, args.steps, args.threads, args.isolated)
    elif args.profile:
        profiles(names, args.batch, args.steps)
    else:
        compare(names, args.batch, args.steps, sgemm_peak(), args.threads, args.isolated)


if __name__ == "__main__":
    main()
