"""Reverse-mode autodiff: Function/Context (torch.autograd.Function), the graph walk, grad mode."""
import types

import numpy as np

from . import backends
from .grad_mode import enable_grad, is_grad_enabled, no_grad
from .tensor import Tensor

__all__ = ["Context", "Function", "backward", "enable_grad", "grad", "is_grad_enabled", "no_grad"]


class Context:
    """What a Function's forward leaves for its backward; also the graph node (``tensor.grad_fn``).

    ``inputs`` and ``needs_input_grad`` have one entry per positional input of ``apply``; ``params`` holds
    its keyword arguments by name (``ctx.params.stride``). Forward saves arrays with ``save_for_backward``
    and may keep small derived values (shapes) as attributes, as in PyTorch.
    """

    def __init__(self, function, inputs=(), needs_input_grad=(), versions=(), params=None):
        self.function = function
        self.inputs = inputs
        self.needs_input_grad = needs_input_grad
        self.versions = versions
        self.params = params
        self.saved_tensors = ()
        self.freed = False

    def save_for_backward(self, *arrays):
        self.saved_tensors = arrays

    def free(self):
        """Drop what backward needed (inputs, saved arrays, parameters); a second backward then fails clearly."""
        self.inputs = ()
        self.saved_tensors = ()
        self.params = None
        self.freed = True

    def name(self):
        return self.function.__name__ + "Backward"

    def __repr__(self):
        return f"<{self.name()}>"


class Function:
    """Base of every differentiable op (torch.autograd.Function).

    ``apply(*inputs, **params)``: positional ``inputs`` are the op's operands (Tensors; a python number or
    None stands for a constant operand), keywords are its non-tensor parameters. Subclasses define static
    ``forward(ctx, *arrays, **params)`` on raw backend arrays (Tensors arrive unwrapped) and
    ``backward(ctx, grad)`` returning one gradient array (or None) per positional input. A forward may return
    a tuple: the first array is the differentiable output, the others come back as Tensors without grad.
    """

    @staticmethod
    def forward(ctx, *args, **params):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **params):
        raw = []
        record = False
        array_type = None
        for arg in inputs:
            if isinstance(arg, Tensor):
                data = arg.data
                if array_type is None:
                    array_type = type(data)
                elif type(data) is not array_type:
                    _check_one_device(cls, inputs)
                raw.append(data)
                record = record or arg._requires_grad
            else:
                raw.append(arg)
        if not (record and is_grad_enabled()):
            output = cls.forward(Context(cls), *raw, **params)
            return _wrap(output, None) if type(output) is tuple else Tensor(output)
        grad_inputs = tuple(a if isinstance(a, Tensor) and a._requires_grad else None for a in inputs)
        ctx = Context(cls, grad_inputs, tuple(a is not None for a in grad_inputs),
                      tuple((a._version, a._version[0]) for a in inputs if isinstance(a, Tensor)),
                      types.SimpleNamespace(**params))
        return _wrap(cls.forward(ctx, *raw, **params), ctx)


def _wrap(output, ctx):
    """The forward's output as a Tensor on the graph (extra outputs of a tuple as Tensors without grad)."""
    extras = ()
    if type(output) is tuple:
        output, extras = output[0], tuple(Tensor(e) for e in output[1:])
    result = Tensor(output)
    if ctx is not None:
        result._requires_grad = True  # the slot: the property's dtype check is not needed on the hot path
        result.grad_fn = ctx
    return (result, *extras) if extras else result


def _check_one_device(function, args):
    devices = [a.device for a in args if isinstance(a, Tensor)]
    if len(set(devices)) > 1:
        raise RuntimeError(
            f"{function.__name__}: expected all tensors on one device, got {' and '.join(sorted(set(devices)))}"
        )


def _topological_order(root_fn):
    """Nodes reachable from root_fn, each after every node that consumes it (iterative DFS)."""
    order = []
    visited = {id(root_fn)}
    stack = [(root_fn, iter(root_fn.inputs))]
    while stack:
        node, parents = stack[-1]
        advanced = False
        for parent in parents:
            fn = parent.grad_fn if parent is not None else None
            if fn is not None and id(fn) not in visited:
                visited.add(id(fn))
                stack.append((fn, iter(fn.inputs)))
                advanced = True
                break
        if not advanced:
            stack.pop()
            order.append(node)
    order.reverse()
    return order


def _check_unmodified(ctx):
    for counter, version in ctx.versions:
        if counter[0] != version:
            raise RuntimeError(
                f"{ctx.name()}: an input needed for gradient computation was modified in place after it was "
                "used; use out-of-place ops or .clone()"
            )


def _accumulate_leaf(tensor, grad):
    if grad.shape != tensor.shape:
        raise RuntimeError(f"gradient of shape {grad.shape} does not match tensor of shape {tensor.shape}")
    if tensor.grad is None:
        tensor.grad = Tensor(grad.copy() if grad.dtype == tensor.dtype else grad.astype(tensor.dtype))
    else:
        backends.namespace(tensor.device).add_into(tensor.grad.data, grad)


def _root_gradient(root, gradient, caller):
    """The gradient that starts the walk: ``gradient`` checked against ``root``, or ones for a scalar root."""
    if not root.requires_grad:
        raise RuntimeError(f"{caller}: the tensor does not require grad and has no grad_fn")
    if gradient is None:
        if root.numel() != 1:
            raise RuntimeError(
                f"{caller}: gradient can be implicit only for scalar outputs, got shape {root.shape}; "
                "pass a gradient of that shape"
            )
        return backends.namespace(root.device).ones(root.shape, root.dtype)
    grad = gradient.data if isinstance(gradient, Tensor) else gradient
    if tuple(grad.shape) != root.shape:
        raise RuntimeError(f"{caller}: gradient has shape {tuple(grad.shape)}, expected {root.shape}")
    return grad


def _propagate(root, grad, retain_graph, deliver):
    """Push ``grad`` from ``root`` back through its graph in topological order.

    ``deliver(tensor, g)`` receives each gradient reaching a leaf; ``deliver(ctx, g)`` also receives the total
    gradient of every node's output just before that node's backward runs (what ``grad`` needs of non-leaves).
    """
    if root.grad_fn is None:
        deliver(root, grad)
        return
    grads = {id(root.grad_fn): grad}
    with no_grad():
        for ctx in _topological_order(root.grad_fn):
            if ctx.freed:
                raise RuntimeError(
                    f"{ctx.name()}: trying to backward through the graph a second time (its saved arrays were "
                    "freed); call backward(retain_graph=True) the first time"
                )
            _check_unmodified(ctx)
            out_grad = grads.pop(id(ctx), None)
            if out_grad is None:
                continue
            deliver(ctx, out_grad)
            in_grads = ctx.function.backward(ctx, out_grad)
            if not isinstance(in_grads, tuple):
                in_grads = (in_grads,)
            for parent, g in zip(ctx.inputs, in_grads):
                if parent is None or g is None:
                    continue
                if isinstance(g, np.generic):
                    g = np.asarray(g)
                if parent.grad_fn is None:
                    deliver(parent, g)
                else:
                    key = id(parent.grad_fn)
                    grads[key] = g if key not in grads else grads[key] + g
            if not retain_graph:
                ctx.free()


def backward(root, gradient=None, retain_graph=False):
    """Accumulate d(root)/d(leaf) into every leaf's ``.grad`` (torch.autograd.backward)."""

    def deliver(target, g):
        if isinstance(target, Tensor):
            _accumulate_leaf(target, g)

    _propagate(root, _root_gradient(root, gradient, "backward()"), retain_graph, deliver)


def grad(outputs, inputs, grad_outputs=None, retain_graph=False, allow_unused=False):
    """d(outputs)/d(inputs) returned as a tuple, leaving every ``.grad`` untouched (torch.autograd.grad).

    ``inputs`` is a tensor or a sequence of tensors that require grad (leaves or intermediate results).
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    for i, tensor in enumerate(inputs):
        if not isinstance(tensor, Tensor) or not tensor.requires_grad:
            raise RuntimeError(f"grad(): inputs[{i}] is not a tensor that requires grad")
    keys = [id(t.grad_fn) if t.grad_fn is not None else id(t) for t in inputs]
    found = {}

    def deliver(target, g):
        key = id(target)
        if key in keys:
            found[key] = g if key not in found else found[key] + g

    _propagate(outputs, _root_gradient(outputs, grad_outputs, "grad()"), retain_graph, deliver)
    results = []
    for i, key in enumerate(keys):
        if key not in found and not allow_unused:
            raise RuntimeError(f"grad(): inputs[{i}] was not used to compute outputs; pass allow_unused=True "
                               "to get None for it")
        results.append(Tensor(found[key]) if key in found else None)
    return tuple(results)


def _tensor_backward(self, gradient=None, retain_graph=False):
    """Accumulate gradients of this tensor into the leaves' ``.grad`` (torch.Tensor.backward)."""
    backward(self, gradient, retain_graph)


Tensor.backward = _tensor_backward
