"""Atomic file writes and the clean-up of the temporaries a killed process leaves behind.

Every file is written as a temporary beside its target, flushed and fsynced, then renamed over it with
os.replace, so readers see the old file or the new one, never half of one. One rule for modes: files and
folders are created as ``open()`` and ``os.mkdir`` create them (0666 / 0777 less the umask), temporaries
included. A temporary's name carries the id of the process writing it (``.NAME.PID.TOKEN.tmp``,
``.download-PID-TOKEN.part``, ``.extract-PID-TOKEN``); ``remove_stale`` deletes those whose process is gone
(kill -9, power loss) and leaves a running writer's alone. The ids are this machine's: on a folder shared
between machines a stale temporary of another machine is only removed once no local process has its id.
"""
import os
import re
import secrets
import shutil

_STALE = re.compile(r"^\.(?:.+\.|download-|extract-)(\d+)[.-][0-9a-f]{16}(?:\.tmp|\.part)?$")


def temporary_path(path, prefix=None, suffix=".tmp"):
    """A fresh temporary name in ``path``'s folder: ``.BASENAME.PID.TOKEN.tmp``, or ``PREFIX-PID-TOKEN SUFFIX``."""
    folder, name = os.path.split(os.path.abspath(path))
    token = secrets.token_hex(8)
    if prefix is None:
        return os.path.join(folder, f".{name}.{os.getpid()}.{token}{suffix}")
    return os.path.join(folder, f"{prefix}-{os.getpid()}-{token}{suffix}")


def write_atomically(path, write, mode="wb"):
    """Call ``write(handle)`` on a new temporary beside ``path``, fsync it and os.replace it onto ``path``.

    On any failure the temporary is removed and ``path`` is untouched; an OSError names ``path``, not the
    temporary.
    """
    path = os.fspath(path)
    temporary = temporary_path(path)
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        with os.fdopen(descriptor, mode, **({} if "b" in mode else {"newline": ""})) as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as error:
        _remove(temporary)
        raise OSError(error.errno, f"cannot write {path!r}: {error.strerror or error}", path) from None
    except BaseException:
        _remove(temporary)
        raise
    fsync_folder(os.path.dirname(os.path.abspath(path)))


def make_temporary_dir(folder, prefix):
    """A new empty folder ``folder/PREFIX-PID-TOKEN`` (the umask applies)."""
    path = temporary_path(os.path.join(folder, "x"), prefix=prefix, suffix="")
    os.mkdir(path)
    return path


def remove_stale(folder):
    """Delete the temporaries in ``folder`` whose writing process no longer runs; returns their names."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    removed = []
    for name in names:
        match = _STALE.match(name)
        if match is None or _running(int(match.group(1))):
            continue
        path = os.path.join(folder, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            _remove(path)
        removed.append(name)
    return removed


def _running(pid):
    """Whether process ``pid`` exists here (signal 0 probes without signalling; on Windows it would kill)."""
    if pid == os.getpid() or os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):
        return True
    return True


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def fsync_folder(folder):
    """Make a rename in ``folder`` durable (POSIX); a no-op where folders cannot be opened."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
