"""Save and load nested state dicts as .npz without pickle (torch.save / torch.load).

The structure (dicts, lists, tuples, str, int, float, bool, None) is stored as one JSON string; every array
or Tensor is stored as its own npz entry and referenced from the JSON. Loading uses ``allow_pickle=False``.
Files are written atomically (numbaconv.atomic): a crash or a full disk leaves the previous file intact.

``load`` raises FileNotFoundError (or another OSError) when the path cannot be opened, and ValueError naming
the path for any content that is not a checkpoint ``save`` wrote: truncated, corrupted, foreign or crafted.
Both take a path or a binary file object (anything with ``write`` / ``read``), as torch.save / torch.load do;
a file object is written in place (not atomically: the caller owns it).
"""
import io
import json
import os
import struct
import zipfile
import zlib

import numpy as np

from . import backends
from .atomic import write_atomically
from .tensor import Tensor

FORMAT = "numbaconv-checkpoint"
VERSION = 1
_HEADER = "__numbaconv__"
# What zipfile, numpy's .npy reader and json raise on crafted bytes (MemoryError: a header asking for more than
# there is; RecursionError: nesting; NotImplementedError/RuntimeError: unknown compression or encryption flags).
_CORRUPT = (OSError, EOFError, zipfile.BadZipFile, zlib.error, struct.error, KeyError, IndexError, TypeError,
            AttributeError, SyntaxError, NotImplementedError, RuntimeError, MemoryError, SystemError, OverflowError)


def save(obj, f):
    """Write ``obj`` (nested dicts/lists of arrays, Tensors and plain values) to the path ``f`` atomically, or
    into the binary file object ``f`` (torch.save)."""
    arrays = {}
    structure = _encode(obj, arrays, "obj")
    header = json.dumps({"format": FORMAT, "version": VERSION, "object": structure})
    arrays[_HEADER] = np.array(header)
    if hasattr(f, "write"):
        np.savez(f, **arrays)
    else:
        write_atomically(f, lambda out: np.savez(out, **arrays))


def load(f, map_location=None, weights_only=None):
    """Read what ``save`` wrote from a path or a binary file object (torch.load).

    Arrays come back as numpy arrays, Tensors as Tensors on the CPU, or where ``map_location`` says: a device
    (``'cuda'``, ``numbaconv.device('cpu')``), a dict from the saved device name to a target device, or a
    callable ``(tensor, saved_device) -> tensor``. ``weights_only`` is accepted with any value: a numbaconv
    checkpoint holds only arrays and plain values, and loading never unpickles.
    """
    if hasattr(f, "read"):
        content = f.read()
        path = getattr(f, "name", "<file object>")
        opened = io.BytesIO(content)
        magic = content[:4]
    else:
        path = opened = os.fspath(f)
        with open(path, "rb") as handle:
            magic = handle.read(4)
    if magic[:1] == b"\x80":
        raise ValueError(f"{path!r} is a pickle; refusing to load it (numbaconv checkpoints never contain pickles)")
    if magic != b"PK\x03\x04":
        raise ValueError(f"{path!r} is not a numbaconv checkpoint (a foreign file: no .npz zip signature)")
    try:
        with np.load(opened, allow_pickle=False) as archive:
            if _HEADER not in archive.files:
                raise ValueError(f"no {_HEADER} entry, entries {sorted(archive.files)[:5]}")
            arrays = {name: archive[name] for name in archive.files}
        strays = [name for name, value in arrays.items() if not isinstance(value, np.ndarray)]
        if strays:
            raise ValueError(f"entries {strays[:5]} are not .npy arrays")
    except ValueError as error:
        if "pickle" in str(error).lower():
            raise ValueError(f"{path!r} holds a pickled object; refusing to load it (numbaconv checkpoints "
                             f"never contain pickles)") from None
        raise ValueError(f"{path!r} is not a numbaconv checkpoint (a truncated or foreign file): {error}") from None
    except _CORRUPT as error:
        raise ValueError(f"{path!r} is not a numbaconv checkpoint (a truncated or foreign file): "
                         f"{type(error).__name__}: {error}") from None
    try:
        header = arrays.pop(_HEADER)
        if header.dtype.kind != "U" or header.ndim != 0:
            raise ValueError(f"the {_HEADER} entry is {header.dtype} {header.shape}, expected a string")
        header = json.loads(str(header[()]))
        if header.get("format") != FORMAT:
            raise ValueError(f"format {header.get('format')!r}")
        if header.get("version") != VERSION:
            raise ValueError(f"version {header.get('version')!r}, this numbaconv reads version {VERSION}")
        saved = {}
        obj = _decode(header["object"], arrays, saved)
    except (ValueError, *_CORRUPT) as error:
        raise ValueError(f"{path!r} is not a valid numbaconv checkpoint: {type(error).__name__}: {error}") from None
    return obj if map_location is None else _place_all(obj, _placement(map_location), saved)


def _place_all(value, place, saved):
    if isinstance(value, Tensor):
        moved = place(value.detach(), saved[id(value)])
        return moved.requires_grad_(True) if value.requires_grad and not moved.requires_grad else moved
    if isinstance(value, dict):
        return {k: _place_all(v, place, saved) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_place_all(v, place, saved) for v in value)
    return value


def _placement(map_location):
    """A function (cpu Tensor, saved device name) -> Tensor that applies ``map_location``."""
    if map_location is None:
        return lambda tensor, saved: tensor
    if callable(map_location) and not isinstance(map_location, str):
        return lambda tensor, saved: map_location(tensor, saved)
    if isinstance(map_location, dict):
        targets = {str(k): v for k, v in map_location.items()}
        return lambda tensor, saved: tensor.to(targets[saved]) if saved in targets else tensor
    if isinstance(map_location, str):
        backends.normalize(map_location)
        return lambda tensor, saved: tensor.to(map_location)
    raise TypeError(f"load: map_location must be a device, a dict or a callable, got {type(map_location).__name__}")


def _encode(value, arrays, where):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, (np.generic,)):
        return value if isinstance(value, int) else {"t": "float", "v": repr(float(value))}
    if isinstance(value, Tensor):
        return {"t": "tensor", "a": _store(value.detach().numpy(), arrays, where), "grad": bool(value.requires_grad),
                "d": str(value.device)}
    if isinstance(value, np.ndarray):
        return {"t": "array", "a": _store(value, arrays, where)}
    if isinstance(value, np.generic):
        return {"t": "scalar", "a": _store(np.asarray(value), arrays, where)}
    if isinstance(value, bytes):
        return {"t": "bytes", "a": _store(np.frombuffer(value, np.uint8), arrays, where)}
    if isinstance(value, dict):
        keys = list(value)
        for k in keys:
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise TypeError(f"save: {where} has key {k!r} of type {type(k).__name__}; keys must be str or int")
        return {"t": "dict", "k": keys, "v": [_encode(value[k], arrays, f"{where}[{k!r}]") for k in keys]}
    if isinstance(value, (list, tuple)):
        items = [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(value)]
        return items if isinstance(value, list) else {"t": "tuple", "v": items}
    raise TypeError(f"save: {where} is a {type(value).__name__}; only dicts, lists, tuples, str, int, float, bool, "
                    f"None, bytes, numpy arrays and Tensors can be saved")


def _store(array, arrays, where):
    if array.dtype.hasobject:
        raise TypeError(f"save: {where} is an object array; only numeric arrays can be saved")
    name = f"a{len(arrays)}"
    arrays[name] = array
    return name


def _decode(node, arrays, saved):
    if node is None or isinstance(node, (bool, int, str)):
        return node
    if isinstance(node, list):
        return [_decode(v, arrays, saved) for v in node]
    tag = node["t"]
    if tag == "dict":
        return {k: _decode(v, arrays, saved) for k, v in zip(node["k"], node["v"], strict=True)}
    if tag == "tuple":
        return tuple(_decode(v, arrays, saved) for v in node["v"])
    if tag == "float":
        return float(node["v"])
    if tag == "tensor":
        tensor = Tensor(arrays[node["a"]], requires_grad=node["grad"])
        saved[id(tensor)] = str(node.get("d", "cpu"))
        return tensor
    if tag == "array":
        return arrays[node["a"]]
    if tag == "scalar":
        return arrays[node["a"]][()]
    if tag == "bytes":
        return arrays[node["a"]].tobytes()
    raise ValueError(f"unknown entry type {tag!r}")
