"""One library's training step or inference in a process of its own, timed on request (``bench/train_step.py
--isolated``).

numbaconv's Numba workers and PyTorch's intra-op threads both run on ``libgomp.so.1``; in one process they
share it, and its wait policy is that of the library that loaded it first: numbaconv's (sleeping workers,
``OMP_WAIT_POLICY=PASSIVE`` at launch) or PyTorch's (workers that spin after each parallel region). Measured on a
2-vCPU Zen 3 (bench/RESULTS.md): with torch imported first, numbaconv's keras_net step took 133 ms instead of
80-84 (the spinning Numba workers take the cores from its GEMM threads); with numbaconv's workers started first,
torch's took 129-147 ms instead of 80-87. Here each library loads its own runtime with its own policy.

    python -m bench.isolated LIBRARY KIND MODEL BATCH THREADS

LIBRARY is numbaconv or torch, KIND step or inference. The process prints ``ready``, then answers each
``run`` line on stdin with the seconds of one call, timed right after an untimed one; an empty line ends it.
For inference the answer is the median of ``INFERENCE_CALLS`` back-to-back calls after ``INFERENCE_WARMUP``
untimed ones: the steady-state latency of a stream of requests. One call is under a millisecond at batch 1, and
the first calls after the process has waited are slower (keras_net at batch 1, numbaconv: ~1.1 ms for the first
call after 20 ms idle, 0.7 for the next ones, 0.55-0.6 from the sixth on; PyTorch's 0.4-0.45 throughout).
"""
import subprocess
import sys
import time

INFERENCE_WARMUP = 5
INFERENCE_CALLS = 15


def _call(library, kind, name, size, threads):
    if library == "numbaconv":
        import numbaconv as nc

        from . import workload

        nc.set_num_threads(threads)
        return (workload.training_step if kind == "step" else workload.inference)(name, size)
    import torch

    from . import train_step

    torch.set_num_threads(threads)
    return (train_step.torch_training_step if kind == "step" else train_step.torch_inference)(name, size)


def serve(library, kind, name, size, threads):
    call = _call(library, kind, name, size, threads)
    warmup, calls = (INFERENCE_WARMUP, INFERENCE_CALLS) if kind == "inference" else (1, 1)
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        for _ in range(warmup):
            call()
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        print(sorted(times)[calls // 2], flush=True)


class Runner:
    """A :func:`serve` process; calling the runner times one call there and returns its seconds."""

    def __init__(self, library, kind, name, size, threads):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.isolated", library, kind, name, str(size), str(threads)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        reply = self.process.stdout.readline().strip()
        if reply != "ready":
            self.close()
            raise RuntimeError(f"bench.isolated {library} {kind} {name}: the worker did not start (said {reply!r})")

    def __call__(self):
        self.process.stdin.write("run\n")
        self.process.stdin.flush()
        return float(self.process.stdout.readline())

    def close(self):
        self.process.stdin.close()
        self.process.wait()


if __name__ == "__main__":
    library, kind, name, size, threads = sys.argv[1:6]
    serve(library, kind, name, int(size), int(threads))
