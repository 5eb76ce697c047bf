"""Run under `mpiexec -n 2 ... DATA OUT`: fit's Lookahead average starts from the weights DDP broadcast from rank 0,
though each rank built different ones (test_distributed_mpi.py). Stops before the first epoch trains; rank 0 prints
``RESULT {"spread": ..., "tensors": ...}``."""
import functools
import json
import sys

import numpy as np

import numbaconv as nc
from numbaconv import data, models, training
from numbaconv import distributed as dist


class Stop(Exception):
    pass


def perturbed(build):
    """``build`` whose weights differ by rank (what DDP's broadcast must even out)."""
    def build_for_this_rank(name):
        model = build(name)
        for param in model.parameters():
            param.array[...] += dist.get_rank()
        return model
    return build_for_this_rank


def main(data_dir, out):
    dist.abort_on_exception()
    dist.init_process_group("mpi")
    data.CIFAR10 = functools.partial(data.CIFAR10, records_per_batch=None)
    models.build = perturbed(models.build)
    slow = []

    def first_epoch(config, epoch, trainer, train_set, test_loader, optimizer, schedule, log, world, steps, hook):
        slow.extend(hook.lookahead.slow)
        raise Stop

    training._train_epoch = first_epoch
    config = training.TrainConfig(model="keras_net", optimizer="sgd", lookahead=True, epochs=1, batch_size=16,
                                  data_dir=data_dir, out=out, augment=False)
    try:
        training.fit(config, log=lambda *args: None)
    except Stop:
        pass
    spread = 0.0
    for tensor in slow:
        rank0 = nc.tensor(tensor.numpy().copy())
        dist.broadcast(rank0)
        spread = max(spread, float(np.abs(rank0.numpy() - tensor.numpy()).max()))
    worst = nc.tensor(np.array([spread]))
    dist.all_reduce(worst, op=dist.ReduceOp.MAX)
    if dist.get_rank() == 0:
        print("RESULT " + json.dumps({"spread": float(worst.item()), "tensors": len(slow)}), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
