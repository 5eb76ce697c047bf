"""asv: peak resident memory of a process that builds each shipped model and runs two training steps at its
recipe's batch (the second step shows whether the first step's graph and scratch are freed)."""
from . import workload


class TrainStepMemory:
    params = (workload.model_names(), [1, 2])
    param_names = ["model", "threads"]
    timeout = 600

    def setup_cache(self):
        workload.warm_kernels()

    def setup(self, model, threads):
        workload.set_threads(threads)
        self.step = workload.training_step(model, workload.batch_size(model, "default"))

    def peakmem_step(self, model, threads):
        self.step()
        self.step()
