"""Keep CPython's cyclic garbage collector off the long-lived heap while a program registers resources.

Registering a resource allocates many small container objects (Outputs, futures, tasks, the
Resource itself) that all stay alive until the run ends. CPython's generational collector
counts those allocations and, each time the oldest generation has grown by a quarter, rescans
*every* tracked object, including the few hundred thousand objects the imports of pulumi,
pulumi_okta and pulumi_kubernetes created. Those rescans find nothing to free and, at 100
integrations, were more than half of the run's CPU.

``gc.freeze()`` moves every object that exists now (the imported modules, their classes and
functions) into the collector's permanent generation, which it never scans; a larger first
threshold makes the young collections rarer. Cycles created later are still collected, and
nothing is freed or kept alive differently: only fewer scans of objects that cannot be garbage.
Reference counting, which frees almost everything in a Pulumi program, is untouched.

While a process imports the SDKs (about 300,000 long-lived objects) the collector runs a
dozen full collections that free nothing: ``importing()`` turns it off for those imports in the
processes this repository starts itself (``make plan``, the program under ``pulumi up``).

Registration has two forms:

* ``registering()``: a context manager that restores the thresholds on exit and unfreezes what
  it froze (``make plan``, the bench, tests).
* ``tune_for_registration()``: the same settings for the rest of the process. The entry point
  the Pulumi CLI runs (``infra/__main__.py``) uses it: under ``pulumi up`` the program's module
  returns long before the registrations it started are done (they run on the event loop
  afterwards, until the language host exits), so there is no earlier point to restore at.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

#: Net container allocations between young collections while registering (CPython's default is 700).
YOUNG_THRESHOLD = 20_000
#: ``registering()`` only: middle-generation collections between full ones (CPython's default is 10).
#: At 10,000 members a run has ~70 middle collections: with 1,000, no full collection runs.
FULL_THRESHOLD = 1_000


def tune_for_registration() -> tuple[tuple[int, int, int], bool]:
    """Freeze what exists now and raise the young threshold; returns what ``restore`` needs.

    Freezes only when nothing is frozen yet, so that a caller who froze objects before keeps
    exactly the frozen set it had.
    """
    previous = gc.get_threshold()
    froze = gc.get_freeze_count() == 0
    if froze:
        gc.freeze()
    gc.set_threshold(max(previous[0], YOUNG_THRESHOLD), *previous[1:])
    return previous, froze


def restore(state: tuple[tuple[int, int, int], bool]) -> None:
    """Undo ``tune_for_registration``: the thresholds it found, and unfreeze what it froze."""
    previous, froze = state
    gc.set_threshold(*previous)
    if froze:
        gc.unfreeze()


@contextmanager
def registering() -> Iterator[None]:
    """``tune_for_registration()`` for the ``with`` block, and no full collections, then ``restore``.

    A full collection rescans every object the run created: at 10,000 members (20,008 resources,
    about 10 million objects) the six of a plan took 10 s of its 112 s CPU and freed nothing until
    the registrations were done (the objects of a registration live until it is answered, and
    under mocks that happens after the program has declared everything). Without them the plan's
    peak RSS was the same (1,005 vs 1,006 MiB) and young and middle collections still free cycles.
    Only here: a run that ends (the offline plan, the bench, tests). Under ``pulumi up``
    (``tune_for_registration``) registrations finish over minutes while the engine works, and
    the full collections that free the finished ones stay.
    """
    state = tune_for_registration()
    gc.set_threshold(*gc.get_threshold()[:2], max(state[0][2], FULL_THRESHOLD))
    try:
        yield
    finally:
        restore(state)


@contextmanager
def importing() -> Iterator[None]:
    """No collections while the ``with`` block imports modules (or parses an input file: what it
    builds is freed by reference counting or lives on); the collector as it was afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
