"""Benchmarks (asv, ``benchmark_dir`` = bench) and a side-by-side comparison (``python -m bench.compare``).

Layer shapes of the two seed CNNs at batch 128: (name, in_channels, out_channels, size, padding).
Outside asv and in asv's existing environment (``--python=same``) the checkout's numbaconv is put on sys.path;
in the virtualenvs asv builds per commit (ASV_ENV_TYPE=virtualenv) it is not: the commit's installed one runs.
"""
import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if os.environ.get("ASV_ENV_TYPE", "existing") == "existing" and _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

BATCH = 128

CONV_LAYERS = {
    "torch1_3-64_32": (3, 64, 32, 1),
    "torch2_64-64_16": (64, 64, 16, 1),
    "torch3_64-128_8": (64, 128, 8, 1),
    "torch4_128-128_4": (128, 128, 4, 1),
    "keras1_3-32_32": (3, 32, 32, 0),
    "keras2_32-64_15": (32, 64, 15, 0),
    "keras3_64-128_6": (64, 128, 6, 0),
}

POOL_INPUTS = {
    "torch1_64x32": (64, 32),
    "torch2_64x16": (64, 16),
    "torch3_128x8": (128, 8),
    "keras1_32x30": (32, 30),
    "keras2_64x13": (64, 13),
}

LINEAR_LAYERS = {
    "fc1_512-512": (512, 512),
    "fc2_512-10": (512, 10),
}
