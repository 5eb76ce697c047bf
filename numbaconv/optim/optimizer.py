"""Optimizer base: parameter groups, per-parameter state, zero_grad, state_dict (torch.optim.Optimizer)."""
import copy
import math

import numpy as np

from ..backends import host_copy, kernels, namespace
from ..grad_mode import enable_grad
from ..grads import zero_grads
from ..tensor import Tensor


def non_negative(value):
    """Whether ``value`` is a finite real number >= 0 (NaN and infinities are not)."""
    return isinstance(value, (int, float, np.integer, np.floating)) and math.isfinite(value) and value >= 0


def check_non_negative(group, *names):
    """Raise a ValueError naming the first of ``group``'s ``names`` that is not a finite number >= 0."""
    for name in names:
        value = group.get(name, 0.0)
        if not non_negative(value):
            raise ValueError(f"invalid {name}={value!r}: expected a finite number >= 0")


def zeros_like(param):
    """A zero buffer of ``param``'s shape, dtype and device (torch.zeros_like)."""
    return namespace(param.device).zeros(param.shape, param.dtype)


def optim_kernels(param):
    """The optimizer kernel module of ``param``'s device (backends/<device>/optim.py)."""
    return kernels(param.device, "optim")


def contiguous_grad(param):
    """``param.grad``'s array in the parameter's dtype and C-contiguous, as the optimizer kernels take it."""
    xp = namespace(param.device)
    return xp.ascontiguousarray(xp.astype(param.grad.array, param.dtype))


def maximizing_grad(param, group):
    """contiguous_grad, negated when the group maximizes (torch's ``maximize=True``)."""
    grad = contiguous_grad(param)
    return namespace(param.device).negative(grad) if group.get("maximize") else grad


class Optimizer:
    """Base class of the optimizers (torch.optim.Optimizer).

    ``params`` is an iterable of Tensors or of dicts (parameter groups with their own hyper-parameters);
    ``state[param]`` holds each parameter's buffers. Subclasses implement ``update`` (one parameter's step),
    ``init_state`` (its buffers before the first step), ``check_group`` (a ValueError for bad hyper-parameters, run
    on every group, so per-group values are checked as the defaults are) and name the buffers a parameter's state
    holds (``required_state``, ``optional_state``).
    """

    required_state = ()
    optional_state = ()

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError("params must be an iterable of Tensors or dicts, got a single Tensor; wrap it in a list")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        """Add parameters with their own hyper-parameters (torch.optim.Optimizer.add_param_group)."""
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"a parameter group must be a dict with a 'params' entry, got {group!r:.80}")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for i, param in enumerate(params):
            if not isinstance(param, Tensor):
                raise TypeError(f"parameter {i} of a group is a {type(param).__name__}, not a Tensor")
            if not param.is_leaf:
                raise ValueError(f"parameter {i} (shape {param.shape}) is not a leaf tensor; optimizers update leaves")
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in existing for p in params) or len({id(p) for p in params}) != len(params):
            raise ValueError("some parameters appear in more than one parameter group (or twice in one)")
        full = {**self.defaults, **group, "params": params}
        try:
            self.check_group(full)
        except ValueError as error:
            raise ValueError(f"{type(self).__name__}: {error} (parameter group {len(self.param_groups)})") from None
        self.param_groups.append(full)

    def check_group(self, group):
        """Raise a ValueError when ``group``'s hyper-parameters are invalid (subclasses extend it)."""
        if not non_negative(group.get("lr", 0.0)):
            raise ValueError(f"invalid learning rate lr={group.get('lr')!r}: expected a finite number >= 0")
        check_non_negative(group, "weight_decay")

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's ``.grad`` (to None, or to zeros in place) (torch.optim.Optimizer.zero_grad)."""
        zero_grads((param for group in self.param_groups for param in group["params"]), set_to_none)

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()``'s loss when given
        (torch.optim.Optimizer.step)."""
        loss = self._closure(closure)
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                state = self.state.setdefault(param, {})
                if not state:
                    state.update(self.init_state(param, group))
                self.update(param, group, state)
                param._version[0] += 1
        return loss

    def init_state(self, param, group):
        """The buffers ``param``'s state starts with at its first step (none unless a subclass says)."""
        return {}

    def update(self, param, group, state):
        """Step one parameter that has a gradient in place, with its ``state`` buffers (subclasses implement it)."""
        raise NotImplementedError

    def _closure(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def state_dict(self):
        """{"state": {index: {name: numpy array or number}}, "param_groups": [{..., "params": [index, ...]}]}.

        Parameters are numbered in group order, as PyTorch does; arrays are host copies, so the dict can be
        saved with numbaconv.save.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for param in group["params"]:
                index.setdefault(id(param), len(index))
                ids.append(index[id(param)])
            groups.append({**{k: copy.deepcopy(v) for k, v in group.items() if k != "params"}, "params": ids})
        state = {}
        for group in self.param_groups:
            for param in group["params"]:
                if param in self.state:
                    state[index[id(param)]] = {
                        k: (host_copy(v) if hasattr(v, "shape") and not isinstance(v, np.generic) else v)
                        for k, v in self.state[param].items()
                    }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore what ``state_dict`` returned onto these parameters (torch.optim.Optimizer.load_state_dict)."""
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError("load_state_dict: expected a dict with exactly the keys 'state' and 'param_groups'")
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"load_state_dict: the state has {len(groups)} parameter groups, this optimizer has "
                             f"{len(self.param_groups)}")
        by_index = {}
        for i, (saved, group) in enumerate(zip(groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"load_state_dict: group {i} has {len(saved['params'])} parameters in the state, "
                                 f"{len(group['params'])} here")
            by_index.update(zip(saved["params"], group["params"]))
        states = {}
        for key, entries in state_dict["state"].items():
            key = int(key)
            if key not in by_index:
                raise ValueError(f"load_state_dict: state for parameter {key}, which no group lists")
            param = by_index[key]
            names = set(entries)
            if not set(self.required_state) <= names <= {*self.required_state, *self.optional_state}:
                raise ValueError(f"load_state_dict: the state of parameter {key} holds {sorted(names)}; a "
                                 f"{type(self).__name__} keeps {sorted({*self.required_state, *self.optional_state})}"
                                 f" (a state of another optimizer?)")
            restored = {}
            for name, value in entries.items():
                if isinstance(value, np.ndarray) and value.ndim > 0:
                    if value.shape != param.shape:
                        raise ValueError(f"load_state_dict: state {name!r} of parameter {key} has shape {value.shape}, "
                                         f"the parameter has {param.shape}")
                    value = namespace(param.device).asarray(np.array(value, dtype=param.dtype))
                elif isinstance(value, (np.ndarray, np.generic)):
                    value = value.item()
                restored[name] = value
            states[param] = restored
        for saved, group in zip(groups, self.param_groups):
            for name, value in saved.items():
                if name != "params":
                    group[name] = tuple(value) if isinstance(value, list) and name == "betas" else copy.deepcopy(value)
        self.state = states

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines) + "\n)"
