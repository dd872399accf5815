"""infra.collector: the collector settings for a registration run, and that they are undone."""

from __future__ import annotations

import gc

import pytest

from infra import collector, plan


@pytest.fixture
def gc_state():
    """Whatever a test does to the collector, the next test gets it back as it was."""
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    yield threshold, frozen
    gc.set_threshold(*threshold)
    if frozen == 0:
        gc.unfreeze()


def test_registering_freezes_and_raises_the_young_threshold_then_restores_both(gc_state):
    threshold, frozen = gc_state
    assert frozen == 0, "nothing may be frozen before this test"
    with collector.registering():
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (max(threshold[0], collector.YOUNG_THRESHOLD), threshold[1],
                                      max(threshold[2], collector.FULL_THRESHOLD))
    assert gc.get_threshold() == threshold
    assert gc.get_freeze_count() == 0


def test_registering_restores_on_error(gc_state):
    threshold, _ = gc_state
    with pytest.raises(RuntimeError):
        with collector.registering():
            raise RuntimeError("boom")
    assert gc.get_threshold() == threshold
    assert gc.get_freeze_count() == 0


def test_a_caller_who_froze_before_keeps_exactly_its_frozen_set(gc_state, monkeypatch):
    gc.freeze()
    # The freeze count itself is no witness: another thread of the test process (pytest-xdist's
    # channel) may free a frozen object meanwhile, which lowers it. What registering() must not
    # do is freeze again (adding what the caller left unfrozen) or unfreeze (taking the caller's).
    calls: list[str] = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc, "unfreeze", lambda: calls.append("unfreeze"))
    with collector.registering():
        pass
    assert calls == []
    assert gc.get_freeze_count() > 0


def test_cycles_created_while_registering_are_still_collected(gc_state):
    class Node:
        pass

    with collector.registering():
        node = Node()
        node.self = node
        del node
        assert gc.collect() >= 1


def test_the_offline_plan_leaves_the_collector_as_it_found_it(gc_state, capsys):
    threshold, frozen = gc_state
    assert plan.main(["--stack", "dev"]) == 0
    capsys.readouterr()
    assert gc.get_threshold() == threshold
    assert gc.get_freeze_count() == frozen


def test_importing_turns_the_collector_off_and_back_on_only_if_it_was_on(gc_state):
    assert gc.isenabled()
    with collector.importing():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector.importing():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_tune_for_registration_keeps_the_full_collections(gc_state):
    """Under `pulumi up` the process lives on: only the young threshold changes."""
    threshold, _ = gc_state
    state = collector.tune_for_registration()
    try:
        assert gc.get_threshold() == (max(threshold[0], collector.YOUNG_THRESHOLD), *threshold[1:])
    finally:
        collector.restore(state)
    assert gc.get_threshold() == threshold


def test_the_plan_of_a_members_file_leaves_the_collector_on_and_as_it_found_it(gc_state, capsys, tmp_path):
    from bench import workloads

    threshold, frozen = gc_state
    members = workloads.write_member_stack(tmp_path, 3)
    assert plan.main(["--stack", workloads.MEMBER_STACK, "--project-dir", str(tmp_path),
                      "--okta-members", str(members)]) == 0
    assert "user0.acme.com" in capsys.readouterr().out
    assert gc.isenabled()
    assert (gc.get_threshold(), gc.get_freeze_count()) == (threshold, frozen)
