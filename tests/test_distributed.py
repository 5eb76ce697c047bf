"""The distributed pieces that need no MPI: lazy import, errors without a group, DistributedSampler's shards,
post-accumulate-grad hooks, SyncBatchNorm as plain batch norm alone, convert_sync_batchnorm, the CLI's help.
(The 2-rank behaviour is in test_distributed_mpi.py.)"""
import io
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import numbaconv as nc
from numbaconv import autograd, cli, distributed, nn
from numbaconv.data.distributed_sampler import DistributedSampler
from numbaconv.nn.parallel import DistributedDataParallel
from numbaconv.nn.sync_batchnorm import SyncBatchNorm
from numbaconv.progress import ProgressBar


def test_importing_numbaconv_and_its_distributed_parts_never_imports_mpi4py():
    code = ("import sys, numbaconv, numbaconv.distributed, numbaconv.nn.parallel, numbaconv.nn.sync_batchnorm, "
            "numbaconv.training, numbaconv.cli, numbaconv.data.distributed_sampler; "
            "print('mpi4py' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_without_a_process_group_the_calls_say_to_initialize_one():
    assert not distributed.is_initialized()
    for call in (distributed.get_rank, distributed.get_world_size, distributed.barrier,
                 distributed.destroy_process_group, lambda: distributed.all_reduce(nc.ones(2))):
        with pytest.raises(RuntimeError, match="init_process_group"):
            call()
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedDataParallel(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="give num_replicas"):
        DistributedSampler(range(4))


def test_init_process_group_refuses_other_backends():
    with pytest.raises(ValueError, match="backend must be 'mpi'.*'gloo'"):
        distributed.init_process_group("gloo")
    with pytest.raises(ValueError, match="init_method"):
        distributed.init_process_group("mpi", init_method="tcp://10.0.0.1:23456")


def test_the_launch_environment_gives_size_rank_and_local_size(monkeypatch):
    for name in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_RANK", "PMI_RANK",
                 "OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"):
        monkeypatch.delenv(name, raising=False)
    assert (distributed.launch_world_size(), distributed.launch_rank(), distributed.is_mpi_launch()) == (1, 0, False)
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "4")
    monkeypatch.setenv("OMPI_COMM_WORLD_RANK", "3")
    monkeypatch.setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "2")
    assert (distributed.launch_world_size(), distributed.launch_rank(), distributed.launch_local_size()) == (4, 3, 2)
    assert distributed.is_mpi_launch()


@given(n=st.integers(0, 40), replicas=st.integers(1, 6), seed=st.integers(0, 10), drop_last=st.booleans(),
       shuffle=st.booleans())
def test_sampler_shards_cover_the_data_once_per_epoch(n, replicas, seed, drop_last, shuffle):
    samplers = [DistributedSampler(range(n), replicas, r, shuffle=shuffle, seed=seed, drop_last=drop_last)
                for r in range(replicas)]
    for epoch in (0, 1):
        for sampler in samplers:
            sampler.set_epoch(epoch)
        shards = [list(s) for s in samplers]
        assert len({len(shard) for shard in shards}) == 1 and len(shards[0]) == len(samplers[0])
        together = [i for shard in shards for i in shard]
        if n % replicas == 0:
            assert sorted(together) == list(range(n))
        elif drop_last:
            assert len(together) == len(set(together)) == n - n % replicas
        else:
            assert set(together) == set(range(n)) and len(together) == -(-n // replicas) * replicas
    if shuffle and n >= 8:
        orders = []
        for epoch in (0, 1):
            samplers[0].set_epoch(epoch)
            orders.append(list(samplers[0]))
        samplers[0].set_epoch(0)
        assert list(samplers[0]) == orders[0]  # the same epoch, the same shard (every rank draws alike)
        assert orders[0] != orders[1] or replicas == n


def test_sampler_refuses_bad_arguments():
    with pytest.raises(ValueError, match="rank must be an integer in \\[0, 2\\), got 2"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="num_replicas must be a positive integer, got 0"):
        DistributedSampler(range(4), num_replicas=0, rank=0)
    with pytest.raises(ValueError, match="epoch must be an integer >= 0"):
        DistributedSampler(range(4), 1, 0).set_epoch(-1)


def test_post_accumulate_grad_hooks_run_once_with_the_final_grad_then_queued_callbacks():
    w1 = nc.tensor(np.array([1.0, 2.0]), requires_grad=True)
    w2 = nc.tensor(np.array([3.0, -1.0]), requires_grad=True)
    x = nc.tensor(np.array([0.5, 4.0]))
    events = []

    def hook(name):
        def record(tensor):
            events.append((name, tensor.grad.numpy().tolist()))
            if name == "w1":
                autograd.queue_callback(lambda: events.append("end"))
        return record

    handles = [w1.register_post_accumulate_grad_hook(hook("w1")),
               w2.register_post_accumulate_grad_hook(hook("w2"))]
    hidden = x * w1 + w1  # w1 feeds two nodes: its hook waits for both
    loss = (hidden * w2).sum()
    loss.backward()
    # w2 is used last in forward, so its gradient is final first; then w1 (x + 1) * w2; then the callback
    assert events == [("w2", [1.5, 10.0]), ("w1", [4.5, -5.0]), "end"]
    events.clear()
    ((x * w1 + w1) * w2).sum().backward()  # hooks see the accumulated .grad
    assert events == [("w2", [3.0, 20.0]), ("w1", [9.0, -10.0]), "end"]
    events.clear()
    autograd.grad((w1 * w2).sum(), [w1])  # grad() leaves .grad alone and runs no hook
    for handle in handles:
        handle.remove()
    (w1 * w2).sum().backward()
    assert events == []


def test_hook_registration_and_queue_callback_errors():
    leaf = nc.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(RuntimeError, match="only leaf tensors"):
        (leaf * 2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="does not require grad"):
        nc.tensor(np.ones(2)).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(TypeError, match="must be callable"):
        leaf.register_post_accumulate_grad_hook(3)
    with pytest.raises(RuntimeError, match="only a hook running inside backward"):
        autograd.queue_callback(lambda: None)


def bn_model():
    return nn.Sequential(nn.Conv2d(3, 4, 3, dtype=np.float64), nn.BatchNorm2d(4, momentum=None, dtype=np.float64),
                         nn.ReLU(), nn.Sequential(nn.Conv2d(4, 2, 1, dtype=np.float64),
                                                  nn.BatchNorm2d(2, affine=False, dtype=np.float64)))


def test_convert_sync_batchnorm_keeps_order_parameters_buffers_and_mode():
    model = bn_model()
    model[1].eval()
    before = [type(m) for m in model.modules()]
    weight, mean = model[1].weight, model[1].running_mean
    converted = SyncBatchNorm.convert_sync_batchnorm(model)
    assert converted is model
    kinds = [type(m) for m in model.modules()]
    assert kinds == [SyncBatchNorm if k is nn.BatchNorm2d else k for k in before]
    assert model[1].weight is weight and model[1].running_mean is mean and not model[1].training
    assert model[3][1].weight is None and model[3][1].momentum == 0.1 and model[1].momentum is None
    alone = SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm2d(3))
    assert type(alone) is SyncBatchNorm
    with pytest.raises(ValueError, match="only the default group"):
        SyncBatchNorm.convert_sync_batchnorm(model, process_group="world")


def test_sync_batchnorm_without_a_group_is_batchnorm2d():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 5, 5))
    plain = bn_model()
    sync = SyncBatchNorm.convert_sync_batchnorm(bn_model())
    sync.load_state_dict(plain.state_dict())
    outputs = []
    for model in (plain, sync):
        inp = nc.tensor(x, requires_grad=True)
        out = model(inp)
        (out * out).sum().backward()
        outputs.append((out.detach().numpy(), inp.grad.numpy(), model.state_dict()))
    np.testing.assert_array_equal(outputs[0][0], outputs[1][0])
    np.testing.assert_array_equal(outputs[0][1], outputs[1][1])
    for name, value in outputs[0][2].items():
        np.testing.assert_array_equal(outputs[1][2][name], value, err_msg=name)


def test_sync_batchnorm_takes_any_batch_norm_input_and_converts_batchnorm1d():
    rng = np.random.default_rng(1)
    plain = nn.Sequential(nn.Linear(3, 4, dtype=np.float64), nn.BatchNorm1d(4, dtype=np.float64))
    sync = SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(nn.Linear(3, 4, dtype=np.float64),
                                                              nn.BatchNorm1d(4, dtype=np.float64)))
    assert type(sync[1]) is SyncBatchNorm
    sync.load_state_dict(plain.state_dict())
    x = rng.standard_normal((6, 3))
    np.testing.assert_array_equal(sync(nc.tensor(x)).detach().numpy(), plain(nc.tensor(x)).detach().numpy())
    np.testing.assert_array_equal(sync[1].running_var.numpy(), plain[1].running_var.numpy())
    three_d = rng.standard_normal((2, 4, 5))
    np.testing.assert_array_equal(sync[1](nc.tensor(three_d)).detach().numpy(),
                                  plain[1](nc.tensor(three_d)).detach().numpy())
    with pytest.raises(ValueError, match="at least 2 dims"):
        sync[1](nc.tensor(np.ones(4)))


def test_sync_batch_norm_op_needs_a_process_group():
    from numbaconv.ops.normalization import sync_batch_norm

    with pytest.raises(RuntimeError, match="init_process_group"):
        sync_batch_norm(nc.tensor(np.ones((2, 3))), None, None)
    with pytest.raises(ValueError, match="sync_batch_norm: expected an \\(N, C, \\*\\) input"):
        sync_batch_norm(nc.tensor(np.ones(3)), None, None)


def test_a_disabled_progress_bar_writes_nothing():
    stream = io.StringIO()
    bar = ProgressBar(3, "epoch", stream=stream, interval=0.0, disable=True)
    bar.update(3, loss=1.0)
    bar.close()
    assert stream.getvalue() == ""


def test_train_help_shows_the_mpiexec_and_hostfile_forms_and_the_lr_rule(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    text = capsys.readouterr().out
    assert "mpiexec -n 2 numbaconv train" in text and "--hostfile hosts" in text
    assert "global batch" in text and "linear scaling rule" in text


def test_sampler_feeds_a_dataloader_its_shard():
    from numbaconv.utils.data import DataLoader, Sampler, TensorDataset

    dataset = TensorDataset(nc.tensor(np.arange(10.0)))
    sampler = DistributedSampler(dataset, num_replicas=2, rank=1, shuffle=False)
    assert isinstance(sampler, Sampler)
    (batch,), = [b for b in DataLoader(dataset, batch_size=5, sampler=sampler)]
    assert batch.numpy().tolist() == [1.0, 3.0, 5.0, 7.0, 9.0]
