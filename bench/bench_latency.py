"""asv: inference latency (eval mode, no autograd) of every shipped model at batch 1 and 8."""
from . import workload


class Inference:
    params = (workload.model_names(), [1, 8], [1, 2])
    param_names = ["model", "batch", "threads"]
    timeout = 300

    def setup(self, model, batch, threads):
        workload.set_threads(threads)
        self.forward = workload.inference(model, batch)
        self.forward()

    def time_forward(self, model, batch, threads):
        self.forward()
