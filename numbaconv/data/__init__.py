"""Datasets, samplers, collation, batch transforms and the DataLoader (torch.utils.data, torchvision.datasets).

``numbaconv.data.DataLoader`` assembles batches two ahead in a background thread (``prefetch=2``); the loader in
``numbaconv.utils.data`` is the same class with torch's default of building them when asked for.
"""
from . import transforms
from .alternating_flip import AlternatingFlip
from .cifar10 import CIFAR10
from .collate import default_collate, default_convert
from .dataset import ArrayDataset, ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from .distributed_sampler import DistributedSampler
from .download import default_root, download_cifar10
from .loader import PrefetchingDataLoader as DataLoader
from .samplers import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from .workers import WorkerInfo, get_worker_info

__all__ = ["AlternatingFlip", "ArrayDataset", "BatchSampler", "CIFAR10", "ConcatDataset", "DataLoader", "Dataset",
           "DistributedSampler", "IterableDataset",
           "RandomSampler", "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset",
           "WeightedRandomSampler", "WorkerInfo", "default_collate", "default_convert", "default_root",
           "download_cifar10", "get_worker_info", "random_split", "transforms"]
