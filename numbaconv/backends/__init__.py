"""Backend lookup: every op asks for the array namespace of its tensors' device.

A backend module exposes the same names on every device (numpy's names and signatures where numpy has
one), so ops never branch on the device themselves.
"""
import numpy as np

_loaded = {}


def get_backend(device):
    """The array namespace for ``device`` ("cpu" or "cuda")."""
    backend = _loaded.get(device)
    if backend is None:
        if device == "cpu":
            from .cpu import array_api as backend
        elif device == "cuda":
            from .cuda import array_api as backend
        else:
            raise ValueError(f"unknown device {device!r}; expected 'cpu' or 'cuda'")
        _loaded[device] = backend
    return backend


def is_basic_index(index):
    """True when ``index`` has only ints, slices, None and Ellipsis (a view, no repeated elements)."""
    items = index if isinstance(index, tuple) else (index,)
    return all(item is None or item is Ellipsis or isinstance(item, (int, slice, np.integer)) for item in items)
