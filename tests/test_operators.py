"""The arithmetic operators' graph-free shortcut (ops/elementwise.py ``_graph_free``): the op's own answer (values,
dtype, a fresh Tensor with no graph), and the op's path wherever a graph, a profile, promotion or an error is
involved."""
import operator

import numpy as np
import pytest

import numbaconv as nc
from numbaconv import profiler
from numbaconv.ops import elementwise

OPERATORS = {operator.add: elementwise.add, operator.sub: elementwise.sub, operator.mul: elementwise.mul,
             operator.truediv: elementwise.div}


def _operands(dtype=np.float32):
    rng = np.random.default_rng(0)
    return nc.tensor(rng.standard_normal((3, 4)).astype(dtype)), nc.tensor(rng.standard_normal(4).astype(dtype))


@pytest.mark.parametrize("symbol", OPERATORS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
def test_operators_give_the_ops_answer(symbol, dtype):
    a, b = _operands(np.float64)
    a, b = nc.tensor(a.numpy().astype(dtype)), nc.tensor(b.numpy().astype(dtype))
    for other in (b, 2, 0.5):
        if dtype == np.bool_ and symbol is operator.sub:
            continue
        with np.errstate(all="ignore"):
            got, expected = symbol(a, other), OPERATORS[symbol](a, other)
        assert got.dtype == expected.dtype and got.grad_fn is None and not got.requires_grad
        np.testing.assert_array_equal(got.numpy(), expected.numpy())


@pytest.mark.parametrize("symbol", OPERATORS)
def test_a_graph_is_recorded_where_one_is_needed_and_not_under_no_grad(symbol):
    a, b = _operands()
    a.requires_grad_(True)
    out = symbol(b, a)
    assert out.requires_grad and out.grad_fn is not None
    out.sum().backward()
    assert a.grad is not None and a.grad.shape == a.shape
    with nc.no_grad():
        assert symbol(a, b).grad_fn is None


def test_a_profile_sees_operator_calls():
    a, b = _operands()
    with profiler.profile() as prof:
        a + b
    assert "Add" in {event.key for event in prof.key_averages()}


def test_bad_shapes_bool_subtraction_and_float16_take_the_ops_path():
    a, b = _operands()
    with pytest.raises(ValueError, match="not broadcastable"):
        a + nc.tensor(np.ones(3, np.float32))
    flags = nc.tensor(np.array([True, False]))
    with pytest.raises(RuntimeError, match="bool"):
        flags - flags
    assert (nc.tensor(np.ones(2, np.float16)) * 2).dtype == np.float16
    assert (a + nc.tensor(np.ones(4, np.float64))).dtype == np.float64
