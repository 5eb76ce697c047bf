"""asv: what a fresh process pays before work starts: ``import numbaconv``, and import + build + the first
training step at batch 32 (kernels from numba's on-disk cache, which setup_cache fills)."""
import os

from . import workload

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))


def timeraw_import():
    return "import numbaconv"


class FirstStep:
    params = (workload.model_names(), [1, 2])
    param_names = ["model", "threads"]
    repeat = (1, 5, 30.0)
    timeout = 600

    def setup_cache(self):
        workload.warm_kernels()

    def setup(self, model, threads):
        workload.batch_size(model, "default")  # skips commits without recipes

    def timeraw_first_step(self, model, threads):
        # workload imported as a top-level module: the bench/ package's parent would shadow the installed numbaconv
        setup = f"import sys; sys.path.insert(0, {BENCH_DIR!r})"
        code = f"import workload; workload.set_threads({threads}); workload.training_step({model!r}, 32)()"
        return code, setup
