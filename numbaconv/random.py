"""Random generators: the package's default one, seeded by manual_seed, and explicit ones (torch.Generator).

Every draw numbaconv makes without an explicit generator (init, dropout, rand/randn, shuffling) comes from
``generator()``: the default Generator's numpy generator, or, inside a DataLoader worker thread, that worker's own
(seeded from the epoch's base seed plus the worker id, as torch seeds its worker processes).
"""
import threading

import numpy as np


class Generator:
    """A seedable random generator (torch.Generator); ``manual_seed`` returns it, so calls chain."""

    def __init__(self, device="cpu"):
        self.device = device
        self.seed()

    def manual_seed(self, seed):
        """Restart from ``seed`` (an int >= 0)."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"manual_seed: seed must be an integer >= 0, got {seed!r}")
        self._initial_seed = int(seed)
        self.numpy = np.random.default_rng(self._initial_seed)
        return self

    def seed(self):
        """Reseed from fresh OS entropy and return the new seed (torch.Generator.seed)."""
        self.manual_seed(int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1)))
        return self._initial_seed

    def initial_seed(self):
        return self._initial_seed

    def get_state(self):
        """The state as a JSON-able dict (torch.Generator.get_state)."""
        return self.numpy.bit_generator.state

    def set_state(self, state):
        self.numpy.bit_generator.state = state
        return self

    def __repr__(self):
        return f"Generator(initial_seed={self._initial_seed})"


default_generator = Generator()
_worker = threading.local()


def generator():
    """The numpy Generator that draws without an explicit one come from (the worker's, in a loader worker)."""
    return getattr(_worker, "generator", default_generator).numpy


def current():
    """The numbaconv Generator ``generator()`` draws from."""
    return getattr(_worker, "generator", default_generator)


def use_in_this_thread(gen):
    """Make ``gen`` this thread's default generator (DataLoader worker threads); None restores the package's."""
    if gen is None:
        _worker.__dict__.pop("generator", None)
    else:
        _worker.generator = gen


def numpy_generator(gen):
    """The numpy Generator behind ``gen``: a numbaconv Generator, a numpy Generator, or None (the default)."""
    if gen is None:
        return generator()
    if isinstance(gen, Generator):
        return gen.numpy
    if isinstance(gen, np.random.Generator):
        return gen
    raise TypeError(f"generator must be a numbaconv.Generator, got {type(gen).__name__}")


def manual_seed(seed):
    """Seed every random draw numbaconv makes (torch.manual_seed); returns the default Generator."""
    return current().manual_seed(seed)


def seed():
    """Reseed the default generator from OS entropy and return the seed (torch.seed)."""
    return current().seed()


def initial_seed():
    """The seed the default generator was last seeded with (torch.initial_seed)."""
    return current().initial_seed()


def get_rng_state():
    """The default generator's state as a JSON-able dict (torch.get_rng_state)."""
    return current().get_state()


def set_rng_state(state):
    """Restore a state from get_rng_state (torch.set_rng_state)."""
    current().set_state(state)
