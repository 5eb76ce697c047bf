"""numbaconv's CUDA kernels against PyTorch + cuDNN on one GPU, fp32, medians of CUDA-event timings.

    PYTHONPATH=$PWD python3 bench/gpu_compare.py [--batch 512] [--repeat 30] [--json out.json]

Rows: conv2d forward and backward (input, weight, bias) at each Torch-net layer, 2x2 max pooling fwd/bwd,
square and fc-sized matmuls, and one full SGD training step of the Torch net (conv 3->64, 64->64, 64->128,
128->128, 3x3 pad 1, each + ReLU + maxpool 2; fc 512->512, 512->10; cross-entropy; SGD momentum 0.9).
PyTorch runs with TF32 off (true fp32, the comparison) and, for information, with TF32 on. Each round runs
every implementation once in turn (interleaved); the table gives medians in ms, the ratio
numbaconv time / PyTorch time (< 1: numbaconv faster) and numbaconv's achieved TFLOP/s against the fp32 peak.
"""
import argparse
import json
import statistics
import sys
import time

import numpy as np

import numbaconv as nc

# Imported by main(): asv imports every module of bench/ while discovering benchmarks, on machines without
# a GPU (or torch) too.
torch = xp = gconv = gemm = goptim = gpool = None


def _import_gpu_modules():
    global torch, xp, gconv, gemm, goptim, gpool
    import torch

    from numbaconv.backends.cuda import array_api as xp
    from numbaconv.backends.cuda import conv as gconv
    from numbaconv.backends.cuda import gemm
    from numbaconv.backends.cuda import optim as goptim
    from numbaconv.backends.cuda import pool as gpool

FP32_PEAK = {"H100 80GB HBM3": 66.9, "H100": 66.9, "H200": 66.9, "A100": 19.5}
LAYERS = [(3, 64, 32), (64, 64, 16), (64, 128, 8), (128, 128, 4)]  # (cin, cout, spatial size) of the Torch net


def peak_tflops(name):
    for key, value in FP32_PEAK.items():
        if key in name:
            return value
    return float("nan")


def event_time(fn, sync=True):
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end)


def interleaved(fns, repeat, warmup=3):
    """Median ms of each callable, rounds interleaved."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    torch.cuda.synchronize()
    nc.cuda.synchronize()
    times = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            times[name].append(event_time(fn))
    return {name: statistics.median(v) for name, v in times.items()}


def tf32(on):
    torch.backends.cudnn.allow_tf32 = on
    torch.backends.cuda.matmul.allow_tf32 = on


def with_tf32(fn):
    def run():
        tf32(True)
        try:
            fn()
        finally:
            tf32(False)

    return run


def rel_err(ours, ref):
    ours = torch.as_tensor(ours, device="cuda") if not isinstance(ours, torch.Tensor) else ours
    return float((ours.double() - ref.double()).norm() / ref.double().norm().clamp_min(1e-30))


def shared(t):
    """A CudaArray viewing a torch tensor (zero copy through __cuda_array_interface__)."""
    return xp.asarray(t.contiguous())


def conv_rows(batch, repeat, rows, checks):
    for cin, cout, size in LAYERS:
        x = torch.randn(batch, cin, size, size, device="cuda")
        w = torch.randn(cout, cin, 3, 3, device="cuda") * (2.0 / (cin * 9)) ** 0.5
        b = torch.randn(cout, device="cuda")
        g = torch.randn(batch, cout, size, size, device="cuda")
        X, W, B, G = shared(x), shared(w), shared(b), shared(g)
        args = ((1, 1), (1, 1, 1, 1), (1, 1), 1)
        ours = gconv.conv2d_forward(X, W, B, *args, False)
        ref = torch.nn.functional.conv2d(x, w, b, padding=1)
        checks[f"conv fwd {cin}->{cout}@{size}"] = rel_err(ours, ref)
        gi, gw, gb = gconv.conv2d_backward(G, X, W, None, *args, False)
        rgi, rgw, rgb = torch.ops.aten.convolution_backward(g, x, w, [cout], [1, 1], [1, 1], [1, 1], False, [0, 0], 1,
                                                            [True, True, True])
        checks[f"conv bwd-input {cin}->{cout}@{size}"] = rel_err(gi, rgi)
        checks[f"conv bwd-weight {cin}->{cout}@{size}"] = rel_err(gw, rgw)
        checks[f"conv bwd-bias {cin}->{cout}@{size}"] = rel_err(gb, rgb)
        flops = 2.0 * batch * cout * size * size * cin * 9
        fwd = {
            "numbaconv": lambda: gconv.conv2d_forward(X, W, B, *args, False),
            "torch": lambda: torch.nn.functional.conv2d(x, w, b, padding=1),
            "torch_tf32": with_tf32(lambda: torch.nn.functional.conv2d(x, w, b, padding=1)),
        }
        rows.append(("conv fwd", f"{cin}->{cout} @{size}x{size}", flops, interleaved(fwd, repeat)))
        bwd = {
            "numbaconv": lambda: gconv.conv2d_backward(G, X, W, None, *args, False),
            "torch": lambda: torch.ops.aten.convolution_backward(g, x, w, [cout], [1, 1], [1, 1], [1, 1], False,
                                                                 [0, 0], 1, [True, True, True]),
        }
        bwd["torch_tf32"] = with_tf32(bwd["torch"])
        rows.append(("conv bwd", f"{cin}->{cout} @{size}x{size}", 2 * flops, interleaved(bwd, repeat)))


def tile_rows(batch, repeat, rows):
    """conv forward of the 64->64 layer with each GEMM tile shape (BM, BN, BK, TM, TN)."""
    cin, cout, size = LAYERS[1]
    x = torch.randn(batch, cin, size, size, device="cuda")
    w = torch.randn(cout, cin, 3, 3, device="cuda")
    X, W = shared(x), shared(w)
    out = xp.empty((batch, cout, size, size), np.float32)
    p = gconv._conv_params(X.shape, W.shape, size, size, (1, 1), (1, 1, 1, 1), (1, 1), 1)
    fns = {}
    tab = gconv._fwd_table(X.shape, W.shape, (1, 1))
    for tile in [(128, 128, 8, 8, 8), (64, 128, 8, 4, 8), (64, 64, 8, 4, 4), (32, 64, 8, 2, 4)]:
        fns[str(tile)] = (lambda t: lambda: gemm.launch("conv_fwd", out.flat, W.flat, X.flat, gemm.dummy(np.float32),
                                                        cout, batch * size * size, cin * 9, 1, p, tile=t,
                                                        tab_b=tab))(tile)
    flops = 2.0 * batch * cout * size * size * cin * 9
    for name, ms in interleaved(fns, repeat).items():
        rows.append(("conv fwd tile", f"{cin}->{cout} @{size} {name}", flops, {"numbaconv": ms}))
        kernel, _ = gemm.gemm_kernel("conv_fwd", "float32", eval(name), True, False)
        try:
            print(f"# tile {name}: {kernel.get_regs_per_thread()} registers, "
                  f"{kernel.get_local_mem_per_thread()} B local memory per thread", file=sys.stderr)
        except Exception as error:  # resource queries differ between numba-cuda versions
            print(f"# tile {name}: resource query failed: {error}", file=sys.stderr)


def explore_rows(batch, repeat, rows):
    """Tuning probes: register caps on the conv forward kernel, split-K and tiles for grad weight (64->64 layer)."""
    cin, cout, size = LAYERS[1]
    x = torch.randn(batch, cin, size, size, device="cuda")
    w = torch.randn(cout, cin, 3, 3, device="cuda")
    g = torch.randn(batch, cout, size, size, device="cuda")
    X, W, G = shared(x), shared(w), shared(g)
    out = xp.empty((batch, cout, size, size), np.float32)
    p = gconv._conv_params(X.shape, W.shape, size, size, (1, 1), (1, 1, 1, 1), (1, 1), 1)
    tab = gconv._fwd_table(X.shape, W.shape, (1, 1))
    flops = 2.0 * batch * cout * size * size * cin * 9
    fns = {}
    for regs in (None, 64, 80, 96):
        fns[f"fwd max_registers={regs}"] = (lambda r: lambda: gemm.launch(
            "conv_fwd", out.flat, W.flat, X.flat, gemm.dummy(np.float32), cout, batch * size * size, cin * 9, 1, p,
            tab_b=tab, max_registers=r))(regs)
    dw = xp.zeros(W.shape, np.float32)
    for ksplit in (8, 16, 32, 64, 128):
        for tile in ((64, 64, 8, 4, 4), (32, 64, 8, 2, 4)):
            fns[f"dW ksplit={ksplit} tile={tile}"] = (lambda k, t: lambda: gemm.launch(
                "conv_dw", dw.flat, G.flat, X.flat, gemm.dummy(np.float32), cout, cin * 9, batch * size * size, 1, p,
                a_k_fast=True, b_k_fast=True, ksplit=k, tile=t))(ksplit, tile)
    gi = xp.empty(X.shape, np.float32)
    tab_a, tab_b = gconv._dx_tables(W.shape, cout, size, size, (1, 1))
    for tile in ((64, 64, 8, 4, 4), (64, 128, 8, 4, 8)):
        fns[f"dX tile={tile}"] = (lambda t: lambda: gemm.launch(
            "conv_dx", gi.flat, W.flat, G.flat, gemm.dummy(np.float32), cin, batch * size * size, cout * 9, 1, p,
            tab_a=tab_a, tab_b=tab_b, tile=t))(tile)
    for name, ms in interleaved(fns, repeat).items():
        rows.append(("probe", f"{cin}->{cout} @{size} {name}", flops, {"numbaconv": ms}))


def pool_rows(batch, repeat, rows):
    for cin, cout, size in LAYERS[:2]:
        x = torch.randn(batch, cout, size, size, device="cuda", requires_grad=True)
        X = shared(x.detach())
        out, idx = gpool.max_pool2d_forward(X, (2, 2), (2, 2), (0, 0))
        g = torch.randn(tuple(out.shape), device="cuda")
        G = shared(g)
        fwd = {
            "numbaconv": lambda: gpool.max_pool2d_forward(X, (2, 2), (2, 2), (0, 0)),
            "torch": lambda: torch.nn.functional.max_pool2d(x.detach(), 2),
        }
        rows.append(("maxpool fwd", f"{cout}ch @{size}", 0, interleaved(fwd, repeat)))
        ref_out, ref_idx = torch.nn.functional.max_pool2d(x.detach(), 2, return_indices=True)
        bwd = {
            "numbaconv": lambda: gpool.max_pool2d_backward(G, idx, X.shape),
            "torch": lambda: torch.ops.aten.max_pool2d_with_indices_backward(g, x.detach(), [2, 2], [2, 2], [0, 0],
                                                                             [1, 1], False, ref_idx),
        }
        rows.append(("maxpool bwd", f"{cout}ch @{size}", 0, interleaved(bwd, repeat)))


def matmul_rows(repeat, rows, checks):
    for m, k, n in [(4096, 4096, 4096), (512, 512, 512), (512, 512, 10)]:
        a, b = torch.randn(m, k, device="cuda"), torch.randn(k, n, device="cuda")
        A, B = shared(a), shared(b)
        checks[f"matmul {m}x{k}x{n}"] = rel_err(xp.matmul(A, B), a @ b)
        fns = {"numbaconv": lambda: xp.matmul(A, B), "torch": lambda: a @ b}
        fns["torch_tf32"] = with_tf32(fns["torch"])
        rows.append(("matmul", f"{m}x{k}x{n}", 2.0 * m * n * k, interleaved(fns, repeat)))


# ---- full training step -------------------------------------------------------------------------
class MaxPool2(nc.Function):
    @staticmethod
    def forward(ctx, x):
        out, idx = gpool.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0))
        ctx.save_for_backward(idx)
        ctx.shape = x.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        (idx,) = ctx.saved_tensors
        return gpool.max_pool2d_backward(grad, idx, ctx.shape)


def max_pool2(x):
    from numbaconv.nn import functional as F

    if hasattr(F, "max_pool2d"):
        return F.max_pool2d(x, 2)
    return MaxPool2.apply(x)


def count_copies(step):
    """Host<->device copies made by ``step()`` (numba's to_device / copy_to_host, counted by patching)."""
    import numba.cuda

    count = [0]
    originals = (numba.cuda.to_device, xp.CudaArray.copy_to_host)

    def to_device(*a, **k):
        count[0] += 1
        return originals[0](*a, **k)

    def copy_to_host(self):
        count[0] += 1
        return originals[1](self)

    numba.cuda.to_device, xp.CudaArray.copy_to_host = to_device, copy_to_host
    try:
        step()
    finally:
        numba.cuda.to_device, xp.CudaArray.copy_to_host = originals
    return count[0]


def train_step_rows(batch, repeat, rows, checks):
    from numbaconv.ops.conv import conv2d
    from numbaconv.ops.linear import linear

    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(64, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(64, 128, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(128, 128, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(512, 512), torch.nn.ReLU(), torch.nn.Linear(512, 10),
    ).cuda()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, 3, 32, 32, device="cuda")
    y = torch.randint(0, 10, (batch,), device="cuda")
    params = [nc.tensor(p.detach().cpu().numpy(), device="cuda", requires_grad=True) for p in net.parameters()]
    buffers = [xp.zeros(p.shape, np.float32) for p in params]
    X = nc.Tensor(shared(x))
    Y = nc.Tensor(shared(y))

    def ours():
        h = X
        for i in range(4):
            h = max_pool2(conv2d(h, params[2 * i], params[2 * i + 1], padding=1, relu=True))
        h = linear(h.reshape(batch, -1), params[8], params[9]).relu()
        loss = nc.cross_entropy(linear(h, params[10], params[11]), Y)
        for p in params:
            p.grad = None
        loss.backward()
        for p, buf in zip(params, buffers):
            goptim.sgd_step(p.array, p.grad.array, buf, 0.01, momentum=0.9)
        return loss

    def theirs():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        return loss

    checks["train step loss (first, ours vs torch)"] = abs(float(ours().item()) - float(theirs().item()))
    checks["host<->device copies in one step"] = count_copies(ours)
    flops = (sum(2.0 * batch * cout * s * s * cin * 9 * 3 for cin, cout, s in LAYERS)
             + 2.0 * batch * 3 * (512 * 512 + 5120))
    fns = {"numbaconv": ours, "torch": theirs, "torch_tf32": with_tf32(theirs)}
    rows.append(("train step", f"torch_net batch {batch}", flops, interleaved(fns, repeat)))
    start = time.perf_counter()
    for _ in range(5):
        ours()
    nc.cuda.synchronize()
    rows.append(("train step (host clock)", "5 steps / 5", flops, {"numbaconv": (time.perf_counter() - start) * 200}))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--only", default="conv,tiles,explore,pool,matmul,train")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    _import_gpu_modules()
    tf32(False)
    name = torch.cuda.get_device_name()
    peak = peak_tflops(name)
    rows, checks = [], {}
    only = set(args.only.split(","))
    sections = [("conv", lambda: conv_rows(args.batch, args.repeat, rows, checks)),
                ("tiles", lambda: tile_rows(args.batch, args.repeat, rows)),
                ("explore", lambda: explore_rows(args.batch, args.repeat, rows)),
                ("pool", lambda: pool_rows(args.batch, args.repeat, rows)),
                ("matmul", lambda: matmul_rows(args.repeat, rows, checks)),
                ("train", lambda: train_step_rows(args.batch, args.repeat, rows, checks))]
    for section, run in sections:
        if section in only:
            t0 = time.perf_counter()
            run()
            print(f"# {section} done in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    print(f"device: {name}; torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}; "
          f"fp32 peak {peak} TFLOP/s")
    print("relative errors vs torch fp32: " + ", ".join(f"{k} {v:.1e}" for k, v in checks.items()))
    print("| op | shape | numbaconv ms | torch fp32 ms | ratio | torch TF32 ms | numbaconv TFLOP/s | % of fp32 peak |")
    print("|---|---|---|---|---|---|---|---|")
    for op, shape, flops, t in rows:
        ours = t.get("numbaconv")
        ref = t.get("torch")
        tf = t.get("torch_tf32")
        tflops = flops / ours / 1e9 if flops and ours else float("nan")
        cells = [f"{ours:.3f}", f"{ref:.3f}" if ref else "", f"{ours / ref:.2f}" if ref else "",
                 f"{tf:.3f}" if tf else "",
                 f"{tflops:.1f}" if flops else "", f"{100 * tflops / peak:.0f}%" if flops else ""]
        print(f"| {op} | {shape} | " + " | ".join(cells) + " |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"device": name, "rows": rows, "checks": checks}, fh, indent=1)


if __name__ == "__main__":
    main()
