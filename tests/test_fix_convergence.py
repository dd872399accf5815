"""Every fix line fixes: applied as `pulumi config set/rm [--path]` would apply it (infra/config_set.py),
the printed fixes of a broken stack remove its problems in one round, and add none.

A fix may hold a placeholder where only the user knows the value (their console URL, a workspace
name): the property test fills it as a user would; applied literally, the plan refuses it.
"""

from __future__ import annotations

import copy
import re
import shlex
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra import config_set
from infra.config import NAMESPACE, ConfigError, load
from infra.stack_files import stack_config
from kubesphere_okta import rules

PROJECT = {"name": NAMESPACE, "runtime": "python"}
NS = f"{NAMESPACE}:"

#: Valid stacks of the kinds people write (full keys, values as the stack file holds them).
VALID: list[dict[str, Any]] = [
    {"okta:orgName": "acme", "okta:baseUrl": "okta.com", NS + "consoleUrl": "https://kubesphere.example.com",
     NS + "kubesphereVersion": "4.1", NS + "groupNames": ["KubeSphere Users"]},
    {NS + "consoleUrl": "https://ks.acme.io", NS + "issuer": "https://acme.okta.com", NS + "kubesphereVersion": 3.4,
     NS + "groupNames": ["KS Admins", "KS Team A", "KS SRE"], NS + "mappingMethod": "lookup",
     NS + "usernameFormat": "dns-safe", NS + "requireMfa": True, NS + "reservedUsernames": ["ops"],
     NS + "roleBindings": {"KS Admins": "platform-admin"},
     NS + "workspaceRoleBindings": {"KS Team A": {"team-a": "regular"}},
     NS + "projectRoleBindings": {"KS Team A": {"team-a-dev": "operator"}},
     NS + "clusterRoleBindings": {"KS SRE": "cluster-viewer"}, NS + "scopes": ["openid", "email"]},
    {NS + "consoleUrl": "https://console.corp.example", NS + "issuer": "https://corp.okta.com/oauth2/default",
     NS + "authorizationServerId": "default", NS + "kubesphereVersion": "4.1.3",
     NS + "groupIds": ["00g1abcdefghijklmnop"], NS + "groupNames": ["Ünits/EU"], NS + "mappingMethod": "lookup",
     NS + "roleBindings": {"Ünits/EU": "platform-regular"}, NS + "signOnPolicy": "false"},
]

#: What a user puts where a fix says only they know: a value of their own, valid for its place.
FILLED = {
    rules.CONSOLE_URL_PLACEHOLDER: "https://ks.mine.example", rules.VERSION_PLACEHOLDER: "4.1",
    "<workspace>": "team-z", "<namespace>": "team-z-dev", "<workspace role>": "viewer",
    "<project role>": "viewer", "<cluster role>": "cluster-viewer", "<global role>": "platform-regular",
    rules.GROUP_ID_PLACEHOLDER: "00g9zzzzzzzzzzzzzzzz", "<your-org>": "acme", "<auto or lookup>": "lookup", "<your Okta issuer URL>": "https://acme.okta.com", "<okta-login or dns-safe>": "dns-safe",
}


def problems_of(stack: dict[str, Any], name: str = "dev") -> list[tuple[str, str, str]]:
    """The problems the program reports for a stack map; [] when it loads."""
    config = stack_config(PROJECT, {"config": stack}, name)
    values = config.config
    raw = {k[len(NS):]: v for k, v in values.items() if k.startswith(NS)}
    okta = {k[len("okta:"):]: v for k, v in values.items() if k.startswith("okta:")}
    try:
        load(raw, stack=name, okta=okta, full_config=values, secret_keys=config.secret_keys)
    except ConfigError as error:
        return error.problems
    return []


def fill(command: str, stack: dict[str, Any]) -> str:
    """``command`` with each placeholder replaced as the user would: an Okta group by one the stack allows."""
    groups = [g for g in stack.get(NS + "groupNames") or [] if isinstance(g, str) and g.strip() == g and g]
    filled = {**FILLED, rules.GROUP_PLACEHOLDER: groups[0] if groups else "KubeSphere Users"}
    return re.sub(r"<[^<>']+>", lambda m: filled.get(m.group(0), m.group(0)), command)


def apply_fixes(stack: dict[str, Any], problems, *, filled: bool = True) -> dict[str, Any]:
    result = copy.deepcopy(stack)
    for _, _, fix in problems:
        result = config_set.apply_commands(result, fill(fix, stack) if filled else fix, project=NAMESPACE)
    return result


def assert_converges(stack: dict[str, Any]) -> list[tuple[str, str, str]]:
    problems = problems_of(stack)
    assert problems, "the fault was not reported"
    fixed = apply_fixes(stack, problems)
    assert problems_of(fixed) == [], (problems, fixed)
    literal = apply_fixes(stack, problems, filled=False)
    if any(rules.PLACEHOLDER.search(w) for _, _, fix in problems for w in shlex.split(fix)):
        assert any("placeholder from a fix line" in p[1] for p in problems_of(literal)), literal
    return problems


def test_the_valid_stacks_are_valid():
    for stack in VALID:
        assert problems_of(stack) == []


# --- the cases of issue 22, each its own test -------------------------------------------------

def test_a_role_where_a_map_of_workspaces_belongs_is_fixed_under_the_users_group():
    stack = {**VALID[0], NS + "groupNames": ["KubeSphere Users"], NS + "mappingMethod": "lookup",
             NS + "workspaceRoleBindings": {"KubeSphere Users": "regular"}}
    (problem,) = assert_converges(stack)
    assert "{KubeSphere Users: {<workspace>: regular}}" in problem[1]
    assert problem[2] == ("pulumi config rm --path 'kubesphere-okta:workspaceRoleBindings[\"KubeSphere Users\"]' && "
                          "pulumi config set --path 'kubesphere-okta:workspaceRoleBindings[\"KubeSphere Users\"]"
                          "[\"<workspace>\"]' regular")
    assert "KS Team A" not in problem[2]


def test_an_empty_workspace_name_is_fixed_in_place():
    stack = {**VALID[1], NS + "workspaceRoleBindings": {"KS Team A": {"": "regular"}}}
    (problem,) = assert_converges(stack)
    assert '["KS Team A"][""]' in problem[2] and '["KS Team A"]["<workspace>"]' in problem[2]


def test_an_invalid_namespace_is_fixed_to_the_dns_name_it_was_meant_to_be():
    stack = {**VALID[1], NS + "projectRoleBindings": {"KS Team A": {"Team_A Dev": "operator"}}}
    (problem,) = assert_converges(stack)
    assert problem[2].endswith("""'kubesphere-okta:projectRoleBindings["KS Team A"]["team-a-dev"]' operator""")


def test_a_nested_cluster_map_is_fixed_to_the_one_role_it_holds():
    stack = {**VALID[1], NS + "clusterRoleBindings": {"KS SRE": {"host": "cluster-viewer"}}}
    (problem,) = assert_converges(stack)
    assert problem[2] == """pulumi config set --path 'kubesphere-okta:clusterRoleBindings["KS SRE"]' cluster-viewer"""


def test_a_list_shaped_role_map_keeps_the_users_groups_and_roles():
    stack = {**VALID[1], NS + "roleBindings": [{"KS Admins": "platform-admin"}, {"KS SRE": "platform-regular"}]}
    (problem,) = assert_converges(stack)
    assert "{KS Admins: platform-admin, KS SRE: platform-regular}" in problem[1]
    assert "KubeSphere Admins" not in problem[2]
    assert problem[2].startswith("pulumi config rm kubesphere-okta:roleBindings && ")


def test_a_list_of_roles_without_groups_asks_for_the_group():
    stack = {**VALID[1], NS + "roleBindings": ["platform-admin"]}
    (problem,) = assert_converges(stack)
    assert """roleBindings["<Okta group>"]' platform-admin""" in problem[2]


def test_each_bad_reserved_username_is_fixed_at_its_own_index():
    stack = {**VALID[1], NS + "reservedUsernames": ["Admin", "ops@example.com"]}
    (problem,) = assert_converges(stack)
    assert problem[2] == ("pulumi config set --path 'kubesphere-okta:reservedUsernames[1]' ops.example.com && "
                          "pulumi config set --path 'kubesphere-okta:reservedUsernames[0]' admin")


def test_a_mapping_method_in_the_wrong_case_is_fixed_to_the_same_method():
    stack = {**VALID[1], NS + "mappingMethod": "Lookup"}
    (problem,) = assert_converges(stack)
    assert problem[2] == "pulumi config set kubesphere-okta:mappingMethod lookup"


def test_an_unsupported_version_is_never_fixed_to_another_release():
    stack = {**VALID[0], NS + "kubesphereVersion": "3.1"}
    (problem,) = assert_converges(stack)
    assert "4.1'" not in problem[2] and rules.VERSION_PLACEHOLDER in problem[2]


def test_a_missing_console_url_gets_a_placeholder_the_plan_refuses():
    stack = {k: v for k, v in VALID[0].items() if k != NS + "consoleUrl"}
    (problem,) = assert_converges(stack)
    assert "example.com" not in problem[2] and rules.CONSOLE_URL_PLACEHOLDER in problem[2]


def test_a_key_under_a_foreign_namespace_is_reported_as_ignored_and_moved_with_its_value():
    stack = {k: v for k, v in VALID[0].items() if k != NS + "consoleUrl"}
    (problem,) = assert_converges({**stack, "myproject:consoleUrl": "https://ks.example.com"})
    assert problem[0] == "myproject:consoleUrl" and "ignored" in problem[1]
    assert problem[2] == ("pulumi config rm myproject:consoleUrl && "
                          "pulumi config set kubesphere-okta:consoleUrl https://ks.example.com")


def test_a_foreign_key_that_is_not_ours_is_reported_and_removed():
    (problem,) = assert_converges({**VALID[0], "aws:region": "eu-west-1"})
    assert "ignored" in problem[1] and problem[2] == "pulumi config rm aws:region"


def test_adopting_an_existing_provider_on_4_1_is_reported_as_having_no_effect():
    (problem,) = assert_converges({**VALID[0], NS + "adoptExistingProvider": True})
    assert "3.x only" in problem[1] and problem[2] == "pulumi config rm kubesphere-okta:adoptExistingProvider"
    assert problems_of({**VALID[1], NS + "adoptExistingProvider": True}) == []


def test_a_group_name_longer_than_okta_allows_is_refused():
    stack = {**VALID[0], NS + "groupNames": ["KubeSphere Users", "g" * 300]}
    (problem,) = assert_converges(stack)
    assert "255" in problem[1] and problem[2] == "pulumi config rm --path 'kubesphere-okta:groupNames[1]'"


# --- the rule, on generated single-fault stacks --------------------------------------------------

def _faults(stack: dict[str, Any]):
    """Strategies of one-key faults of ``stack`` (each a stack map with one thing wrong)."""
    def put(key, values):
        return st.sampled_from(values).map(lambda v: {**stack, NS + key: v})

    groups = [g for g in stack.get(NS + "groupNames", [])]
    group = groups[0]
    faults = [
        put("requireMfa", ["yes", "no", "on", "off", "maybe", "TRUE", "1", ""]),
        put("loginConfirmation", ["Yes", "N", "enabled"]),
        put("mappingMethod", ["Lookup", "LOOKUP", "lokup", "Auto", "manual"]),
        put("usernameFormat", ["DNS-safe", "dnssafe", "okta_login", "email"]),
        put("kubesphereVersion", ["3.1", "v3.4", "3.4.1", "4.2", "4.1.9", "latest", "V4.1", 4.0]),
        put("consoleUrl", ["ks.example.com", "ftp://ks.example.com", "http://ks.example.com", "https://ks.example.com/?a=1", "", "ks"]),
        put("groupNames", [[" " + group, *groups[1:]], [*groups, f"{group} "], [*groups, ""], [*groups, "x" * 300],
                           {g: 1 for g in groups}, *([group] if len(groups) == 1 else [])]),
        put("reservedUsernames", [["Admin"], ["ops", "Ops@Example.com", "admin"], ["a b", "ok"], "ops", [" ops"]]),
        put("scopes", ["openid", ["openid", "my scope"], ["openid", " email"]]),
        put("groupIds", ["00g1abc", ["00g1abc"], "00g1abcdefghijklmnop "]) if NS + "groupIds" not in stack else
        put("groupIds", [stack[NS + "groupIds"][0], [*stack[NS + "groupIds"], "00gshort"]]),
    ]
    required = [NS + "consoleUrl", NS + "kubesphereVersion", *(["okta:orgName"] if NS + "issuer" not in stack else []),
                *([NS + "groupNames"] if NS + "groupIds" not in stack else [])]
    faults.append(st.sampled_from(required).map(lambda k: {x: v for x, v in stack.items() if x != k}))
    ours = [k for k in stack if k.startswith(NS)]
    faults.append(st.sampled_from(ours).map(lambda k: {**{x: v for x, v in stack.items() if x != k},
                                                         "myproject:" + k[len(NS):]: stack[k]}))
    if NS + "issuer" in stack:
        faults.append(put("issuer", [stack[NS + "issuer"] + "/", " " + stack[NS + "issuer"],
                                     stack[NS + "issuer"][len("https://"):]]))
    if NS + "roleBindings" in stack:
        faults += [
            put("roleBindings", [[{group: "platform-admin"}], ["platform-admin"], "platform-admin",
                                 {group: "Platform Admin"}, {f" {group}": "platform-admin"}]),
            put("workspaceRoleBindings", [{group: "regular"}, {group: {"": "regular"}}, {group: {"Team_A": "regular"}},
                                          {group: ["team-a"]}, {group: {}}, [{group: {"team-a": "regular"}}],
                                          {group: {"team-a": "Regular User"}}]),
            put("projectRoleBindings", [{group: {"Team A Dev": "operator"}}, {group: "operator"}, {group: {"ok": "Op"}}]),
            put("clusterRoleBindings", [{group: {"host": "cluster-viewer"}}, {group: {"cluster-viewer": True}},
                                        {group: "Cluster Viewer"}, [{group: "cluster-viewer"}], {group: ["x"]}]),
        ]
    return st.one_of(*faults)


@given(st.sampled_from(range(len(VALID))).flatmap(lambda i: _faults(VALID[i])))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_printed_fixes_of_a_single_fault_converge_in_one_round(stack):
    assert_converges(stack)


def test_a_url_written_without_its_scheme_is_fixed_with_https():
    (problem,) = assert_converges({**VALID[0], NS + "consoleUrl": "kubesphere.example.com"})
    assert problem[2] == "pulumi config set kubesphere-okta:consoleUrl https://kubesphere.example.com"
    (problem,) = assert_converges({**VALID[1], NS + "issuer": "acme.okta.com"})
    assert problem[2] == "pulumi config set kubesphere-okta:issuer https://acme.okta.com"


def test_a_single_invalid_group_id_where_a_list_belongs_gets_a_placeholder_not_a_second_problem():
    (problem,) = assert_converges({**VALID[0], NS + "groupIds": "00g1abc"})
    assert problem[2].endswith("""'kubesphere-okta:groupIds[0]' '<Okta group id 00g...>'""")
