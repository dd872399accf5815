"""Stack config for usernames and group-to-role mapping, through the config model and the program."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pytest
import yaml

from infra import program
from infra.config import ConfigError, load
from tests.pulumi_harness import OktaAndKubernetesMocks, run

ROOT = Path(__file__).resolve().parent.parent
GROUPS = {"KubeSphere Admins": "00g1admadmadmadmadma", "KubeSphere Developers": "00g1devdevdevdevdevd"}
MEMBERS = {
    "00g1admadmadmadmadma": [{"id": "00uann", "login": "ann@example.com", "email": "ann@example.com"}],
    "00g1devdevdevdevdevd": [{"id": "00uann", "login": "ann@example.com", "email": "ann@example.com"},
                             {"id": "00udan", "login": "Dan_Dev@example.com", "email": "dan@example.com"}],
}
BASE = {"consoleUrl": "https://c.example.com", "kubesphereVersion": "4.1.3", "groupNames": '["KubeSphere Admins"]'}


def prod_config() -> dict[str, str]:
    raw = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"]
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}


def test_prod_example_stack_plans_users_and_bindings():
    rec = run(program.main, stack="prod", config=prod_config(),
              mocks=OktaAndKubernetesMocks(groups=GROUPS, group_members=MEMBERS))
    bindings = {r.inputs["metadata"]["name"]: r.inputs["roleRef"]["name"]
                for r in rec.objects("kubernetes:iam.kubesphere.io/v1beta1:GlobalRoleBinding")}
    assert bindings == {"ann.example.com-platform-admin": "platform-admin",
                        "dan-dev.example.com-platform-regular": "platform-regular"}
    assert rec.one("okta:app/oAuth:OAuth").inputs["userNameTemplateType"] == "CUSTOM"


def test_role_bindings_keep_their_config_order():
    model, _ = load({**BASE, "mappingMethod": "lookup",
                     "roleBindings": '{"KubeSphere Admins": "platform-admin", "00g1devdevdevdevdevd": "platform-regular"}',
                     "groupIds": '["00g1devdevdevdevdevd"]'}, stack="dev", okta={"orgName": "example"})
    assert list(model.component_args(stack="dev")["role_bindings"].items()) == [
        ("KubeSphere Admins", "platform-admin"), ("00g1devdevdevdevdevd", "platform-regular")]


def test_identity_keys_reach_the_component():
    model, _ = load({**BASE, "usernameFormat": "dns-safe", "loginConfirmation": "false", "pruneUsers": "true",
                     "reservedUsernames": '["ops.example.com"]', "authorizationServerId": "default"},
                    stack="dev", okta={"orgName": "example"})
    args = model.component_args(stack="dev")
    assert (args["username_format"], args["prune_users"], args["reserved_usernames"], args["authorization_server_id"]) == (
        "dns-safe", True, ["ops.example.com"], "default")


def test_role_bindings_without_lookup_name_the_key_and_the_fix():
    with pytest.raises(ConfigError) as raised:
        load({**BASE, "roleBindings": '{"KubeSphere Admins": "platform-admin"}'}, stack="dev", okta={"orgName": "example"})
    message = str(raised.value)
    assert "kubesphere-okta:roleBindings: roleBindings pre-provisions" in message
    # The fix belongs to the problem (mapping method), not to the key the problem is filed under.
    assert "fix: pulumi config set kubesphere-okta:mappingMethod lookup" in message
    assert "role_bindings" not in message and "mapping_method" not in message


def test_bad_username_format_is_one_listed_problem():
    with pytest.raises(ConfigError, match="kubesphere-okta:usernameFormat: usernameFormat must be"):
        load({**BASE, "usernameFormat": "email"}, stack="dev", okta={"orgName": "example"})


ADMIN_LOGIN_MEMBERS = {"00g1admadmadmadmadma": [{"id": "00uroot", "login": "admin", "email": "root@example.com"}], **{
    k: v for k, v in MEMBERS.items() if k != "00g1admadmadmadmadma"}}


def test_program_skips_a_member_who_would_be_admin_exports_them_and_provisions_the_others():
    def main():
        integration = program.main()
        return {"skipped": integration.skipped_members}

    rec = run(main, stack="prod", config=prod_config(),
              mocks=OktaAndKubernetesMocks(groups=GROUPS, group_members=ADMIN_LOGIN_MEMBERS))
    assert [(s["oktaId"], s["login"]) for s in rec.outputs["skipped"]] == [("00uroot", "admin")]
    assert "would become KubeSphere user 'admin', a reserved local account" in rec.outputs["skipped"][0]["reason"]
    users = {r.inputs["metadata"]["name"] for r in rec.objects("kubernetes:iam.kubesphere.io/v1beta1:User")}
    assert users == {"ann.example.com", "dan-dev.example.com"}


def test_strict_identities_reports_a_member_who_would_be_admin_as_a_run_error_naming_them():
    config = {**prod_config(), "kubesphere-okta:strictIdentities": "true"}
    with pytest.raises(pulumi.RunError, match=r"Okta user 'admin' \(00uroot\): would become KubeSphere user 'admin'"):
        run(program.main, stack="prod", config=config,
            mocks=OktaAndKubernetesMocks(groups=GROUPS, group_members=ADMIN_LOGIN_MEMBERS))


def test_strict_identities_reaches_the_component_and_defaults_to_off():
    model, _ = load({**BASE, "strictIdentities": "true"}, stack="dev", okta={"orgName": "example"})
    assert model.component_args(stack="dev")["strict_identities"] is True
    model, _ = load(BASE, stack="dev", okta={"orgName": "example"})
    assert model.component_args(stack="dev")["strict_identities"] is False


def test_platform_self_provisioner_on_3_2_is_refused_naming_the_key_and_the_roles_3_2_has():
    config = {**BASE, "kubesphereVersion": "3.2", "mappingMethod": "lookup",
              "roleBindings": '{"KubeSphere Admins": "platform-self-provisioner"}'}
    with pytest.raises(ConfigError) as raised:
        load(config, stack="dev", okta={"orgName": "example"})
    assert ("kubesphere-okta:roleBindings: role 'platform-self-provisioner' is built into KubeSphere 3.3, 3.4, "
            "4.1.1, 4.1.2, 4.1.3, not into 3.2 ") in str(raised.value)
    assert "Use one of platform-admin, platform-regular" in str(raised.value)
    load({**config, "kubesphereVersion": "3.3"}, stack="dev", okta={"orgName": "example"})  # ships it: fine
