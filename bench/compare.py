"""numbaconv against PyTorch-CPU and a plain numpy im2col baseline, side by side in one process.

    python -m bench.compare [--threads 2] [--repeat 7] [--only conv|pool|linear] [--startup]

Every round runs each implementation once, in turn (interleaved), so drifting machine load hits all of
them alike; the table gives medians in ms and the time ratios numbaconv/torch and numbaconv/numpy
(< 1: numbaconv is faster). Conv rows are conv2d + bias + ReLU (numbaconv fuses the ReLU), as in the nets.
fwd+bwd rows take the input gradients with ``autograd.grad`` in both libraries, so no ``.grad`` accumulation
is timed.
``--startup`` instead times, in fresh processes with a warm Numba cache, ``import numbaconv`` and the first
call of each kernel.
"""
import numbaconv as nc  # noqa: I001  (first: sets OPENBLAS_THREAD_TIMEOUT before numpy loads OpenBLAS)
import numbaconv.nn.functional as F

import argparse
import os
import subprocess
import sys
import time

import numpy as np

from . import BATCH, CONV_LAYERS, LINEAR_LAYERS, POOL_INPUTS

try:
    import torch
except ImportError:
    torch = None


def numpy_conv(x, w, b, pad):
    """Plain numpy conv + bias + ReLU through im2col (sliding_window_view) and one matmul."""
    n, c = x.shape[:2]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = np.lib.stride_tricks.sliding_window_view(xp, w.shape[2:], axis=(2, 3))
    oh, ow = win.shape[2:4]
    col = win.transpose(1, 4, 5, 0, 2, 3).reshape(c * w.shape[2] * w.shape[3], n * oh * ow)
    y = (w.reshape(w.shape[0], -1) @ col).reshape(w.shape[0], n, oh, ow).transpose(1, 0, 2, 3) + b[:, None, None]
    return np.maximum(y, 0), col


def numpy_conv_fwd_bwd(x, w, b, pad, grad):
    out, col = numpy_conv(x, w, b, pad)
    g = (grad * (out > 0)).transpose(1, 0, 2, 3).reshape(w.shape[0], -1)
    gw = (g @ col.T).reshape(w.shape)
    gb = g.sum(axis=1)
    dcol = (w.reshape(w.shape[0], -1).T @ g).reshape(x.shape[1], *w.shape[2:], x.shape[0], *out.shape[2:])
    gx = np.zeros((x.shape[0], x.shape[1], x.shape[2] + 2 * pad, x.shape[3] + 2 * pad), x.dtype)
    oh, ow = out.shape[2:]
    for i in range(w.shape[2]):
        for j in range(w.shape[3]):
            gx[:, :, i:i + oh, j:j + ow] += dcol[:, i, j].transpose(1, 0, 2, 3)
    return gx[:, :, pad:gx.shape[2] - pad, pad:gx.shape[3] - pad], gw, gb


def numpy_pool(x, kind):
    n, c, h, w = x.shape
    v = x[:, :, :h // 2 * 2, :w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2)
    return v.max(axis=(3, 5)) if kind == "max" else v.mean(axis=(3, 5))


def numpy_pool_fwd_bwd(x, kind, grad):
    n, c, h, w = x.shape
    v = x[:, :, :h // 2 * 2, :w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2)
    out = v.max(axis=(3, 5), keepdims=True) if kind == "max" else v.mean(axis=(3, 5), keepdims=True)
    g = grad[:, :, :, None, :, None]
    gv = (v == out) * g if kind == "max" else np.broadcast_to(g / 4, v.shape)
    gx = np.zeros_like(x)
    gx[:, :, :h // 2 * 2, :w // 2 * 2] = gv.reshape(n, c, h // 2 * 2, w // 2 * 2)
    return gx


def conv_cases(rng):
    for name, (cin, cout, size, pad) in CONV_LAYERS.items():
        x = rng.standard_normal((BATCH, cin, size, size)).astype(np.float32)
        w = (rng.standard_normal((cout, cin, 3, 3)) * 0.1).astype(np.float32)
        b = (rng.standard_normal(cout) * 0.1).astype(np.float32)
        out = numpy_conv(x, w, b, pad)[0]
        grad = rng.standard_normal(out.shape).astype(np.float32)
        flops = 2 * out.size * cin * 9
        tx, tw, tb = (nc.tensor(a, requires_grad=True) for a in (x, w, b))
        tg = nc.tensor(grad)
        impls = {
            "numbaconv": (lambda tx=tx, tw=tw, tb=tb, pad=pad: F.conv2d(tx.detach(), tw.detach(), tb.detach(),
                                                                        padding=pad, relu=True),
                          lambda tx=tx, tw=tw, tb=tb, tg=tg, pad=pad: nc.autograd.grad(
                              F.conv2d(tx, tw, tb, padding=pad, relu=True), (tx, tw, tb), tg)),
            "numpy": (lambda x=x, w=w, b=b, pad=pad: numpy_conv(x, w, b, pad),
                      lambda x=x, w=w, b=b, pad=pad, grad=grad: numpy_conv_fwd_bwd(x, w, b, pad, grad)),
        }
        if torch is not None:
            px, pw, pb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
            pg = torch.tensor(grad)

            def torch_fwd(px=px, pw=pw, pb=pb, pad=pad):
                with torch.no_grad():
                    return torch.relu(torch.nn.functional.conv2d(px, pw, pb, padding=pad))

            def torch_fwd_bwd(px=px, pw=pw, pb=pb, pad=pad, pg=pg):
                out = torch.relu(torch.nn.functional.conv2d(px, pw, pb, padding=pad))
                return torch.autograd.grad(out, (px, pw, pb), pg)

            impls["torch"] = (torch_fwd, torch_fwd_bwd)
        yield f"conv {name}", impls, flops


def pool_cases(rng):
    if not hasattr(F, "max_pool2d"):
        return
    for name, (c, size) in POOL_INPUTS.items():
        x = rng.standard_normal((BATCH, c, size, size)).astype(np.float32)
        grad = rng.standard_normal((BATCH, c, size // 2, size // 2)).astype(np.float32)
        for kind in ("max", "avg"):
            nc_fn = getattr(F, f"{kind}_pool2d", None)
            if nc_fn is None:
                continue
            tx, tg = nc.tensor(x, requires_grad=True), nc.tensor(grad)
            impls = {
                "numbaconv": (lambda f=nc_fn, tx=tx: f(tx.detach(), 2),
                              lambda f=nc_fn, tx=tx, tg=tg: nc.autograd.grad(f(tx, 2), tx, tg)),
                "numpy": (lambda kind=kind, x=x: numpy_pool(x, kind),
                          lambda kind=kind, x=x, grad=grad: numpy_pool_fwd_bwd(x, kind, grad)),
            }
            if torch is not None:
                tf = getattr(torch.nn.functional, f"{kind}_pool2d")
                px, pg = torch.tensor(x, requires_grad=True), torch.tensor(grad)

                def torch_fwd(tf=tf, px=px):
                    with torch.no_grad():
                        return tf(px, 2)

                impls["torch"] = (torch_fwd, lambda tf=tf, px=px, pg=pg: torch.autograd.grad(tf(px, 2), px, pg))
            yield f"{kind}_pool2d {name}", impls, 0


def linear_cases(rng):
    for name, (fin, fout) in LINEAR_LAYERS.items():
        x = rng.standard_normal((BATCH, fin)).astype(np.float32)
        w = (rng.standard_normal((fout, fin)) * 0.05).astype(np.float32)
        b = np.zeros(fout, np.float32)
        grad = rng.standard_normal((BATCH, fout)).astype(np.float32)
        tx, tw, tb = (nc.tensor(a, requires_grad=True) for a in (x, w, b))
        tg = nc.tensor(grad)
        impls = {
            "numbaconv": (lambda tx=tx, tw=tw, tb=tb: F.linear(tx.detach(), tw.detach(), tb.detach()),
                          lambda tx=tx, tw=tw, tb=tb, tg=tg: nc.autograd.grad(F.linear(tx, tw, tb), (tx, tw, tb), tg)),
            "numpy": (lambda x=x, w=w, b=b: x @ w.T + b,
                      lambda x=x, w=w, b=b, g=grad: (x @ w.T + b, g @ w, g.T @ x, g.sum(0))),
        }
        if torch is not None:
            px, pw, pb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
            pg = torch.tensor(grad)

            def torch_fwd(px=px, pw=pw, pb=pb):
                with torch.no_grad():
                    return torch.nn.functional.linear(px, pw, pb)

            impls["torch"] = (torch_fwd, lambda px=px, pw=pw, pb=pb, pg=pg: torch.autograd.grad(
                torch.nn.functional.linear(px, pw, pb), (px, pw, pb), pg))
        yield f"linear {name}", impls, 2 * BATCH * fin * fout


WARM_S = 0.02


def interleaved(impls, mode, repeat):
    """Median seconds per call of each implementation; each round runs all of them once, in a rotating order.

    Each timed block directly follows untimed calls of the same implementation, for at least ``WARM_S``: the
    worker threads of the library that ran before (PyTorch's OpenMP workers spin after each op) would
    otherwise share the cores with it. Measured here: numbaconv's 64-channel conv 9.8 ms alone, 16.8 ms right
    after a torch conv, 9.9 ms after one untimed call; its 1.3 ms 128-channel conv still took 2.3-2.5 ms after
    one untimed call, torch's workers spinning on. (A sleep instead made every library slower, the cores
    presumably idling down.) The timed block holds as many calls as the warm-up fitted in (one for calls longer
    than ``WARM_S``), so a call of microseconds is not timed alone, at the clock's and the scheduler's mercy.
    """
    names = list(impls)
    times = {name: [] for name in names}
    for r in range(repeat):
        for name in names[r % len(names):] + names[:r % len(names)]:
            call, calls = impls[name][mode], 0
            warm_until = time.perf_counter() + WARM_S
            while time.perf_counter() < warm_until:
                call()
                calls += 1
            number = max(calls - 1, 1)
            start = time.perf_counter()
            for _ in range(number):
                call()
            times[name].append((time.perf_counter() - start) / number)
    return {name: float(np.median(t)) for name, t in times.items()}


def table(cases, repeat):
    rows = ["| op | pass | numbaconv ms | torch ms | numpy ms | nc/torch | nc/numpy | nc GFLOP/s |",
            "|---|---|---:|---:|---:|---:|---:|---:|"]
    for label, impls, flops in cases:
        for mode, pass_name, factor in ((0, "fwd", 1), (1, "fwd+bwd", 3)):
            t = interleaved(impls, mode, repeat)
            ours, theirs, base = t["numbaconv"], t.get("torch"), t["numpy"]
            rate = f"{factor * flops / ours / 1e9:.0f}" if flops else "-"
            torch_ms = f"{theirs * 1e3:.2f}" if theirs else "-"
            ratio = f"{ours / theirs:.2f}" if theirs else "-"
            rows.append(f"| {label} | {pass_name} | {ours * 1e3:.2f} | {torch_ms} | {base * 1e3:.2f} | {ratio} | "
                        f"{ours / base:.2f} | {rate} |")
            print(rows[-1], flush=True)
    return rows


STARTUP = """
import time
t0 = time.perf_counter()
import numbaconv as nc
import numbaconv.nn.functional as F
import numpy as np
t1 = time.perf_counter()
print(f"import numbaconv {1e3 * (t1 - t0):.0f} ms")
x = nc.tensor(np.ones((2, 3, 8, 8), np.float32), requires_grad=True)
w = nc.tensor(np.ones((8, 3, 3, 3), np.float32), requires_grad=True)
w8 = nc.tensor(np.ones((8, 8, 3, 3), np.float32), requires_grad=True)
w16 = nc.tensor(np.ones((16, 8, 3, 3), np.float32), requires_grad=True)
w16b = nc.tensor(np.ones((16, 16, 3, 3), np.float32), requires_grad=True)
v = nc.tensor(np.ones((4, 192), np.float32), requires_grad=True)
steps = [("conv2d fwd", lambda: F.conv2d(x, w, padding=1, relu=True)),
         ("conv2d fwd+bwd", lambda: F.conv2d(x, w, padding=1, relu=True).sum().backward()),
         ("conv2d 8+ channels fwd+bwd", lambda: F.conv2d(F.conv2d(x, w, padding=1), w8, padding=1).sum().backward()),
         ("Winograd conv2d (16+ channels) fwd+bwd",
          lambda: F.conv2d(F.conv2d(F.conv2d(x, w, padding=1), w16, padding=1), w16b, padding=1).sum().backward()),
         ("linear fwd+bwd", lambda: F.linear(x.reshape(2, -1), v).sum().backward())]
for name in ("max_pool2d", "avg_pool2d"):
    if hasattr(F, name):
        steps.append((name + " fwd+bwd", lambda f=getattr(F, name): f(x, 2).sum().backward()))
for label, step in steps:
    t = time.perf_counter()
    step()
    print(f"first {label} {1e3 * (time.perf_counter() - t):.0f} ms")
print(f"total {1e3 * (time.perf_counter() - t0):.0f} ms")
"""


def startup():
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    warm = subprocess.run([sys.executable, "-c", STARTUP], env=env, capture_output=True, text=True)
    if warm.returncode:
        sys.exit(f"startup script failed:\n{warm.stderr}")
    print("fresh process, warm Numba cache:")
    subprocess.run([sys.executable, "-c", STARTUP], env=env, check=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--only", choices=["conv", "pool", "linear"])
    parser.add_argument("--startup", action="store_true")
    args = parser.parse_args(argv)
    if args.startup:
        startup()
        return
    nc.set_num_threads(args.threads)
    if torch is not None:
        torch.set_num_threads(args.threads)
    print(f"batch {BATCH}, float32, {args.threads} threads, median of {args.repeat} interleaved runs; "
          f"torch {torch.__version__ if torch else 'not installed'}, numpy {np.__version__}, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset (OpenBLAS detects the CPU)')}")
    rng = np.random.default_rng(0)
    groups = {"conv": conv_cases, "pool": pool_cases, "linear": linear_cases}
    cases = [case for key, make in groups.items() if args.only in (None, key) for case in make(rng)]
    table(cases, args.repeat)


if __name__ == "__main__":
    main()
