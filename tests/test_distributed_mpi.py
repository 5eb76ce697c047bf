"""Data-parallel training on 2 MPI ranks (`mpiexec -n 2` of tests/mpi/*.py) against one process on the global
batch, the sampler's shards, and faults ending the whole job. Skipped only where mpi4py or mpiexec is absent."""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

import pytest

from numbaconv import distributed

HERE = pathlib.Path(__file__).resolve().parent
PROGRAMS = HERE / "mpi"


def find_mpiexec():
    beside = pathlib.Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


MPIEXEC = find_mpiexec()
pytestmark = pytest.mark.skipif(not distributed.is_available() or MPIEXEC is None,
                                reason="needs mpi4py and mpiexec: pip install 'numbaconv[mpi]'")


def mpi_environment():
    """One numba thread per rank on the 2 CI cores; Open MPI refuses root without these two variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMPI_COMM_WORLD", "PMIX_", "PMI_"))}
    env.update(NUMBA_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return env


def mpirun(*args, ranks=2, timeout=240, **kwargs):
    command = [MPIEXEC, "-n", str(ranks), "--oversubscribe", sys.executable, *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=mpi_environment(), **kwargs)


@pytest.fixture(scope="module")
def checks():
    result = mpirun(PROGRAMS / "ddp_checks.py")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert result.stdout.count("DONE initialized_after_destroy=False") == 2, result.stdout[-2000:]
    found = {}
    for line in result.stdout.splitlines():
        if line.startswith("RESULT "):
            record = json.loads(line[len("RESULT "):])
            found[record.pop("name")] = record
    return found


def test_collectives_sum_average_max_broadcast_gather(checks):
    record = checks["collectives"]
    assert record["world_size"] == 2
    assert all(record["ok"].values()), record["ok"]


@pytest.mark.parametrize("name", ["grads_bn_free", "grads_sync_bn", "grads_sync_bn1d"])
def test_two_ranks_half_batch_give_the_whole_batch_gradient(checks, name):
    record = checks[name]
    assert record["grad_error"] < 1e-12
    assert record["buffer_error"] < 1e-12  # SyncBatchNorm's running statistics are the global batch's
    assert record["buckets"] > 1 and record["started_during_backward"] == record["buckets"]


@pytest.mark.parametrize("name", ["steps_bn_free", "steps_sync_bn", "steps_sync_bn1d"])
def test_k_steps_on_two_ranks_match_one_process_on_the_global_batch(checks, name):
    assert checks[name]["steps"] == 3
    assert checks[name]["weight_error"] < 1e-12


def test_no_sync_accumulates_locally_then_reduces_the_sum(checks):
    assert checks["no_sync"]["differed_inside"]
    assert checks["no_sync"]["grad_error"] < 1e-12


def test_a_parameter_no_rank_used_keeps_its_grad_and_one_rank_used_is_averaged(checks):
    record = checks["unused"]
    assert record["grad_error"] < 1e-12
    assert record["never_untouched"] and record["never_grad_none"] and record["never_moved"] == 0.0


def test_gradients_accumulated_in_no_sync_are_reduced_though_the_next_backward_skips_them(checks):
    assert checks["no_sync_unused"]["grad_error"] < 1e-12


def test_the_gradient_hooks_go_with_the_wrapper(checks):
    assert checks["hooks"] == {"registered": True, "left": 0}


def test_resume_refuses_ranks_that_disagree_on_the_checkpoint(checks):
    record = checks["resume_agreement"]
    assert record["refused_on"] == [2.0, 2.0]
    exists, epochs = record["messages"]
    assert exists.startswith("out: must be one folder every process sees to --resume") and "exists for some" in exists
    assert "after epoch 1 for some of the 2 processes and after 2 for others" in epochs


def test_plain_batchnorm_still_trains_and_keeps_the_ranks_equal(checks):
    record = checks["plain_bn"]
    assert record["last_loss"] < 0.2 * record["first_loss"]
    assert record["weight_spread"] == 0.0


def test_sampler_covers_every_index_once_per_epoch_across_ranks(checks):
    results = checks["sampler"]["results"]
    for epoch in results["10_False"]["epochs"]:
        assert epoch == list(range(10))
    for epoch in results["11_False"]["epochs"]:  # padded to 12: all 11 indices, one of them twice
        assert len(epoch) == 12 and sorted(set(epoch)) == list(range(11))
    for epoch in results["11_True"]["epochs"]:  # tail dropped: 10 distinct indices
        assert len(epoch) == 10 == len(set(epoch))
    assert results["11_False"]["length"] == 6 and results["11_True"]["length"] == 5


@pytest.mark.parametrize("mode", ["raise", "kill"])
def test_a_failing_rank_ends_the_whole_job(mode):
    start = time.monotonic()
    result = mpirun(PROGRAMS / "fault.py", mode, timeout=120)
    assert result.returncode != 0
    assert time.monotonic() - start < 60
    if mode == "raise":
        assert "rank 1: Traceback" in result.stderr and "rank 1 failed on purpose" in result.stderr
    else:
        assert "signal 9" in result.stderr or "Killed" in result.stderr, result.stderr[-2000:]


def test_cli_under_mpiexec_trains_writes_only_on_rank_0_and_resumes(tmp_path):
    from test_train_cli import TINY_CLI, read_metrics, write_tiny_cifar

    data = write_tiny_cifar(tmp_path / "data", train_count=64, test_count=30)
    out = tmp_path / "run"
    common = ["train", "--model", "keras_net", "--batch-size", "16", "--data-dir", data, "--out", out]
    first = mpirun("-c", TINY_CLI, *common, "--epochs", "1")
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-3000:]
    assert first.stdout.count("epoch 1: train loss") == 1  # rank 0 alone logs
    assert "2 processes x 8" in first.stdout
    assert sorted(os.listdir(out)) == ["checkpoint.npz", "curves.png", "metrics.csv"] or \
        sorted(os.listdir(out)) == ["checkpoint.npz", "metrics.csv"]
    (row,) = read_metrics(out)
    assert 0 <= float(row["test_acc"]) <= 1 and float(row["train_loss"]) > 0

    resumed = mpirun("-c", TINY_CLI, *common, "--epochs", "2", "--resume")
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-3000:]
    assert resumed.stdout.count("resumed from") == 1
    assert [int(r["epoch"]) for r in read_metrics(out)] == [1, 2]

    other_count = mpirun("-c", TINY_CLI, *common, "--epochs", "3", "--resume", ranks=1)
    assert other_count.returncode == 2
    assert "trained by 2 process(es) and this run has 1" in other_count.stderr


def test_fit_starts_every_ranks_lookahead_from_the_broadcast_weights(tmp_path):
    from test_train_cli import write_tiny_cifar

    data = write_tiny_cifar(tmp_path / "data", train_count=32, test_count=8)
    result = mpirun(PROGRAMS / "lookahead_check.py", data, tmp_path / "run", timeout=180)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    record = json.loads(line[len("RESULT "):])
    assert record["tensors"] > 0 and record["spread"] == 0.0


def test_a_config_error_on_one_rank_alone_is_printed_by_that_rank(tmp_path):
    code = ("import sys; from numbaconv import cli, distributed; from numbaconv.training import ConfigError\n"
            "def train(args):\n"
            "    distributed.init_process_group('mpi')\n"
            "    if distributed.get_rank() == 1:\n"
            "        raise ConfigError('data_dir', 'must hold CIFAR-10 on rank 1 too')\n"
            "    distributed.barrier()\n"
            "cli._train = train\n"
            "sys.exit(cli.main(['train']))\n")
    result = mpirun("-c", code, timeout=120)
    assert result.returncode != 0
    assert result.stderr.count("rank 1: error: --data-dir must hold CIFAR-10 on rank 1 too") == 1, result.stderr


def test_cli_refuses_a_global_batch_that_does_not_split_before_mpi_starts(tmp_path):
    result = mpirun("-m", "numbaconv", "train", "--batch-size", "15", "--data-dir", tmp_path, "--out",
                    tmp_path / "o", timeout=120)
    assert result.returncode != 0
    assert result.stderr.count("error: --batch-size must be a multiple of the 2 processes") == 1


def _rank_pid(tag, rank):
    """The pid of MPI rank ``rank`` among the processes whose environment carries ``tag`` (this test's)."""
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            variables = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if tag in variables and f"OMPI_COMM_WORLD_RANK={rank}".encode() in variables:
            return int(entry.name)
    return None


@pytest.mark.skipif(not pathlib.Path("/proc/self/environ").exists(), reason="finds the rank's pid through /proc")
def test_sigkill_of_a_rank_mid_training_ends_the_job_and_keeps_the_last_checkpoint(tmp_path):
    from test_train_cli import TINY_CLI, read_metrics, write_tiny_cifar

    from numbaconv.training import read_checkpoint

    data = write_tiny_cifar(tmp_path / "data", train_count=640, test_count=64)
    out = tmp_path / "run"
    tag = f"NUMBACONV_TEST_TAG={os.getpid()}-{time.monotonic_ns()}"
    env = dict(mpi_environment(), **dict([tag.split("=", 1)]))
    command = [MPIEXEC, "-n", "2", "--oversubscribe", sys.executable, "-c", TINY_CLI, "train", "--model", "keras_net",
               "--epochs", "4", "--batch-size", "32", "--data-dir", str(data), "--out", str(out)]
    job = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 240
        while not (out / "metrics.csv").exists() and time.monotonic() < deadline and job.poll() is None:
            time.sleep(0.05)
        victim = _rank_pid(tag.encode(), 1)
        assert victim is not None and job.poll() is None, "rank 1 should still be training after epoch 1"
        os.kill(victim, 9)
        killed_at = time.monotonic()
        _, stderr = job.communicate(timeout=60)
    finally:
        if job.poll() is None:
            job.kill()
    assert time.monotonic() - killed_at < 30
    assert job.returncode != 0 and "signal 9" in stderr, stderr[-2000:]
    state = read_checkpoint(str(out / "checkpoint.npz"), ("model_name", "model", "epoch"))
    assert 1 <= state["epoch"] < 4
    assert [int(r["epoch"]) for r in read_metrics(out)] == list(range(1, state["epoch"] + 1))
    resumed = mpirun(*command[5:], "--resume")  # removes any temporary the kill left, continues from the checkpoint
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert [int(r["epoch"]) for r in read_metrics(out)] == [1, 2, 3, 4]
