"""Hypothesis profiles for the property tests.

``ci`` (the default) keeps the whole ``tests/properties`` suite well under a minute on two cores;
``long`` runs ten times as many examples. Select one with ``HYPOTHESIS_PROFILE=long``. Each test
sizes its own example count with ``support.scaled``, which follows the loaded profile.
"""

from __future__ import annotations

import os

from hypothesis import settings

from .support import BASE_EXAMPLES

settings.register_profile("ci", max_examples=BASE_EXAMPLES, deadline=None, print_blob=True)
settings.register_profile("long", max_examples=10 * BASE_EXAMPLES, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
