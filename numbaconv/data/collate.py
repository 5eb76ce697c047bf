"""Samples to batches (torch.utils.data.default_collate, default_convert), with torch's rules.

A batch of Tensors or ndarrays is stacked along a new first dim as it is: dtype and layout kept (uint8 CHW stays
uint8 CHW, nothing is scaled or transposed). Python floats become float64, ints int64, bools bool, numpy scalars
keep their dtype. Dicts, namedtuples, lists and tuples are collated field by field (a tuple of fields becomes a
list, as in torch); strings stay a sequence of strings.
"""
import collections.abc
import copy

import numpy as np

from ..ops.movement import stack
from ..tensor import Tensor

_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _is_text_array(array):
    return array.dtype.kind in "SUO"


def _collate_tensors(batch):
    shapes = {tuple(t.shape) for t in batch}
    if len(shapes) > 1:
        raise RuntimeError(f"default_collate: stack expects each tensor to be equal size, got shapes {sorted(shapes)}")
    return stack(list(batch), 0)


def _collate_arrays(batch):
    if _is_text_array(batch[0]):
        raise TypeError(_ERROR.format(batch[0].dtype))
    shapes = {b.shape for b in batch}
    if len(shapes) > 1:
        raise RuntimeError(f"default_collate: stack expects each array to be equal size, got shapes {sorted(shapes)}")
    return Tensor(np.stack(batch))


def _rebuild(elem, values):
    """``values`` in a container of ``elem``'s type where it can be rebuilt, else a plain dict/list."""
    if isinstance(elem, collections.abc.Mapping):
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update(values)
                return clone
            return type(elem)(values)
        except TypeError:
            return dict(values)
    try:
        if isinstance(elem, collections.abc.MutableSequence):
            clone = copy.copy(elem)
            clone[:] = values
            return clone
        return type(elem)(values)
    except TypeError:
        return list(values)


def default_collate(batch):
    """Merge a list of samples into a batch (torch.utils.data.default_collate)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _collate_tensors(batch)
    if isinstance(elem, np.ndarray):
        return _collate_arrays(batch)
    if isinstance(elem, (np.bool_, np.number)):
        return Tensor(np.array(batch))
    if isinstance(elem, float):
        return Tensor(np.array(batch, dtype=np.float64))
    if isinstance(elem, bool):
        return Tensor(np.array(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return Tensor(np.array(batch, dtype=np.int64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild(elem, {key: default_collate([d[key] for d in batch]) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(list(field)) for field in zip(*batch)]
        return fields if isinstance(elem, tuple) else _rebuild(elem, fields)
    raise TypeError(_ERROR.format(type(elem)))


def default_convert(data):
    """ndarrays (also inside dicts, namedtuples, lists, tuples) to Tensors, nothing stacked (batch_size=None)."""
    if isinstance(data, np.ndarray):
        return data if _is_text_array(data) else Tensor(data)
    if isinstance(data, (np.bool_, np.number)):
        return Tensor(np.asarray(data))
    if isinstance(data, (Tensor, str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        return _rebuild(data, {key: default_convert(value) for key, value in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence):
        return _rebuild(data, [default_convert(d) for d in data])
    return data

