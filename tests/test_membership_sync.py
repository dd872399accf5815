"""The membership sync's classifier: a plan is applied on its own only when it changes members only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra import membership_sync as sync
from tests.pulumi_plans import CLUSTER_A, CLUSTER_B, Plan, binding_entry, members, user_entry

FIXTURES = Path(__file__).parent / "fixtures" / "pulumi-plans"


def keyed_stack(before: dict, after: dict, *, prune_users: bool = False) -> Plan:
    """A 0.3 stack: guards unchanged, the app unchanged, Users and one global mapping keyed by user."""
    plan = Plan()
    plan.guards()
    plan.okta_app()
    plan.users(before, after, prune_users=prune_users)
    plan.bindings("platform-regular", {u: binding_entry(u) for u in before}, {u: binding_entry(u) for u in after})
    return plan


def test_joins_are_applied():
    before = members(20)
    after = {**before, "jane.example.com": user_entry("jane.example.com", "00ujane")}
    verdict = keyed_stack(before, after).classify()
    assert verdict.outcome == "apply" and verdict.refusals == ()
    assert [c.joined for c in verdict.changes] == [("jane.example.com",), ("jane.example.com",)]
    assert "1 join, 0 leave" in verdict.summary("prod")


def test_leaves_are_applied_and_the_user_is_kept_without_prune_users():
    before = members(20)
    after = dict(before)
    leaver = next(iter(after))
    del after[leaver]
    verdict = keyed_stack(before, after).classify()
    assert verdict.outcome == "apply"
    users = verdict.changes[0]
    assert users.left == (leaver,) and users.deleted_users == () and users.members_before == 20


@pytest.mark.parametrize("entry", [
    lambda username, okta_id: user_entry(username, okta_id),  # a User body (identity in its annotation)
    lambda username, okta_id: {"email": f"{username}@example.com", "oktaId": okta_id},  # issue 23's values
], ids=["user-body", "keyed-values"])
def test_a_renamed_okta_login_is_a_rename_not_a_leaver(entry):
    before = {f"user{i}.example.com": entry(f"user{i}.example.com", f"00u{i}") for i in range(10)}
    after = dict(before)
    for i in range(2):  # two logins renamed: two "leavers" would be over 10% of 10
        del after[f"user{i}.example.com"]
        after[f"renamed{i}.example.com"] = entry(f"renamed{i}.example.com", f"00u{i}")
    plan = Plan()
    plan.guards()
    plan.users(before, after)
    verdict = plan.classify()
    assert verdict.outcome == "apply", verdict.summary("prod")
    assert verdict.changes[0].renamed == (("user0.example.com", "renamed0.example.com"),
                                          ("user1.example.com", "renamed1.example.com"))
    assert "2 renamed" in verdict.summary("prod")
    assert "the old User (user0.example.com, ...) stays" in verdict.summary("prod")


def test_a_group_renamed_in_okta_empties_its_mapping_and_is_held():
    # The stack still names the old group: every member of the mapping leaves at once.
    before = members(30)
    plan = Plan()
    plan.guards()
    plan.users(before, before)
    urn = plan.bindings("platform-regular", {u: binding_entry(u) for u in before}, {})
    verdict = plan.classify()
    assert verdict.outcome == "held" and verdict.held and not verdict.refused
    assert verdict.first.urn == urn and verdict.first.kind == sync.BURST
    assert "30 of 30 members of role platform-regular leave at once, over the threshold of 3" in verdict.first.reason


def test_a_group_emptied_within_a_larger_scope_is_held_per_role_mapping():
    # One bindings resource per scope (issue 23's shape: {username: {name: {role, target}}}): 10
    # workspace admins of team-a leave, among 300 regular members of team-b; 10 of 310 is not the point.
    def workspace(usernames, role, target):
        return {u: {f"{u}-{target}-{role}": {"role": f"{target}-{role}", "target": target}} for u in usernames}

    regular, admins = [f"dev{i}.example.com" for i in range(300)], [f"adm{i}.example.com" for i in range(10)]
    plan = Plan()
    plan.guards()
    urn = plan.bindings("workspace", {**workspace(regular, "regular", "team-b"), **workspace(admins, "admin", "team-a")},
                        workspace(regular, "regular", "team-b"), scope="workspace")
    verdict = plan.classify()
    assert verdict.held and verdict.first.urn == urn
    assert "10 of 10 members of role team-a-admin in team-a leave at once" in verdict.first.reason


def test_a_group_renamed_in_the_stack_is_a_new_mapping_refused():
    before = members(5)
    bindings = {u: binding_entry(u) for u in before}
    plan = Plan()
    plan.guards()
    plan.users(before, before)
    old = plan.bindings("ks-admins", bindings, bindings, op="delete")
    new = plan.bindings("ks-platform-admins", bindings, bindings, op="create")
    verdict = plan.classify()
    assert verdict.outcome == "refused"
    assert [r.urn for r in verdict.refusals] == [old, new]
    assert "a role mapping removed" in verdict.first.reason


def test_a_pruned_user_is_a_membership_change():
    before = members(20)
    after = dict(before)
    leaver = next(iter(after))
    del after[leaver]
    verdict = keyed_stack(before, after, prune_users=True).classify()
    assert verdict.outcome == "apply"
    assert verdict.changes[0].deleted_users == (leaver,)
    assert f"User deleted (pruneUsers): {leaver}" in verdict.summary("prod")


def test_turning_prune_users_on_is_a_configuration_change():
    before = members(20)
    plan = Plan()
    plan.guards()
    urn = plan.users(before, dict(list(before.items())[1:]), prune_users=False, new_prune_users=True)
    verdict = plan.classify()
    assert verdict.outcome == "refused" and verdict.first.urn == urn
    assert "changes prune_users" in verdict.first.reason


def test_config_drift_is_refused_and_named():
    before = members(20)
    after = {**before, "jane.example.com": user_entry("jane.example.com", "00ujane")}
    plan = keyed_stack(before, after)
    rule = plan.add("update", "okta:index/appSignonPolicyRule:AppSignonPolicyRule", "kubesphere-okta-signon-rule",
                    {"factorMode": "1FA", "access": "ALLOW"}, {"factorMode": "2FA", "access": "ALLOW"})
    verdict = plan.classify()
    assert verdict.outcome == "refused"
    assert verdict.first.urn == rule and verdict.first.op == "update"
    assert verdict.first.line() == (
        "update kubesphere-okta-signon-rule (okta:index/appSignonPolicyRule:AppSignonPolicyRule): an app sign-on "
        "policy rule, changing factorMode: only a reviewed deploy changes it")


def test_a_replaced_app_is_refused():
    plan = Plan()
    plan.guards()
    app = plan.okta_app("replace", label="KubeSphere (production)")
    verdict = plan.classify()
    assert verdict.outcome == "refused" and verdict.first.urn == app and verdict.first.op == "replace"
    assert verdict.first.line().startswith("replace kubesphere-okta-app (okta:app/oAuth:OAuth): the Okta app")


def test_a_membership_resource_bound_to_another_cluster_is_refused():
    before = members(20)
    after = {**before, "jane.example.com": user_entry("jane.example.com", "00ujane")}
    plan = Plan()
    plan.guards()
    urn = plan.users(before, after, cluster=CLUSTER_A, live=CLUSTER_B)
    verdict = plan.classify()
    assert verdict.outcome == "refused" and verdict.first.urn == urn and verdict.first.kind == sync.WRONG_CLUSTER
    assert CLUSTER_A["kube_system_uid"] in verdict.first.reason and CLUSTER_B["kube_system_uid"] in verdict.first.reason


def test_a_membership_resource_on_a_cluster_the_guard_does_not_hold_is_refused():
    before = members(20)
    after = {**before, "jane.example.com": user_entry("jane.example.com", "00ujane")}
    plan = Plan()
    plan.guards(cluster=CLUSTER_A)
    urn = plan.users(before, after, cluster=CLUSTER_B, live=CLUSTER_B)
    verdict = plan.classify()
    assert verdict.first.urn == urn and verdict.first.kind == sync.WRONG_CLUSTER
    assert "guard holds" in verdict.first.reason


def test_a_guard_that_changes_is_refused_even_alone():
    plan = Plan()
    plan.guards(cluster=CLUSTER_A, live=CLUSTER_B, op="update")
    verdict = plan.classify()
    assert verdict.outcome == "refused" and "cluster guard may only stay the same" in verdict.first.reason


def test_membership_changes_without_an_unchanged_guard_in_the_plan_are_refused():
    before = members(20)
    plan = Plan()  # no guard: a preview without --show-sames, or a program without the binding
    plan.users(before, {**before, "jane.example.com": user_entry("jane.example.com", "00ujane")})
    verdict = plan.classify()
    assert verdict.outcome == "refused" and verdict.first.kind == sync.UNCONFIRMED
    assert verdict.first.urn == plan.component_urn and "--show-sames" in verdict.first.reason


def test_a_secret_input_change_seen_only_in_the_saved_plan_is_refused():
    # The preview shows every secret as "[secret]"; the plan's inputDiff compares the real values.
    before = members(20)
    after = {**before, "jane.example.com": user_entry("jane.example.com", "00ujane")}
    plan = Plan()
    plan.guards()
    urn = plan.add("update", sync.USERS_TYPE, "kubesphere-okta-users",
                   {"users": before, "prune_users": False, "kubeconfig": "[secret]", "cluster": CLUSTER_A},
                   {"users": after, "prune_users": False, "kubeconfig": "[secret]", "cluster": CLUSTER_A},
                   plan_input_keys={"users", "kubeconfig"})
    verdict = plan.classify()
    assert verdict.first.urn == urn and "changes kubeconfig" in verdict.first.reason


def test_a_step_the_plan_holds_but_the_preview_did_not_show_is_refused():
    plan = Plan()
    plan.guards()
    hidden = plan.okta_app("update", label="changed", in_preview=False)
    verdict = plan.classify()
    assert verdict.first.urn == hidden and "not in the preview" in verdict.first.reason


def test_the_first_refused_step_is_the_first_in_the_engine_order():
    plan = Plan()
    plan.guards()
    first = plan.okta_app("update", label="changed")
    plan.add("update", "kubernetes:core/v1:Secret", "kubesphere-okta-identity-provider",
             {"type": "config.kubesphere.io/identityprovider", "data": "a"},
             {"type": "config.kubesphere.io/identityprovider", "data": "b"})
    verdict = plan.classify()
    assert verdict.first.urn == first and len(verdict.refusals) == 2
    assert "First refused step: `update kubesphere-okta-app" in verdict.summary("prod")


# Release 0.2's per-member objects (main's model until the keyed resources land).
USER_V1 = "kubernetes:iam.kubesphere.io/v1beta1:User"
GRB_V1 = "kubernetes:iam.kubesphere.io/v1beta1:GlobalRoleBinding"


def per_member_stack(count: int, *, retain: bool = True) -> tuple[Plan, list[str]]:
    plan = Plan()
    plan.guards()
    names = list(members(count))
    for username in names:
        body = user_entry(username, f"00u-{username}")
        plan.add("same", USER_V1, f"kubesphere-okta-user-{username}", body, body, retain=retain)
    return plan, names


def test_per_member_joins_and_leaves_are_applied():
    plan, names = per_member_stack(20)
    plan.add("delete", USER_V1, f"kubesphere-okta-user-{names[0]}", user_entry(names[0], "00u0"), None, retain=True)
    plan.add("delete", GRB_V1, f"kubesphere-okta-globalrolebinding-{names[0]}-platform-regular",
             binding_entry(names[0]), None)
    plan.add("create", USER_V1, "kubesphere-okta-user-jane.example.com", None,
             user_entry("jane.example.com", "00ujane"), retain=True)
    verdict = plan.classify()
    assert verdict.outcome == "apply", verdict.summary("prod")


def test_per_member_user_deleted_without_prune_users_is_refused():
    plan, names = per_member_stack(20)
    urn = plan.add("delete", USER_V1, f"kubesphere-okta-user-{names[0]}", user_entry(names[0], "00u0"), None,
                   retain=False)
    verdict = plan.classify()
    assert verdict.first.urn == urn and verdict.first.kind == sync.USER_DELETION
    assert "pruneUsers is false" in verdict.first.reason
    assert plan.classify(prune_users=True).outcome == "apply"


def test_per_member_user_replaced_is_refused():
    plan, names = per_member_stack(5)
    urn = plan.add("replace", USER_V1, "kubesphere-okta-user-x.example.com", user_entry("x.example.com", "00ux"),
                   user_entry("x.example.com", "00ux", "new@example.com"), retain=True)
    verdict = plan.classify()
    assert verdict.first.urn == urn and verdict.first.kind == sync.USER_DELETION


def test_per_member_burst_is_held():
    plan, names = per_member_stack(20)
    for username in names[:3]:  # 3 of 20 > 10%
        plan.add("delete", USER_V1, f"kubesphere-okta-user-{username}", user_entry(username, "00u"), None, retain=True)
    verdict = plan.classify()
    assert verdict.outcome == "held" and "3 of 20 members leave" in verdict.first.reason
    assert plan.classify(threshold=sync.BurstThreshold(percent=15)).outcome == "apply"


@pytest.mark.parametrize("document, message", [
    ({"steps": [{"op": "same"}]}, "no 'op' and 'urn'"),
    ([], "not `pulumi preview --json` output"),
])
def test_a_preview_in_another_format_is_refused_with_what_it_should_be(document, message):
    with pytest.raises(sync.PlanFormatError, match=message):
        sync.classify(document)


def test_a_plan_in_another_format_is_refused_with_what_it_should_be():
    with pytest.raises(sync.PlanFormatError, match="--save-plan"):
        sync.classify({"steps": []}, {"resourcePlans": {}})


# The fixtures pin the CLI's formats (tests/pulumi_plans.py names the upstream structs).
PREVIEW_STEP_FIELDS = {"op", "urn", "provider", "oldState", "newState", "diffReasons", "replaceReasons", "detailedDiff"}
RESOURCE_V3_FIELDS = {"urn", "custom", "delete", "id", "type", "inputs", "outputs", "parent", "protect", "taint",
                      "external", "dependencies", "initErrors", "provider", "propertyDependencies",
                      "pendingReplacement", "additionalSecretOutputs", "aliases", "customTimeouts", "importID",
                      "retainOnDelete", "deletedWith", "replaceWith", "created", "modified", "sourcePosition",
                      "stackTrace", "ignoreChanges", "hideDiff", "replaceOnChanges", "replacementTrigger",
                      "refreshBeforeUpdate", "viewOf", "resourceHooks", "extensionRef", "snippetID"}
GOAL_V1_FIELDS = {"type", "name", "custom", "inputDiff", "outputDiff", "parent", "protect", "dependencies", "provider",
                  "propertyDependencies", "deleteBeforeReplace", "ignoreChanges", "additionalSecretOutputs",
                  "aliases", "structuredAliases", "id", "customTimeouts"}


@pytest.mark.parametrize("name, outcome", [("membership-join", "apply"), ("app-replaced", "refused")])
def test_the_pinned_fixtures_have_the_cli_format_and_classify(name, outcome):
    preview = json.loads((FIXTURES / f"{name}.preview.json").read_text())
    plan = json.loads((FIXTURES / f"{name}.plan.json").read_text())
    assert set(preview) <= {"config", "steps", "diagnostics", "duration", "changeSummary", "maybeCorrupt"}
    assert set(plan) <= {"manifest", "config", "resourcePlans"} and set(plan["manifest"]) <= {"time", "magic", "version", "plugins"}
    for step in preview["steps"]:
        assert set(step) <= PREVIEW_STEP_FIELDS
        for state in (step.get("oldState"), step.get("newState")):
            assert state is None or set(state) <= RESOURCE_V3_FIELDS
    for resource_plan in plan["resourcePlans"].values():
        assert set(resource_plan) <= {"goal", "steps", "state", "seed"}
        assert "goal" not in resource_plan or set(resource_plan["goal"]) <= GOAL_V1_FIELDS
    assert sync.classify(preview, plan).outcome == outcome


# Properties.
usernames = st.from_regex(r"[a-z][a-z0-9]{0,6}\.example\.com", fullmatch=True)
groups = st.dictionaries(usernames, st.just(None), min_size=0, max_size=40).map(
    lambda d: {u: user_entry(u, f"00u-{u}") for u in d})
OTHER_TYPES = sorted(sync.KNOWN_TYPES)


@st.composite
def membership_plans(draw):
    """A 0.3 stack whose mappings gain and lose members, never more leavers than the threshold."""
    plan = Plan()
    plan.guards()
    plan.okta_app()
    before = draw(groups)
    allowed = sync.BurstThreshold().allowed(len(before))
    leaving = draw(st.lists(st.sampled_from(sorted(before)), unique=True, max_size=allowed)) if before else []
    joining = draw(groups)
    after = {**{u: v for u, v in before.items() if u not in leaving}, **joining}
    plan.users(before, after, prune_users=draw(st.booleans()))
    plan.bindings("platform-regular", {u: binding_entry(u) for u in before}, {u: binding_entry(u) for u in after})
    return plan


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(membership_plans())
def test_property_membership_only_plans_are_applied(plan):
    verdict = plan.classify()
    assert verdict.refusals == (), verdict.summary("prod")
    assert verdict.outcome in ("apply", "none")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(membership_plans(), st.sampled_from(OTHER_TYPES), st.sampled_from(["create", "update", "delete", "replace"]),
       st.data())
def test_property_any_other_step_is_refused_and_named_first(plan, type_, op, data):
    other = plan.add(op, type_, "kubesphere-okta-other", {"a": 1}, {"a": 2})
    # Anywhere in the engine's order: move it to a drawn position in the preview.
    step = plan.steps.pop()
    plan.steps.insert(data.draw(st.integers(0, len(plan.steps))), step)
    verdict = plan.classify()
    assert verdict.refused and verdict.first.urn == other and verdict.first.op == op


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 200), st.integers(0, 200), st.integers(0, 100), st.integers(0, 5))
def test_property_leavers_are_held_exactly_over_the_threshold(size, leaving, percent, minimum):
    leaving = min(leaving, size)
    before = members(size)
    after = dict(list(before.items())[leaving:])
    plan = Plan()
    plan.guards()
    plan.users(before, after)
    threshold = sync.BurstThreshold(percent, minimum)
    verdict = plan.classify(threshold=threshold)
    assert verdict.held == (leaving > max(minimum, size * percent // 100))
    assert not verdict.refused


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(membership_plans(), st.sampled_from(["users", "bindings"]))
def test_property_a_membership_change_on_another_cluster_is_refused(plan, which):
    target = sync.USERS_TYPE if which == "users" else sync.ROLE_BINDINGS_TYPE
    for step in plan.steps:
        if sync.type_of(step["urn"]) == target and step["op"] == "update":
            step["newState"]["inputs"]["cluster"] = dict(CLUSTER_B)
            verdict = plan.classify()
            assert verdict.refused and any(r.kind == sync.WRONG_CLUSTER and r.urn == step["urn"]
                                           for r in verdict.refusals)


def test_the_classifier_imports_no_pulumi():
    import subprocess
    import sys

    code = "import sys, infra.membership_sync; print(sorted(m for m in sys.modules if m.split('.')[0] == 'pulumi'))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_two_offline_plans_become_the_steps_a_preview_would_show():
    component = {"type": sync.COMPONENT_TYPE, "name": "ks", "parent": None, "protect": False, "retainOnDelete": False,
                 "urn": "urn:pulumi:prod::p::kubesphere-okta:index:KubeSphereOktaIntegration::ks", "inputs": {}}

    def user(name, email, retain=True):
        return {"type": USER_V1, "name": f"ks-user-{name}", "parent": "ks", "protect": False, "retainOnDelete": retain,
                "urn": f"urn:pulumi:prod::p::{sync.COMPONENT_TYPE}${USER_V1}::ks-user-{name}",
                "inputs": {"metadata": {"name": name}, "spec": {"email": email}}}

    before = [component, user("ann", "ann@a"), user("bob", "bob@a"), user("cy", "cy@a", retain=False)]
    after = [component, user("ann", "ann@a"), user("bob", "bob@b"), user("dee", "dee@a")]
    steps = {s["urn"].rsplit("::", 1)[1]: s for s in sync.preview_from_offline_plans(before, after, "prod")["steps"]}
    assert {name: s["op"] for name, s in steps.items()} == {
        "offline": "same", "ks": "same", "ks-user-ann": "same", "ks-user-bob": "update", "ks-user-dee": "create",
        "ks-user-cy": "delete"}
    assert steps["ks-user-bob"]["diffReasons"] == ["spec"]
    assert "retainOnDelete" not in steps["ks-user-cy"]["oldState"]  # as ResourceV3 omits a false one
    assert steps["ks-user-ann"]["newState"]["retainOnDelete"] is True
    assert steps["ks-user-dee"]["newState"]["parent"] == component["urn"]
    verdict = sync.classify(sync.preview_from_offline_plans(before, after, "prod"), None, prune_users=False,
                            check_cluster=False)
    assert verdict.first.kind == sync.USER_DELETION and verdict.first.urn.endswith("ks-user-cy")

@pytest.mark.parametrize("changed, outcome", [
    ({"identities": {"provider_name": "Okta", "users": [["jane.example.com", "00ujane"]]}}, "apply"),
    ({"planned": [{"name": "jane.example.com-admin"}], "identities": {"users": []}}, "apply"),
    ({"references": [{"scope": "workspace", "target": "team-b"}]}, "refused"),
    ({"identities": {"users": []}, "kube_context": "other"}, "refused"),
])
def test_the_preview_check_follows_members_but_a_changed_mapping_or_cluster_is_refused(changed, outcome):
    # The component's preview check (<name>-role-references) records the planned Users' identities;
    # those change with every join and leave, and the check writes nothing to the cluster.
    plan, _names = per_member_stack(20)
    before = {"references": [], "identities": {"provider_name": "Okta", "users": []}, "planned": [],
              "kube_context": "prod"}
    plan.add("update", "pulumi-python:dynamic:Resource", "kubesphere-okta-role-references", before, {**before, **changed})
    verdict = plan.classify()
    assert verdict.outcome == outcome, verdict.summary("prod")


def test_a_preview_check_whose_secret_input_changes_is_refused():
    # The kubeconfig reads "[secret]" on both sides of the preview; only the saved plan shows it changed.
    plan, _names = per_member_stack(20)
    before = {"identities": {"users": []}, "kubeconfig": "[secret]"}
    urn = plan.add("update", "pulumi-python:dynamic:Resource", "kubesphere-okta-role-references", before,
                   {**before, "identities": {"users": [["jane.example.com", "00ujane"]]}},
                   plan_input_keys={"identities", "kubeconfig"})
    verdict = plan.classify()
    assert verdict.refused and verdict.first.urn == urn
