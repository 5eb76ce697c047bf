"""Parameter: a Tensor that a Module registers as learnable (torch.nn.Parameter)."""
import numpy as np

from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that requires grad by default and that Modules collect in ``parameters()`` (torch.nn.Parameter).

    ``Parameter(tensor_or_array)`` shares the data of a Tensor (or wraps an array) without copying.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.empty(0, np.float32)
        if isinstance(data, Tensor):
            data = data.array
        elif not hasattr(data, "__cuda_array_interface__"):
            data = np.asarray(data)
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
