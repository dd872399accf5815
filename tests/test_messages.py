"""Every message is right about its own problem: the cases a new user met, as they met them.

Each case is a stack file planned with ``python -m infra.plan`` (the program's own message, as
``pulumi up`` prints it) or the component called directly (its own argument names).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pulumi
import pytest
import yaml

from infra import plan
from infra.config import IntegrationConfig, load, provider_config_keys
from kubesphere_okta import IntegrationArgsError, rules
from kubesphere_okta.args import resolve_args

ROOT = Path(__file__).resolve().parent.parent
DEV = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]  # 4.1
STAGING = yaml.safe_load((ROOT / "Pulumi.staging.yaml").read_text())["config"]  # 3.4
SNAKE_FIELDS = [f for f in IntegrationConfig.model_fields if "_" in f]


def plan_stack(capsys, tmp_path: Path, document: dict, *extra: str) -> tuple[int, str, str]:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "Pulumi.case.yaml").write_text(yaml.safe_dump(document))
    code = plan.main(["--stack", "case", "--project-dir", str(tmp_path), *extra])
    out, err = capsys.readouterr()
    return code, out, err


def problems(err: str) -> dict[str, list[str]]:
    """{config key: [message, fix]} of a configuration error."""
    found: dict[str, list[str]] = {}
    for key, message, fix in re.findall(r"^  - (\S+): (.*)\n    fix: (.*)$", err, re.M):
        found.setdefault(key, []).append((message, fix))
    return found


def only(err: str, key: str) -> tuple[str, str]:
    listed = problems(err)[key]
    assert len(listed) == 1, listed
    return listed[0]


def assert_config_terms(text: str) -> None:
    """Program messages name config keys, never the component's snake_case arguments."""
    leaked = [f for f in SNAKE_FIELDS if re.search(rf"(?<![\w-]){f}(?![\w-])", text)]
    assert not leaked, f"argument names in a program message: {leaked}\n{text}"


# --- each fix belongs to its own problem ----------------------------------------------------------

def test_role_bindings_without_lookup_fixes_the_mapping_method(capsys, tmp_path):
    config = {**DEV, "kubesphere-okta:roleBindings": {"KubeSphere Developers": "platform-regular"}}
    code, _, err = plan_stack(capsys, tmp_path, {"config": config})
    message, fix = only(err, "kubesphere-okta:roleBindings")
    assert code == 1 and "mappingMethod 'lookup'" in message
    assert fix == "pulumi config set kubesphere-okta:mappingMethod lookup"
    assert_config_terms(err)


def test_token_lifetime_on_4_1_is_removed_not_set(capsys, tmp_path):
    config = {**DEV, "kubesphere-okta:accessTokenMaxAge": "1h"}
    _, _, err = plan_stack(capsys, tmp_path, {"config": config})
    message, fix = only(err, "kubesphere-okta:accessTokenMaxAge")
    assert "remove it" in message and fix == "pulumi config rm kubesphere-okta:accessTokenMaxAge"


def test_reauthentication_without_a_sign_on_policy_is_removed(capsys, tmp_path):
    config = {**DEV, "kubesphere-okta:reauthenticateEvery": "PT8H", "kubesphere-okta:signOnPolicy": "false"}
    _, _, err = plan_stack(capsys, tmp_path, {"config": config})
    message, fix = only(err, "kubesphere-okta:reauthenticateEvery")
    assert "signOnPolicy" in message and fix == "pulumi config rm kubesphere-okta:reauthenticateEvery"


def test_role_group_not_allowed_is_added_to_the_allowed_groups_at_the_next_index(capsys, tmp_path):
    config = {**DEV, "kubesphere-okta:mappingMethod": "lookup",
              "kubesphere-okta:roleBindings": {"KubeSphere Admins": "platform-admin", "00g1abcdefghijklmnop": "platform-regular"}}
    _, _, err = plan_stack(capsys, tmp_path, {"config": config})
    message, fix = only(err, "kubesphere-okta:roleBindings")
    assert "'KubeSphere Admins'" in message
    # (the stack file's mapping is written with sorted keys: the id comes first)
    assert fix == ("pulumi config set --path 'kubesphere-okta:groupIds[0]' 00g1abcdefghijklmnop && "
                   "pulumi config set --path 'kubesphere-okta:groupNames[1]' 'KubeSphere Admins'")


def test_a_trailing_slash_fix_is_the_users_own_issuer_without_it(capsys, tmp_path):
    config = {**DEV, "kubesphere-okta:issuer": "https://acme.okta.com/"}
    _, _, err = plan_stack(capsys, tmp_path, {"config": config})
    assert only(err, "kubesphere-okta:issuer")[1] == "pulumi config set kubesphere-okta:issuer https://acme.okta.com"


# --- no value that may hold a credential is echoed ---------------------------------------------

@pytest.mark.parametrize("key, value", [
    ("kubesphere-okta:consoleUrl", "https://admin:P4ssw0rd@kubesphere.example.com"),
    ("kubesphere-okta:consoleUrl", "http://admin:P4ssw0rd@kubesphere.example.com"),
    ("kubesphere-okta:issuer", "https://admin:P4ssw0rd@acme.okta.com/"),
    ("kubesphere-okta:issuer", "https://admin:P4ssw0rd@acme.okta.com"),
])
def test_url_credentials_are_never_echoed(capsys, tmp_path, key, value):
    code, out, err = plan_stack(capsys, tmp_path, {"config": {**DEV, key: value}})
    assert code == 1 and "P4ssw0rd" not in out + err and "admin:" not in err
    assert "***@" in err


def test_url_credentials_are_not_echoed_by_the_component_either():
    with pytest.raises(IntegrationArgsError) as raised:
        resolve_args({"console_url": "https://admin:P4ssw0rd@ks.example.com", "issuer": "https://u:P4ssw0rd@a.okta.com/",
                      "kubesphere_version": "4.1", "group_names": ["A"]})
    assert "P4ssw0rd" not in str(raised.value)


def test_a_secure_value_is_described_as_encrypted_never_shown(capsys, tmp_path):
    config = {**DEV, "kubesphere-okta:consoleUrl": {"secure": "v1:c2VjcmV0Y2lwaGVydGV4dA=="}}
    _, _, err = plan_stack(capsys, tmp_path, {"config": config})
    message, _ = only(err, "kubesphere-okta:consoleUrl")
    assert "encrypted secure: value" in message and "[secret]" not in message
    assert "c2VjcmV0Y2lwaGVydGV4dA" not in err


def test_a_decrypted_secret_that_fails_its_check_is_not_echoed():
    secret = "https://admin:hunter2@ks.example.com?x=1"
    with pytest.raises(Exception) as raised:
        load({"consoleUrl": secret, "kubesphereVersion": "4.1", "groupNames": '["A"]'}, stack="dev",
             okta={"orgName": "acme"}, secret_keys={"kubesphere-okta:consoleUrl"})
    text = str(raised.value)
    assert "hunter2" not in text and "an encrypted secure: value, not shown" in text and "--secret" in text


def test_plaintext_provider_credentials_are_warned_about_without_the_value(capsys, tmp_path):
    config = {**DEV, "okta:apiToken": "00PlainTextTokenValue"}
    code, out, _ = plan_stack(capsys, tmp_path, {"config": config}, "--format", "json")
    warnings = json.loads(out)["warnings"]
    assert code == 0 and any("okta:apiToken is stored in plain text" in w for w in warnings)
    assert "00PlainTextTokenValue" not in out
    encrypted = {**DEV, "okta:apiToken": {"secure": "v1:ZW5jcnlwdGVk"}}
    _, out, _ = plan_stack(capsys, tmp_path, {"config": encrypted}, "--format", "json")
    assert not any("plain text" in w for w in json.loads(out)["warnings"])


# --- every problem at once, unknown names with a did-you-mean ----------------------------------

def test_a_misspelt_component_argument_hides_no_other_problem():
    with pytest.raises(IntegrationArgsError) as raised:
        resolve_args({"console_url": "http://ks.example.com", "issuer": "https://a.okta.com", "kubesphere_version": "9",
                      "group_names": ["A"], "mapping_methd": "lookup"})
    fields = [field for field, _ in raised.value.problems]
    assert fields[0] == "mapping_methd" and {"console_url", "kubesphere_version"} <= set(fields)
    assert "did you mean 'mapping_method'?" in str(raised.value) and "rename mapping_methd to mapping_method" in str(raised.value)


def test_a_misspelt_argument_value_is_still_checked_under_the_intended_name():
    with pytest.raises(IntegrationArgsError) as raised:
        resolve_args({"console_url": "https://ks.example.com", "isuer": "https://a.okta.com/", "kubesphere_version": "4.1",
                      "group_names": ["A"]})
    fields = [field for field, _ in raised.value.problems]
    assert fields == ["isuer", "issuer"] and "must not end with a slash" in str(raised.value)


def test_component_messages_use_argument_names():
    with pytest.raises(IntegrationArgsError) as raised:
        resolve_args({"console_url": "https://ks.example.com", "issuer": "https://a.okta.com", "kubesphere_version": "4.1",
                      "group_names": ["A"], "role_bindings": {"A": "platform-admin"}, "access_token_max_age": "1h"})
    text = str(raised.value)
    assert "mapping_method" in text and "mappingMethod" not in text and "accessTokenMaxAge" not in text
    assert "fix: set mapping_method='lookup'" in text and "fix: remove access_token_max_age" in text


@pytest.mark.parametrize("key, expected", [
    ("kubesphere_okta:consoleUrl", "unknown namespace 'kubesphere_okta' (did you mean kubesphere-okta:?)"),
    ("kubesphereokta:consoleUrl", "unknown namespace 'kubesphereokta' (did you mean kubesphere-okta:?)"),
    ("okta:orgname", "the okta provider has no setting 'orgname' (did you mean okta:orgName?)"),
    ("kubernetes:contxt", "the kubernetes provider has no setting 'contxt' (did you mean kubernetes:context?)"),
])
def test_misspelt_namespaces_and_provider_keys_are_named_with_what_was_meant(capsys, tmp_path, key, expected):
    code, _, err = plan_stack(capsys, tmp_path, {"config": {**DEV, key: "value"}})
    message, fix = only(err, key)
    assert code == 1 and message.startswith(expected)
    assert fix.startswith(f"pulumi config rm {key} && pulumi config set ")


def test_an_unrelated_namespace_is_reported_as_ignored(capsys, tmp_path):
    code, _, err = plan_stack(capsys, tmp_path, {"config": {**DEV, "aws:region": "eu-west-1"}})
    message, fix = only(err, "aws:region")
    assert code == 1 and "so this value is ignored" in message and fix == "pulumi config rm aws:region"


def test_a_configuration_section_instead_of_config_is_named(capsys, tmp_path):
    code, _, err = plan_stack(capsys, tmp_path, {"configuration": DEV})
    assert code == 1 and "unknown top-level key 'configuration' (did you mean 'config'?)" in err


def test_every_problem_is_listed_at_once_in_config_terms(capsys, tmp_path):
    config = {**STAGING, "kubesphere-okta:consoleUrl": "http://u:p@ks.example.com", "okta:orgname": "x",
              "kubesphere-okta:requireMfa": "no", "kubesphere-okta:roleBindings": {"Nope": "platform-admin"},
              "kubesphere-okta:loginConfirmation": "false", "kubesphere-okta:usernameClaim": "email",
              "kubesphere-okta:provderName": "Okta"}
    code, _, err = plan_stack(capsys, tmp_path, {"config": config})
    listed = problems(err)
    assert code == 1
    assert {"okta:orgname", "kubesphere-okta:consoleUrl", "kubesphere-okta:requireMfa", "kubesphere-okta:roleBindings",
            "kubesphere-okta:usernameClaim", "kubesphere-okta:provderName"} <= set(listed)
    assert f"has {sum(map(len, listed.values()))} configuration problem(s)" in err
    assert_config_terms(err)


# --- one boolean syntax ---------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["true", "True", "false", "False", "TRUE", "no", "yes", "1", "0", "on", ""])
def test_booleans_are_read_exactly_as_pulumi_config_get_bool_reads_them(text):
    try:
        expected = _pulumi_get_bool(text)
    except pulumi.config.ConfigTypeError:
        expected = None
    try:
        got = rules.parse_bool(text)
    except ValueError:
        got = None
    assert got == expected


def _pulumi_get_bool(text: str):
    pulumi.runtime.set_all_config({"case:flag": text})
    try:
        return pulumi.Config("case").get_bool("flag")
    finally:
        pulumi.runtime.set_all_config({})


def test_the_model_and_the_cross_field_rules_read_a_boolean_the_same_way(capsys, tmp_path):
    # "False" turns the sign-on policy off for both: the cross-field rule sees it too.
    config = {**DEV, "kubesphere-okta:signOnPolicy": "False", "kubesphere-okta:reauthenticateEvery": "PT1H"}
    _, _, err = plan_stack(capsys, tmp_path, {"config": config})
    assert "kubesphere-okta:reauthenticateEvery" in problems(err)
    # "no" is not a boolean anywhere: one problem, on the key itself.
    config = {**DEV, "kubesphere-okta:signOnPolicy": "no", "kubesphere-okta:reauthenticateEvery": "PT1H"}
    _, _, err = plan_stack(capsys, tmp_path, {"config": config})
    assert list(problems(err)) == ["kubesphere-okta:signOnPolicy"]
    assert "signOnPolicy must be true or false, got 'no'" in err


# --- roles per KubeSphere version -----------------------------------------------------------------

def _roles(version: str, role: str) -> dict:
    return {**STAGING, "kubesphere-okta:kubesphereVersion": version, "kubesphere-okta:mappingMethod": "lookup",
            "kubesphere-okta:roleBindings": {STAGING["kubesphere-okta:groupNames"][0]: role}}


def test_platform_self_provisioner_is_refused_on_3_2_and_planned_from_3_3(capsys, tmp_path):
    code, _, err = plan_stack(capsys, tmp_path, {"config": _roles("3.2", "platform-self-provisioner")})
    message, fix = only(err, "kubesphere-okta:roleBindings")
    assert code == 1 and "built into KubeSphere 3.3, 3.4, 4.1.1, 4.1.2, 4.1.3, not into 3.2 " in message
    assert "platform-admin, platform-regular" in message and "platform-regular" in fix
    code, _, err = plan_stack(capsys, tmp_path, {"config": _roles("3.3", "platform-self-provisioner")})
    assert code == 0, err


def test_a_role_typo_is_warned_about_listing_the_built_in_roles(capsys, tmp_path):
    code, out, _ = plan_stack(capsys, tmp_path, {"config": _roles("3.2", "platform-admn")}, "--format", "json")
    warnings = [w for w in json.loads(out)["warnings"] if "platform-admn" in w]
    assert code == 0 and len(warnings) == 1
    assert "did you mean 'platform-admin'?" in warnings[0] and "Built-in: platform-admin, platform-regular" in warnings[0]
    assert_config_terms(warnings[0])


def test_the_component_warns_in_its_own_terms():
    values = {"kubesphere_version": "4.1", "role_bindings": {"A": "platform-admn"}}
    warning = next(w for w in rules.integration_warnings(values) if "platform-admn" in w)
    assert warning.startswith("role_bindings:") and "platform-self-provisioner" in warning


def test_provider_keys_come_from_the_installed_provider_sdks():
    assert {"orgName", "baseUrl", "apiToken", "maxRetries"} <= provider_config_keys("pulumi_okta")
    assert {"kubeconfig", "context"} <= provider_config_keys("pulumi_kubernetes")


# --- one vocabulary: config keys in a stack, and where a value came from -----------------------------

def test_a_strict_identities_refusal_names_the_config_keys(capsys, tmp_path):
    members = tmp_path / "members.yaml"
    group = DEV.get("kubesphere-okta:groupNames", ["KubeSphere Users"])[0]
    members.write_text(yaml.safe_dump({group: [{"id": "00u1", "login": "admin@acme.com", "email": "admin@acme.com"}]}))
    config = {**DEV, "kubesphere-okta:mappingMethod": "lookup", "kubesphere-okta:usernameFormat": "dns-safe",
              "kubesphere-okta:strictIdentities": True, "kubesphere-okta:reservedUsernames": ["admin.acme.com"],
              "kubesphere-okta:roleBindings": {group: "platform-regular"}}
    code, _, err = plan_stack(capsys, tmp_path, {"config": config}, "--okta-members", str(members))
    assert code == 1 and "strictIdentities is on" in err and "(reservedUsernames)" in err, err
    assert_config_terms(err)


def test_the_plaintext_token_warning_names_where_the_value_came_from(capsys, tmp_path):
    token = "00aBcDeFgHiJkLmNoPqRsTuVwXyZ"
    code, out, _ = plan_stack(capsys, tmp_path, {"config": DEV}, "--config", f"okta:apiToken={token}")
    assert code == 0 and "okta:apiToken is given in plain text with --config" in out and token not in out
    code, out, _ = plan_stack(capsys, tmp_path, {"config": {**DEV, "okta:apiToken": token}})
    assert code == 0 and "okta:apiToken is stored in plain text in Pulumi.case.yaml" in out and token not in out


# --- nothing silently ignored: the --okta-members file describes exactly the mapped groups -----------

PROD = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"]


@pytest.mark.parametrize("listed, expected", [
    ({"KubeSphere Admins": [], "KubeSphere Developers": [], "Contractors": []},
     "lists 'Contractors', which stack 'case' maps to no KubeSphere role (roleBindings, workspaceRoleBindings, "
     "projectRoleBindings, clusterRoleBindings), so those members are ignored"),
    ({"KubeSphere Admins": []}, "does not list 'KubeSphere Developers' (in roleBindings), so the plan shows no member"),
])
def test_an_okta_members_file_that_misses_or_adds_a_group_is_reported(capsys, tmp_path, listed, expected):
    members = tmp_path / "members.yaml"
    members.write_text(yaml.safe_dump(listed))
    code, out, err = plan_stack(capsys, tmp_path, {"config": PROD}, "--okta-members", str(members), "--format", "json")
    assert code == 0, err
    assert [w for w in json.loads(out)["warnings"] if expected in w]


def test_an_okta_members_file_of_exactly_the_mapped_groups_plans_without_warning(capsys, tmp_path):
    members = tmp_path / "members.yaml"
    members.write_text(yaml.safe_dump({"KubeSphere Admins": [], "KubeSphere Developers": []}))
    code, out, err = plan_stack(capsys, tmp_path, {"config": PROD}, "--okta-members", str(members), "--format", "json")
    assert code == 0, err
    assert not [w for w in json.loads(out)["warnings"] if "--okta-members" in w]


# --- nothing silently ignored: a kubeconfig the program would fail to use ----------------------------

GOOD_KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://10.0.0.1:6443"}}]
users: [{name: u, user: {token: s3cr3t-token}}]
contexts: [{name: ctx, context: {cluster: c, user: u}}]
current-context: ctx
"""


@pytest.mark.parametrize("case, key, expected", [
    ("missing file", "kubernetes:kubeconfig", "is neither the path of an existing file nor kubeconfig contents"),
    ("not YAML", "kubernetes:kubeconfig", "is not valid YAML at line 2"),
    ("no such context", "kubernetes:context", "context 'nope' (kubernetes:context) does not exist (contexts: 'ctx')"),
])
def test_a_kubeconfig_the_program_would_fail_to_use_is_reported(capsys, tmp_path, case, key, expected):
    path = tmp_path / "kubeconfig.yaml"
    config = {**DEV, "kubernetes:kubeconfig": str(path)}
    if case == "not YAML":
        path.write_text("clusters: [\n")
    elif case == "no such context":
        path.write_text(GOOD_KUBECONFIG)
        config["kubernetes:context"] = "nope"
    code, _, err = plan_stack(capsys, tmp_path, {"config": config})
    message, fix = only(err, key)
    assert code == 1 and expected in message and "s3cr3t-token" not in err
    assert fix.startswith(f"pulumi config set {key} '<")
    assert_config_terms(err)
    assert "kube_context" not in err


def test_a_kubeconfig_that_resolves_plans(capsys, tmp_path):
    path = tmp_path / "kubeconfig.yaml"
    path.write_text(GOOD_KUBECONFIG)
    code, _, err = plan_stack(capsys, tmp_path, {"config": {**DEV, "kubernetes:kubeconfig": str(path),
                                                            "kubernetes:context": "ctx"}})
    assert code == 0, err
