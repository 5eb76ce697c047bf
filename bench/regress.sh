#!/usr/bin/env bash
# Usage: bench/regress.sh BASE [BENCH_REGEX [ASV_CONTINUOUS_OPTIONS...]]
#
# Builds BASE and HEAD each into its own virtualenv, runs the training-step and inference-latency asv suites
# (or the suites BENCH_REGEX matches) on both, and exits non-zero when HEAD is slower than BASE by more than
# 15 % (a statistically significant change past asv's --factor 1.15). Run it before landing a performance change,
# on a quiet machine; it is not a CI gate (shared CI machines are too noisy). ASV names the asv to run; options
# after the regex go to asv continuous (e.g. -a rounds=4 --interleave-rounds).
set -euo pipefail
base=${1:?usage: bench/regress.sh BASE [BENCH_REGEX]}
bench=${2:-'^bench_(step|latency)\.'}
shift $(($# < 2 ? $# : 2))
cd "$(dirname "$0")/.."
exec "${ASV:-asv}" continuous --factor 1.15 --split --show-stderr --bench "$bench" "$@" "$base" HEAD
