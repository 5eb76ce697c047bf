"""Module: the base of every layer, holding parameters, buffers and submodules (torch.nn.Module)."""
from collections import namedtuple

import numpy as np

from .. import backends
from ..grads import zero_grads
from ..tensor import Tensor
from .parameter import Parameter

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of layers and models (torch.nn.Module).

    Assigning a Parameter, a Module or (for names given to ``register_buffer``) a Tensor to an attribute
    registers it; ``parameters()``, ``state_dict()``, ``to()``, ``train()``/``eval()`` then walk the tree.
    Subclasses call ``super().__init__()`` first and define ``forward``.
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    # ---- registration ---------------------------------------------------------------------------
    def _registry(self, kind):
        try:
            return self.__dict__[kind]
        except KeyError:
            raise AttributeError(
                f"cannot assign to {type(self).__name__} before Module.__init__() was called; "
                f"call super().__init__() first in {type(self).__name__}.__init__"
            ) from None

    def __setattr__(self, name, value):
        if isinstance(value, Parameter):
            self._forget(name)
            self._registry("_parameters")[name] = value
        elif isinstance(value, Module):
            self._forget(name)
            self._registry("_modules")[name] = value
        elif name in self.__dict__.get("_parameters", {}):
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} to parameter {name!r} "
                                "(Parameter or None expected)")
            self._parameters[name] = None
        elif name in self.__dict__.get("_buffers", {}):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} to buffer {name!r} (Tensor or None expected)")
            self._buffers[name] = value
        elif name in self.__dict__.get("_modules", {}):
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} to submodule {name!r} (Module or None expected)")
            self._modules[name] = None
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name):
        for kind in ("_parameters", "_buffers", "_modules"):
            self._registry(kind).pop(name, None)
        self.__dict__.pop(name, None)
        self._non_persistent.discard(name)

    def __getattr__(self, name):
        for kind in ("_parameters", "_buffers", "_modules"):
            registry = self.__dict__.get(kind)
            if registry is not None and name in registry:
                return registry[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        for kind in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(kind, {}):
                del self.__dict__[kind][name]
                self._non_persistent.discard(name)
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter or None) as ``name`` (torch.nn.Module.register_parameter)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None, got {type(param).__name__}")
        self._forget(name)
        self._registry("_parameters")[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Register a non-learnable Tensor (e.g. running statistics) saved in state_dict when ``persistent``."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, got {type(tensor).__name__}")
        self._forget(name)
        self._registry("_buffers")[name] = tensor
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        """Register ``module`` as the child ``name`` (torch.nn.Module.add_module)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module or None, got {type(module).__name__}")
        self._forget(name)
        self._registry("_modules")[name] = module

    # ---- traversal ------------------------------------------------------------------------------
    def named_modules(self, prefix=""):
        """(qualified name, module) for this module and every descendant, each once, depth first."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{n}" if name else n, m) for n, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, kind, recurse):
        seen = set()
        modules = self.named_modules() if recurse else [("", self)]
        for prefix, module in modules:
            for name, value in module.__dict__[kind].items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{prefix}.{name}" if prefix else name), value

    def named_parameters(self, recurse=True):
        """(qualified name, Parameter) pairs, each parameter once (torch.nn.Module.named_parameters)."""
        return self._named_members("_parameters", recurse)

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse):
            yield param

    def named_buffers(self, recurse=True):
        return self._named_members("_buffers", recurse)

    def buffers(self, recurse=True):
        for _, buffer in self.named_buffers(recurse):
            yield buffer

    def apply(self, fn):
        """Call ``fn(module)`` on every submodule, then on self (torch.nn.Module.apply)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ---- modes and gradients --------------------------------------------------------------------
    def train(self, mode=True):
        """Set training mode here and in every descendant (torch.nn.Module.train)."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode must be a bool, got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's ``.grad`` (to None, or to zeros in place) (torch.nn.Module.zero_grad)."""
        zero_grads(self.parameters(), set_to_none)

    # ---- state ----------------------------------------------------------------------------------
    def _state_items(self):
        for prefix, module in self.named_modules():
            dot = f"{prefix}." if prefix else ""
            for name, param in module._parameters.items():
                if param is not None:
                    yield dot + name, param
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent:
                    yield dot + name, buffer

    def state_dict(self):
        """Parameters and persistent buffers by qualified name, as detached Tensors sharing their memory
        (torch.nn.Module.state_dict); clone them (``{k: v.clone() for ...}``) to keep a snapshot."""
        return {name: tensor.detach() for name, tensor in self._state_items()}

    def load_state_dict(self, state_dict, strict=True):
        """Copy values (numpy arrays or Tensors) into the parameters and buffers in place.

        Shapes must match. With ``strict`` the keys must match exactly; otherwise the missing and unexpected
        keys are returned (torch.nn.Module.load_state_dict).
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"load_state_dict: expected a dict, got {type(state_dict).__name__}")
        own = dict(self._state_items())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        if strict and (missing or unexpected):
            if missing:
                errors.append(f"missing keys {missing}")
            if unexpected:
                errors.append(f"unexpected keys {unexpected}")
        values = {}
        for name, tensor in own.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            value = backends.to_host(value.array) if isinstance(value, Tensor) else np.asarray(value)
            if tuple(value.shape) != tensor.shape:
                errors.append(f"{name}: shape {tuple(value.shape)} in the state dict, {tuple(tensor.shape)} in the "
                              "model")
            else:
                values[name] = value
        if errors:
            raise RuntimeError(f"load_state_dict for {type(self).__name__}: " + "; ".join(errors))
        for name, value in values.items():
            write_into(own[name], value)
        return IncompatibleKeys(missing, unexpected)

    def to(self, device=None, dtype=None, non_blocking=False):
        """Move (and/or cast) every parameter and buffer in place, keeping their identity (torch.nn.Module.to).

        ``device`` may be a string, a ``numbaconv.device``, a dtype, or a Tensor (its device and dtype).
        ``non_blocking`` is accepted; copies between host and GPU complete before this returns.
        """
        if isinstance(device, Tensor):
            device, dtype = device.device, device.dtype
        elif device is not None and not isinstance(device, str):
            device, dtype = None, device
        device = backends.normalize(device) if device is not None else None
        dtype = np.dtype(dtype) if dtype is not None else None
        for tensor in list(self.parameters()) + list(self.buffers()):
            _move(tensor, device, dtype)
            if tensor.grad is not None:
                _move(tensor.grad, device, dtype)
        return self

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    # ---- calling and printing -------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward(); define it in the subclass")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def extra_repr(self):
        """The arguments shown inside this module's repr line."""
        return ""

    def __repr__(self):
        lines = [f"({name}): " + repr(module).replace("\n", "\n  ") for name, module in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


def write_into(tensor, host):
    """Copy the host values ``host`` (broadcast to the tensor's shape) into ``tensor``'s own memory, in place,
    so views of it keep seeing the data (no graph is recorded)."""
    values = np.ascontiguousarray(np.broadcast_to(np.asarray(host, dtype=tensor.dtype), tensor.shape))
    tensor.array[...] = backends.namespace(tensor.device).asarray(values)
    tensor._version[0] += 1


def _on_device(host, device):
    """A copy of the numpy array ``host`` on ``device``, keeping 0-d shapes."""
    xp = backends.namespace(device)
    return xp.reshape(xp.asarray(np.ascontiguousarray(host)), host.shape)


def _move(tensor, device, dtype):
    data = tensor.array
    if dtype is not None and tensor.dtype.kind == "f" and dtype != tensor.dtype:
        data = backends.namespace(tensor.device).astype(data, dtype)
    if device is not None and device != tensor.device:
        data = _on_device(backends.host_copy(data), device)
    if data is not tensor.array:
        tensor.array = data
        tensor._version[0] += 1
