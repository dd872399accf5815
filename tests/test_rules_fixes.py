"""Every problem ``rules`` reports carries the fix that resolves it (``Problem.fixes``).

The program renders each fix as a ``pulumi config`` command and the component as an argument
change (rules.Fix), so a fix with the wrong field, action or value sends the user to change the
wrong setting. ``Problem`` compares as its ``(field, message)`` pair; the fixes are compared here
separately, in full.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubesphere_okta import rules
from kubesphere_okta.rules import Fix

GROUP_ID = "00g1abcdefghijklmnop"
BASE = {"console_url": "https://c.example.com", "issuer": "https://e.okta.com", "kubesphere_version": "4.1",
        "group_ids": [GROUP_ID]}


def only(problems, field):
    """The one problem filed under ``field``."""
    found = [p for p in problems if p[0] == field]
    assert len(found) == 1, problems
    return found[0]


def test_no_allowed_group_is_fixed_by_allowing_a_group_the_user_names():
    problem = only(rules.cross_field_problems({"kubesphere_version": "3.4"}), "group_ids")
    assert "group_ids" in problem[1] and "group_names" in problem[1]
    assert problem.fixes == (Fix("group_names", "append", rules.GROUP_PLACEHOLDER),)
    assert rules.is_placeholder(rules.GROUP_PLACEHOLDER)


@pytest.mark.parametrize("version, fixed", [("v3.4", "3.4"), ("3.4.1", "3.4"), ("V4.1", "4.1"), ("4.1.02", "4.1.2"),
                                            ("3.1", rules.VERSION_PLACEHOLDER), ("4.2", rules.VERSION_PLACEHOLDER),
                                            ("4.1.7", rules.VERSION_PLACEHOLDER), ("latest", rules.VERSION_PLACEHOLDER)])
def test_a_version_is_fixed_to_the_release_it_names_never_to_another(version, fixed):
    problem = only(rules.integration_problems({**BASE, "kubesphere_version": version}), "kubesphere_version")
    assert problem.fixes == (Fix("kubesphere_version", "set", fixed),)
    with pytest.raises(ValueError):
        rules.check_kubesphere_version(rules.VERSION_PLACEHOLDER)


# A label value (rules.check_provider_name) longer than 4.1's 45 characters; "-", "_" and "." may
# sit anywhere inside, so the first 45 characters can end in one of them.
long_names = st.builds(
    lambda head, middle, tail: head + middle + tail,
    st.sampled_from("aZ9"),
    st.text(alphabet="abX-_.", min_size=44, max_size=60),
    st.sampled_from("z0"),
)


@given(long_names, st.sampled_from(sorted(rules.V4_VERSIONS)))
@settings(max_examples=60)
def test_a_provider_name_too_long_for_4_1_is_fixed_by_a_name_4_1_accepts(name, version):
    rules.check_provider_name(name)  # valid on 3.x
    problem = only(rules.cross_field_problems({"kubesphere_version": version, "provider_name": name,
                                               "group_ids": [GROUP_ID]}), "provider_name")
    assert repr(name) in problem[1] and f"is {len(name)} characters" in problem[1] and "at most 45" in problem[1]
    (fix,) = problem.fixes
    assert (fix.field, fix.action, fix.key) == ("provider_name", "set", None)
    # The longest prefix of at most 45 characters that is itself a valid provider name.
    assert fix.value == name[:45].rstrip("-_.")
    assert rules.check_provider_name(fix.value) == fix.value and len(fix.value) <= 45
    assert not rules.cross_field_problems({"kubesphere_version": version, "provider_name": fix.value,
                                           "group_ids": [GROUP_ID]})


@pytest.mark.parametrize("name, fixed", [("a" * 44 + "-.b", "a" * 44), ("a" * 44 + "X-b", "a" * 44 + "X")])
def test_a_provider_name_cut_at_a_separator_loses_the_separator_and_nothing_else(name, fixed):
    problem = only(rules.cross_field_problems({**BASE, "provider_name": name}), "provider_name")
    assert problem.fixes == (Fix("provider_name", "set", fixed),)


@pytest.mark.parametrize("field", ["access_token_max_age", "access_token_inactivity_timeout"])
def test_a_token_lifetime_on_4_1_is_fixed_by_removing_it(field):
    problem = only(rules.cross_field_problems({**BASE, field: "1h"}), field)
    assert problem[1].startswith(f"{field} applies to KubeSphere 3.x only")
    assert problem.fixes == (Fix(field, "remove"),)


def test_reauthentication_without_a_sign_on_policy_is_fixed_by_removing_it():
    problem = only(rules.cross_field_problems({**BASE, "sign_on_policy": False, "reauthenticate_every": "PT1H"}),
                   "reauthenticate_every")
    assert "sign_on_policy" in problem[1] and "remove it" in problem[1]
    assert problem.fixes == (Fix("reauthenticate_every", "remove"),)


def test_a_first_login_without_confirmation_is_fixed_by_turning_confirmation_back_on():
    problem = only(rules.cross_field_problems({**BASE, "login_confirmation": False}), "login_confirmation")
    assert "preferred_username" in problem[1] and "'dns-safe'" in problem[1]
    assert problem.fixes == (Fix("login_confirmation", "set", True),)


def test_an_email_username_claim_without_confirmation_is_fixed_by_dns_safe_names():
    problem = only(rules.cross_field_problems({**BASE, "login_confirmation": False, "username_claim": "email"}),
                   "username_claim")
    assert "DNS-1123" in problem[1] and "'dns-safe'" in problem[1]
    assert problem.fixes == (Fix("username_claim", "remove"), Fix("username_format", "set", "dns-safe"))


@pytest.mark.parametrize("field, bindings", [
    ("role_bindings", {"Ops": "platform-regular"}),
    ("workspace_role_bindings", {"Ops": {"team-a": "regular"}}),
    ("project_role_bindings", {"Ops": {"team-a-dev": "operator"}}),
    ("cluster_role_bindings", {"Ops": "cluster-viewer"}),
])
def test_a_role_map_without_lookup_is_fixed_by_the_lookup_mapping_method(field, bindings):
    values = {**BASE, "group_names": ["Ops"], field: bindings}
    problem = only(rules.cross_field_problems({**values, "mapping_method": "auto"}), field)
    assert "mapping_method 'lookup'" in problem[1]
    assert problem.fixes == (Fix("mapping_method", "set", "lookup"),)
    assert rules.cross_field_problems({**values, "mapping_method": "lookup"}) == []


@pytest.mark.parametrize("field", rules.MEMBER_MAPS)
def test_mapped_groups_not_allowed_to_use_the_app_are_fixed_by_allowing_each_where_it_belongs(field):
    other_id = "00gZZZZZZZZZZZZZZZZZ"
    role = {"role_bindings": "platform-regular", "cluster_role_bindings": "cluster-viewer",
            "workspace_role_bindings": {"team-a": "regular"}, "project_role_bindings": {"team-a-dev": "viewer"}}[field]
    bindings = {"Ops": role, GROUP_ID: role, other_id: role, "Dev Team": role}
    problems = rules.cross_field_problems({**BASE, "mapping_method": "lookup", "group_names": ["Ops"], field: bindings})
    problem = only(problems, field)
    assert f"{other_id!r}" in problem[1] and "'Dev Team'" in problem[1] and "'Ops'" not in problem[1]
    assert problem.fixes == (Fix("group_ids", "append", other_id), Fix("group_names", "append", "Dev Team"))


@pytest.mark.parametrize("issuer, fixed", [
    ("https://e.okta.com", "https://e.okta.com/oauth2/aus1"),
    ("https://e.okta.com/", "https://e.okta.com/oauth2/aus1"),
    ("https://e.okta.com/oauth2/default", "https://e.okta.com/oauth2/aus1"),
    ("https://e.okta.com/oauth2/default/", "https://e.okta.com/oauth2/aus1"),
    ("https://u:secret@e.okta.com/oauth2/default", "https://***@e.okta.com/oauth2/aus1"),
    ("https://SSO.ACME.BOX/", "https://SSO.ACME.BOX/oauth2/aus1"),
])
def test_a_custom_authorization_server_is_fixed_by_the_issuer_of_that_server(issuer, fixed):
    problem = only(rules.cross_field_problems({**BASE, "issuer": issuer, "authorization_server_id": "aus1"}),
                   "authorization_server_id")
    assert problem.fixes == (Fix("issuer", "set", fixed),)
    assert "'aus1'" in problem[1] and "/oauth2/aus1" in problem[1]
    assert f"(got {rules.redact(repr(issuer))})" in problem[1] and "secret" not in problem[1]


def test_a_global_role_the_version_lacks_is_fixed_for_each_group_that_names_it():
    bindings = {"Builders": "platform-self-provisioner", "Admins": "platform-admin",
                "Makers": "platform-self-provisioner"}
    problems = rules.cross_field_problems({**BASE, "kubesphere_version": "3.2", "mapping_method": "lookup",
                                           "group_names": list(bindings), "role_bindings": bindings})
    problem = only(problems, "role_bindings")
    assert problem[1] == rules.missing_built_in_role_problems(["platform-self-provisioner"], "3.2")[0]
    assert problem.fixes == (Fix("role_bindings", "set_key", "platform-regular", key="Builders"),
                             Fix("role_bindings", "set_key", "platform-regular", key="Makers"))


@pytest.mark.parametrize("field", ["require_mfa", "sign_on_policy", "login_confirmation", "protect_app",
                                   "prune_users", "verify_login", "strict_identities", "adopt_existing_provider"])
@pytest.mark.parametrize("text, meant", [("yes", True), ("On", True), ("1", True), ("no", False), ("OFF", False),
                                         ("maybe", True)])
def test_a_switch_that_is_not_a_boolean_is_fixed_to_what_it_meant(field, text, meant):
    base = {**BASE, "kubesphere_version": "3.4"}  # adopt_existing_provider has an effect on 3.x only
    problem = only(rules.integration_problems({**base, field: text}), field)
    assert problem[1] == f"{field} must be true or false, got {text!r}"
    assert problem.fixes == (Fix(field, "set", meant),)
    assert not [p for p in rules.integration_problems({**base, field: True}) if p[0] == field]


@pytest.mark.parametrize("values, field, suggestion", [
    ({"console_url": "http://console.example.com/"}, "console_url", "https://console.example.com"),
    ({"console_url": "https://console.example.com/?x=1"}, "console_url", "https://console.example.com"),
    ({"issuer": "https://e.okta.com/"}, "issuer", "https://e.okta.com"),
    ({"issuer": " https://e.okta.com"}, "issuer", "https://e.okta.com"),
])
def test_a_check_that_knows_the_corrected_value_offers_it_as_the_fix(values, field, suggestion):
    problem = only(rules.integration_problems({**BASE, **values}), field)
    assert problem.fixes == (Fix(field, "set", suggestion),)
    assert rules.integration_problems({**BASE, field: suggestion}) == []


@pytest.mark.parametrize("values, field", [
    ({"console_url": "ftp://console.example.com"}, "console_url"),
    ({"console_url": "https://*.example.com/?x"}, "console_url"),
    ({"issuer": "https://u:pw@e.okta.com/"}, "issuer"),
    ({"provider_name": "-"}, "provider_name"),
])
def test_a_check_that_cannot_know_the_corrected_value_offers_no_fix(values, field):
    problem = only(rules.integration_problems({**BASE, **values}), field)
    assert problem.fixes == ()


@given(st.sampled_from(["a", "b"]), st.one_of(st.none(), st.text(max_size=5), st.integers()))
@settings(max_examples=30)
def test_problem_from_error_turns_exactly_a_known_suggestion_into_a_set_fix(field, suggestion):
    error = rules.RuleError(f"{field} is wrong", suggestion=suggestion)
    assert error.suggestion == suggestion
    problem = rules.problem_from_error(field, error)
    assert tuple(problem) == (field, f"{field} is wrong")
    expected = () if suggestion is None else (Fix(field, "set", suggestion),)
    assert problem.fixes == expected
    assert rules.problem_from_error(field, ValueError("plain")).fixes == ()


def test_every_fix_names_a_known_action():
    values = {**BASE, "kubesphere_version": "3.2", "group_ids": [], "console_url": "http://c.example.com/",
              "login_confirmation": False, "username_claim": "email", "sign_on_policy": False,
              "reauthenticate_every": "PT1H", "authorization_server_id": "aus1", "require_mfa": "x",
              "role_bindings": {"Ops": "platform-self-provisioner"}}
    problems = rules.integration_problems(values)
    fixes = [fix for problem in problems for fix in problem.fixes]
    assert fixes and all(fix.action in {"set", "remove", "append", "set_key", "rename"} for fix in fixes)
    assert all(re.fullmatch(r"[a-z_]+", fix.field) for fix in fixes)


def test_a_fix_inside_a_list_or_mapping_is_said_in_argument_terms_with_its_place():
    from kubesphere_okta.args import argument_fix

    assert argument_fix(Fix("reserved_usernames", "set", "admin", path=(0,))) == "set reserved_usernames[0] = 'admin'"
    assert argument_fix(Fix("workspace_role_bindings", "remove", path=("KS Team A", ""))) == \
        "remove workspace_role_bindings['KS Team A']['']"
    assert argument_fix(Fix("require_mfa", "set", True)) == "set require_mfa=True"
