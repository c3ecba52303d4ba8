import os
import sys

from hypothesis import HealthCheck, settings

sys.path.insert(0, os.path.dirname(__file__))

_common = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
# The default run (CI) draws the same examples every time, so a merge gate never fails on a new
# random draw; HYPOTHESIS_PROFILE=explore searches fresh examples, as many as
# HYPOTHESIS_MAX_EXAMPLES asks.
settings.register_profile("default", max_examples=60, derandomize=True, **_common)
settings.register_profile("explore", max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", 500)), **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
