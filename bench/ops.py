"""Every everyday op with a gradient, numbaconv against PyTorch-CPU, at a large and a small activation shape.

    python -m bench.ops [--threads 2] [--repeat 9] [--only relu,add] [--shapes large,small] [--fixed-cost]

Each row times forward + ``.sum().backward()`` (``.grad`` reset to None first, in both libraries) in interleaved
rounds (bench.compare.interleaved: each timed call follows untimed warm calls of the same library); the table
gives medians in ms and the speed ratio torch time / numbaconv time (> 1: numbaconv is faster).
``--fixed-cost`` instead times, with ``timeit``, one call of a 100-element add with and without a graph: the
per-op overhead that dominates small tensors and batch-1 inference.
"""
import numbaconv as nc  # noqa: I001  (first: sets OPENBLAS_THREAD_TIMEOUT before numpy loads OpenBLAS)
import numbaconv.nn.functional as F

import argparse
import os
import timeit

import numpy as np

from .compare import interleaved

try:
    import torch
except ImportError:
    torch = None

SHAPES = {"large": (128, 64, 32, 32), "small": (8, 16, 8, 8)}


class Lib:
    """One library's names under a common spelling: ``top`` (numbaconv / torch) and ``F`` (their functional)."""

    def __init__(self, name, top, functional, tensor):
        self.name, self.top, self.F, self._tensor = name, top, functional, tensor

    def leaf(self, array):
        return self._tensor(array, requires_grad=array.dtype.kind == "f")

    def value(self, array):
        return self._tensor(array)

    def amax(self, x, dims):
        return self.top.amax(x, dims) if self.name == "torch" else self.top.max(x, dims)

    def batch_norm(self, x, w, b):
        return self.F.batch_norm(x, None, None, w, b, training=True)


def numbaconv_lib():
    return Lib("numbaconv", nc, F, lambda a, requires_grad=False: nc.tensor(a, requires_grad=requires_grad))


def torch_lib():
    return Lib("torch", torch, torch.nn.functional,
               lambda a, requires_grad=False: torch.tensor(a, requires_grad=requires_grad))


def _flat_matmul(lib, x, y):
    n = x.shape[0]
    return x.reshape(n, -1) @ y.reshape(n, -1).T


# name -> (inputs, fn(lib, *tensors)); inputs: "x" (normal), "p" (positive), "y" (second normal), "w"/"b" (per
# channel), "k" (3x3 conv weight, C -> C), "logits"/"labels" (512x10 classification, shape-independent).
OPS = {
    "relu": ("x", lambda m, x: m.F.relu(x)),
    "gelu": ("x", lambda m, x: m.F.gelu(x)),
    "sigmoid": ("x", lambda m, x: m.top.sigmoid(x)),
    "tanh": ("x", lambda m, x: m.top.tanh(x)),
    "exp": ("x", lambda m, x: m.top.exp(x)),
    "log": ("p", lambda m, x: m.top.log(x)),
    "sqrt": ("p", lambda m, x: m.top.sqrt(x)),
    "abs": ("x", lambda m, x: m.top.abs(x)),
    "neg": ("x", lambda m, x: -x),
    "x + y": ("xy", lambda m, x, y: x + y),
    "x - y": ("xy", lambda m, x, y: x - y),
    "x * y": ("xy", lambda m, x, y: x * y),
    "x / y": ("xp", lambda m, x, y: x / y),
    "x ** 2": ("x", lambda m, x: x ** 2),
    "x * 0.5 (scalar)": ("x", lambda m, x: x * 0.5),
    "x + bias (C,1,1)": ("xb", lambda m, x, b: x + b.reshape(-1, 1, 1)),
    "maximum": ("xy", lambda m, x, y: m.top.maximum(x, y)),
    "clamp": ("x", lambda m, x: m.top.clamp(x, -0.5, 0.5)),
    "where(x > 0)": ("xy", lambda m, x, y: m.top.where(x > 0, x, y)),
    "sum": ("x", lambda m, x: x.sum()),
    "mean over (2, 3)": ("x", lambda m, x: x.mean((2, 3))),
    "var over (0, 2, 3)": ("x", lambda m, x: x.var((0, 2, 3))),
    "amax over 1": ("x", lambda m, x: m.amax(x, (1,))),
    "softmax dim 1": ("x", lambda m, x: m.F.softmax(x, dim=1)),
    "log_softmax dim 1": ("x", lambda m, x: m.F.log_softmax(x, dim=1)),
    "logsumexp dim 1": ("x", lambda m, x: m.top.logsumexp(x, 1)),
    "permute(0, 2, 3, 1).contiguous()": ("x", lambda m, x: x.permute(0, 2, 3, 1).contiguous()),
    "transpose(1, 2)": ("x", lambda m, x: x.transpose(1, 2).contiguous()),
    "pad 1": ("x", lambda m, x: m.F.pad(x, (1, 1, 1, 1))),
    "cat dim 1": ("xy", lambda m, x, y: m.top.cat([x, y], 1)),
    "(N, C·H·W) @ (C·H·W, N)": ("xy", _flat_matmul),
    "conv2d 3x3 pad 1": ("xk", lambda m, x, k: m.F.conv2d(x, k, padding=1)),
    "max_pool2d 2": ("x", lambda m, x: m.F.max_pool2d(x, 2)),
    "avg_pool2d 2": ("x", lambda m, x: m.F.avg_pool2d(x, 2)),
    "adaptive_avg_pool2d(x, 1)": ("x", lambda m, x: m.F.adaptive_avg_pool2d(x, 1)),
    "BatchNorm2d (train)": ("xwb", lambda m, x, w, b: m.batch_norm(x, w, b)),
    "mse_loss": ("xy", lambda m, x, y: m.F.mse_loss(x, y)),
    "cross_entropy 512x10, smoothing 0.2": (
        "L", lambda m, logits, labels: m.F.cross_entropy(logits, labels, label_smoothing=0.2)),
}


def make_arrays(kinds, shape, rng):
    channels = shape[1]
    make = {
        "x": lambda: rng.standard_normal(shape),
        "y": lambda: rng.standard_normal(shape),
        "p": lambda: np.abs(rng.standard_normal(shape)) + 0.5,
        "w": lambda: rng.standard_normal(channels),
        "b": lambda: rng.standard_normal(channels),
        "k": lambda: rng.standard_normal((channels, channels, 3, 3)) / (3 * channels ** 0.5),
    }
    if kinds == "L":
        return [rng.standard_normal((512, 10)).astype(np.float32), rng.integers(0, 10, 512)]
    return [make[k]().astype(np.float32) for k in kinds]


def fwd_bwd_step(lib, fn, arrays):
    leaves = [lib.leaf(a) if a.dtype.kind == "f" else lib.value(a) for a in arrays]
    params = [t for t in leaves if t.requires_grad]

    def step():
        for t in params:
            t.grad = None
        fn(lib, *leaves).sum().backward()

    return step


def rows(names, shapes, repeat, rng):
    libs = [numbaconv_lib()] + ([torch_lib()] if torch is not None else [])
    for name in names:
        kinds, fn = OPS[name]
        for shape_name in shapes if kinds != "L" else shapes[:1]:
            arrays = make_arrays(kinds, SHAPES[shape_name], rng)
            impls = {lib.name: [fwd_bwd_step(lib, fn, arrays)] for lib in libs}
            t = interleaved(impls, 0, repeat)
            ours, theirs = t["numbaconv"], t.get("torch")
            label = "512x10" if kinds == "L" else "x".join(map(str, SHAPES[shape_name]))
            ratio = f"{theirs / ours:.2f}" if theirs else "-"
            torch_ms = f"{theirs * 1e3:.3f}" if theirs else "-"
            yield f"| {name} | {label} | {ours * 1e3:.3f} | {torch_ms} | {ratio} |"


def fixed_cost(number=20000):
    """Microseconds per call of a 100-element float32 add, without and with a graph (timeit, best of 5)."""
    a = np.ones(100, np.float32)
    cases = [("numbaconv", nc.tensor(a), nc.tensor(a), nc.tensor(a, requires_grad=True))]
    if torch is not None:
        cases.append(("torch", torch.tensor(a), torch.tensor(a), torch.tensor(a, requires_grad=True)))
    for name, x, y, leaf in cases:
        plain = min(timeit.repeat(lambda: x + y, number=number, repeat=5)) / number
        graph = min(timeit.repeat(lambda: leaf + y, number=number, repeat=5)) / number
        print(f"{name}: add of 100 elements {plain * 1e6:.2f} us without a graph, {graph * 1e6:.2f} us with one")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--only", help="comma-separated substrings of op names")
    parser.add_argument("--shapes", default="large,small", help="comma-separated: large, small")
    parser.add_argument("--fixed-cost", action="store_true")
    args = parser.parse_args(argv)
    nc.set_num_threads(args.threads)
    if torch is not None:
        torch.set_num_threads(args.threads)
    if args.fixed_cost:
        fixed_cost()
        return
    shapes = args.shapes.split(",")
    unknown = [s for s in shapes if s not in SHAPES]
    if unknown:
        parser.error(f"--shapes: unknown {unknown}; expected a comma-separated subset of {sorted(SHAPES)}")
    wanted = args.only.split(",") if args.only else None
    names = [n for n in OPS if wanted is None or any(w in n for w in wanted)]
    if not names:
        parser.error(f"--only {args.only!r} matches no op; ops: {', '.join(OPS)}")
    print(f"forward + sum().backward(), float32, {args.threads} threads, median of {args.repeat} interleaved "
          f"rounds; torch {torch.__version__ if torch else 'not installed'}, numpy {np.__version__}, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}")
    print("| op | shape | numbaconv ms | torch ms | speed ratio (torch / numbaconv) |\n|---|---|---:|---:|---:|")
    for row in rows(names, shapes, args.repeat, np.random.default_rng(0)):
        print(row, flush=True)


if __name__ == "__main__":
    main()
