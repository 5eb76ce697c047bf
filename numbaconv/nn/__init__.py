"""Neural-network layers and functional ops (torch.nn)."""
from . import functional
