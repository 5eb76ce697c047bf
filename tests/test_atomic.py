"""numbaconv.atomic: temporaries carry their writer's process id; the next run removes those of dead processes."""
import os
import subprocess
import sys

from numbaconv.atomic import make_temporary_dir, remove_stale, temporary_path


def dead_pid():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_remove_stale_deletes_only_temporaries_of_dead_processes(tmp_path):
    pid = dead_pid()
    token = "0123456789abcdef"
    stale = [f".checkpoint.npz.{pid}.{token}.tmp", f".download-{pid}-{token}.part", f".metrics.csv.{pid}.{token}.tmp"]
    for name in stale:
        (tmp_path / name).write_bytes(b"partial")
    (tmp_path / f".extract-{pid}-{token}" / "cifar-10-batches-py").mkdir(parents=True)
    live = [os.path.basename(temporary_path(tmp_path / "checkpoint.npz"))]
    (tmp_path / live[0]).write_bytes(b"being written")
    live.append(os.path.basename(make_temporary_dir(tmp_path, ".extract")))
    keep = ["checkpoint.npz", ".hidden", f".notes.{pid}.tmp"]
    for name in keep:
        (tmp_path / name).write_bytes(b"mine")
    assert sorted(remove_stale(tmp_path)) == sorted(stale + [f".extract-{pid}-{token}"])
    assert sorted(os.listdir(tmp_path)) == sorted(keep + live)
