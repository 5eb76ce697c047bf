"""asv: the loss after a fixed number of training steps on fixed data and a fixed seed. It should not move
from commit to commit beyond float32 rounding: a change here with a speed-up means the maths changed too."""
from . import workload

STEPS = 5
BATCH = 32


class LossAfterSteps:
    params = (workload.model_names(), [1, 2])
    param_names = ["model", "threads"]
    unit = "cross-entropy"
    timeout = 300

    def setup(self, model, threads):
        workload.set_threads(threads)
        self.step = workload.training_step(model, BATCH)

    def track_loss(self, model, threads):
        for _ in range(STEPS):
            loss = self.step()
        return loss.item()
