"""The current accelerator (torch.accelerator, PyTorch 2.6+): CUDA when a GPU or the CUDA simulator is usable."""
from . import cuda
from .devices import device


def is_available():
    """True when an accelerator (numbaconv's one: CUDA) can run kernels (torch.accelerator.is_available)."""
    return cuda.is_available()


def current_accelerator(check_available=False):
    """``device('cuda')`` when a GPU is usable, else None (torch.accelerator.current_accelerator).

    torch without ``check_available`` names the accelerator its build supports even when none is present;
    numbaconv answers None then too (``check_available`` is accepted), so ``current_accelerator() or cpu`` works.
    """
    return device("cuda") if cuda.is_available() else None


def device_count():
    """1 with a usable GPU, else 0 (torch.accelerator.device_count)."""
    return int(cuda.is_available())


def current_device_index():
    """0 (numbaconv drives one GPU) (torch.accelerator.current_device_index)."""
    return 0


def synchronize(device=None):
    """Wait for queued GPU work (torch.accelerator.synchronize); a no-op without a GPU."""
    if cuda.is_available():
        cuda.synchronize()
