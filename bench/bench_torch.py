"""asv: PyTorch-CPU's training step of the two seed nets (bench/train_step.py's), beside bench_step's: a control
that moves with the machine, not with numbaconv. Skipped where torch is not installed (asv's per-commit
virtualenvs have no torch; ``--python=same`` uses it if the environment has it)."""
from . import workload

SEED_NETS = ["keras_net", "torch_net"]


class TorchTrainStep:
    params = (SEED_NETS, ["default", "32"], [1, 2])
    param_names = ["model", "batch", "threads"]
    number = 1
    repeat = (1, 10, 10.0)
    warmup_time = 0.001

    def setup(self, model, batch, threads):
        try:
            import torch
        except ImportError:
            raise NotImplementedError("torch is not installed") from None
        from .train_step import torch_step

        torch.set_num_threads(threads)
        self.step = workload.cached(torch_step, model, workload.batch_size(model, batch))

    def time_step(self, model, batch, threads):
        self.step()
