"""The backend registry: the one place that knows which devices exist and where their code lives.

Everything above ``backends/`` asks it four questions and never compares device strings itself:
``device_of(array)`` (which device holds this array), ``namespace(device)`` (its numpy-named array
namespace, ``backends/<device>/array_api.py``), ``kernels(device, name)`` (a kernel module,
``backends/<device>/<name>.py``) and ``to_host(array)`` (a numpy array of the data). ``normalize(device)``
turns what a user may write ("cuda:0", a Tensor's device) into a registered name, ``unavailable_reason(device)``
says in one line why a device cannot run here.
"""
import importlib

import numpy as np

DEVICES = ("cpu", "cuda")
DEFAULT_DEVICE = "cpu"
_ALIASES = {"cpu": "cpu", "cuda": "cuda", "cuda:0": "cuda"}
_modules = {}
_kernel_wrapper = None
_CPU_ARRAY_API = ("cpu", "array_api")


def normalize(device):
    """'cpu' or 'cuda' from what a user may write ("cuda:0", a Tensor's device)."""
    name = _ALIASES.get(str(device))
    if name is None:
        raise ValueError(f"unknown device {device!r}; expected 'cpu' or 'cuda'")
    return name


def device_of(array):
    """The device holding ``array``: 'cpu' for numpy arrays and scalars, 'cuda' for CUDA arrays."""
    return "cuda" if hasattr(array, "__cuda_array_interface__") else "cpu"


def kernels(device, name):
    """The kernel module ``backends/<device>/<name>.py``, imported once (seen through the kernel wrapper if set)."""
    module = _modules.get((device, name)) or _import(device, name)
    return module if _kernel_wrapper is None else _kernel_wrapper(device, name, module)


def set_kernel_wrapper(wrapper):
    """While ``wrapper(device, name, module)`` is set, ``kernels`` returns its answer (numbaconv.profiler's
    timing proxy); None restores the plain modules."""
    global _kernel_wrapper
    _kernel_wrapper = wrapper


def _import(device, name):
    try:
        module = importlib.import_module(f"{__name__}.{device}.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.{device}.{name}":
            raise
        raise NotImplementedError(f"{name} kernels are not available on the {device} backend") from None
    _modules[(device, name)] = module
    return module


def namespace(device):
    """The numpy-named array namespace of ``device`` (backends/<device>/array_api.py)."""
    return kernels(normalize(device), "array_api")


def namespace_of(*operands):
    """The array namespace of the first array among ``operands`` (python scalars are skipped)."""
    for operand in operands:
        if type(operand) is np.ndarray:
            break
        if hasattr(operand, "__cuda_array_interface__"):
            return kernels("cuda", "array_api")
    cpu = _modules.get(_CPU_ARRAY_API)
    return cpu if cpu is not None and _kernel_wrapper is None else kernels(*_CPU_ARRAY_API)


def kernels_of(array, name):
    """The ``name`` kernel module of the device holding ``array``."""
    return kernels(device_of(array), name)


def to_host(array):
    """A numpy array of ``array``'s data: the array itself on the CPU, a host copy from a GPU."""
    return array if isinstance(array, np.ndarray) else namespace(device_of(array)).to_host(array)


def host_copy(array):
    """A numpy array of ``array``'s data that never shares memory with it."""
    host = to_host(array)
    return np.array(host) if host is array else host


def unavailable_reason(device):
    """Why ``device`` cannot run here, or None when it can."""
    if normalize(device) == "cpu":
        return None
    from .cuda import runtime

    return runtime.unavailable_reason()


def is_basic_index(index):
    """True when ``index`` has only ints, slices, None and Ellipsis (a view, no repeated elements)."""
    items = index if isinstance(index, tuple) else (index,)
    return all(item is None or item is Ellipsis or isinstance(item, (int, slice, np.integer)) for item in items)
