"""Test-session set-up shared by every test module."""

import os

# Import hypothesis's pytest reporting now: importing (and so compiling) it lazily after a test
# that ran the Pulumi runtime can hit a CPython 3.11 AST recursion-depth bug and abort the session.
import hypothesis.internal.observability  # noqa: F401
from hypothesis import HealthCheck, Phase, settings

# `make mutation` runs every test once per mutant: there, a test must see the same examples every
# time (derandomize), never replay examples a previous mutant saved (no database), and a mutant
# that only makes generation slower must not count as killed (no deadline, no health checks).
# A failing example is all a mutant needs to be killed, so failures are not shrunk. Tests that set
# max_examples keep their own count; the others get this fixed one.
settings.register_profile(
    "mutation",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=100,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
    report_multiple_bugs=False,
    print_blob=False,
)
# Every other run: no per-example deadline. Hypothesis's default (200 ms) is a timed assertion, and on a
# loaded two-core machine a correct test crossed it (test_membership_sync, 219 ms): tests assert results.
settings.register_profile("untimed", deadline=None)
settings.load_profile(os.environ.get("KUBESPHERE_OKTA_HYPOTHESIS_PROFILE") or "untimed")


def pytest_collection_modifyitems(config, items):
    """Under `make mutation`, skip the tests marked ``provider_by_value``: they run a provider
    pickled by value in another interpreter, or compare its pickled bytes, and with mutmut's
    trampolines in the package those bytes carry mutmut's code. (Tests that start
    ``python -m pulumi.dynamic`` skip themselves there: ``tests/dynamic_engine.skip_under_mutation``.)"""
    if os.environ.get("KUBESPHERE_OKTA_HYPOTHESIS_PROFILE") != "mutation":
        return
    import pytest

    skip = pytest.mark.skip(reason="runs providers in another process, which mutated code cannot reach")
    for item in items:
        if item.get_closest_marker("provider_by_value"):
            item.add_marker(skip)
