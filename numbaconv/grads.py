"""Gradient helpers shared by nn.Module and optim.Optimizer; imports nothing of the package."""


def zero_grads(params, set_to_none=True):
    """Clear each parameter's ``.grad``: to None, or to zeros in place (torch's Module/Optimizer.zero_grad)."""
    for param in params:
        if param.grad is None:
            continue
        if set_to_none:
            param.grad = None
        else:
            param.grad.array[...] = 0
