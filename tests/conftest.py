"""Shared test configuration: hypothesis profiles sized for a 2-core machine.

``HYPOTHESIS_PROFILE=ci`` (used by .ci/run) keeps property tests quick;
``long`` runs many more examples locally.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=150, deadline=None)
settings.register_profile("long", max_examples=3000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
