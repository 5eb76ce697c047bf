"""linear against the float64 loop reference (tests/references.py); finite-difference gradients; bad-input errors."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from references import ref_linear

import numbaconv as nc
import numbaconv.nn.functional as F


@given(
    lead=st.lists(st.integers(1, 4), min_size=0, max_size=2),
    features=st.integers(1, 6),
    outputs=st.integers(1, 5),
    bias=st.booleans(),
    transposed=st.booleans(),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
@settings()
def test_linear_matches_loop_reference(lead, features, outputs, bias, transposed, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(tuple(lead) + (features,)).astype(dtype)
    w = (rng.standard_normal((features, outputs)).T if transposed else rng.standard_normal((outputs, features)))
    w = w.astype(dtype)
    b = rng.standard_normal(outputs).astype(dtype) if bias else None
    out = F.linear(nc.tensor(x), nc.tensor(w), None if b is None else nc.tensor(b))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert out.shape == tuple(lead) + (outputs,) and out.dtype == dtype
    np.testing.assert_allclose(out.numpy(), ref_linear(x, w, b), rtol=tol, atol=tol)


@pytest.mark.parametrize("x_shape,bias", [((3, 4), True), ((2, 3, 4), False), ((4,), True)])
def test_linear_gradcheck(x_shape, bias):
    rng = np.random.default_rng(0)
    x = nc.tensor(rng.standard_normal(x_shape), requires_grad=True)
    w = nc.tensor(rng.standard_normal((5, 4)), requires_grad=True)
    inputs = [x, w] + ([nc.tensor(rng.standard_normal(5), requires_grad=True)] if bias else [])
    assert nc.gradcheck(lambda *t: F.linear(*t), inputs)


def test_linear_bad_input_errors():
    with pytest.raises(ValueError, match=r"last dim must equal weight.shape\[1\]=4"):
        F.linear(nc.zeros((2, 3)), nc.zeros((5, 4)))
    with pytest.raises(ValueError, match="weight must be 2-D"):
        F.linear(nc.zeros((2, 4)), nc.zeros((4,)))
    with pytest.raises(ValueError, match=r"bias must have shape \(5,\)"):
        F.linear(nc.zeros((2, 4)), nc.zeros((5, 4)), nc.zeros(4))
    with pytest.raises(TypeError, match="share a dtype"):
        F.linear(nc.zeros((2, 4), dtype=nc.float32), nc.zeros((5, 4), dtype=nc.float64))
