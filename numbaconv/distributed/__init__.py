"""A process group over MPI with torch.distributed's names (init_process_group, all_reduce, broadcast, ...).

Needs the ``mpi`` extra (``pip install 'numbaconv[mpi]'``: mpi4py and Open MPI); only this package imports
mpi4py, and only when a process group starts. Launch with ``mpiexec -n 2 python script.py``. Collectives work
in place on CPU tensors' numpy buffers through mpi4py's buffer interface (no pickling).
"""
from .group import (
    ReduceOp,
    Work,
    abort,
    abort_on_exception,
    all_gather,
    all_gather_into_tensor,
    all_reduce,
    barrier,
    broadcast,
    destroy_process_group,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_launch,
    launch_local_size,
    launch_rank,
    launch_world_size,
)

__all__ = ["ReduceOp", "Work", "abort", "abort_on_exception", "all_gather", "all_gather_into_tensor", "all_reduce",
           "barrier", "broadcast", "destroy_process_group", "get_rank", "get_world_size", "init_process_group",
           "is_available", "is_initialized", "is_mpi_launch", "launch_local_size", "launch_rank", "launch_world_size"]
