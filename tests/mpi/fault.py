"""Run under `mpiexec -n 2` with MODE `raise` or `kill`: rank 1 fails while rank 0 waits in an all-reduce.

The job must end within seconds (tests/test_distributed_mpi.py runs this with a timeout), never hang.
"""
import os
import signal
import sys

import numpy as np

import numbaconv as nc
from numbaconv import distributed as dist


def main(mode):
    dist.abort_on_exception()
    dist.init_process_group("mpi")
    dist.barrier()
    if dist.get_rank() == 1:
        if mode == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        raise RuntimeError("rank 1 failed on purpose")
    for _ in range(100_000):  # never completes: rank 1 does not join
        dist.all_reduce(nc.tensor(np.ones(4)))


if __name__ == "__main__":
    main(sys.argv[1])
