"""Fuzzing set-up: ``src/`` and this folder on the path, Hypothesis profiles.

``WEIGHTINIT_FUZZ_PROFILE`` picks the profile: ``ci`` (default, a few hundred cases per
property, part of the normal test run) or ``long`` (tens of thousands, a documented command:
``WEIGHTINIT_FUZZ_PROFILE=long python -m pytest fuzz -q``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
for path in (str(SRC), str(HERE)):
    if Path(path).is_dir() and path not in sys.path:
        sys.path.insert(0, path)

_common = {
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    "derandomize": False,
    "print_blob": True,
    "database": None,  # no replay of examples saved by an older version of the strategies
}
settings.register_profile("ci", max_examples=300, deadline=5000, **_common)
settings.register_profile("long", max_examples=30000, deadline=10000, **_common)
settings.load_profile(os.environ.get("WEIGHTINIT_FUZZ_PROFILE", "ci"))

#: scripts, not test modules: the harness instruments imports and sets a size cap at import time
collect_ignore = ["atheris_harness.py", "make_corpus.py"]
