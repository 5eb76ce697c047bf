"""Data-parallel training throughput: numbaconv over MPI vs one process, vs PyTorch DDP (gloo), and a ring
all-reduce scaling model for clusters.

    python -m bench.distributed [--models torch_net,airbench94] [--batch 128] [--steps 20] [--warmup 3]
                                [--no-torch] [--latency-us 20]

Rows per model, all at the same global batch: numbaconv 1 rank x 1 thread, 2 ranks x 1 thread (`mpiexec -n 2`,
DistributedDataParallel, half the batch each), 1 rank x 2 threads, and PyTorch DistributedDataParallel with the
gloo backend, 2 processes x 1 thread (bench/torch_twin.py: the same layers, weights and optimizer groups;
torch optional). Then: gradient bytes per step, the
all-reduce of that many bytes measured between the 2 ranks on this machine (loopback / shared memory), and the
predicted efficiency of 8 and 64 ranks over 10 and 100 Gbit/s links from the ring all-reduce cost
2(R-1)/R * bytes / bandwidth + 2(R-1) * latency, with no overlap (a lower bound: DDP overlaps it with backward),
each rank keeping the 2-rank run's per-rank batch. Needs the mpi extra (mpi4py, mpiexec); time on a quiet machine.
Each configuration runs in its own processes (``--worker`` is the entry point they use).
"""
import argparse
import json
import os
import pathlib
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULT = "RESULT "


# ---- workers (run in the launched processes) -------------------------------------------------------------------
def _wait_for_peers(folder, parties):
    """A barrier of independent processes (no MPI between them): each leaves a file in ``folder`` and waits
    until ``parties`` files are there."""
    pathlib.Path(folder, str(os.getpid())).touch()
    while len(os.listdir(folder)) < parties:
        time.sleep(0.001)


def _numbaconv_worker(name, global_batch, steps, warmup, barrier=None, parties=1):
    import numpy as np

    from numbaconv import Tensor, cross_entropy, distributed, models, training
    from numbaconv.nn.parallel import DistributedDataParallel

    from . import workload

    world, rank = 1, 0
    if distributed.is_mpi_launch():
        distributed.init_process_group("mpi")
        world, rank = distributed.get_world_size(), distributed.get_rank()
    per_rank = global_batch // world
    images, labels = workload.batch(per_rank, seed=rank)
    model = workload.build(name, images)
    model.train()
    trainer = DistributedDataParallel(model) if world > 1 else model
    recipe = models.recipe(name)
    optimizer = training.make_optimizer(recipe.optimizer, training.parameter_groups(
        model, recipe.lr, recipe.weight_decay, recipe.bias_lr_scale), recipe.momentum)

    def step():
        loss = cross_entropy(trainer(images), labels, label_smoothing=recipe.label_smoothing)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    def sync():
        if world > 1:
            distributed.barrier()

    for _ in range(warmup):
        step()
    sync()
    if barrier is not None:
        _wait_for_peers(barrier, parties)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync()
    seconds = (time.perf_counter() - start) / steps
    grad_bytes = sum(p.array.nbytes for p in model.parameters() if p.requires_grad)
    allreduce = None
    if world > 1:
        buffer = Tensor(np.zeros(grad_bytes // 4, np.float32))
        times = []
        for _ in range(10):
            distributed.barrier()
            begin = time.perf_counter()
            distributed.all_reduce(buffer)
            times.append(time.perf_counter() - begin)
        allreduce = statistics.median(times)
    if rank == 0:
        print(RESULT + json.dumps(dict(step_s=seconds, images_per_s=global_batch / seconds, grad_bytes=grad_bytes,
                                       allreduce_s=allreduce, world=world)), flush=True)


def _torch_worker(name, global_batch, steps, warmup, rank, world, port):
    import torch
    import torch.distributed as tdist

    from . import torch_twin, workload

    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    tdist.init_process_group("gloo", rank=rank, world_size=world)
    batch, targets = workload.batch(global_batch // world, seed=rank)
    twin = torch_twin.twin(workload.build(name, batch))
    optimizer = torch_twin.twin_optimizer(name, workload.build(name, batch), twin)
    model = torch.nn.parallel.DistributedDataParallel(twin)
    images, labels = torch.from_numpy(batch.numpy()), torch.from_numpy(targets.numpy())
    smoothing = workload.require("models", "recipe")(name).label_smoothing

    def step():
        loss = torch.nn.functional.cross_entropy(model(images), labels, label_smoothing=smoothing)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for _ in range(warmup):
        step()
    tdist.barrier()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    tdist.barrier()
    seconds = (time.perf_counter() - start) / steps
    if rank == 0:
        print(RESULT + json.dumps(dict(step_s=seconds, images_per_s=global_batch / seconds)), flush=True)
    tdist.destroy_process_group()


# ---- the driver ------------------------------------------------------------------------------------------------
def _environment(threads):
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _parse(output, what):
    for line in output.splitlines():
        if line.startswith(RESULT):
            return json.loads(line[len(RESULT):])
    raise RuntimeError(f"{what} printed no result:\n{output[-3000:]}")


def _worker_command(*args):
    return [sys.executable, "-m", "bench.distributed", "--worker", *map(str, args)]


def _mpiexec():
    beside = pathlib.Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def run_numbaconv(name, batch, steps, warmup, ranks, threads):
    command = _worker_command("numbaconv", name, batch, steps, warmup)
    if ranks > 1:
        command = [_mpiexec(), "-n", str(ranks), "--oversubscribe", *command]
    result = subprocess.run(command, capture_output=True, text=True, env=_environment(threads), cwd=ROOT,
                            timeout=1800)
    return _parse(result.stdout + result.stderr, f"numbaconv {ranks} x {threads}")


def run_independent(name, batch, steps, warmup, processes):
    """``processes`` numbaconv processes at 1 thread, each training ``batch`` images per step on its own, timed
    together: the throughput 2 ranks could reach with free communication (what sharing the machine leaves)."""
    with tempfile.TemporaryDirectory() as barrier:
        command = _worker_command("numbaconv", name, batch, steps, warmup, barrier, processes)
        outputs = _run_together([command] * processes, _environment(1), "independent numbaconv")
    results = [_parse(output, "independent numbaconv") for output in outputs]
    return dict(images_per_s=sum(r["images_per_s"] for r in results),
                step_s=statistics.mean(r["step_s"] for r in results))


def _run_together(commands, env, what, timeout=1800):
    """Run ``commands`` at once, each printing into its own temporary file, and return their outputs; the first
    to fail, or the timeout, ends them all (so a crashed rank never leaves the others waiting)."""
    with tempfile.TemporaryDirectory() as folder:
        logs = [open(os.path.join(folder, f"{i}.log"), "w+") for i in range(len(commands))]
        running = [subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
                   for command, log in zip(commands, logs)]
        deadline = time.monotonic() + timeout
        try:
            while any(p.poll() is None for p in running) and time.monotonic() < deadline:
                if any(p.returncode not in (None, 0) for p in running):
                    break
                time.sleep(0.05)
        finally:
            for p in running:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        outputs = []
        for log in logs:
            log.seek(0)
            outputs.append(log.read())
            log.close()
    for i, p in enumerate(running):
        if p.returncode != 0:
            raise RuntimeError(f"{what}: process {i} of {len(running)} ended with {p.returncode}:\n"
                               f"{outputs[i][-3000:]}")
    return outputs


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_torch(name, batch, steps, warmup, ranks):
    port = _free_port()
    commands = [_worker_command("torch", name, batch, steps, warmup, rank, ranks, port) for rank in range(ranks)]
    return _parse(_run_together(commands, _environment(1), "torch DDP")[0], "torch DDP")


def ring_allreduce_seconds(nbytes, ranks, gbit_per_s, latency_s):
    """Ring all-reduce time: 2(R-1) steps each moving bytes/R and paying one latency."""
    return 2 * (ranks - 1) / ranks * nbytes / (gbit_per_s * 1e9 / 8) + 2 * (ranks - 1) * latency_s


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="torch_net,airbench94")
    parser.add_argument("--batch", type=int, default=128, help="global batch (split across ranks)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch DDP row")
    parser.add_argument("--latency-us", type=float, default=20.0, help="per-message link latency for the model")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        kind, name, batch, steps, warmup, *rest = args.worker
        if kind == "numbaconv":
            _numbaconv_worker(name, int(batch), int(steps), int(warmup), *rest[:1], *map(int, rest[1:]))
        else:
            _torch_worker(name, int(batch), int(steps), int(warmup), *map(int, rest))
        return 0
    if _mpiexec() is None:
        parser.error("needs mpiexec: pip install 'numbaconv[mpi]'")
    try:
        import torch  # noqa: F401

        with_torch = not args.no_torch
    except ImportError:
        with_torch = False
    print(f"global batch {args.batch}, {args.steps} timed steps after {args.warmup}; {os.cpu_count()} CPUs")
    print(f"{'model':<12}{'configuration':<34}{'images/s':>10}{'ms/step':>10}{'vs 1x1':>8}")
    scaling = []
    for name in args.models.split(","):
        rows = [("numbaconv 1 rank x 1 thread", run_numbaconv(name, args.batch, args.steps, args.warmup, 1, 1)),
                ("numbaconv 2 ranks x 1 thread", run_numbaconv(name, args.batch, args.steps, args.warmup, 2, 1)),
                ("numbaconv 1 rank x 2 threads", run_numbaconv(name, args.batch, args.steps, args.warmup, 1, 2)),
                ("1 process x 1 thread, half batch", run_numbaconv(name, args.batch // 2, args.steps, args.warmup,
                                                                   1, 1)),
                ("2 processes alone, half batch each", run_independent(name, args.batch // 2, args.steps,
                                                                       args.warmup, 2))]
        if with_torch:
            rows.append(("torch DDP gloo 2 procs x 1 thread", run_torch(name, args.batch, args.steps, args.warmup, 2)))
        base = rows[0][1]["images_per_s"]
        for label, row in rows:
            print(f"{name:<12}{label:<34}{row['images_per_s']:>10.1f}{row['step_s'] * 1e3:>10.1f}"
                  f"{row['images_per_s'] / base:>7.2f}x")
        if with_torch:
            ratio = rows[1][1]["images_per_s"] / rows[-1][1]["images_per_s"]
            print(f"{name:<12}{'numbaconv 2x1 / torch DDP 2x1':<34}{ratio:>27.2f}x")
        scaling.append((name, rows[0][1], rows[1][1]))
    print("\nscaling model: ring all-reduce, no overlap, each rank with half the global batch as above; "
          f"latency {args.latency_us:g} us per message")
    print(f"{'model':<12}{'grad MB':>8}{'loopback all-reduce ms':>24}{'':>2}"
          + "".join(f"{f'{r} ranks @ {g:g} Gb/s':>20}" for r in (8, 64) for g in (10, 100)))
    for name, single, double in scaling:
        nbytes = single["grad_bytes"]
        compute = single["step_s"] / 2  # the per-rank half batch, assuming time linear in batch
        cells = []
        for ranks in (8, 64):
            for gbit in (10, 100):
                comm = ring_allreduce_seconds(nbytes, ranks, gbit, args.latency_us * 1e-6)
                cells.append(f"{compute / (compute + comm):>20.0%}")
        print(f"{name:<12}{nbytes / 1e6:>8.2f}{double['allreduce_s'] * 1e3:>24.2f}{'':>2}" + "".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
