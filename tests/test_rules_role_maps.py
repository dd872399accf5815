"""The Okta-group -> KubeSphere role maps (docs/usernames-and-roles.md,
docs/workspace-and-project-roles.md): what each map accepts, what its refusals say, and the
warning for a global role that no KubeSphere version builds in."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubesphere_okta import kubesphere_iam, rules

SCOPED = {
    "workspace_role_bindings": ("workspace", "{'KS Team A': {'team-a': 'regular'}}"),
    "project_role_bindings": ("namespace", "{'KS Team A': {'team-a-dev': 'operator'}}"),
}


def refusal(call):
    with pytest.raises(ValueError) as raised:
        call()
    return str(raised.value)


# --- workspace_role_bindings / project_role_bindings ---------------------------------------------

@pytest.mark.parametrize("field", SCOPED)
@pytest.mark.parametrize("value", [["KS Team A"], "KS Team A", None, 7])
def test_a_scoped_map_that_is_not_a_mapping_is_refused_with_an_example_of_its_own_kind(field, value):
    what, example = SCOPED[field]
    message = refusal(lambda: rules.check_scoped_role_bindings(value, field=field))
    assert message == (f"{field} must map Okta groups (name or 00g... id) to {{{what}: role}}, "
                       f"e.g. {example}, got {value!r}")


@pytest.mark.parametrize("field", SCOPED)
@pytest.mark.parametrize("targets", [{}, "team-a", ["team-a"], None])
def test_a_group_must_map_to_a_non_empty_mapping_of_targets(field, targets):
    what, example = SCOPED[field]
    message = refusal(lambda: rules.check_scoped_role_bindings({"Ops": targets}, field=field))
    role = "<workspace role>" if what == "workspace" else "<project role>"
    shape = {"team-a": f"{{Ops: {{<{what}>: team-a}}}}", str(["team-a"]): f"{{Ops: {{team-a: {role}}}}}"}.get(
        str(targets), f"{{Ops: {{<{what}>: {role}}}}}")  # the user's own names where they gave any
    assert message == (f"{field}: group 'Ops' must map to a non-empty {{{what}: role}} mapping, "
                       f"e.g. {shape}, got {targets!r}")


@pytest.mark.parametrize("field", SCOPED)
@pytest.mark.parametrize("group", ["", " ", " Ops", "Ops ", 7, None])
def test_a_scoped_map_refuses_a_group_key_naming_its_own_field(field, group):
    message = refusal(lambda: rules.check_scoped_role_bindings({group: {"team-a": "admin"}}, field=field))
    assert message == (f"{field}: {group!r} is not an Okta group name or id (empty, padded with spaces, or longer "
                       "than 255 characters)")


@pytest.mark.parametrize("field", SCOPED)
@pytest.mark.parametrize("target", ["a" * 64, "Team-A", "team_a", "-team", "team.a", "", 7, None])
def test_a_target_that_is_not_a_dns1123_label_of_at_most_63_characters_is_refused(field, target):
    what, _ = SCOPED[field]
    message = refusal(lambda: rules.check_scoped_role_bindings({"Ops": {target: "admin"}}, field=field))
    assert message.startswith(f"{field}: {target!r} (group 'Ops') is not a KubeSphere {what} name")


@given(st.from_regex(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", fullmatch=True),
       st.sampled_from(sorted(SCOPED)))
@settings(max_examples=60)
def test_every_dns1123_label_up_to_63_characters_is_a_target(target, field):
    assert rules.check_scoped_role_bindings({"Ops": {target: "admin"}}, field=field) == [("Ops", [(target, "admin")])]


@pytest.mark.parametrize("field", SCOPED)
def test_a_target_of_exactly_63_characters_is_accepted_and_64_refused(field):
    assert rules.check_scoped_role_bindings({"Ops": {"t" * 63: "admin"}}, field=field) == [("Ops", [("t" * 63, "admin")])]
    with pytest.raises(ValueError, match="is not a KubeSphere"):
        rules.check_scoped_role_bindings({"Ops": {"t" * 64: "admin"}}, field=field)


@pytest.mark.parametrize("field", SCOPED)
@pytest.mark.parametrize("role", ["Admin", "", "a" * 254, "team a", None, 7])
def test_a_scoped_role_that_is_not_a_role_object_name_is_refused(field, role):
    what, _ = SCOPED[field]
    message = refusal(lambda: rules.check_scoped_role_bindings({"Ops": {"team-a": role}}, field=field))
    assert message.startswith(f"{field}: role {role!r} for {what} 'team-a' (group 'Ops') is not a role name (")


def test_scoped_maps_keep_groups_and_targets_in_the_order_given():
    value = {"B": {"team-b": "viewer", "team-a": "admin"}, "A": {"team-a": "team-a-custom.role"}}
    assert rules.check_scoped_role_bindings(value, field="project_role_bindings") == [
        ("B", [("team-b", "viewer"), ("team-a", "admin")]), ("A", [("team-a", "team-a-custom.role")])]


# --- role_bindings: built-in global roles and the warning for others ------------------------------

@pytest.mark.parametrize("version", rules.SUPPORTED_VERSIONS)
def test_built_in_global_roles_draw_no_warning(version):
    roles = kubesphere_iam.built_in_global_roles(version)
    bindings = {f"G{i}": role for i, role in enumerate(roles)}
    assert rules.global_role_warnings({"kubesphere_version": version, "role_bindings": bindings}) == []


@pytest.mark.parametrize("version, built_in", [
    ("3.2", "platform-admin, platform-regular, users-manager, workspaces-manager"),
    ("3.4", "platform-admin, platform-regular, platform-self-provisioner"),
    ("4.1.3", "platform-admin, platform-regular, platform-self-provisioner"),
])
def test_a_misspelt_global_role_is_warned_with_the_closest_built_in_name(version, built_in):
    values = {"kubesphere_version": version, "role_bindings": {"Ops": "platform-regualr", "Admins": "platform-admin"}}
    assert rules.global_role_warnings(values) == [
        f"role_bindings: role 'platform-regualr' for group 'Ops' is not built into KubeSphere {version} "
        "(did you mean 'platform-regular'?); it must exist as a custom GlobalRole, or the binding grants nothing. "
        f"Built-in: {built_in}"
    ]


def test_a_custom_global_role_is_warned_without_a_guess_once_per_group():
    values = {"kubesphere_version": "3.4", "role_bindings": {"Ops": "auditor", "Audit": "auditor"}}
    warnings = rules.global_role_warnings(values)
    assert [w.split(";")[0] for w in warnings] == [
        "role_bindings: role 'auditor' for group 'Ops' is not built into KubeSphere 3.4",
        "role_bindings: role 'auditor' for group 'Audit' is not built into KubeSphere 3.4",
    ]
    assert rules.integration_warnings(values) == warnings


@pytest.mark.parametrize("values", [
    {"kubesphere_version": "9.9", "role_bindings": {"Ops": "auditor"}},
    {"role_bindings": {"Ops": "auditor"}},
    {"kubesphere_version": "3.4", "role_bindings": {"Ops": "Auditor"}},
    {"kubesphere_version": "3.4", "role_bindings": ["auditor"]},
    {"kubesphere_version": "3.4"},
])
def test_no_role_warning_when_the_version_or_the_map_is_not_valid(values):
    # Their own checks report those; a warning would guess at what was meant.
    assert rules.global_role_warnings(values) == []


@given(st.dictionaries(st.sampled_from(["A", "B", "C", "D"]),
                       st.sampled_from(["platform-admin", "platform-regular", "platform-self-provisioner"]),
                       min_size=1))
@settings(max_examples=40)
def test_a_built_in_role_the_release_lacks_is_one_problem_fixed_for_exactly_the_groups_naming_it(bindings):
    values = {"kubesphere_version": "3.2", "group_names": list(bindings), "mapping_method": "lookup",
              "role_bindings": bindings}
    problems = [p for p in rules.cross_field_problems(values) if p[0] == "role_bindings"]
    lacking = [group for group, role in bindings.items() if role == "platform-self-provisioner"]
    if not lacking:
        assert problems == []
        return
    (problem,) = problems
    assert "'platform-self-provisioner' is built into KubeSphere 3.3, 3.4, 4.1.1, 4.1.2, 4.1.3, not into 3.2 " in problem[1]
    assert [(fix.field, fix.action, fix.key, fix.value) for fix in problem.fixes] == [
        ("role_bindings", "set_key", group, "platform-regular") for group in lacking]
    assert rules.global_role_warnings(values) == []
