"""numbaconv's module ``__getattr__``: submodules loaded on first use, and one clear error for a torch name
numbaconv lacks, naming the closest numbaconv feature (a table of the common misses, then difflib)."""
import difflib
import importlib
import sys

LAZY = ("accelerator", "data", "distributed", "models", "nn", "optim", "profiler", "utils")

_NO_HALF = "numbaconv has no float16 tensors: its kernels run float32 and float64; use numbaconv.float32"
_NO_AMP = "numbaconv has no mixed precision: it computes in float32 or float64; drop the autocast/GradScaler"
# torch name -> the numbaconv feature to use instead
HINTS = {
    "nll_loss": "numbaconv.nn.functional.nll_loss on log-probabilities, or numbaconv.cross_entropy on logits",
    "half": _NO_HALF, "float16": _NO_HALF, "bfloat16": _NO_HALF,
    "autocast": _NO_AMP, "amp": _NO_AMP,
    "compile": "numbaconv has no graph compiler (its kernels are compiled by Numba already); call the model as is",
    "jit": "numbaconv has no TorchScript; call the model as is and save weights with numbaconv.save",
    "FloatTensor": "numbaconv.tensor(data, dtype=numbaconv.float32)",
    "LongTensor": "numbaconv.tensor(data, dtype=numbaconv.long)",
    "mm": "numbaconv.matmul", "bmm": "numbaconv.matmul (it batches over leading dims)",
    "einsum": "numbaconv.matmul with permute/reshape",
    "concat": "numbaconv.cat", "concatenate": "numbaconv.cat",
    "multinomial": "numbaconv.utils.data.WeightedRandomSampler (for sampling indices by weight)",
    "set_default_dtype": "dtype= of the creation functions (numbaconv's default is float32, as torch's)",
    "get_default_dtype": "numbaconv.float32 (numbaconv's default dtype, as torch's)",
    "hub": "numbaconv.models (the bundled CNNs)",
}


def _public():
    package = sys.modules["numbaconv"]
    return [n for n in dir(package) if not n.startswith("_")]


def attribute(name):
    """The lazily loaded submodule ``name``, or an AttributeError that names what numbaconv has instead."""
    if name in LAZY:
        return importlib.import_module(f"numbaconv.{name}")
    if name.startswith("__"):
        raise AttributeError(f"module 'numbaconv' has no attribute {name!r}", name=name)
    hint = HINTS.get(name)
    if hint is None:
        close = difflib.get_close_matches(name, _public(), n=1, cutoff=0.75)
        hint = f"numbaconv.{close[0]}" if close else None
    where = f"; the closest numbaconv feature: {hint}" if hint else "; see the README for what numbaconv covers"
    # name= without obj= marks the error as complete, so Python adds no "Did you mean" guess of its own
    raise AttributeError(f"numbaconv has no {name!r} (torch.{name} is not implemented){where}", name=name)
