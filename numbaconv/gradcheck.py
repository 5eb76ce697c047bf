"""Numerical gradient check by central differences in float64 (torch.autograd.gradcheck)."""
import numpy as np

from . import backends
from .grad_mode import no_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Analytical and numerical gradients disagree."""


def _scalar_output(fn, inputs, projection):
    out = fn(*inputs)
    return (out * projection).sum() if projection is not None else out.sum()


def _numerical_gradient(fn, inputs, i, projection, eps):
    """Central differences of the projected output in input ``i``, on a host copy of it (any device)."""
    x = inputs[i]
    xp = backends.namespace(x.device)
    host = backends.host_copy(x.array)
    flat = host.reshape(-1)
    numerical = np.zeros(flat.size)
    trial = list(inputs)
    with no_grad():
        for j in range(flat.size):
            original = flat[j]
            values = []
            for step in (eps, -eps):
                flat[j] = original + step
                trial[i] = Tensor(xp.asarray(host))
                values.append(_scalar_output(fn, trial, projection).item())
            flat[j] = original
            numerical[j] = (values[0] - values[1]) / (2 * eps)
    return numerical.reshape(x.shape)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Compare autograd's gradients of ``fn(*inputs)`` with central differences.

    Every floating input that requires grad must be float64. The output is projected on a fixed random
    tensor so every output element is checked. Returns True, or raises GradcheckError naming the worst
    element (input index, position, analytical and numerical values); a NaN on either side is a failure.
    """
    inputs = list(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype}; use float64 for a meaningful check")
    with no_grad():
        out = fn(*inputs)
    rng = np.random.default_rng(0)
    projection = None
    if out.numel() != 1:
        projection = Tensor(backends.namespace(out.device).asarray(rng.standard_normal(out.shape)))
    for i in checked:
        inputs[i].grad = None
    _scalar_output(fn, inputs, projection).backward()
    worst = None
    for i in checked:
        x = inputs[i]
        analytical = np.zeros(x.shape) if x.grad is None else np.array(x.grad, dtype=np.float64)
        numerical = _numerical_gradient(fn, inputs, i, projection, eps)
        error = np.abs(analytical - numerical) - (atol + rtol * np.abs(numerical))
        error = np.where(np.isnan(error), np.inf, error)
        if error.size and error.max() > 0:
            k = tuple(int(j) for j in np.unravel_index(int(np.argmax(error)), x.shape))
            candidate = (error[k], i, k, analytical[k], numerical[k])
            worst = candidate if worst is None or candidate[0] > worst[0] else worst
    if worst is not None:
        _, i, k, a, n = worst
        message = f"gradcheck: input {i} at {k}: analytical {a:.6g} vs numerical {n:.6g} (atol={atol}, rtol={rtol})"
        if raise_exception:
            raise GradcheckError(message)
        return False
    return True
