"""Hypothesis profiles: `ci` (CI, derandomized), `dev` (default), `thorough` (many examples).

Pick one with HYPOTHESIS_PROFILE=thorough or `pytest --hypothesis-profile=thorough`.
"""
import os

from hypothesis import HealthCheck, settings

_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("ci", max_examples=25, derandomize=True, print_blob=True, **_common)
settings.register_profile("dev", max_examples=50, **_common)
settings.register_profile("thorough", max_examples=1000, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
