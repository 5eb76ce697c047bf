"""The package's random generator, seedable with manual_seed (torch.manual_seed)."""
import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed):
    """Seed every random draw numbaconv makes (init, dropout, shuffling without an explicit seed)."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def generator():
    """The current numpy Generator."""
    return _generator


def get_rng_state():
    """The generator's state as a JSON-able dict (torch.get_rng_state)."""
    return _generator.bit_generator.state


def set_rng_state(state):
    """Restore a state from get_rng_state (torch.set_rng_state)."""
    _generator.bit_generator.state = state
