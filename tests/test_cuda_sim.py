"""The cuda side of the suite under the CUDA simulator, in one subprocess (NUMBA_ENABLE_CUDASIM must be set before
numba is imported, so it cannot share this process):
  tests/cuda_cases.py     the backend's kernels against the cpu's or a numpy reference,
  tests/nn_cuda_cases.py  nn/optim on cuda against the cpu,
  tests/test_ops.py       every op spec of the factory on cuda (tiny shapes, a few examples each).
On a GPU machine the same files run directly: ``python -m pytest tests/cuda_cases.py tests/nn_cuda_cases.py
tests/test_ops.py``.
"""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIMULATED = ["tests/cuda_cases.py", "tests/nn_cuda_cases.py", "tests/test_ops.py::test_op_cuda"]


def test_cuda_side_under_simulator():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *SIMULATED, "-q", "-p", "no:cacheprovider", "--durations=10"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-3000:]
    assert " skipped" not in result.stdout.splitlines()[-1], "the simulator did not run: " + result.stdout[-3000:]
