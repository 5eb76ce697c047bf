"""torch's type promotion for elementwise ops (torch.result_type), written once for every binary op.

Operands rank in three tiers: tensors with dims, 0-d tensors, python numbers. The tensors with dims decide the
dtype; a lower tier changes it only when it is of a higher category (bool < integer < float): a 0-d tensor
then brings its own dtype, a python number the category's default (int64, float32). So ``uint8 + 300`` stays
uint8, ``float32 + float64 0-d`` stays float32, ``int64 * 1.5`` is float32 and ``int32 + int64`` is int64.
True division of bools and integers gives the default float dtype (float32), as torch's ``/``.
"""
import numpy as np

from ..tensor import Tensor

DEFAULT_FLOAT = np.dtype(np.float32)
_DEFAULT_OF_CATEGORY = (np.dtype(np.bool_), np.dtype(np.int64), DEFAULT_FLOAT)


def category(dtype):
    """0 for bool, 1 for integers, 2 for floating dtypes."""
    return {"b": 0, "i": 1, "u": 1}.get(dtype.kind, 2)


def _tier_and_dtype(operand):
    if isinstance(operand, Tensor) or (hasattr(operand, "shape") and not isinstance(operand, np.generic)):
        return (0 if len(operand.shape) else 1), np.dtype(operand.dtype)
    if isinstance(operand, (bool, np.bool_)):
        return 2, _DEFAULT_OF_CATEGORY[0]
    if isinstance(operand, (int, np.integer)):
        return 2, _DEFAULT_OF_CATEGORY[1]
    if isinstance(operand, (float, np.floating)):
        return 2, DEFAULT_FLOAT
    raise TypeError(f"expected a Tensor or a number, got {type(operand).__name__}")


def result_type(*operands):
    """The dtype torch gives an elementwise op of ``operands`` (Tensors, arrays or python numbers)."""
    tiers = ([], [], [])
    for operand in operands:
        tier, dtype = _tier_and_dtype(operand)
        tiers[tier].append(dtype)
    result = None
    for tier, dtypes in enumerate(tiers):
        if not dtypes:
            continue
        top = max(category(d) for d in dtypes)
        if result is not None and top <= category(result):
            continue
        if tier == 2:
            result = _DEFAULT_OF_CATEGORY[top]
        else:
            result = np.result_type(*(d for d in dtypes if category(d) == top))
    return result


def division_type(*operands):
    """result_type for true division: bool and integer results become the default float dtype."""
    dtype = result_type(*operands)
    return dtype if category(dtype) == 2 else DEFAULT_FLOAT


def can_cast(source, target):
    """Whether an in-place op may write a ``source`` result into a ``target`` tensor (no float into int, no int
    into bool), as torch's canCast."""
    return category(source) <= category(target)
