"""torch.utils-shaped helpers: ``data`` (torch.utils.data's names) and ``plot`` (filters and feature maps; needs the
`plot` extra). Both load on first use."""
import importlib

_SUBMODULES = ("data", "plot")


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}; it has {', '.join(_SUBMODULES)}")
