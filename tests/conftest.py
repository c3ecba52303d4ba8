import os
import sys

from hypothesis import HealthCheck, settings

sys.path.insert(0, os.path.dirname(__file__))

settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", 60))
)
settings.load_profile("default")
