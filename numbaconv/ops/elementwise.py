"""Elementwise ops with numpy broadcasting and torch's type promotion (torch.add, torch.exp, torch.clamp, ...)."""
import numpy as np

from .. import grad_mode, profiler
from ..autograd import Function, is_grad_enabled
from ..backends import namespace, namespace_of
from ..tensor import Tensor, wrap
from ._util import shape_of, unbroadcast
from .movement import cast
from .promotion import DEFAULT_FLOAT, category, division_type, result_type


def _operand(value):
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return value.item()  # a numpy scalar counts as a python number (torch's wrapped numbers)
    if isinstance(value, (Tensor, int, float, bool)):
        return value
    if isinstance(value, np.ndarray):
        return Tensor(value)
    raise TypeError(f"expected a Tensor or a number, got {type(value).__name__}")


def _same_dtype(a, b):
    """Whether torch's promotion leaves the pair as it is, decided from the common cases only."""
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            return a.array.dtype == b.array.dtype
        return type(b) in (float, int) and a.array.dtype.kind == "f"
    return isinstance(b, Tensor) and type(a) in (float, int) and b.array.dtype.kind == "f"


def _as_dtype(operand, dtype):
    """A Tensor operand cast to ``dtype`` (differentiably); a python number stays as it is (numpy keeps it weak),
    but an integer outside an integer ``dtype``'s range wraps into it first, as in torch (``uint8 + 300``)."""
    if isinstance(operand, Tensor):
        return cast(operand, dtype) if operand.dtype != dtype else operand
    if type(operand) is int and dtype.kind in "iu" and not np.iinfo(dtype).min <= operand <= np.iinfo(dtype).max:
        return dtype.type(np.array(operand).astype(dtype))
    return operand


def promote(a, b, dtype=None):
    """Both operands in torch's result dtype of the pair (or ``dtype``): the one rule of every binary op.

    The common cases answer before the general rule: two tensors of one dtype, or a floating tensor and a python
    number, keep that dtype."""
    if dtype is None and _same_dtype(a, b):
        return a, b
    a, b = _operand(a), _operand(b)
    dtype = result_type(a, b) if dtype is None else dtype
    return _as_dtype(a, dtype), _as_dtype(b, dtype)


def _floating(a):
    """``a`` cast to the default float dtype when it is bool or integer (torch.exp(int tensor) is float32)."""
    return cast(a, DEFAULT_FLOAT) if isinstance(a, Tensor) and category(a.dtype) < 2 else a


class _Binary(Function):
    """Shared forward for broadcasting binary ops on operands of one dtype; subclasses set ``kernel``, ``grads``
    and ``keeps`` (which of a, b and the output their backward reads, given which input grads are needed)."""

    kernel = None

    @staticmethod
    def keeps(need_a, need_b):
        return True, True, True

    @classmethod
    def forward(cls, ctx, a, b):
        xp = namespace_of(a, b)
        try:
            out = getattr(xp, cls.kernel)(a, b)
        except ValueError as error:
            raise ValueError(
                f"{cls.kernel}: shapes {shape_of(a)} and {shape_of(b)} are not broadcastable"
            ) from error
        if ctx.needs_input_grad:
            ctx.shapes = (getattr(a, "shape", ()), getattr(b, "shape", ()))
            keep_a, keep_b, keep_out = cls.keeps(*ctx.needs_input_grad)
            ctx.save_for_backward(a if keep_a else None, b if keep_b else None, out if keep_out else None)
        return out

    @classmethod
    def backward(cls, ctx, grad):
        a, b, out = ctx.saved_tensors
        xp = namespace_of(grad)
        need_a, need_b = ctx.needs_input_grad
        grad_a, grad_b = cls.grads(xp, grad, a, b, out, need_a, need_b)
        shape_a, shape_b = ctx.shapes
        return (
            unbroadcast(xp, grad_a, shape_a) if need_a else None,
            unbroadcast(xp, grad_b, shape_b) if need_b else None,
        )


class Add(_Binary):
    kernel = "add"

    @staticmethod
    def keeps(need_a, need_b):
        return False, False, False

    @staticmethod
    def grads(xp, grad, a, b, out, need_a, need_b):
        return grad, grad


class Sub(_Binary):
    kernel = "subtract"
    keeps = Add.keeps

    @staticmethod
    def grads(xp, grad, a, b, out, need_a, need_b):
        return grad, (xp.negative(grad) if need_b else None)


class Mul(_Binary):
    kernel = "multiply"

    @staticmethod
    def keeps(need_a, need_b):
        return need_b, need_a, False

    @staticmethod
    def grads(xp, grad, a, b, out, need_a, need_b):
        return (xp.multiply(grad, b) if need_a else None), (xp.multiply(grad, a) if need_b else None)


class Div(_Binary):
    kernel = "divide"

    @staticmethod
    def keeps(need_a, need_b):
        return False, True, need_b

    @staticmethod
    def grads(xp, grad, a, b, out, need_a, need_b):
        """grad / b, and -(grad / b) * out for b: the quotient shared, each a single pass."""
        quotient = xp.divide(grad, b)
        return quotient, (xp.multiply(xp.multiply(quotient, out), -1) if need_b else None)


def _log(xp, a):
    """log of an operand: an array through its namespace, a python number as a python float (stays weak)."""
    return xp.log(a) if hasattr(a, "shape") else float(np.log(a))


class Pow(_Binary):
    kernel = "power"

    @staticmethod
    def keeps(need_a, need_b):
        return True, True, need_b

    @staticmethod
    def grads(xp, grad, a, b, out, need_a, need_b):
        if not need_a:
            grad_a = None
        elif type(b) in (int, float) and b == 2:
            grad_a = xp.square_backward(grad, a)
        else:
            grad_a = grad * b * xp.power(a, b - 1)
        grad_b = grad * out * _log(xp, a) if need_b else None
        return grad_a, grad_b


class Maximum(_Binary):
    kernel = "maximum"

    @staticmethod
    def keeps(need_a, need_b):
        return True, True, False

    @staticmethod
    def grads(xp, grad, a, b, out, need_a, need_b):
        share_a = (a > b) + 0.5 * (a == b)
        return grad * share_a, grad * (1.0 - share_a)


class Minimum(_Binary):
    kernel = "minimum"
    keeps = Maximum.keeps

    @staticmethod
    def grads(xp, grad, a, b, out, need_a, need_b):
        share_a = (a < b) + 0.5 * (a == b)
        return grad * share_a, grad * (1.0 - share_a)


class Remainder(_Binary):
    """a - b * floor(a / b), the sign of b (torch.remainder, python's %)."""

    kernel = "remainder"

    @staticmethod
    def keeps(need_a, need_b):
        return need_b, need_b, False

    @staticmethod
    def grads(xp, grad, a, b, out, need_a, need_b):
        return grad, (xp.negative(grad) * xp.floor_divide(a, b) if need_b else None)


class _Unary(Function):
    """Shared forward of unary maps; ``saves_input`` False where the backward needs only the output."""

    kernel = None
    saves_input = True

    @classmethod
    def forward(cls, ctx, a):
        out = getattr(namespace_of(a), cls.kernel)(a)
        ctx.save_for_backward(a if cls.saves_input else None, out)
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
    saves_input = False

    @staticmethod
    def grad(xp, grad, a, out):
        return xp.multiply(grad, out)


class Log(_Unary):
    kernel = "log"

    @staticmethod
    def grad(xp, grad, a, out):
        return grad / a


class Sqrt(_Unary):
    kernel = "sqrt"

    @staticmethod
    def grad(xp, grad, a, out):
        return xp.sqrt_backward(grad, out)


class Tanh(_Unary):
    kernel = "tanh"
    saves_input = False

    @staticmethod
    def grad(xp, grad, a, out):
        return xp.tanh_backward(grad, out)


class Sigmoid(_Unary):
    kernel = "sigmoid"
    saves_input = False

    @staticmethod
    def grad(xp, grad, a, out):
        return xp.sigmoid_backward(grad, out)


class Relu(_Unary):
    """Its backward reads only the output (torch's threshold_backward: 0 where the output is <= 0, even for a NaN
    gradient)."""

    kernel = "relu"
    saves_input = False

    @staticmethod
    def grad(xp, grad, a, out):
        return xp.relu_backward(grad, out)


class Abs(_Unary):
    kernel = "abs"

    @staticmethod
    def grad(xp, grad, a, out):
        return xp.abs_backward(grad, a)


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


def _scaled(op, a, b, alpha):
    """``alpha * b`` for add/sub; a float alpha with integral operands is refused, as in torch (numpy would quietly
    give a float result)."""
    if isinstance(alpha, (float, np.floating)) and category(result_type(_operand(a), _operand(b))) < 2:
        raise RuntimeError(f"{op}: for integral input tensors, argument alpha must not be a floating point number, "
                           f"got alpha={alpha}")
    return mul(b, alpha)


def add(a, b, alpha=1):
    """a + alpha * b with broadcasting and torch's type promotion (torch.add)."""
    if type(alpha) is not int or alpha != 1:
        b = _scaled("add", a, b, alpha)
    return Add.apply(a, b) if _same_dtype(a, b) else Add.apply(*promote(a, b))


def sub(a, b, alpha=1):
    """a - alpha * b with broadcasting (torch.sub); two bool tensors are refused, as in torch."""
    a, b = promote(a, b if alpha == 1 and type(alpha) is int else _scaled("sub", a, b, alpha))
    if isinstance(a, Tensor) and a.dtype == np.bool_ and (not isinstance(b, Tensor) or b.dtype == np.bool_):
        raise RuntimeError("sub: subtraction of bool tensors is not supported (as in torch); use ^ or logical_xor")
    return Sub.apply(a, b)


def mul(a, b):
    """a * b with broadcasting (torch.mul)."""
    return Mul.apply(a, b) if _same_dtype(a, b) else Mul.apply(*promote(a, b))


def div(a, b):
    """a / b, true division: integer and bool operands give float32 (torch.div)."""
    if _same_dtype(a, b) and (not isinstance(a, Tensor) or a.array.dtype.kind == "f"):
        return Div.apply(a, b)
    a, b = _operand(a), _operand(b)
    return Div.apply(*promote(a, b, division_type(a, b)))


def floor_divide(a, b):
    """floor(a / b) in the promoted dtype, as python's //; not differentiable, as in torch (torch.floor_divide)."""
    a, b = promote(a, b)
    if any(isinstance(x, Tensor) and x.requires_grad for x in (a, b)) and is_grad_enabled():
        raise RuntimeError("floor_divide: the derivative is not implemented (as in torch); detach the operands")
    raw_a, raw_b = (x.array if isinstance(x, Tensor) else x for x in (a, b))
    return Tensor(namespace_of(raw_a, raw_b).floor_divide(raw_a, raw_b))


def remainder(a, b):
    """a mod b with the sign of b, as python's % (torch.remainder)."""
    return Remainder.apply(*promote(a, b))


def pow(a, b):
    """a ** b with broadcasting (torch.pow)."""
    return Pow.apply(*promote(a, b))


def maximum(a, b):
    """Elementwise maximum; ties share the gradient (torch.maximum)."""
    return Maximum.apply(*promote(a, b))


def minimum(a, b):
    """Elementwise minimum; ties share the gradient (torch.minimum)."""
    return Minimum.apply(*promote(a, b))


def neg(a):
    """-a (torch.neg); a bool tensor is refused, as in torch."""
    if a.dtype == np.bool_:
        raise RuntimeError("neg: negation of a bool tensor is not supported (as in torch); use ~ or logical_not")
    return Neg.apply(a)


def exp(a):
    """e**a (torch.exp)."""
    return Exp.apply(_floating(a))


def log(a):
    """Natural log (torch.log)."""
    return Log.apply(_floating(a))


def sqrt(a):
    """Square root (torch.sqrt)."""
    return Sqrt.apply(_floating(a))


def tanh(a):
    """Hyperbolic tangent (torch.tanh)."""
    return Tanh.apply(_floating(a))


def sigmoid(a):
    """Logistic sigmoid, overflow-safe (torch.sigmoid)."""
    return Sigmoid.apply(_floating(a))


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
    condition = condition.array if isinstance(condition, Tensor) else np.asarray(condition)
    if condition.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got dtype {condition.dtype}")
    return Where.apply(*promote(a, b), condition=condition)


def _compare(kernel, a, b):
    """A bool Tensor from the array function ``kernel``; never on the graph (torch.eq, torch.lt, ...)."""
    a, b = _operand(a), _operand(b)
    raw_a = a.array if isinstance(a, Tensor) else a
    raw_b = b.array if isinstance(b, Tensor) else b
    xp = namespace_of(raw_a, raw_b)
    try:
        return Tensor(getattr(xp, kernel)(raw_a, raw_b))
    except ValueError as error:
        raise ValueError(f"{kernel}: shapes {shape_of(raw_a)} and {shape_of(raw_b)} are not broadcastable") from error


def eq(a, b):
    """a == b elementwise, a bool tensor (torch.eq)."""
    return _compare("equal", a, b)


def ne(a, b):
    """a != b elementwise (torch.ne)."""
    return _compare("not_equal", a, b)


def lt(a, b):
    """a < b elementwise (torch.lt)."""
    return _compare("less", a, b)


def le(a, b):
    """a <= b elementwise (torch.le)."""
    return _compare("less_equal", a, b)


def gt(a, b):
    """a > b elementwise (torch.gt)."""
    return _compare("greater", a, b)


def ge(a, b):
    """a >= b elementwise (torch.ge)."""
    return _compare("greater_equal", a, b)


def isnan(a):
    """Where ``a`` is NaN, a bool tensor (torch.isnan)."""
    return _compare("not_equal", a, a)


def isfinite(a):
    """Where ``a`` is neither infinite nor NaN, a bool tensor (torch.isfinite)."""
    return Tensor(namespace_of(a.array).isfinite(a.array))


def logical_and(a, b):
    """Both nonzero, a bool tensor (torch.logical_and)."""
    return _compare("logical_and", a, b)


def logical_or(a, b):
    """Either nonzero (torch.logical_or)."""
    return _compare("logical_or", a, b)


def logical_xor(a, b):
    """Exactly one nonzero (torch.logical_xor)."""
    return _compare("logical_xor", a, b)


def logical_not(a):
    """Zero where ``a`` is nonzero, a bool tensor (torch.logical_not)."""
    return Tensor(namespace_of(a.array).logical_not(a.array))


def _bool_operator(name, op):
    """``&``, ``|``, ``^`` of bool tensors (masks) as the logical op; other dtypes are refused (torch's are bitwise)."""

    def method(self, other):
        for operand in (self, other):
            if not (isinstance(operand, bool) or isinstance(operand, Tensor) and operand.dtype == np.bool_):
                got = operand.dtype if isinstance(operand, Tensor) else type(operand).__name__
                raise TypeError(f"{name}: supported on bool tensors (masks) only, got {got}")
        return op(self, other)

    method.__name__ = name
    return method


def _invert(self):
    if self.dtype != np.bool_:
        raise TypeError(f"~: supported on bool tensors (masks) only, got {self.dtype}")
    return logical_not(self)


def _reflected(op):
    def method(self, other):
        return op(other, self)

    return method


def _graph_free(op, function):
    """The operator form of ``op`` (``a + b``), its commonest call taken without op's own checks: a float CPU tensor
    and a tensor of its dtype or a python number, no profile open. Needing no graph, the CPU namespace's kernel that
    ``function``'s forward calls runs on their arrays straight into a Tensor (what apply returns, for half its fixed
    cost; looked up at the first call: importing numbaconv loads no kernel module); needing one, ``function.apply``,
    which op would call for such operands. Anything else, and any error, is ``op`` itself."""
    kernel = None

    def operator(a, b):
        nonlocal kernel
        if type(a) is Tensor and profiler.recorder is None:
            x = a.array
            if type(b) is Tensor:
                y = b.array
                graph = a._requires_grad or b._requires_grad
                fits = type(y) is np.ndarray and y.dtype == x.dtype
            else:
                y = b
                graph = a._requires_grad
                fits = type(b) is float or type(b) is int
            if fits and type(x) is np.ndarray and x.dtype.kind == "f":
                if graph and getattr(grad_mode.state, "enabled", True):
                    return function.apply(a, b)
                if kernel is None:
                    kernel = getattr(namespace("cpu"), function.kernel)
                try:
                    return wrap(kernel(x, y))
                except ValueError:
                    pass
        return op(a, b)

    operator.__name__ = op.__name__
    return operator


def _clamp_method(self, min=None, max=None):
    return clamp(self, min, max)


for _name, _op in (("add", add), ("sub", sub), ("mul", mul), ("truediv", div), ("floordiv", floor_divide),
                   ("mod", remainder), ("pow", pow)):
    setattr(Tensor, f"__{_name}__", _op)
    setattr(Tensor, f"__r{_name}__", _reflected(_op))
for _name, _op, _function in (("add", add, Add), ("sub", sub, Sub), ("mul", mul, Mul), ("truediv", div, Div)):
    setattr(Tensor, f"__{_name}__", _graph_free(_op, _function))
for _op in (add, sub, mul, div, floor_divide, remainder, pow, exp, log, sqrt, tanh, sigmoid, relu, abs, maximum,
            minimum):
    setattr(Tensor, _op.__name__, _op)
for _name, _op in (("eq", eq), ("ne", ne), ("lt", lt), ("le", le), ("gt", gt), ("ge", ge)):
    setattr(Tensor, f"__{_name}__", _op)
    setattr(Tensor, _name, _op)
Tensor.isnan, Tensor.isfinite = isnan, isfinite
for _name, _op in (("and", logical_and), ("or", logical_or), ("xor", logical_xor)):
    setattr(Tensor, f"__{_name}__", _bool_operator(f"__{_name}__", _op))
    setattr(Tensor, f"__r{_name}__", _bool_operator(f"__r{_name}__", _op))
    setattr(Tensor, f"logical_{_name}", _op)
Tensor.logical_not, Tensor.__invert__ = logical_not, _invert
Tensor.__neg__ = Tensor.neg = neg
Tensor.__abs__ = abs
Tensor.clamp = Tensor.clip = _clamp_method

# the in-place forms (x += y, x.add_(y), ...) attach their Tensor methods when their module loads
from . import inplace  # noqa: E402,F401
