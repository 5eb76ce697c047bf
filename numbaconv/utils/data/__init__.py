"""torch.utils.data's names, from numbaconv.data: datasets, samplers, default_collate and the DataLoader.

``DataLoader`` here keeps torch's ``num_workers=0`` behaviour: each batch is built in the calling thread when the
loop asks for it. ``num_workers=N`` runs N worker threads (numbaconv/data/workers.py says why threads).
"""
from ...data.collate import default_collate, default_convert
from ...data.dataset import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from ...data.distributed_sampler import DistributedSampler
from ...data.loader import DataLoader
from ...data.samplers import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from ...data.workers import WorkerInfo, get_worker_info

__all__ = ["BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler", "IterableDataset",
           "RandomSampler", "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset",
           "WeightedRandomSampler", "WorkerInfo", "default_collate", "default_convert", "get_worker_info",
           "random_split"]
