"""Devices as objects (torch.device, exported as numbaconv.device): ``device("cuda:0")``, ``device("cpu")``.

A device is a ``str`` subclass holding its canonical name ('cpu', 'cuda', 'cuda:0'), so it goes wherever a device
string does (``.to(device)``, ``Module.to``, ``device=`` of the creation functions), which resolve it through the
backend registry. Unlike torch, ``device('cpu') == 'cpu'`` is True. numbaconv drives one GPU: index 0.
"""
from . import backends


class device(str):  # noqa: N801 (torch.device)
    """A device type and optional index: ``device('cuda:0')``, ``device('cuda', 0)``, ``device(0)``."""

    def __new__(cls, type, index=None):  # noqa: A002 (torch's argument name)
        if isinstance(type, device) and index is None:
            return type
        if isinstance(type, int) and not isinstance(type, bool) and index is None:
            type, index = "cuda", type  # noqa: A001 (torch.device(0) is cuda:0)
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string like 'cpu' or 'cuda:0', got {type!r}")
        kind, colon, number = type.partition(":")
        if colon:
            if index is not None:
                raise ValueError(f"device: type {type!r} already holds an index; got index={index!r} too")
            if not number.isdigit():
                raise ValueError(f"device: invalid device string {type!r}; expected 'cpu', 'cuda' or 'cuda:0'")
            index = int(number)
        if kind not in backends.DEVICES:
            raise ValueError(f"device: unknown device type {kind!r}; numbaconv has {', '.join(backends.DEVICES)}")
        if index is not None and (isinstance(index, bool) or not isinstance(index, int) or index != 0):
            raise ValueError(f"device: index must be 0 (numbaconv drives one {kind} device), got {index!r}")
        self = super().__new__(cls, kind if index is None else f"{kind}:{index}")
        self._type, self._index = kind, index
        return self

    @property
    def type(self):
        return self._type

    @property
    def index(self):
        return self._index

    def __repr__(self):
        return f"device(type={self._type!r})" if self._index is None else \
            f"device(type={self._type!r}, index={self._index})"

    def __reduce__(self):
        return device, (str(self),)

    __hash__ = str.__hash__


_BY_NAME = {}


def of(name):
    """The device object of a registry name ('cpu', 'cuda'), built once (Tensor.device)."""
    found = _BY_NAME.get(name)
    if found is None:
        found = _BY_NAME[name] = device(name)
    return found
