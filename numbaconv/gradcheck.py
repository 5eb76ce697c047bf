"""Numerical gradient check by central differences in float64 (torch.autograd.gradcheck)."""
import numpy as np

from .autograd import no_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Analytical and numerical gradients disagree."""


def _scalar_output(fn, inputs, projection):
    out = fn(*inputs)
    return (out * projection).sum() if projection is not None else out.sum()


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
    projection = Tensor(rng.standard_normal(out.shape)) if out.numel() != 1 else None
    if projection is not None and out.device != "cpu":
        projection = projection.to(out.device)
    for i in checked:
        inputs[i].grad = None
    _scalar_output(fn, inputs, projection).backward()
    worst = None
    for i in checked:
        x = inputs[i]
        analytical = np.zeros(x.shape) if x.grad is None else np.array(x.grad, dtype=np.float64)
        numerical = np.zeros(x.shape)
        if x.device != "cpu" or not x.data.flags.c_contiguous:
            raise ValueError(f"gradcheck: input {i} must be a contiguous cpu tensor")
        flat = x.data.reshape(-1)
        with no_grad():
            for j in range(flat.size):
                original = flat[j]
                flat[j] = original + eps
                plus = _scalar_output(fn, inputs, projection).item()
                flat[j] = original - eps
                minus = _scalar_output(fn, inputs, projection).item()
                flat[j] = original
                numerical.reshape(-1)[j] = (plus - minus) / (2 * eps)
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
