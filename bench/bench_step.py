"""asv: one full training step of every shipped model (bench/workload.py) at its recipe's batch and at 32."""
from . import workload


class TrainStep:
    params = (workload.model_names(), ["default", "32"], [1, 2])
    param_names = ["model", "batch", "threads"]
    # default_net's step at batch 512 takes seconds: one call per sample, few samples, a long timeout; one
    # untimed warm-up call (it compiles or loads the kernels), none under --quick.
    number = 1
    repeat = (1, 5, 20.0)
    warmup_time = 0.001
    timeout = 600

    def setup(self, model, batch, threads):
        workload.set_threads(threads)
        self.step = workload.cached(workload.training_step, model, workload.batch_size(model, batch))

    def time_step(self, model, batch, threads):
        self.step()
