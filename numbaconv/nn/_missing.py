"""The error for a torch name that numbaconv.nn, nn.functional, optim or optim.lr_scheduler lacks: it says so and
names the closest numbaconv feature (a table of the common misses, then difflib over the module's names), without
Python's own "Did you mean" guess (which pointed nll_loss at mse_loss)."""
import difflib

_TWO_D = "numbaconv has 2-D layers: use {} on an (N, C, 1, L) view of the input"
_NO_SEQ = "numbaconv is a CNN library: it has no embedding, recurrent or attention layers"
_OPTIMIZERS = "numbaconv.optim has SGD, Adam, AdamW, RMSprop, Adagrad and Adadelta"
_SCHEDULES = ("numbaconv.optim.lr_scheduler has StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, OneCycleLR, "
              "LambdaLR, MultiplicativeLR, ConstantLR, LinearLR, SequentialLR and ReduceLROnPlateau")

HINTS = {
    "numbaconv.nn": {
        "Conv1d": _TWO_D.format("Conv2d"), "MaxPool1d": _TWO_D.format("MaxPool2d"),
        "AvgPool1d": _TWO_D.format("AvgPool2d"), "ConvTranspose1d": _TWO_D.format("ConvTranspose2d"),
        "AdaptiveAvgPool1d": _TWO_D.format("AdaptiveAvgPool2d"), "Dropout1d": "numbaconv.nn.Dropout2d on (N, C, L)",
        "Conv3d": "numbaconv has no 3-D convolution; Conv2d works on (N, C, H, W)",
        "BatchNorm3d": "numbaconv.nn.BatchNorm2d or BatchNorm1d (no 3-D batches)",
        "Embedding": _NO_SEQ, "LSTM": _NO_SEQ, "GRU": _NO_SEQ, "RNN": _NO_SEQ, "Transformer": _NO_SEQ,
        "MultiheadAttention": _NO_SEQ, "TransformerEncoderLayer": _NO_SEQ,
        "AdaptiveMaxPool2d": "numbaconv.nn.AdaptiveAvgPool2d, or MaxPool2d with kernel_size = stride = in / out",
        "PReLU": "numbaconv.nn.LeakyReLU (a fixed negative slope)",
        "Hardswish": "x * F.relu6(x + 3) / 6", "Mish": "x * F.softplus(x).tanh()",
        "SELU": "1.0507009873554805 * F.elu(x, 1.6732632423543772)",
        "DataParallel": "numbaconv.nn.parallel.DistributedDataParallel (one process per device, over MPI)",
        "ZeroPad2d": "numbaconv.nn.functional.pad(x, (left, right, top, bottom))",
        "ConstantPad2d": "numbaconv.nn.functional.pad(x, pad, value=value)",
        "KLDivLoss": "compose it: (target * (target.log() - log_probs)).sum() / N",
    },
    "numbaconv.nn.functional": {
        "conv1d": _TWO_D.format("conv2d"), "max_pool1d": _TWO_D.format("max_pool2d"),
        "avg_pool1d": _TWO_D.format("avg_pool2d"),
        "adaptive_max_pool2d": "numbaconv.nn.functional.adaptive_avg_pool2d, or max_pool2d with kernel = in / out",
        "one_hot": "numbaconv.eye(num_classes)[labels] (float one-hot rows)",
        "hardswish": "x * F.relu6(x + 3) / 6", "mish": "x * F.softplus(x).tanh()",
        "selu": "1.0507009873554805 * F.elu(x, 1.6732632423543772)",
        "kl_div": "compose it: (target * (target.log() - input)).sum() / N",
        "grid_sample": "numbaconv has no grid sampling; F.interpolate resamples to a size or by a factor",
        "affine_grid": "numbaconv has no grid sampling; F.interpolate resamples to a size or by a factor",
    },
    "numbaconv.optim": {name: _OPTIMIZERS for name in ("NAdam", "RAdam", "Adamax", "ASGD", "Rprop", "LBFGS",
                                                       "SparseAdam")},
    "numbaconv.optim.lr_scheduler": {name: _SCHEDULES for name in ("CyclicLR", "CosineAnnealingWarmRestarts",
                                                                   "PolynomialLR", "ChainedScheduler")},
}


def missing(module, name, public):
    """Raise the AttributeError for ``module``'s missing ``name``; ``public`` are the names it does have."""
    if name.startswith("__"):
        raise AttributeError(f"module {module!r} has no attribute {name!r}", name=name)
    hint = HINTS.get(module, {}).get(name)
    names = [n for n in public if not n.startswith("_")]
    if hint is None:
        same = [n for n in names if n.lower() == name.lower()]
        close = same or difflib.get_close_matches(name, names, n=1, cutoff=0.75)
        hint = f"{module}.{close[0]}" if close else None
    torch_name = "torch" + module[len("numbaconv"):]
    where = f"; the closest numbaconv feature: {hint}" if hint else "; see the README for what numbaconv covers"
    # name= without obj= marks the error as complete, so Python adds no "Did you mean" guess of its own
    raise AttributeError(f"{module} has no {name!r} ({torch_name}.{name} is not implemented){where}", name=name)
