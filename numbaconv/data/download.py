"""Fetch the official CIFAR-10 archive with an md5 check and extract it atomically (torchvision's download=True).

The partial download (``.download-PID-TOKEN.part``) and the extraction folder (``.extract-PID-TOKEN/``) of a
process that was killed are removed by the next download into the same root (numbaconv.atomic.remove_stale).
"""
import hashlib
import os
import posixpath
import shutil
import tarfile
import urllib.request
import zlib

from ..atomic import make_temporary_dir, remove_stale, temporary_path

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
MD5 = "c58f30108f718f92721af3b95e74349a"
FOLDER = "cifar-10-batches-py"
_CHUNK = 1 << 20


def default_root():
    """Where downloads go: ``$NUMBACONV_DATA`` if set, else ``~/.cache/numbaconv``."""
    return os.environ.get("NUMBACONV_DATA") or os.path.join(os.path.expanduser("~"), ".cache", "numbaconv")


def download_cifar10(root, url=None, md5=None, timeout=60):
    """Make sure ``root/cifar-10-batches-py`` exists: download ``url`` (md5-checked) and extract it atomically.

    ``url`` and ``md5`` default to the official archive (``URL``, ``MD5``).
    """
    url, md5 = url or URL, md5 or MD5
    os.makedirs(root, exist_ok=True)
    remove_stale(root)
    target = os.path.join(root, FOLDER)
    if os.path.isdir(target):
        return target
    archive = os.path.join(root, posixpath.basename(url.split("?")[0]) or "cifar-10-python.tar.gz")
    if not (os.path.isfile(archive) and file_md5(archive) == md5):
        fetch(url, archive, md5, timeout)
    extract(archive, root, FOLDER)
    return target


def file_md5(path):
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(url, path, md5, timeout=60):
    """Download ``url`` to ``path`` through a temporary file, keeping it only if its md5 is ``md5``."""
    folder = os.path.dirname(os.path.abspath(path))
    temporary = temporary_path(path, prefix=".download", suffix=".part")
    digest = hashlib.md5()
    try:
        with open(temporary, "xb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    for chunk in iter(lambda: response.read(_CHUNK), b""):
                        digest.update(chunk)
                        out.write(chunk)
            except OSError as error:
                raise OSError(f"could not download CIFAR-10 from {url}: {error}. Without internet access, "
                              f"extract the archive into {folder!r} yourself.") from error
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != md5:
            raise ValueError(f"downloaded {url} has md5 {digest.hexdigest()}, expected {md5}: the download is "
                             f"corrupt or was tampered with; nothing was kept. Try again.")
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def extract(archive, root, folder):
    """Extract ``folder`` from the tar ``archive`` into ``root``: into a temp dir beside it, then os.replace."""
    staging = make_temporary_dir(root, ".extract")
    try:
        with tarfile.open(archive) as tar:
            members = [m for m in tar.getmembers() if _safe_member(m, archive)]
            extra = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            tar.extractall(staging, members=members, **extra)
        source = os.path.join(staging, folder)
        if not os.path.isdir(source):
            raise ValueError(f"archive {archive!r} has no {folder}/ folder: not the CIFAR-10 python-version archive")
        target = os.path.join(root, folder)
        if not os.path.isdir(target):
            os.replace(source, target)
    except (tarfile.TarError, EOFError, zlib.error) as error:
        raise ValueError(f"archive {archive!r} is corrupt ({error}); delete it and download again") from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _safe_member(member, archive):
    """Only plain files and folders with relative names that stay inside the extraction folder."""
    name = member.name
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or os.path.isabs(name) or ".." in parts or ":" in parts[0]:
        raise ValueError(f"archive {archive!r} holds an unsafe path {name!r}; refusing to extract it")
    if not (member.isfile() or member.isdir()):
        raise ValueError(f"archive {archive!r} holds a link or special file {name!r}; refusing to extract it")
    return True
