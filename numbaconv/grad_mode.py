"""Grad mode: whether operations record a graph now (torch.no_grad, torch.enable_grad, torch.is_grad_enabled).

Imports nothing of the package, so every layer can ask it.
"""
import contextlib
import threading

state = threading.local()  # .enabled; autograd.Function.apply reads it directly


def is_grad_enabled():
    """Whether operations record a graph now (torch.is_grad_enabled)."""
    return getattr(state, "enabled", True)


class _GradMode(contextlib.ContextDecorator):
    mode = True

    def __enter__(self):
        self._previous = is_grad_enabled()
        state.enabled = self.mode

    def __exit__(self, *exc):
        state.enabled = self._previous
        return False


class no_grad(_GradMode):
    """Context manager and decorator that stops graph recording (torch.no_grad)."""

    mode = False


class enable_grad(_GradMode):
    """Context manager and decorator that turns graph recording back on (torch.enable_grad)."""

    mode = True
