"""asv: forward + sum().backward() of every everyday op at a large and a small activation shape (bench/ops.py)."""
import numpy as np

from . import ops


class Op:
    params = (list(ops.OPS), list(ops.SHAPES), [1, 2])
    param_names = ["op", "shape", "threads"]
    timeout = 300

    def setup(self, name, shape, threads):
        ops.nc.set_num_threads(threads)
        kinds, fn = ops.OPS[name]
        arrays = ops.make_arrays(kinds, ops.SHAPES[shape], np.random.default_rng(0))
        try:
            self.step = ops.fwd_bwd_step(ops.numbaconv_lib(), fn, arrays)
            self.step()
        except (AttributeError, TypeError) as error:
            raise NotImplementedError(f"{name} is not available at this commit: {error}") from error

    def time_forward_backward(self, name, shape, threads):
        self.step()
