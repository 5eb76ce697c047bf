"""The default process group: one duplicate of MPI_COMM_WORLD and the collectives on it (torch.distributed)."""
import enum
import importlib.util
import os
import sys
import traceback

import numpy as np

from ..tensor import Tensor

# Environment variables that an MPI launcher sets in every process it starts, giving the world size.
_LAUNCH_SIZE_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE")
_LAUNCH_RANK_VARIABLES = ("OMPI_COMM_WORLD_RANK", "PMI_RANK")
_LAUNCH_LOCAL_SIZE_VARIABLES = ("OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS")

_state = {"comm": None}


class ReduceOp(enum.Enum):
    """How all_reduce combines the ranks' values (torch.distributed.ReduceOp)."""

    SUM = "sum"
    AVG = "avg"
    MAX = "max"
    MIN = "min"
    PRODUCT = "product"


def is_available():
    """Whether mpi4py is installed, i.e. a process group can start (torch.distributed.is_available)."""
    return importlib.util.find_spec("mpi4py") is not None


def _from_environment(names, default):
    for name in names:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return default


def launch_world_size():
    """The number of processes an MPI launcher (Open MPI's or MPICH's mpiexec) started, from its environment (1
    when none did): known before MPI starts, so options can be checked first."""
    return _from_environment(_LAUNCH_SIZE_VARIABLES, 1)


def launch_rank():
    """This process's rank from the MPI launcher's environment (0 when none started it)."""
    return _from_environment(_LAUNCH_RANK_VARIABLES, 0)


def launch_local_size():
    """How many of the launched processes run on this machine (1 when no launcher started this one)."""
    return _from_environment(_LAUNCH_LOCAL_SIZE_VARIABLES, 1)


def is_mpi_launch():
    """Whether this process was started by an MPI launcher together with other processes."""
    return launch_world_size() > 1


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError:
        raise RuntimeError("numbaconv.distributed needs mpi4py and an MPI library: pip install 'numbaconv[mpi]'") \
            from None
    return MPI


def init_process_group(backend="mpi", init_method=None, world_size=-1, rank=-1):
    """Start the default process group over MPI (torch.distributed.init_process_group).

    Only ``backend="mpi"`` exists: the processes and their ranks are the ones ``mpiexec`` started (an ``mpiexec``
    launch is picked up from MPI itself, no address or port is needed). ``world_size`` and ``rank``, when given,
    must agree with MPI's.
    """
    if backend != "mpi":
        raise ValueError(f"init_process_group: backend must be 'mpi' (numbaconv has no {backend!r}), got {backend!r}")
    if init_method not in (None, "env://"):
        raise ValueError(f"init_process_group: init_method must be None or 'env://' (mpiexec starts the processes), "
                         f"got {init_method!r}")
    if _state["comm"] is not None:
        raise RuntimeError("init_process_group: the default process group is already initialized")
    MPI = _mpi()
    comm = MPI.COMM_WORLD.Dup()
    for name, given, actual in (("world_size", world_size, comm.Get_size()), ("rank", rank, comm.Get_rank())):
        if given != -1 and given != actual:
            comm.Free()
            raise ValueError(f"init_process_group: {name}={given} but mpiexec started this process with {actual}")
    _state["comm"] = comm


def is_initialized():
    """Whether init_process_group has run and destroy_process_group has not (torch.distributed.is_initialized)."""
    return _state["comm"] is not None


def _comm(caller):
    comm = _state["comm"]
    if comm is None:
        raise RuntimeError(f"{caller}: the default process group has not been initialized; call "
                           "numbaconv.distributed.init_process_group() first (under mpiexec)")
    return comm


def get_rank():
    """This process's rank in the default group (torch.distributed.get_rank)."""
    return _comm("get_rank").Get_rank()


def get_world_size():
    """The number of processes in the default group (torch.distributed.get_world_size)."""
    return _comm("get_world_size").Get_size()


def destroy_process_group():
    """End the default process group (torch.distributed.destroy_process_group); MPI itself stays up."""
    comm = _comm("destroy_process_group")
    _state["comm"] = None
    comm.Free()


def barrier():
    """Wait until every rank gets here (torch.distributed.barrier)."""
    _comm("barrier").Barrier()


class Work:
    """A started non-blocking collective (torch.distributed.Work): ``wait()`` blocks until it is done."""

    def __init__(self, request, finish=None):
        self._request, self._finish, self._done = request, finish, False

    def wait(self):
        if not self._done:
            self._request.Wait()
            self._done = True
            if self._finish is not None:
                self._finish()
        return True

    def is_completed(self):
        return self._done or bool(self._request.Test())


def _buffer(caller, tensor, name="tensor"):
    """The tensor's numpy array for MPI, and a function copying back into the tensor when that had to be a copy."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{caller}: {name} must be a Tensor, got {type(tensor).__name__}")
    data = tensor.array
    if not isinstance(data, np.ndarray):
        raise TypeError(f"{caller}: {name} must be a CPU tensor, got one on {tensor.device}")
    if data.flags.c_contiguous and data.flags.writeable:
        return data, None
    if not data.flags.writeable:
        raise ValueError(f"{caller}: {name} is read-only; collectives write their result into it")
    copy = np.ascontiguousarray(data)

    def write_back():
        data[...] = copy

    return copy, write_back


def _then(*steps):
    steps = [s for s in steps if s is not None]
    if not steps:
        return None

    def run():
        for step in steps:
            step()

    return run


def _finish(work, async_op):
    if async_op:
        return work
    work.wait()
    return None


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine ``tensor`` over all ranks in place with ``op`` (SUM, AVG, MAX, MIN, PRODUCT)
    (torch.distributed.all_reduce); ``async_op=True`` returns a Work to ``wait()`` on."""
    comm = _comm("all_reduce")
    _check_group("all_reduce", group)
    if not isinstance(op, ReduceOp):
        raise ValueError(f"all_reduce: op must be a ReduceOp (SUM, AVG, MAX, MIN, PRODUCT), got {op!r}")
    buffer, write_back = _buffer("all_reduce", tensor)
    average = None
    if op is ReduceOp.AVG:
        if buffer.dtype.kind != "f":
            raise TypeError(f"all_reduce: ReduceOp.AVG needs a floating tensor, got dtype {buffer.dtype}")
        size = comm.Get_size()

        def average():
            buffer[...] /= size

    MPI = _mpi()
    mpi_op = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.MAX: MPI.MAX, ReduceOp.MIN: MPI.MIN,
              ReduceOp.PRODUCT: MPI.PROD}[op]
    request = comm.Iallreduce(MPI.IN_PLACE, buffer, op=mpi_op)
    return _finish(Work(request, _then(average, write_back, _bump(tensor))), async_op)


def broadcast(tensor, src=0, group=None, async_op=False):
    """Overwrite ``tensor`` on every rank with rank ``src``'s (torch.distributed.broadcast)."""
    comm = _comm("broadcast")
    _check_group("broadcast", group)
    if not isinstance(src, int) or not 0 <= src < comm.Get_size():
        raise ValueError(f"broadcast: src must be a rank in [0, {comm.Get_size()}), got {src!r}")
    buffer, write_back = _buffer("broadcast", tensor)
    return _finish(Work(comm.Ibcast(buffer, root=src), _then(write_back, _bump(tensor))), async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Every rank's ``input_tensor`` stacked along dim 0 into ``output_tensor`` of world_size times its rows
    (torch.distributed.all_gather_into_tensor)."""
    comm = _comm("all_gather_into_tensor")
    _check_group("all_gather_into_tensor", group)
    source, _ = _buffer("all_gather_into_tensor", input_tensor, "input_tensor")
    target, write_back = _buffer("all_gather_into_tensor", output_tensor, "output_tensor")
    size = comm.Get_size()
    rows = source.shape[0] if source.ndim else 1
    expected = (size * rows, *source.shape[1:])
    if target.shape != expected or target.dtype != source.dtype:
        raise ValueError(f"all_gather_into_tensor: output_tensor must have shape {expected} and dtype {source.dtype} "
                         f"({size} ranks), got {target.shape} {target.dtype}")
    request = comm.Iallgather(source, target)
    return _finish(Work(request, _then(write_back, _bump(output_tensor))), async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Rank i's ``tensor`` into ``tensor_list[i]`` on every rank (torch.distributed.all_gather)."""
    comm = _comm("all_gather")
    _check_group("all_gather", group)
    source, _ = _buffer("all_gather", tensor)
    size = comm.Get_size()
    if not isinstance(tensor_list, (list, tuple)) or len(tensor_list) != size:
        got = f"{len(tensor_list)} items" if isinstance(tensor_list, (list, tuple)) else type(tensor_list).__name__
        raise ValueError(f"all_gather: tensor_list must be a list of {size} tensors (one per rank), got {got}")
    for i, item in enumerate(tensor_list):
        _buffer("all_gather", item, f"tensor_list[{i}]")
        if item.shape != tensor.shape or item.dtype != tensor.dtype:
            raise ValueError(f"all_gather: tensor_list[{i}] must have shape {tensor.shape} and dtype {tensor.dtype}, "
                             f"got {item.shape} {item.dtype}")
    gathered = np.empty((size, *source.shape), source.dtype)
    request = comm.Iallgather(source, gathered)

    def scatter():
        for item, row in zip(tensor_list, gathered):
            item.array[...] = row
            item._version[0] += 1

    return _finish(Work(request, scatter), async_op)


def _bump(tensor):
    def bump():
        tensor._version[0] += 1
    return bump


def _check_group(caller, group):
    if group is not None:
        raise ValueError(f"{caller}: only the default group exists (group=None), got {group!r}")


def abort(exit_code=1):
    """End every process of the job now (MPI_Abort); a plain exit when no process group runs."""
    if _state["comm"] is None:
        sys.stderr.flush()
        os._exit(exit_code)
    _mpi().COMM_WORLD.Abort(exit_code)


def abort_on_exception():
    """Make an uncaught exception on any rank print its traceback (naming the rank) and abort the whole job, so
    the other ranks never wait forever in a collective for it (what torchrun's failure handling gives)."""
    previous = sys.excepthook

    def hook(kind, value, trace):
        if _state["comm"] is None:
            previous(kind, value, trace)
            return
        rank = _state["comm"].Get_rank()
        text = "".join(traceback.format_exception(kind, value, trace))
        sys.stderr.write(f"rank {rank}: {text}rank {rank}: aborting the MPI job\n")
        sys.stderr.flush()
        abort(1)

    sys.excepthook = hook
