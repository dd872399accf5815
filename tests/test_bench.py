"""`make bench` measures what it says: identical resource sets on both sides, and the member
stack plans with one Okta read per group. (No timings here: those belong to the bench.)"""

from __future__ import annotations

import json

import pytest

from bench import overhead, plan_members, sdk_floor, workloads
from infra.mock_runtime import run
from kubesphere_okta import TYPE_TOKEN

DYNAMIC = "pulumi-python:dynamic:Resource"


def _comparable(recording, component_names: set[str]) -> list[tuple]:
    rows = []
    for r in recording.resources:
        if r.type == TYPE_TOKEN:
            continue
        parent = None if r.parent_name in component_names or "::pulumi:pulumi:Stack::" in r.parent_urn else r.parent_name
        rows.append((r.type, r.name, parent, r.inputs, r.secret_inputs, sorted(r.additional_secret_outputs),
                     r.provider_version, r.protect, r.retain_on_delete,
                     sorted(urn.rsplit("::", 1)[-1] for urn in r.dependencies)))
    return sorted(rows, key=lambda row: (row[0], row[1]))


def test_component_and_direct_register_identical_resources():
    n = 2
    component = run(workloads.component_program(n))
    direct = run(workloads.direct_program(n))
    names = {f"ks{i}" for i in range(n)}
    assert [r.name for r in component.resources if r.type == TYPE_TOKEN] == sorted(names)
    assert TYPE_TOKEN not in {r.type for r in direct.resources}
    assert _comparable(component, names) == _comparable(direct, names)
    # Five Okta and Kubernetes resources and the two cluster guards (dynamic resources) per integration.
    assert len(direct.resources) == 7 * n
    assert sum(r.type == DYNAMIC for r in direct.resources) == 2 * n
    # Both send the engine where each resource was declared, as every SDK resource class does.
    assert all(r.stack_frames > 0 for r in component.resources + direct.resources)


def test_member_stack_plans_with_one_group_read_and_one_member_read_per_group(tmp_path):
    figures = {}
    for count in (20, 100):
        workloads.write_member_stack(tmp_path / str(count), count)
        report = tmp_path / f"report-{count}.json"
        assert plan_members.main(str(tmp_path / str(count)), str(report)) == 0
        figures[count] = json.loads(report.read_text())
    big = figures[100]
    assert (big["group_reads"], big["member_reads"]) == (5, 5)
    assert big["users"] == 100  # every member once, however many groups they are in
    # One Users and one global bindings resource (and the preview check), whatever the number of members.
    assert big["resources"] == figures[20]["resources"] == 11
    assert figures[20]["state_bytes"] < big["state_bytes"] < figures[20]["state_bytes"] + 80 * 300
    assert 0 < big["peak_rss"] <= workloads.peak_rss()  # this process's own peak: the plan ran in it


def test_member_workload_overlaps_and_collides():
    groups = workloads.members(1000)
    assert len(groups) == 5
    ids = [m["id"] for members in groups.values() for m in members]
    assert len(set(ids)) == 1000 and len(ids) > 1000
    logins = {m["login"].lower() for members in groups.values() for m in members}
    assert len(logins) == 1000 - 10  # every hundredth login derives the name of the one before


def test_pairs_alternate_order_and_report_ratios():
    calls: list[str] = []

    def side(name, value):
        def measure():
            calls.append(name)
            return value
        return measure

    paired = overhead.alternate(side("a", 2.0), side("b", 3.0), 4)
    assert calls == ["a", "b", "b", "a", "a", "b", "b", "a"]
    assert paired.ratios == [1.5] * 4
    assert paired.describe() == "1.50x (range 1.50-1.50, 4 pairs)"
    assert overhead.table([("g", "f", True), ("h", "x", False), ("i", "y", None)]).splitlines()[2:] == [
        "| g | f | yes |", "| h | x | NO |", "| i | y | - |"]


def test_sdk_floor_registers_as_many_bare_resources_as_it_names(tmp_path):
    report = tmp_path / "floor.json"
    assert sdk_floor.main("9", str(report)) == 0
    figures = json.loads(report.read_text())
    assert figures["resources"] == 9
    assert figures["types"] == {"bench:index:Floor": 1, workloads.FLOOR_TYPES[0]: 4, workloads.FLOOR_TYPES[1]: 4}
    recording = run(workloads.floor_program(5))
    component, *custom = recording.resources
    assert [r.parent_name for r in custom] == ["floor"] * 4
    assert all(not r.dependencies and r.inputs["apiVersion"] == "iam.kubesphere.io/v1beta1" for r in custom)
    # The same kinds of object the member plan registers, with bodies of the same shape.
    assert [r.inputs["kind"] for r in custom] == ["User", "GlobalRoleBinding"] * 2


def test_marginal_cost_per_member_shows_growth_that_a_fixed_cost_hides():
    # 2 s fixed, 1 ms per member up to 5,500 and 2 ms per member beyond: the whole-process CPU per
    # member at 10,000 is below that at 1,000 (the fixed cost spreads), the marginal one is not.
    cpu = {1000: [3.0, 3.0], 5500: [7.5, 7.5], 10000: [16.5, 16.5]}
    assert 16.5 / 10000 < 3.0 / 1000
    assert overhead.marginal_per_member(cpu).ratios == pytest.approx([2.0, 2.0])
    linear = {1000: [3.0], 5500: [7.5], 10000: [12.0]}
    assert overhead.marginal_per_member(linear).ratios == pytest.approx([1.0])
