"""Differentiable ops: one Function per op; each checks its arguments and calls its device's backend."""
