"""asv: inference latency (eval mode, no autograd) of every shipped model at batch 1 and 8."""
from . import workload


class Inference:
    params = (workload.model_names(), [1, 8], [1, 2])
    param_names = ["model", "batch", "threads"]
    # one call per sample (asv re-runs setup between calls); warm-up calls first, none under --quick
    warmup_time = 0.2
    timeout = 300

    def setup(self, model, batch, threads):
        workload.set_threads(threads)
        self.forward = workload.cached(workload.inference, model, batch)

    def time_forward(self, model, batch, threads):
        self.forward()
