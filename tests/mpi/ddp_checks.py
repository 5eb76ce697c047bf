"""Run under `mpiexec -n 2`: data-parallel results vs one process on the global batch (test_distributed_mpi.py).

Every rank builds the same models and global batches from fixed seeds; rank 0 also computes the one-process
reference locally. Rank 0 prints one line ``RESULT {"name": ..., ...}`` per check; the test asserts on them.
"""
import gc
import json
import os
import sys
import tempfile
import types

import numpy as np

import numbaconv as nc
from numbaconv import autograd, nn, optim, training
from numbaconv import distributed as dist
from numbaconv.data.distributed_sampler import DistributedSampler
from numbaconv.nn.parallel import DistributedDataParallel
from numbaconv.nn.sync_batchnorm import SyncBatchNorm

GLOBAL_BATCH = 8


def report(name, **values):
    if dist.get_rank() == 0:
        print("RESULT " + json.dumps({"name": name, **values}), flush=True)


def bn_free_net():
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, dtype=np.float64), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 6, 3, padding=1, dtype=np.float64), nn.ReLU(), nn.Flatten(),
                         nn.Linear(6 * 4 * 4, 5, dtype=np.float64))


def bn_net():
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, dtype=np.float64), nn.BatchNorm2d(4, dtype=np.float64),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3, padding=1, dtype=np.float64),
                         nn.BatchNorm2d(6, momentum=None, dtype=np.float64), nn.ReLU(), nn.Flatten(),
                         nn.Linear(6 * 4 * 4, 5, dtype=np.float64))


def bn1d_net():
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 8, dtype=np.float64), nn.BatchNorm1d(8, dtype=np.float64),
                         nn.ReLU(), nn.Linear(8, 5, dtype=np.float64))


class Branches(nn.Module):
    """A trunk every rank uses, a branch only some ranks use, and a layer no rank uses."""

    def __init__(self):
        super().__init__()
        self.trunk = nn.Linear(4, 3, dtype=np.float64)
        self.branch = nn.Linear(3, 3, dtype=np.float64)
        self.never = nn.Linear(3, 3, dtype=np.float64)

    def forward(self, x, use_branch):
        hidden = self.trunk(x)
        return self.branch(hidden) if use_branch else hidden


def batches(count, seed=1):
    """``count`` global batches (images, labels), the same on every rank."""
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((GLOBAL_BATCH, 3, 8, 8)), rng.integers(0, 5, GLOBAL_BATCH)) for _ in range(count)]


def shard(images, labels):
    """This rank's half of a global batch."""
    rank, size = dist.get_rank(), dist.get_world_size()
    part = slice(rank * GLOBAL_BATCH // size, (rank + 1) * GLOBAL_BATCH // size)
    return nc.tensor(images[part]), nc.tensor(labels[part])


def pair(build, sync_bn=False):
    """A reference model and a DDP copy of it with the same starting weights (from rank 0)."""
    nc.manual_seed(dist.get_rank())  # different on purpose: DDP must broadcast rank 0's weights
    reference = build()
    replica = build()
    replica.load_state_dict(reference.state_dict())
    if sync_bn:
        replica = SyncBatchNorm.convert_sync_batchnorm(replica)
    ddp = DistributedDataParallel(replica, bucket_cap_mb=0.0005)
    for tensor in list(reference.parameters()) + list(reference.buffers()):
        dist.broadcast(tensor)
    return reference, ddp


def loss_of(model, images, labels):
    return nc.cross_entropy(model(images), labels)


def max_difference(reference, ddp, what="grad"):
    worst = 0.0
    pairs = zip(reference.parameters(), ddp.module.parameters())
    if what == "grad":
        for a, b in pairs:
            worst = max(worst, float(np.abs(a.grad.numpy() - b.grad.numpy()).max()))
    else:
        for (_, a), (_, b) in zip(reference._state_items(), ddp.module._state_items()):
            worst = max(worst, float(np.abs(a.detach().numpy() - b.detach().numpy()).max()))
    return worst


def averaged_grads(model):
    """Every parameter's .grad averaged over the ranks, None counting as zeros (what DDP should give)."""
    result = []
    for param in model.parameters():
        grad = nc.tensor(np.zeros(param.shape) if param.grad is None else param.grad.numpy().copy())
        dist.all_reduce(grad, op=dist.ReduceOp.AVG)
        result.append(grad.numpy())
    return result


def grad_error(ddp, expected, skip=()):
    """The largest difference of a .grad from ``expected`` on any rank (the parameters named ``skip*`` left out)."""
    local = max(float(np.abs(p.grad.numpy() - e).max()) for (name, p), e in
                zip(ddp.module.named_parameters(), expected) if not name.startswith(skip))
    worst = nc.tensor(np.array([local]))
    dist.all_reduce(worst, op=dist.ReduceOp.MAX)
    return float(worst.item())


def check_unused_parameters():
    """A branch used on rank 0 alone gets the average with rank 1's zeros; the layer no rank uses keeps its .grad
    (None, or a stale one) and so does not move in an SGD step with momentum and weight decay."""
    nc.manual_seed(dist.get_rank())
    model, reference = Branches(), Branches()
    ddp = DistributedDataParallel(model, bucket_cap_mb=0.0001)
    reference.load_state_dict(model.state_dict())
    x = nc.tensor(np.random.default_rng(dist.get_rank()).standard_normal((5, 4)))
    use_branch = dist.get_rank() == 0
    reference(x, use_branch).sum().backward()
    expected = averaged_grads(reference)
    stale = np.full((3, 3), 7.0)
    model.never.weight.grad = nc.tensor(stale.copy())
    ddp(x, use_branch).sum().backward()
    untouched = model.never.bias.grad is None and np.array_equal(model.never.weight.grad.numpy(), stale)
    error = grad_error(ddp, expected, skip=("never",))
    opt = optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9, weight_decay=0.1)
    opt.zero_grad()
    before = model.never.weight.detach().numpy().copy()
    ddp(x, use_branch).sum().backward()
    opt.step()
    report("unused", grad_error=error, never_untouched=bool(untouched), never_grad_none=model.never.weight.grad is None,
           never_moved=float(np.abs(model.never.weight.detach().numpy() - before).max()))


def check_no_sync_then_unused():
    """A branch used only in the no_sync() backwards is reduced by the next synchronised one, which uses it on no
    rank: its accumulated gradients are averaged, not left as each rank's own."""
    nc.manual_seed(0)
    model, reference = Branches(), Branches()
    ddp = DistributedDataParallel(model, bucket_cap_mb=0.0001)
    reference.load_state_dict(model.state_dict())
    rng = np.random.default_rng(10 + dist.get_rank())
    first, second = nc.tensor(rng.standard_normal((5, 4))), nc.tensor(rng.standard_normal((5, 4)))
    for net in (reference, ddp):
        if net is ddp:
            with ddp.no_sync():
                net(first, True).sum().backward()
        else:
            net(first, True).sum().backward()
        net(second, False).sum().backward()
    report("no_sync_unused", grad_error=grad_error(ddp, averaged_grads(reference), skip=("never",)))


def check_hooks_go_with_the_wrapper():
    model = bn_free_net()
    ddp = DistributedDataParallel(model)
    keys = {id(p) for p in model.parameters()}
    registered = keys <= set(autograd._leaf_hooks)
    del ddp
    gc.collect()
    report("hooks", registered=registered, left=len(keys & set(autograd._leaf_hooks)))


def check_resume_agreement():
    """A checkpoint only rank 0 finds, and checkpoints after different epochs, are refused on every rank."""
    world = training.World()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "checkpoint.npz")
        if world.rank == 0:
            open(path, "wb").close()
        messages = []
        for attempt in (lambda: training.resume_point(types.SimpleNamespace(resume=True), path, world),
                        lambda: training.check_same_epoch(world.rank + 1, path, world)):
            try:
                attempt()
                messages.append(None)
            except training.ConfigError as error:
                messages.append(f"{error.field}: {error.message}")
    refused = world.sum(*[message is not None for message in messages])
    report("resume_agreement", messages=messages, refused_on=refused)


def check_collectives():
    rank, size = dist.get_rank(), dist.get_world_size()
    ok = {}
    t = nc.tensor(np.arange(6, dtype=np.float64) + rank)
    dist.all_reduce(t)
    ok["sum"] = np.array_equal(t.numpy(), sum(np.arange(6.0) + r for r in range(size)))
    t = nc.tensor(np.full(3, float(rank)))
    dist.all_reduce(t, op=dist.ReduceOp.AVG)
    ok["avg"] = np.allclose(t.numpy(), (size - 1) / 2)
    t = nc.tensor(np.array([rank, -rank], dtype=np.int64))
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    ok["max_int"] = t.numpy().tolist() == [size - 1, 0]
    base = np.arange(12, dtype=np.float64).reshape(3, 4) * (rank + 1)
    dist.all_reduce(nc.Tensor(base[:, 1]))  # a strided view: reduced through a copy, written back into base
    ok["strided"] = np.allclose(base[:, 1], sum(np.arange(12.0).reshape(3, 4)[:, 1] * (r + 1) for r in range(size)))
    ok["strided_rest_untouched"] = np.array_equal(base[:, 0], np.arange(0, 12.0, 4) * (rank + 1))
    t = nc.tensor(np.full(4, float(rank)))
    dist.broadcast(t, src=size - 1)
    ok["broadcast"] = np.all(t.numpy() == size - 1)
    parts = [nc.zeros(2, dtype=nc.float64) for _ in range(size)]
    dist.all_gather(parts, nc.tensor(np.array([rank, rank * 10.0])))
    ok["all_gather"] = all(p.numpy().tolist() == [r, r * 10.0] for r, p in enumerate(parts))
    out = nc.zeros(2 * size, dtype=nc.float64)
    dist.all_gather_into_tensor(out, nc.tensor(np.array([rank, rank + 0.5])))
    ok["all_gather_into_tensor"] = out.numpy().tolist() == [v for r in range(size) for v in (r, r + 0.5)]
    work = dist.all_reduce(nc.tensor(np.ones(2)), async_op=True)
    ok["async"] = work.wait() and work.is_completed()
    dist.barrier()
    report("collectives", ok={k: bool(v) for k, v in ok.items()}, world_size=size)


def check_gradients(name, build, sync_bn):
    reference, ddp = pair(build, sync_bn)
    (images, labels), = batches(1)
    loss_of(reference, nc.tensor(images), nc.tensor(labels)).backward()
    started = []
    finish = ddp._finish_reduction

    def record_then_finish():
        started.append(ddp._next_bucket)
        finish()

    ddp._finish_reduction = record_then_finish
    loss_of(ddp, *shard(images, labels)).backward()
    report(name, grad_error=max_difference(reference, ddp), buckets=len(ddp._buckets),
           started_during_backward=started[0], buffer_error=max_difference(reference, ddp, "state"))


def check_steps(name, build, sync_bn, steps=3):
    reference, ddp = pair(build, sync_bn)
    opt_ref = optim.SGD(reference.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    opt_ddp = optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    for images, labels in batches(steps):
        opt_ref.zero_grad()
        loss_of(reference, nc.tensor(images), nc.tensor(labels)).backward()
        opt_ref.step()
        opt_ddp.zero_grad()
        loss_of(ddp, *shard(images, labels)).backward()
        opt_ddp.step()
    report(name, weight_error=max_difference(reference, ddp, "state"), steps=steps)


def check_no_sync():
    reference, ddp = pair(bn_free_net)
    micro = batches(2, seed=5)
    for images, labels in micro:
        loss_of(reference, nc.tensor(images), nc.tensor(labels)).backward()
    with ddp.no_sync():
        loss_of(ddp, *shard(*micro[0])).backward()
    local_only = [p.grad.numpy().copy() for p in ddp.module.parameters()]
    loss_of(ddp, *shard(*micro[1])).backward()
    gathered = nc.zeros(2, dtype=nc.float64)
    dist.all_gather_into_tensor(gathered, nc.tensor(np.array([float(np.abs(local_only[0]).sum())])))
    report("no_sync", grad_error=max_difference(reference, ddp),
           differed_inside=bool(gathered.numpy()[0] != gathered.numpy()[1]))


def check_plain_bn_trains(steps=25):
    nc.manual_seed(0)
    ddp = DistributedDataParallel(bn_net())
    opt = optim.Adam(ddp.parameters(), lr=0.01)
    rng = np.random.default_rng(3)
    images = rng.standard_normal((GLOBAL_BATCH, 3, 8, 8))
    labels = rng.integers(0, 5, GLOBAL_BATCH)
    losses = []
    for _ in range(steps):
        loss = loss_of(ddp, *shard(images, labels))
        opt.zero_grad()
        loss.backward()
        opt.step()
        mean = nc.tensor(np.array([loss.item()]))
        dist.all_reduce(mean, op=dist.ReduceOp.AVG)
        losses.append(float(mean.item()))
    spread = 0.0
    for param in ddp.parameters():
        copy = nc.tensor(param.detach().numpy().copy())
        dist.broadcast(copy)
        spread = max(spread, float(np.abs(copy.numpy() - param.detach().numpy()).max()))
    report("plain_bn", first_loss=losses[0], last_loss=losses[-1], weight_spread=spread)


def check_sampler():
    size = dist.get_world_size()
    results = {}
    for n, drop_last in ((10, False), (11, False), (11, True)):
        sampler = DistributedSampler(range(n), shuffle=True, seed=4, drop_last=drop_last)
        epochs = []
        for epoch in (0, 1):
            sampler.set_epoch(epoch)
            mine = nc.tensor(sampler.indices())
            everyone = nc.zeros(len(sampler) * size, dtype=nc.int64)
            dist.all_gather_into_tensor(everyone, mine)
            epochs.append(sorted(everyone.numpy().tolist()))
        results[f"{n}_{drop_last}"] = {"epochs": epochs, "length": len(sampler)}
    report("sampler", results=results)


def main():
    dist.abort_on_exception()
    dist.init_process_group("mpi")
    check_collectives()
    check_gradients("grads_bn_free", bn_free_net, False)
    check_gradients("grads_sync_bn", bn_net, True)
    check_gradients("grads_sync_bn1d", bn1d_net, True)
    check_steps("steps_bn_free", bn_free_net, False)
    check_steps("steps_sync_bn", bn_net, True)
    check_steps("steps_sync_bn1d", bn1d_net, True)
    check_no_sync()
    check_unused_parameters()
    check_no_sync_then_unused()
    check_hooks_go_with_the_wrapper()
    check_resume_agreement()
    check_plain_bn_trains()
    check_sampler()
    dist.destroy_process_group()
    print(f"DONE initialized_after_destroy={dist.is_initialized()}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
