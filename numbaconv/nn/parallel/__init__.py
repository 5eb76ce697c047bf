"""Data-parallel training over a numbaconv.distributed process group (torch.nn.parallel)."""
from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
