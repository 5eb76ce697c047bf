"""Keyed and listed containers (torch.nn.ModuleDict, ParameterList, ParameterDict): what they hold is registered,
so parameters(), to(), train() and state_dict() see it. ModuleList and Sequential live in layers.py."""
from ..tensor import Tensor
from .module import Module
from .parameter import Parameter


def _key(owner, key):
    if not isinstance(key, str):
        raise TypeError(f"{owner}: keys must be strings, got {type(key).__name__} {key!r}")
    if "." in key or not key:
        raise KeyError(f"{owner}: key {key!r} must be a non-empty string without '.'")
    return key


class ModuleDict(Module):
    """An ordered dict of submodules (torch.nn.ModuleDict)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict: value for {key!r} must be a Module, got {type(module).__name__}")
        self.add_module(_key("ModuleDict", key), module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def pop(self, key):
        module = self._modules[key]
        del self[key]
        return module

    def clear(self):
        self._modules.clear()

    def update(self, modules):
        """Add (key, module) pairs from a mapping or an iterable of pairs."""
        pairs = modules.items() if hasattr(modules, "items") else modules
        for entry in pairs:
            key, module = entry
            self[key] = module


def _as_parameter(owner, value):
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value)
    raise TypeError(f"{owner}: expected a Parameter or Tensor, got {type(value).__name__}")


class ParameterList(Module):
    """A list of Parameters under the keys "0", "1", ... (torch.nn.ParameterList); Tensors are wrapped."""

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def __getitem__(self, index):
        items = list(self._parameters.values())
        if isinstance(index, slice):
            return ParameterList(items[index])
        if not -len(items) <= index < len(items):
            raise IndexError(f"ParameterList: index {index} is out of range for {len(items)} parameters")
        return items[index]

    def __setitem__(self, index, value):
        if not -len(self) <= index < len(self):
            raise IndexError(f"ParameterList: index {index} is out of range for {len(self)} parameters")
        self.register_parameter(str(index % len(self)), _as_parameter("ParameterList", value))

    def append(self, value):
        self.register_parameter(str(len(self)), _as_parameter("ParameterList", value))
        return self

    def extend(self, values):
        for value in values:
            self.append(value)
        return self

    def extra_repr(self):
        return "\n".join(f"({i}): Parameter of shape {tuple(p.shape)}" for i, p in enumerate(self))


class ParameterDict(Module):
    """An ordered dict of Parameters (torch.nn.ParameterDict); Tensors are wrapped."""

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key):
        return self._parameters[key]

    def __setitem__(self, key, value):
        self.register_parameter(_key("ParameterDict", key), _as_parameter("ParameterDict", value))

    def __delitem__(self, key):
        del self._parameters[key]

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __contains__(self, key):
        return key in self._parameters

    def keys(self):
        return self._parameters.keys()

    def items(self):
        return self._parameters.items()

    def values(self):
        return self._parameters.values()

    def pop(self, key):
        value = self._parameters[key]
        del self[key]
        return value

    def update(self, parameters):
        pairs = parameters.items() if hasattr(parameters, "items") else parameters
        for key, value in pairs:
            self[key] = value

    def extra_repr(self):
        return "\n".join(f"({k}): Parameter of shape {tuple(p.shape)}" for k, p in self.items())
