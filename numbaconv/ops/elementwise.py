"""Elementwise ops with numpy broadcasting (torch.add, torch.exp, torch.clamp, torch.where, ...)."""
import numpy as np

from ..autograd import Function
from ..backends import namespace_of
from ..tensor import Tensor
from ._util import shape_of, unbroadcast


def _operand(value):
    if isinstance(value, (Tensor, int, float, bool, np.number)):
        return value
    if isinstance(value, np.ndarray):
        return Tensor(value)
    raise TypeError(f"expected a Tensor or a number, got {type(value).__name__}")


class _Binary(Function):
    """Shared forward for broadcasting binary ops; subclasses set ``kernel`` and ``grads``."""

    kernel = None

    @classmethod
    def forward(cls, ctx, a, b):
        xp = namespace_of(a, b)
        try:
            out = getattr(xp, cls.kernel)(a, b)
        except ValueError as error:
            raise ValueError(
                f"{cls.kernel}: shapes {shape_of(a)} and {shape_of(b)} are not broadcastable"
            ) from error
        ctx.save_for_backward(a, b, out)
        return out

    @classmethod
    def backward(cls, ctx, grad):
        a, b, out = ctx.saved_tensors
        xp = namespace_of(grad)
        need_a, need_b = ctx.needs_input_grad
        grad_a, grad_b = cls.grads(xp, grad, a, b, out, need_a, need_b)
        return (
            unbroadcast(xp, grad_a, shape_of(a)) if need_a else None,
            unbroadcast(xp, grad_b, shape_of(b)) if need_b else None,
        )


class Add(_Binary):
    kernel = "add"

    @staticmethod
    def grads(xp, grad, a, b, out, need_a, need_b):
        return grad, grad


class Sub(_Binary):
    kernel = "subtract"

    @staticmethod
    def grads(xp, grad, a, b, out, need_a, need_b):
        return grad, (xp.negative(grad) if need_b else None)


class Mul(_Binary):
    kernel = "multiply"

    @staticmethod
    def grads(xp, grad, a, b, out, need_a, need_b):
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Div(_Binary):
    kernel = "divide"

    @staticmethod
    def grads(xp, grad, a, b, out, need_a, need_b):
        grad_a = grad / b if need_a else None
        grad_b = xp.negative(grad) * out / b if need_b else None
        return grad_a, grad_b


def _log(xp, a):
    """log of an operand: an array through its namespace, a python number as a python float (stays weak)."""
    return xp.log(a) if hasattr(a, "shape") else float(np.log(a))


class Pow(_Binary):
    kernel = "power"

    @staticmethod
    def grads(xp, grad, a, b, out, need_a, need_b):
        grad_a = grad * b * xp.power(a, b - 1) if need_a else None
        grad_b = grad * out * _log(xp, a) if need_b else None
        return grad_a, grad_b


class Maximum(_Binary):
    kernel = "maximum"

    @staticmethod
    def grads(xp, grad, a, b, out, need_a, need_b):
        share_a = (a > b) + 0.5 * (a == b)
        return grad * share_a, grad * (1.0 - share_a)


class Minimum(_Binary):
    kernel = "minimum"

    @staticmethod
    def grads(xp, grad, a, b, out, need_a, need_b):
        share_a = (a < b) + 0.5 * (a == b)
        return grad * share_a, grad * (1.0 - share_a)


class _Unary(Function):
    kernel = None

    @classmethod
    def forward(cls, ctx, a):
        out = getattr(namespace_of(a), cls.kernel)(a)
        ctx.save_for_backward(a, out)
        return out

    @classmethod
    def backward(cls, ctx, grad):
        a, out = ctx.saved_tensors
        return cls.grad(namespace_of(grad), grad, a, out)


class Neg(_Unary):
    kernel = "negative"

    @staticmethod
    def grad(xp, grad, a, out):
        return xp.negative(grad)


class Exp(_Unary):
    kernel = "exp"

    @staticmethod
    def grad(xp, grad, a, out):
        return grad * out


class Log(_Unary):
    kernel = "log"

    @staticmethod
    def grad(xp, grad, a, out):
        return grad / a


class Sqrt(_Unary):
    kernel = "sqrt"

    @staticmethod
    def grad(xp, grad, a, out):
        return grad * 0.5 / out


class Tanh(_Unary):
    kernel = "tanh"

    @staticmethod
    def grad(xp, grad, a, out):
        return grad * (1 - out * out)


class Sigmoid(_Unary):
    kernel = "sigmoid"

    @staticmethod
    def grad(xp, grad, a, out):
        return grad * out * (1 - out)


class Relu(_Unary):
    kernel = "relu"

    @staticmethod
    def grad(xp, grad, a, out):
        return grad * (a > 0)


class Abs(_Unary):
    kernel = "abs"

    @staticmethod
    def grad(xp, grad, a, out):
        return grad * xp.sign(a)


class Clamp(Function):
    @staticmethod
    def forward(ctx, a, *, low, high):
        ctx.save_for_backward(a)
        return namespace_of(a).clip(a, low, high)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        low, high = ctx.params.low, ctx.params.high
        inside = True
        if low is not None:
            inside = inside & (a >= low)
        if high is not None:
            inside = inside & (a <= high)
        return grad * inside


class Where(Function):
    @staticmethod
    def forward(ctx, a, b, *, condition):
        xp = namespace_of(a, b, condition)
        ctx.shapes = (shape_of(a), shape_of(b))
        try:
            return xp.where(condition, a, b)
        except ValueError as error:
            raise ValueError(
                f"where: condition {shape_of(condition)}, input {shape_of(a)} and other {shape_of(b)} "
                "are not broadcastable"
            ) from error

    @staticmethod
    def backward(ctx, grad):
        condition = ctx.params.condition
        xp = namespace_of(grad)
        need_a, need_b = ctx.needs_input_grad
        shape_a, shape_b = ctx.shapes
        grad_a = unbroadcast(xp, xp.where(condition, grad, 0), shape_a) if need_a else None
        grad_b = unbroadcast(xp, xp.where(condition, 0, grad), shape_b) if need_b else None
        return grad_a, grad_b


def add(a, b):
    """a + b with broadcasting (torch.add)."""
    return Add.apply(_operand(a), _operand(b))


def sub(a, b):
    """a - b with broadcasting (torch.sub)."""
    return Sub.apply(_operand(a), _operand(b))


def mul(a, b):
    """a * b with broadcasting (torch.mul)."""
    return Mul.apply(_operand(a), _operand(b))


def div(a, b):
    """a / b with broadcasting (torch.div)."""
    return Div.apply(_operand(a), _operand(b))


def pow(a, b):
    """a ** b with broadcasting (torch.pow)."""
    return Pow.apply(_operand(a), _operand(b))


def maximum(a, b):
    """Elementwise maximum; ties share the gradient (torch.maximum)."""
    return Maximum.apply(_operand(a), _operand(b))


def minimum(a, b):
    """Elementwise minimum; ties share the gradient (torch.minimum)."""
    return Minimum.apply(_operand(a), _operand(b))


def neg(a):
    """-a (torch.neg)."""
    return Neg.apply(a)


def exp(a):
    """e**a (torch.exp)."""
    return Exp.apply(a)


def log(a):
    """Natural log (torch.log)."""
    return Log.apply(a)


def sqrt(a):
    """Square root (torch.sqrt)."""
    return Sqrt.apply(a)


def tanh(a):
    """Hyperbolic tangent (torch.tanh)."""
    return Tanh.apply(a)


def sigmoid(a):
    """Logistic sigmoid, overflow-safe (torch.sigmoid)."""
    return Sigmoid.apply(a)


def relu(a):
    """max(a, 0) (torch.relu)."""
    return Relu.apply(a)


def abs(a):
    """|a| (torch.abs)."""
    return Abs.apply(a)


def clamp(a, min=None, max=None):
    """Clip into [min, max]; NaN stays NaN (torch.clamp)."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return Clamp.apply(a, low=min, high=max)


clip = clamp


def where(condition, a, b):
    """Pick from a where condition holds, else from b (torch.where)."""
    condition = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if condition.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got dtype {condition.dtype}")
    return Where.apply(_operand(a), _operand(b), condition=condition)


def compare(kernel, a, b):
    """A bool Tensor from a comparison (``kernel`` names the array function); not differentiable (torch.lt, ...)."""
    a, b = _operand(a), _operand(b)
    raw_a = a.data if isinstance(a, Tensor) else a
    raw_b = b.data if isinstance(b, Tensor) else b
    return Tensor(getattr(namespace_of(raw_a, raw_b), kernel)(raw_a, raw_b))


def _inplace(name, op):
    """``Tensor.__iadd__`` and friends: ``op`` out of place, written back into the tensor's own memory."""

    def method(self, other):
        self._check_inplace(name)
        result = op(self, other)
        if result.shape != self.shape:
            raise RuntimeError(f"{name}: result of shape {result.shape} cannot be written into shape {self.shape}")
        self.data[...] = result.data
        self._version[0] += 1
        return self

    method.__name__ = name
    return method


def _reflected(op):
    def method(self, other):
        return op(other, self)

    return method


def _comparison(kernel):
    def method(self, other):
        return compare(kernel, self, other)

    return method


def _clamp_method(self, min=None, max=None):
    return clamp(self, min, max)


for _name, _op in (("add", add), ("sub", sub), ("mul", mul), ("truediv", div), ("pow", pow)):
    setattr(Tensor, f"__{_name}__", _op)
    setattr(Tensor, f"__r{_name}__", _reflected(_op))
for _name, _op in (("iadd", add), ("isub", sub), ("imul", mul), ("itruediv", div)):
    setattr(Tensor, f"__{_name}__", _inplace(f"__{_name}__", _op))
for _name, _kernel in (("lt", "less"), ("le", "less_equal"), ("gt", "greater"), ("ge", "greater_equal"),
                       ("eq", "equal"), ("ne", "not_equal")):
    setattr(Tensor, f"__{_name}__", _comparison(_kernel))
for _op in (exp, log, sqrt, tanh, sigmoid, relu, abs, maximum, minimum):
    setattr(Tensor, _op.__name__, _op)
Tensor.__neg__ = neg
Tensor.__abs__ = abs
Tensor.clamp = Tensor.clip = _clamp_method
