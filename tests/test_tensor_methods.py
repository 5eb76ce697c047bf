"""Tensor methods against PyTorch itself: type promotion, in-place updates on the graph, sort/topk ties, comparisons,
shape methods, std/var and the errors. Skipped where torch is not installed (it is a test oracle, never a
dependency)."""
import numpy as np
import pytest

import numbaconv as nc
from numbaconv.ops import indexing, sorting, tiling  # noqa: F401 (their Tensor methods)
from numbaconv.ops.elementwise import eq, ge, gt, isfinite, isnan, le, lt, ne
from numbaconv.ops.reduce import all as nc_all
from numbaconv.ops.reduce import any as nc_any
from numbaconv.ops.reduce import std

torch = pytest.importorskip("torch", reason="torch is the oracle of these tests and is not installed")

RNG = np.random.default_rng(7)


class Lib:
    """One way to write a case for both libraries: ``lib.t(values, dtype)`` builds a tensor of the library."""

    def __init__(self, module):
        self.module = module

    def t(self, values, dtype="float32", requires_grad=False):
        if self.module is torch:
            return torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=requires_grad)
        return nc.tensor(np.array(values, dtype=dtype), requires_grad=requires_grad)


NC, TORCH = Lib(nc), Lib(torch)


def _dtype_name(tensor):
    return str(tensor.dtype).removeprefix("torch.")


def _values(tensor):
    return np.asarray(tensor.detach().numpy() if hasattr(tensor, "detach") else tensor)


PROMOTION = {
    "int / int": lambda L: L.t([1, 2, 3], "int64") / L.t([2, 2, 2], "int64"),
    "int / 2": lambda L: L.t([1, 2, 3], "int64") / 2,
    "uint8 / 255": lambda L: L.t([0, 128, 255], "uint8") / 255,
    "int * 1.5": lambda L: L.t([1, 2, 3], "int64") * 1.5,
    "int32 + int64": lambda L: L.t([1, 2], "int32") + L.t([3, 4], "int64"),
    "uint8 * int8": lambda L: L.t([1, 2], "uint8") * L.t([3, -4], "int8"),
    "uint8 - 5": lambda L: L.t([1, 200], "uint8") - 5,
    "uint8 + 300 wraps": lambda L: L.t([1, 200], "uint8") + 300,
    "int8 * -200 wraps": lambda L: L.t([1, 3], "int8") * -200,
    "float32 + float64": lambda L: L.t([1.0, 2.0]) + L.t([3.0, 4.0], "float64"),
    "float32 * 2.5": lambda L: L.t([1.0, 2.0]) * 2.5,
    "float32 + float64 0-d": lambda L: L.t([1.0, 2.0]) + L.t(3.0, "float64"),
    "int32 + float64 0-d": lambda L: L.t([1, 2], "int32") + L.t(0.5, "float64"),
    "int8 + int64 0-d": lambda L: L.t([1, 2], "int8") + L.t(5, "int64"),
    "float32 + int64 0-d": lambda L: L.t([1.0, 2.0]) + L.t(3, "int64"),
    "int 0-d + 1.5": lambda L: L.t(3, "int64") + 1.5,
    "int 0-d / int 0-d": lambda L: L.t(3, "int64") / L.t(2, "int64"),
    "bool + bool": lambda L: L.t([True, False], "bool") + L.t([True, True], "bool"),
    "bool * bool": lambda L: L.t([True, False], "bool") * L.t([True, True], "bool"),
    "bool + 1": lambda L: L.t([True, False], "bool") + 1,
    "bool + 1.5": lambda L: L.t([True, False], "bool") + 1.5,
    "bool / bool": lambda L: L.t([True, True], "bool") / L.t([True, True], "bool"),
    "int // 2": lambda L: L.t([-3, 3, 7], "int64") // 2,
    "float // 2": lambda L: L.t([-3.5, 3.5]) // 2,
    "int % 2": lambda L: L.t([-3, 3], "int64") % 2,
    "float % -2": lambda L: L.t([-3.5, 3.5]) % -2,
    "5 % int": lambda L: 5 % L.t([3, -3], "int64"),
    "int ** 2": lambda L: L.t([1, 2, 3], "int64") ** 2,
    "int ** 0.5": lambda L: L.t([1, 2, 3], "int64") ** 0.5,
    "2 ** int": lambda L: 2 ** L.t([1, 2, 3], "int64"),
    "exp(int)": lambda L: L.t([0, 1, 2], "int64").exp(),
    "sqrt(int)": lambda L: L.t([1, 4, 2], "int64").sqrt(),
    "int > 1.5": lambda L: L.t([1, 2, 3], "int64") > 1.5,
    "maximum(int32, float32)": lambda L: L.module.maximum(L.t([1, 5], "int32"), L.t([2.0, 3.0])),
    "where(mask, int, 2.5)": lambda L: L.module.where(L.t([True, False], "bool"), L.t([1, 2], "int64"), 2.5),
    "float32 * numpy float64 scalar": lambda L: L.t([1.0, 2.0]) * np.float64(0.5),
}


@pytest.mark.parametrize("case", sorted(PROMOTION))
def test_type_promotion_matches_torch(case):
    ours, theirs = PROMOTION[case](NC), PROMOTION[case](TORCH)
    assert _dtype_name(ours) == _dtype_name(theirs), case
    np.testing.assert_allclose(_values(ours), _values(theirs), rtol=1e-6)


@pytest.mark.parametrize("case", [
    lambda L: L.t([True], "bool") - L.t([True], "bool"),
    lambda L: -L.t([True], "bool"),
])
def test_bool_subtraction_and_negation_are_refused_like_torch(case):
    with pytest.raises(RuntimeError):
        case(TORCH)
    with pytest.raises(RuntimeError, match="bool"):
        case(NC)


@pytest.mark.parametrize("op", ["add", "sub"])
def test_float_alpha_with_integral_operands_is_refused_like_torch(op):
    for L in (NC, TORCH):
        ints = L.t([1, 2], "int64")
        with pytest.raises(RuntimeError, match="(?i)for integral input tensors, argument alpha"):
            getattr(L.module, op)(ints, ints, alpha=0.5)
        mixed = getattr(L.module, op)(L.t([1.0, 2.0]), ints, alpha=0.5)
        assert _dtype_name(mixed) == "float32" and _values(mixed).tolist() == ([1.5, 3.0] if op == "add" else
                                                                                [0.5, 1.0])


def test_floor_divide_is_not_differentiable_like_torch():
    for L in (NC, TORCH):
        with pytest.raises(RuntimeError, match="not implemented"):
            (L.t([3.5, 1.0], requires_grad=True) // 2).sum().backward()


# ---- in-place updates on the graph --------------------------------------------------------------------

def _grads(L, build, *arrays):
    """Run ``build(L, *leaves)`` to a scalar, backward, and return (value, leaf gradients) as numpy."""
    leaves = [L.t(a.tolist(), "float64", requires_grad=True) for a in arrays]
    out = build(L, *leaves)
    out.backward()
    return _values(out), [_values(leaf.grad) if leaf.grad is not None else None for leaf in leaves]


def _same_as_torch(build, *arrays):
    ours, theirs = _grads(NC, build, *arrays), _grads(TORCH, build, *arrays)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    for g, h in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(g, h, rtol=1e-12, atol=1e-12)


def _residual(L, x, w):
    out = x * w
    out += x  # the torchvision ResNet idiom: out += identity inside forward
    out *= 2
    out -= w
    out /= 3
    out = out.relu()
    return (out * out).sum()


INPLACE_GRAPHS = {
    "residual += then *=, -=, /=": _residual,
    "mul_ with both operands requiring grad": lambda L, a, b: (a * 1).mul_(b).sum(),
    "mul_ of a tensor by another": lambda L, a, b: (a * 1).mul_(a * 1).sum() + b.sum(),
    "x += x": lambda L, a, b: _double_in_place(a * b).sum(),
    "div_": lambda L, a, b: (a * 2).div_(b + 3).sum(),
    "add_ with alpha": lambda L, a, b: ((a * 1).add_(b, alpha=2) ** 2).sum(),
    "sub_ with alpha": lambda L, a, b: ((a * 1).sub_(b, alpha=0.5) ** 2).sum(),
    "clamp_": lambda L, a, b: ((a * b).clamp_(-0.5, 0.5) * a).sum(),
    "fill_": lambda L, a, b: ((a * 2).fill_(3.0) * b).sum(),
    "fill_ with a 0-d tensor": lambda L, a, b: ((a * 2).fill_(b.sum()) * a).sum(),
    "zero_": lambda L, a, b: ((a * 2).zero_() + b).sum(),
    "copy_": lambda L, a, b: ((a * 2).copy_(b * 3) * a).sum(),
    "copy_ broadcasting": lambda L, a, b: ((a * 2).copy_(b[0]) * a).sum(),
    "masked_fill_": lambda L, a, b: ((a * b).masked_fill_(a > 0, 0.5) * a).sum(),
    "scatter_add_": lambda L, a, b: ((a * 1).scatter_add_(1, L.t([[0, 0, 2]] * 3, "int64"), b * b) * a).sum(),
    "a plain tensor joins the graph": lambda L, a, b: _plain_joins(L, a, b),
    "setitem of a graph value into a plain tensor": lambda L, a, b: _setitem_plain(L, a, b),
    "setitem into a graph tensor: slice, int, broadcast": lambda L, a, b: _setitem_graph(a, b),
    "setitem with a mask and an index tensor": lambda L, a, b: _setitem_masks(L, a, b),
}


def _setitem_plain(L, a, b):
    buffer = L.module.zeros(3, 3, dtype=L.module.float64)
    buffer[1] = (a * b).sum(0)
    buffer[0, 2] = a[2, 2] * 5
    return (buffer * b).sum()


def _setitem_graph(a, b):
    y = a * 2
    y[:, 1] = b[0, 0] * 3
    y[2] = b[1:2] * 4  # a leading 1-sized dim, dropped by the assignment
    y[0, 0] = 7.0
    return (y * y * b).sum()


def _setitem_masks(L, a, b):
    y = a * b
    y[a > 0] = 0.5
    y[L.t([2, 0], "int64")] = b[1] * 2
    return (y * a).sum()


def _double_in_place(x):
    x += x
    return x * x


def _plain_joins(L, a, b):
    buffer = L.module.zeros(3, 3, dtype=L.module.float64)
    buffer += a * b
    return (buffer * a).sum()


@pytest.mark.parametrize("case", sorted(INPLACE_GRAPHS))
def test_inplace_on_the_graph_matches_torch(case):
    a, b = RNG.standard_normal((3, 3)), RNG.standard_normal((3, 3))
    _same_as_torch(INPLACE_GRAPHS[case], a, b)


def test_x_times_equal_x_keeps_the_old_value_where_torch_refuses():
    """torch saves ``other`` (the tensor itself) and refuses at backward; numbaconv's node keeps a copy of the old
    value, so the gradient is that of the out-of-place x * x."""
    a = RNG.standard_normal(4)
    t = torch.tensor(a, requires_grad=True)
    x = t * 1
    x *= x
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        x.sum().backward()
    leaf = nc.tensor(a, requires_grad=True)
    x = leaf * 1
    x *= x
    x.sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), 2 * a, rtol=1e-12)


def test_inplace_takes_the_new_node_and_bumps_the_version():
    a = nc.tensor([1.0, 2.0], requires_grad=True)
    x = a * 2
    before, node = x._version[0], x.grad_fn
    same = x.add_(1)
    assert same is x and x._version[0] == before + 1
    assert x.grad_fn is not node and x.grad_fn.inputs[0].grad_fn is node
    assert x.detach().numpy().tolist() == [3.0, 5.0]


@pytest.mark.parametrize("case", [
    "output of exp", "output of sigmoid", "output of relu", "consumer of the old value",
])
def test_inplace_over_a_saved_value_fails_at_backward_like_torch(case):
    def build(L):
        a = L.t([0.5, -1.0, 2.0], requires_grad=True)
        if case == "output of exp":
            x = a.exp()
            x += 1
            return x.sum()
        if case == "output of sigmoid":
            x = a.sigmoid()
            x.mul_(2)
            return x.sum()
        if case == "output of relu":
            x = a.relu()
            x += 1
            return x.sum()
        x = a * 1
        y = x * x
        x += 1
        return y.sum()

    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        build(TORCH).backward()
    with pytest.raises(RuntimeError, match="modified in place"):
        build(NC).backward()


def test_inplace_on_a_leaf_that_requires_grad_is_refused_unless_no_grad():
    for L in (NC, TORCH):
        a = L.t([1.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf"):
            a.add_(1)
        with pytest.raises(RuntimeError, match="leaf"):
            a += 1
        with L.module.no_grad():
            a.mul_(3)
            a -= 1
        assert _values(a).tolist() == [2.0, 5.0]
        assert a.requires_grad and a.grad_fn is None


def test_inplace_under_no_grad_writes_through_views():
    base = nc.zeros(2, 3)
    row = base[1]
    flat = base.view(-1)
    row.add_(2)
    flat[0:1].fill_(7)
    assert base.numpy().tolist() == [[7, 0, 0], [2, 2, 2]]
    assert base._version[0] == 2


@pytest.mark.parametrize("case, message", [
    (lambda L: L.t([1, 2], "int64").__iadd__(1.5), "can't be cast"),
    (lambda L: L.t([1, 2], "int64").div_(2), "can't be cast"),
    (lambda L: L.t([1.0, 2.0]).add_(L.t([[1.0, 2.0]] * 2)), "doesn't match the broadcast shape"),
])
def test_inplace_errors_match_torch(case, message):
    for L in (NC, TORCH):
        with pytest.raises(RuntimeError, match=message):
            case(L)


def test_inplace_on_a_view_of_a_graph_tensor_is_refused():
    """torch rebases the base's history (CopySlices); numbaconv refuses rather than give the base a stale graph."""
    x = nc.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True) * 1
    with pytest.raises(RuntimeError, match="view"):
        x[0].mul_(2)
    with pytest.raises(RuntimeError, match="view"):
        x.view(-1).add_(1)


# ---- sort, topk ---------------------------------------------------------------------------------------

TIES = [1.0, 3.0, 3.0, np.nan, 2.0, 3.0, -1.0, np.nan, 3.0]


@pytest.mark.parametrize("descending", [False, True])
def test_sort_is_stable_with_nan_largest_like_torch(descending):
    ours = nc.tensor(TIES).sort(descending=descending)
    theirs = torch.tensor(TIES).sort(descending=descending, stable=True)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    assert ours.indices.dtype == np.int64


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("k", [0, 1, 4, 9])
def test_topk_values_match_torch_and_indices_point_at_them(k, largest):
    x = nc.tensor(TIES)
    ours = x.topk(k, largest=largest)
    theirs = torch.tensor(TIES).topk(k, largest=largest)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(x.numpy()[ours.indices.numpy()], ours.values.numpy())


def test_topk_and_sort_along_a_dim_match_torch_without_ties():
    a = RNG.standard_normal((3, 4, 5))
    for dim in (0, 1, -1):
        ours, theirs = nc.tensor(a).topk(2, dim), torch.tensor(a).topk(2, dim)
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
        ours, theirs = sorting.sort(nc.tensor(a), dim, True), torch.sort(torch.tensor(a), dim, True)
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    assert sorting.argsort(nc.tensor(a), 1).numpy().tolist() == torch.argsort(torch.tensor(a), 1).tolist()


def test_topk_refuses_k_out_of_range():
    with pytest.raises(RuntimeError):
        torch.ones(3).topk(4)
    with pytest.raises(RuntimeError, match=r"k must be an int in \[0, 3\]"):
        nc.ones(3).topk(4)


# ---- comparisons, any/all, isnan/isfinite ----------------------------------------------------------------

def test_comparisons_any_all_match_torch():
    a = np.array([[1.0, np.nan, -2.0], [0.0, 3.0, np.inf]])
    b = np.array([1.0, 2.0, -2.0])
    x, y, tx, ty = nc.tensor(a), nc.tensor(b), torch.tensor(a), torch.tensor(b)
    for name, fn in (("eq", eq), ("ne", ne), ("lt", lt), ("le", le), ("gt", gt), ("ge", ge)):
        expected = getattr(torch, name)(tx, ty).numpy()
        for got in (fn(x, y), getattr(x, name)(y), getattr(x, name)(1.0)):
            assert got.dtype == np.bool_ and not got.requires_grad
        np.testing.assert_array_equal(fn(x, y).numpy(), expected)
        np.testing.assert_array_equal(getattr(x, name)(1.0).numpy(), getattr(tx, name)(1.0).numpy())
    np.testing.assert_array_equal(isnan(x).numpy(), torch.isnan(tx).numpy())
    np.testing.assert_array_equal(isfinite(x).numpy(), torch.isfinite(tx).numpy())
    for dim in (None, 0, 1, (0, 1)):
        for keepdim in (False, True):
            kw = {} if dim is None else {"dim": dim, "keepdim": keepdim}
            np.testing.assert_array_equal(nc_any(x, **kw).numpy(), torch.any(tx, **kw).numpy())
            np.testing.assert_array_equal(nc_all(x, **kw).numpy(), torch.all(tx, **kw).numpy())
    assert x.any().dtype == np.bool_ and (x > 0).all(1).numpy().tolist() == [False, False]


def test_comparison_results_are_not_on_the_graph():
    x = nc.tensor([1.0, 2.0], requires_grad=True)
    assert (x == 1.0).grad_fn is None and x.eq(x).grad_fn is None


# ---- shapes: *_as, t, chunk, split, repeat, flip -------------------------------------------------------

def test_shape_methods_match_torch():
    a = np.arange(24.0).reshape(2, 3, 4)
    x, tx = nc.tensor(a), torch.tensor(a)
    other, tother = nc.zeros(4, 6), torch.zeros(4, 6)
    np.testing.assert_array_equal(x.view_as(other).numpy(), tx.view_as(tother).numpy())
    np.testing.assert_array_equal(x.reshape_as(other).numpy(), tx.reshape_as(tother).numpy())
    np.testing.assert_array_equal(x[:, :1].expand_as(x).numpy(), tx[:, :1].expand_as(tx).numpy())
    np.testing.assert_array_equal(x[0].t().numpy(), tx[0].t().numpy())
    assert nc.ones(3).t().shape == (3,)
    np.testing.assert_array_equal(x.repeat(2, 1, 1, 2).numpy(), tx.repeat(2, 1, 1, 2).numpy())
    np.testing.assert_array_equal(x.flip(0, 2).numpy(), tx.flip(0, 2).numpy())
    np.testing.assert_array_equal(tiling.flip(x, [1]).numpy(), torch.flip(tx, [1]).numpy())
    for n, chunks in ((10, 3), (10, 4), (5, 10), (6, 3)):
        ours = [p.shape for p in nc.arange(n).chunk(chunks)]
        assert ours == [tuple(p.shape) for p in torch.arange(n).chunk(chunks)], (n, chunks)
    for sizes in (3, 4, 20, [2, 8], [0, 10]):
        ours = [p.numpy().tolist() for p in nc.arange(10).split(sizes)]
        assert ours == [p.tolist() for p in torch.arange(10).split(sizes)], sizes


def test_pieces_are_views_and_repeat_flip_are_copies_like_torch():
    x = nc.zeros(4, 3)
    with nc.no_grad():
        x.chunk(2)[1].fill_(1)
        x.repeat(2, 1).fill_(5)
        x.flip(0).fill_(5)
    assert x.numpy().sum() == 6


@pytest.mark.parametrize("case, message", [
    (lambda L: L.module.ones(2, 3, 4).t(), "2 dimensions"),
    (lambda L: L.module.ones(2, 3).repeat(2), "dim"),
    (lambda L: L.module.arange(10).split([2, 7]), "10"),
])
def test_shape_errors_like_torch(case, message):
    with pytest.raises(RuntimeError):
        case(TORCH)
    with pytest.raises(RuntimeError, match=message):
        case(NC)


# ---- std / var ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, kwargs", [
    ((), {}), ((0,), {}), ((1, True), {}), ((1, False, True), {}), (((0, 1),), {"keepdim": True}),
    ((1,), {"correction": 0}), ((), {"correction": 2}), ((0,), {"unbiased": False}),
])
def test_std_and_var_follow_torch_argument_order(args, kwargs):
    a = RNG.standard_normal((4, 5))
    for name in ("std", "var"):
        ours = getattr(nc.tensor(a), name)(*args, **kwargs).numpy()
        theirs = getattr(torch.tensor(a), name)(*args, **kwargs).numpy()
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    np.testing.assert_allclose(std(nc.tensor(a), *args, **kwargs).numpy(),
                               torch.std(torch.tensor(a), *args, **kwargs).numpy(), rtol=1e-12)


# ---- gather, scatter_add, masked_fill ------------------------------------------------------------------

def test_gather_scatter_add_masked_fill_match_torch():
    a = RNG.standard_normal((3, 4))
    index = np.array([[2, 0, 1, 1], [0, 0, 2, 1]])
    x, tx = nc.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    i, ti = nc.tensor(index), torch.tensor(index)
    ours, theirs = (
        t.gather(0, j).sum() + t.scatter_add(0, j, (t * t)[:2]).sum() + (t.masked_fill(t > 0, 2.0) * t).sum()
        for t, j in ((x, i), (tx, ti))
    )
    ours.backward()
    theirs.backward()
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    long = nc.tensor(np.zeros((2, 2), np.int64)).masked_fill(nc.tensor([[True, False], [False, True]]), 2.7)
    assert long.dtype == np.int64 and long.numpy().tolist() == [[2, 0], [0, 2]]


@pytest.mark.parametrize("case, message", [
    (lambda L: L.t([1.0, 2.0]).gather(0, L.t([2], "int64")), "out of bounds"),
    (lambda L: L.t([1.0, 2.0]).gather(0, L.t([-1], "int64")), "out of bounds"),
    (lambda L: L.t([1.0, 2.0]).masked_fill(L.t([1, 0], "int64"), 0.0), "bool"),
    (lambda L: L.t([[1.0, 2.0]]).gather(1, L.t([[0, 1]] * 2, "int64")), "index"),
])
def test_indexing_errors_like_torch(case, message):
    with pytest.raises((RuntimeError, IndexError)):
        case(TORCH)
    with pytest.raises((RuntimeError, IndexError), match=message):
        case(NC)


def test_mask_operators_and_logical_ops_match_torch():
    a = np.array([[1.0, 0.0, -2.0], [0.5, 3.0, 0.0]])
    x, tx = nc.tensor(a), torch.tensor(a)
    for make in (lambda t: (t > 0) & (t < 2), lambda t: (t > 0) | (t < -1), lambda t: (t > 0) ^ (t < 2),
                 lambda t: ~(t > 0), lambda t: True & (t > 0), lambda t: t.logical_not(),
                 lambda t: t.logical_and(t > 0.7), lambda t: t.logical_or(t * 0), lambda t: t.logical_xor(t > 0)):
        ours, theirs = make(x), make(tx)
        assert ours.dtype == np.bool_
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(TypeError, match="bool tensors"):
        (x > 0) & x
    with pytest.raises(TypeError, match="bool tensors"):
        ~x
