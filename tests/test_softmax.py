"""softmax/log_softmax keep their accuracy when the logits are huge (shift, exp, then subtract the log-sum)."""
import numpy as np
import pytest

import numbaconv as nc


@pytest.mark.parametrize("scale", [1e4, 1e5, 1e8])
def test_softmax_and_log_softmax_exact_at_huge_logits(scale):
    logits = np.array([scale, scale, scale - 1.0])
    expected_log = np.array([0.0, 0.0, -1.0]) - np.log(2.0 + np.exp(-1.0))
    x = nc.tensor(logits, dtype=nc.float64, requires_grad=True)
    np.testing.assert_allclose(nc.log_softmax(x, 0).detach().numpy(), expected_log, rtol=1e-12)
    np.testing.assert_allclose(nc.softmax(x, 0).detach().numpy(), np.exp(expected_log), rtol=1e-12)
    weights = nc.tensor([1.0, -2.0, 0.5], dtype=nc.float64)
    (nc.log_softmax(x, 0) * weights).sum().backward()
    expected_grad = weights.numpy() - np.exp(expected_log) * weights.numpy().sum()
    np.testing.assert_allclose(x.grad.numpy(), expected_grad, rtol=1e-10)
