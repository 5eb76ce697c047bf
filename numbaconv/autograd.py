"""Reverse-mode autodiff: Function/Context (torch.autograd.Function), the graph walk, grad mode."""
import sys
import types
import weakref

import numpy as np

from . import backends, grad_mode, profiler
from .grad_mode import enable_grad, is_grad_enabled, no_grad
from .tensor import Tensor, wrap

__all__ = ["Context", "Function", "backward", "enable_grad", "grad", "is_grad_enabled", "no_grad", "queue_callback"]

# Hooks on leaves, by id(leaf): (weak reference, [hook, ...]); backward's walk tracks leaves only while this is
# non-empty. The callbacks that hooks queue during a backward run once it ends (None outside a backward).
_leaf_hooks = {}
_queued_callbacks = None


class _NoParams:
    """``ctx.params`` of an op called without keyword parameters: no attributes, none settable."""

    __slots__ = ()


_NO_PARAMS = _NoParams()


class Context:
    """What a Function's forward leaves for its backward; also the graph node (``tensor.grad_fn``).

    ``inputs`` and ``needs_input_grad`` have one entry per positional input of ``apply``; ``params`` holds
    its keyword arguments by name (``ctx.params.stride``). Forward saves arrays with ``save_for_backward``
    and may keep small derived values (shapes) as attributes, as in PyTorch. The class attributes are what a
    forward without a graph sees: no inputs, no grads needed, nothing saved.
    """

    inputs = ()
    needs_input_grad = ()
    versions = ()
    params = None
    saved_tensors = ()
    freed = False
    function = None  # the Function class, set by apply

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
                data = arg.array
                if array_type is None:
                    array_type = type(data)
                elif type(data) is not array_type:
                    _check_one_device(cls, inputs)
                raw.append(data)
                if arg._requires_grad:
                    record = True
            else:
                raw.append(arg)
        forward = cls.forward if profiler.recorder is None else profiler.timed(cls.__name__, cls.forward)
        ctx = Context()
        ctx.function = cls
        if record and getattr(grad_mode.state, "enabled", True):
            grad_inputs, needs, versions = [], [], []
            for arg in inputs:
                tracked = isinstance(arg, Tensor)
                if tracked:
                    versions.append((arg._version, arg._version[0]))
                    tracked = arg._requires_grad
                grad_inputs.append(arg if tracked else None)
                needs.append(tracked)
            ctx.inputs, ctx.needs_input_grad, ctx.versions = tuple(grad_inputs), tuple(needs), tuple(versions)
            ctx.params = types.SimpleNamespace(**params) if params else _NO_PARAMS
            node = ctx
        else:
            node = None
        output = forward(ctx, *raw, **params)
        if type(output) is not np.ndarray:
            return _wrap(output, node)
        # wrap(output) and _wrap's graph link written out: this is the one hot path every op call takes
        result = object.__new__(Tensor)
        result.array = output
        result.grad = None
        result.grad_fn = node
        result._version = [0]
        result._requires_grad = node is not None
        return result


def _wrap(output, ctx):
    """The forward's output as a Tensor on the graph (extra outputs of a tuple as Tensors without grad)."""
    extras = ()
    if type(output) is tuple:
        output, extras = output[0], tuple(wrap(e) for e in output[1:])
    result = wrap(output)
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


def _accumulate_leaf(tensor, grad, references=None):
    """``tensor.grad += grad``, or ``.grad = grad`` for the first: the array itself when nothing else holds it
    (``references``, its reference count in the graph walk, at most a fresh gradient's; nothing else reaches its
    memory, it is writable, C-contiguous and of the leaf's dtype), as torch's AccumulateGrad steals an unshared
    gradient; else a copy."""
    held = tensor.array
    if grad.shape != held.shape:
        raise RuntimeError(f"gradient of shape {grad.shape} does not match tensor of shape {tensor.shape}")
    if tensor.grad is not None:
        backends.namespace(tensor.device).add_into(tensor.grad.array, grad)
    elif grad.dtype != held.dtype:
        tensor.grad = wrap(grad.astype(held.dtype))
    elif (references is not None and references <= _FRESH_REFERENCES and type(grad) is np.ndarray
          and grad.flags.writeable and grad.flags.c_contiguous and _owns_its_memory(grad)):
        tensor.grad = wrap(grad)
    else:
        tensor.grad = wrap(backends.namespace_of(grad).copy(grad))


def _owns_its_memory(array):
    """Whether nothing but ``array`` reaches its memory: it owns it, or it is a whole-buffer view (a kernel's
    ``result.reshape(shape)``) of an array that only it refers to (numpy points every view at the owner, so any
    other view would hold a reference too)."""
    if array.base is None:
        return True  # no local name for the base below: it would count as one more reference
    return (type(array.base) is np.ndarray and array.base.base is None and array.base.size == array.size
            and _base_references(array) <= _LONE_BASE_REFERENCES)


def _base_references(array):
    return sys.getrefcount(array.base)


def _lone_base_references():
    """What :func:`_base_references` sees for a view that alone refers to its base (interpreters differ)."""
    view = np.zeros(2).reshape(1, 2)
    return _base_references(view)


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
        return backends.namespace_of(root.array).ones(root.array.shape, root.array.dtype)
    grad = gradient.array if isinstance(gradient, Tensor) else gradient
    if tuple(grad.shape) != root.shape:
        raise RuntimeError(f"{caller}: gradient has shape {tuple(grad.shape)}, expected {root.shape}")
    return grad


def _propagate(root, grad, retain_graph, deliver, order=None, node_done=None, observe=None):
    """Push ``grad`` from ``root`` back through its graph in topological order (``order`` if already known).

    ``deliver(tensor, g, references)`` receives each gradient reaching a leaf with its reference count here (None
    for the root's own gradient, which the caller may hold); ``observe(ctx, g)``, when given, receives the
    total gradient of every node's output just before that node's backward runs (what ``grad`` needs of
    non-leaves). ``node_done(inputs)``, when given, is called with each node's inputs once it has handed out its
    gradients.
    """
    if root.grad_fn is None:
        deliver(root, grad, None)
        return
    grads = {id(root.grad_fn): grad}
    with no_grad():
        for ctx in order if order is not None else _topological_order(root.grad_fn):
            if ctx.freed:
                raise RuntimeError(
                    f"{ctx.name()}: trying to backward through the graph a second time (its saved arrays were "
                    "freed); call backward(retain_graph=True) the first time"
                )
            _check_unmodified(ctx)
            out_grad = grads.pop(id(ctx), None)
            if out_grad is None:
                if node_done is not None:
                    node_done(ctx.inputs)
                continue
            if observe is not None:
                observe(ctx, out_grad)
            backward = ctx.function.backward
            if profiler.recorder is not None:
                backward = profiler.timed(f"{ctx.function.__name__}Backward", backward)
            in_grads = backward(ctx, out_grad)
            # a list of its own: a tuple that backward also keeps elsewhere then counts in each array's references
            in_grads = list(in_grads) if isinstance(in_grads, tuple) else [in_grads]
            for parent, g in zip(ctx.inputs, in_grads):
                if parent is None or g is None:
                    continue
                if isinstance(g, np.generic):
                    g = np.asarray(g)
                if parent.grad_fn is None:
                    deliver(parent, g, sys.getrefcount(g))
                else:
                    key = id(parent.grad_fn)
                    grads[key] = g if key not in grads else grads[key] + g
            if node_done is not None:
                node_done(ctx.inputs)
            if not retain_graph:
                ctx.free()


class _FreshGradient(Function):
    """An identity whose backward returns a new array: what :func:`_fresh_references` sends through the walk."""

    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, grad):
        return np.zeros(1)


def _fresh_references():
    """The reference count the graph walk sees on a leaf's gradient that nothing else holds, measured through
    the walk itself (interpreters differ in the references their frames and iterators keep)."""
    seen = []
    leaf = Tensor(np.zeros(1), requires_grad=True)
    _propagate(_FreshGradient.apply(leaf), np.ones(1), False, lambda tensor, g, references: seen.append(references))
    return seen[0]


def backward(root, gradient=None, retain_graph=False):
    """Accumulate d(root)/d(leaf) into every leaf's ``.grad`` (torch.autograd.backward)."""
    grad = _root_gradient(root, gradient, "backward()")
    if not _leaf_hooks:
        _propagate(root, grad, retain_graph, _accumulate_leaf)
        return
    _backward_with_hooks(root, grad, retain_graph)


def _backward_with_hooks(root, grad, retain_graph):
    """``backward`` when some leaf has a post-accumulate hook: each hooked leaf's hooks run as soon as the last
    node that feeds it has run (its ``.grad`` is final), then the callbacks they queued run after the walk."""
    global _queued_callbacks
    order = _topological_order(root.grad_fn) if root.grad_fn is not None else []
    pending = {}
    for ctx in order:
        for leaf in ctx.inputs:
            if leaf is not None and leaf.grad_fn is None and id(leaf) in _leaf_hooks:
                pending[id(leaf)] = pending.get(id(leaf), 0) + 1
    reached = set()

    def deliver_and_mark(leaf, g, references):
        _accumulate_leaf(leaf, g, references)
        reached.add(id(leaf))

    def node_done(inputs):
        for leaf in inputs:
            key = id(leaf)
            if key in pending:
                pending[key] -= 1
                if pending[key] == 0 and key in reached:
                    _run_leaf_hooks(leaf)

    outer, _queued_callbacks = _queued_callbacks, []
    try:
        _propagate(root, grad, retain_graph, deliver_and_mark, order, node_done)
        if root.grad_fn is None and id(root) in _leaf_hooks:
            _run_leaf_hooks(root)
        callbacks = _queued_callbacks
        _queued_callbacks = None
        for callback in callbacks:
            callback()
    finally:
        _queued_callbacks = outer


def _run_leaf_hooks(leaf):
    for hook in list(_leaf_hooks[id(leaf)][1]):
        hook(leaf)


def queue_callback(callback):
    """Run ``callback()`` once the backward now running ends (torch's ``Variable._execution_engine.queue_callback``).

    Only a post-accumulate-grad hook, i.e. code running inside ``backward``, may queue one.
    """
    if _queued_callbacks is None:
        raise RuntimeError("queue_callback: only a hook running inside backward() can queue a callback")
    _queued_callbacks.append(callback)


class RemovableHandle:
    """What registering a hook returns; ``remove()`` unregisters it (torch.utils.hooks.RemovableHandle)."""

    def __init__(self, key, hook):
        self._key, self._hook = key, hook

    def remove(self):
        entry = _leaf_hooks.get(self._key)
        if entry is not None and self._hook in entry[1]:
            entry[1].remove(self._hook)
            if not entry[1]:
                del _leaf_hooks[self._key]


def _forget_leaf(key, hooks):
    def forget(_):
        hooks.pop(key, None)
    return forget


def _register_post_accumulate_grad_hook(self, hook):
    """Call ``hook(tensor)`` in every ``backward`` once this leaf's ``.grad`` holds its final value for that
    backward (torch.Tensor.register_post_accumulate_grad_hook); returns a handle whose ``remove()`` undoes it."""
    if self.grad_fn is not None:
        raise RuntimeError("register_post_accumulate_grad_hook: only leaf tensors take this hook; this one has "
                           f"grad_fn {self.grad_fn!r}")
    if not self.requires_grad:
        raise RuntimeError("register_post_accumulate_grad_hook: the tensor does not require grad")
    if not callable(hook):
        raise TypeError(f"register_post_accumulate_grad_hook: hook must be callable, got {type(hook).__name__}")
    key = id(self)
    if key not in _leaf_hooks:
        _leaf_hooks[key] = (weakref.ref(self, _forget_leaf(key, _leaf_hooks)), [])
    _leaf_hooks[key][1].append(hook)
    return RemovableHandle(key, hook)


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

    def deliver(target, g, references=None):
        key = id(target)
        if key in keys:
            found[key] = g if key not in found else found[key] + g

    _propagate(outputs, _root_gradient(outputs, grad_outputs, "grad()"), retain_graph, deliver, observe=deliver)
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
Tensor.register_post_accumulate_grad_hook = _register_post_accumulate_grad_hook
_FRESH_REFERENCES = _fresh_references()
_LONE_BASE_REFERENCES = _lone_base_references()
