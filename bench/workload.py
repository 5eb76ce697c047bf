"""What the user-facing asv suites run: each shipped model's training step and inference, built as
``numbaconv train`` builds them (the model's recipe, its optimizer and parameter groups), on fixed random data.

asv benchmarks every commit with this file from the current checkout, so a name the installed numbaconv lacks
raises NotImplementedError, which asv reports as a skip for that commit.
"""
import functools
import importlib

import numpy as np

import numbaconv as nc

# The models to fall back on where numbaconv has no models.MODELS yet.
SEED_MODELS = ("keras_net", "torch_net", "default_net")


def require(module, name):
    """``module.name``, or NotImplementedError when this commit's numbaconv has no such thing."""
    try:
        return getattr(importlib.import_module(f"numbaconv.{module}" if module else "numbaconv"), name)
    except (ImportError, AttributeError):
        raise NotImplementedError(f"numbaconv{'.' + module if module else ''} has no {name}") from None


def model_names():
    """Every shipped model (models.MODELS), read when the suites are discovered."""
    try:
        return sorted(require("models", "MODELS"))
    except NotImplementedError:
        return list(SEED_MODELS)


def set_threads(threads):
    require("", "set_num_threads")(threads)


def batch_size(name, batch):
    """``batch`` as a number: "default" is the model's recipe batch size."""
    return require("models", "recipe")(name).batch_size if batch == "default" else int(batch)


def build(name, images=None):
    """Model ``name`` seeded with 0, given its data-dependent start from ``images`` where it has one."""
    nc.manual_seed(0)
    try:
        model = require("models", "build")(name)
    except ValueError:
        raise NotImplementedError(f"numbaconv has no model {name!r}") from None
    if images is not None:
        require("models", "init_from_data")(name, model, images)
    return model


def batch(size, seed=0):
    """Fixed CIFAR-shaped inputs and labels."""
    rng = np.random.default_rng(seed)
    images = rng.standard_normal((size, 3, 32, 32), dtype=np.float32)
    return nc.tensor(images), nc.tensor(rng.integers(0, 10, size))


def training_step(name, size):
    """A callable running one training step of model ``name`` on a fixed batch of ``size``: forward,
    cross-entropy with the recipe's label smoothing, backward, the recipe's optimizer step; it returns the loss."""
    recipe = require("models", "recipe")(name)
    groups = require("training", "parameter_groups")
    make_optimizer = require("training", "make_optimizer")
    images, labels = batch(size)
    model = build(name, images)
    model.train()
    optimizer = make_optimizer(recipe.optimizer, groups(model, recipe.lr, recipe.weight_decay, recipe.bias_lr_scale),
                               recipe.momentum)

    def step():
        loss = nc.cross_entropy(model(images), labels, label_smoothing=recipe.label_smoothing)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    return step


def inference(name, size):
    """A callable running model ``name`` in eval mode without autograd on a fixed batch of ``size``."""
    images, _ = batch(size)
    model = build(name, images)
    model.eval()

    def forward():
        with nc.no_grad():
            return model(images)

    return forward


@functools.lru_cache(maxsize=1)
def cached(make, name, size):
    """``make(name, size)`` built once per process: asv re-runs a timing benchmark's setup before every sample."""
    return make(name, size)


def warm_kernels():
    """Compile (or load from numba's cache) every kernel the shipped models' steps and inference use: an asv
    ``setup_cache``, so a fresh benchmark process loads them from the cache as a user's second run does."""
    for name in model_names():
        try:
            training_step(name, 8)()
            inference(name, 1)()
        except NotImplementedError:
            pass
