"""Datasets, batch transforms and the DataLoader (torch.utils.data, torchvision.datasets/transforms)."""
from . import transforms
from .cifar10 import CIFAR10
from .dataset import ArrayDataset, Subset
from .download import default_root, download_cifar10
from .loader import DataLoader

__all__ = ["ArrayDataset", "CIFAR10", "DataLoader", "Subset", "default_root", "download_cifar10", "transforms"]
