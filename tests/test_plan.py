"""`python -m infra.plan`: the real program under placeholder mocks, from the stack files alone."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Literal, Optional

import pytest
import yaml
from pydantic import BaseModel, ConfigDict

from infra import plan
from infra.config import ConfigError, load

ROOT = Path(__file__).resolve().parent.parent
STACKS = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))
FIXTURES = Path(__file__).parent / "fixtures" / "kubesphere-v3.4.1"
LDAP_AND_GITHUB = FIXTURES / "cluster-configuration-ldap-github.yaml"
CIPHERTEXT = "v1:PLANTESTciphertextNeverDecrypted=="


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class PlannedResourceShape(_Strict):
    type: str
    name: str
    parent: Optional[str]
    urn: str
    protect: bool
    retainOnDelete: bool
    inputs: dict[str, Any]


class KubeSphereShape(_Strict):
    kind: Literal["ClusterConfiguration", "Secret"]
    before: Optional[dict[str, Any]]
    after: Optional[dict[str, Any]]


class SkippedMemberShape(_Strict):
    oktaId: str
    login: str
    reason: str


class DeclaredObjectShape(_Strict):
    type: str
    name: str
    writtenBy: str
    inputs: dict[str, Any]



class SkippedObjectShape(_Strict):
    kind: str
    apiGroup: str
    namespace: str
    name: str
    user: str
    reason: str


class PlanShape(_Strict):
    """The documented shape of `--format json`."""

    stack: str
    operation: Literal["up", "destroy"]
    resources: list[PlannedResourceShape]
    objects: list[DeclaredObjectShape]
    kubesphere: KubeSphereShape
    warnings: list[str]
    skippedMembers: list[SkippedMemberShape]
    skippedObjects: list[SkippedObjectShape]
    logout: str


def _version(stack: str) -> str:
    return str(yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]["kubesphere-okta:kubesphereVersion"])


V3_STACK = next(s for s in STACKS if _version(s).startswith("3"))


def run_plan(capsys, *argv: str) -> tuple[int, str, str]:
    code = plan.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def json_plan(capsys, *argv: str) -> dict:
    code, out, err = run_plan(capsys, *argv, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def project_with(tmp_path: Path, stack: str, config: dict) -> Path:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))
    return tmp_path


@pytest.mark.parametrize("stack", STACKS)
def test_every_example_stack_plans(capsys, stack):
    code, out, err = run_plan(capsys, "--stack", stack)
    assert code == 0, err
    assert "okta:app/oAuth:OAuth" in out and "unified diff" in out


@pytest.mark.parametrize("stack", STACKS)
def test_json_plan_has_the_documented_shape(capsys, stack):
    document = PlanShape.model_validate(json_plan(capsys, "--stack", stack))
    names = {r.name for r in document.resources}
    assert document.stack == stack
    assert all(r.parent is None or r.parent in names for r in document.resources)
    assert all(o.writtenBy in names for o in document.objects)
    if document.kubesphere.kind == "Secret":  # 4.1: a Secret of ours alone, created by `pulumi up`
        assert document.kubesphere.before is None and document.kubesphere.after is not None
    else:  # 3.x: the live ClusterConfiguration, before and after the merge
        assert document.kubesphere.before is not None and document.kubesphere.after is not None


def test_v41_plan_shows_the_secret_as_written_with_the_client_secret_hidden(capsys):
    document = json_plan(capsys, "--stack", "dev")
    secret = document["kubesphere"]["after"]
    assert document["kubesphere"]["kind"] == "Secret" and document["kubesphere"]["before"] is None
    assert secret["type"] == "config.kubesphere.io/identityprovider"
    configuration = yaml.safe_load(secret["stringData"]["configuration.yaml"])
    assert configuration["provider"]["clientSecret"] == "[secret]"
    assert configuration["provider"]["clientID"].startswith("<client id of ")


def test_v41_destroy_leaves_no_secret(capsys):
    kubesphere = json_plan(capsys, "--stack", "dev", "--destroy")["kubesphere"]
    assert kubesphere["before"]["kind"] == "Secret" and kubesphere["after"] is None


def test_engine_marked_secret_inputs_are_shown_as_secret(capsys):
    resources = json_plan(capsys, "--stack", "dev")["resources"]
    secret = next(r for r in resources if r["type"] == "kubernetes:core/v1:Secret")
    assert secret["inputs"]["stringData"] == "[secret]"


def test_group_names_are_pending_lookups_not_invented_ids(capsys):
    resources = json_plan(capsys, "--stack", "dev")["resources"]
    assignments = next(r for r in resources if r["type"] == "okta:index/appGroupAssignments:AppGroupAssignments")
    assert [g["id"] for g in assignments["inputs"]["groups"]] == ["<lookup: group 'KubeSphere Developers'>"]


def test_v3_plan_merges_the_entry_into_the_live_cluster_configuration(capsys):
    kubesphere = json_plan(capsys, "--stack", V3_STACK, "--cluster-configuration", str(LDAP_AND_GITHUB))["kubesphere"]
    providers = kubesphere["after"]["spec"]["authentication"]["oauthOptions"]["identityProviders"]
    assert kubesphere["kind"] == "ClusterConfiguration"
    assert [p["name"] for p in providers] == ["LDAP", "github", "Okta"]
    assert providers[2]["provider"]["clientSecret"] == "[secret]"


def test_v3_destroy_keeps_the_ldap_provider(capsys):
    kubesphere = json_plan(capsys, "--stack", V3_STACK, "--destroy", "--cluster-configuration", str(LDAP_AND_GITHUB))["kubesphere"]
    before = kubesphere["before"]["spec"]["authentication"]["oauthOptions"]["identityProviders"]
    after = kubesphere["after"]["spec"]["authentication"]["oauthOptions"]["identityProviders"]
    assert [p["name"] for p in before] == ["LDAP", "github", "Okta"]
    assert [p["name"] for p in after] == ["LDAP", "github"]
    assert after[0] == {**before[0], "provider": {**before[0]["provider"], "managerPassword": "[secret]"}}


def test_broken_stack_file_exits_1_with_the_programs_message(capsys, tmp_path):
    config = {"kubesphere-okta:consoleUrl": "http://kubesphere.example.com", "kubesphere-okta:kubesphereVersion": "5.0",
              "okta:orgName": "example"}
    project = project_with(tmp_path, "broken", config)
    with pytest.raises(ConfigError) as raised:
        load({"consoleUrl": "http://kubesphere.example.com", "kubesphereVersion": "5.0"}, stack="broken", okta={"orgName": "example"})
    code, out, err = run_plan(capsys, "--stack", "broken", "--project-dir", str(project))
    assert code == 1 and out == ""
    assert err.strip() == str(raised.value)


def test_stack_file_that_is_not_yaml_exits_1_naming_the_file(capsys, tmp_path):
    project = project_with(tmp_path, "broken", {})
    (project / "Pulumi.broken.yaml").write_text("config:\n  kubesphere-okta:consoleUrl: [unclosed\n")
    code, _, err = run_plan(capsys, "--stack", "broken", "--project-dir", str(project))
    assert code == 1 and "Pulumi.broken.yaml is not valid YAML" in err


@pytest.mark.parametrize("stack", STACKS)
def test_secrets_never_appear_in_any_output(capsys, tmp_path, stack):
    base = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    config = {**base, "okta:apiToken": {"secure": CIPHERTEXT}, "kubernetes:kubeconfig": {"secure": CIPHERTEXT}}
    project = project_with(tmp_path, stack, config)
    for extra in ((), ("--destroy",), ("--format", "json"), ("--format", "json", "--destroy")):
        code, out, err = run_plan(capsys, "--stack", stack, "--project-dir", str(project), *extra)
        assert code == 0, err
        assert plan.PLACEHOLDER_CLIENT_SECRET not in out + err
        assert CIPHERTEXT not in out + err
        assert "[secret]" in out


@pytest.mark.parametrize("argv", [[], ["--stack"], ["--stack", "dev", "--format", "xml"], ["--stack", "no-such-stack"],
                                  ["--stack", "dev", "--cluster-configuration", "/no/such/file.yaml"]])
def test_bad_usage_exits_2(capsys, argv):
    with pytest.raises(SystemExit) as raised:
        plan.main(argv)
    assert raised.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_module_runs_as_a_command_with_plan_exit_status():
    result = subprocess.run([sys.executable, "-m", "infra.plan", "--stack", "dev"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "KubeSphere Secret kubesphere-system/identity-provider-okta after `pulumi up`" in result.stdout
    # The whole plan reached the pipe before the process ended (exit_now flushes; nothing is cut off).
    assert result.stdout.rstrip().endswith("+      - profile")


def test_the_command_exits_1_with_the_message_for_an_invalid_stack(tmp_path):
    base = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    project = project_with(tmp_path, "dev", {**base, "kubesphere-okta:consoleUrl": "not a url"})
    result = subprocess.run([sys.executable, "-m", "infra.plan", "--stack", "dev", "--project-dir", str(project)],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 1 and "consoleUrl" in result.stderr and result.stdout == ""


def test_group_members_are_listed_as_pending_lookups_when_roles_come_from_groups(capsys, tmp_path):
    base = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    config = {**base, "kubesphere-okta:roleBindings": {"KubeSphere Developers": "platform-regular"},
              "kubesphere-okta:mappingMethod": "lookup"}
    project = project_with(tmp_path, "dev", config)
    code, out, err = run_plan(capsys, "--stack", "dev", "--project-dir", str(project))
    assert code == 0, err
    assert "<lookup: members of group 'KubeSphere Developers'>" in out


def test_role_bindings_plan_users_and_bindings_for_given_members(capsys):
    members = str(plan.REPOSITORY / "examples" / "okta-members.yaml")
    document = json_plan(capsys, "--stack", "prod", "--okta-members", members)
    users = {r["inputs"]["metadata"]["name"]: r["inputs"]["metadata"]["annotations"]
             for r in document["objects"] if r["type"] == "kubernetes:iam.kubesphere.io/v1beta1:User"}
    assert users == {"ann.example.com": {"iam.kubesphere.io/identity-provider.Okta": "00u1ann0000000000000"},
                     "dan-dev.example.com": {"iam.kubesphere.io/identity-provider.Okta": "00u1dan0000000000000"},
                     "zoe.unicode.example.com": {"iam.kubesphere.io/identity-provider.Okta": "00u1zoe0000000000000"},
                     "okta.00u1bot0000000000000": {"iam.kubesphere.io/identity-provider.Okta": "00u1bot0000000000000"}}
    bindings = {r["inputs"]["metadata"]["name"]: r["inputs"]["roleRef"]["name"]
                for r in document["objects"] if r["type"] == "kubernetes:iam.kubesphere.io/v1beta1:GlobalRoleBinding"}
    assert bindings == {"ann.example.com-platform-admin": "platform-admin",
                        "dan-dev.example.com-platform-regular": "platform-regular",
                        "zoe.unicode.example.com-platform-regular": "platform-regular",
                        "okta.00u1bot0000000000000-platform-regular": "platform-regular"}
    assert [(m["oktaId"], m["login"]) for m in document["skippedMembers"]] == [("00u1nem0000000000000", "no.email@example.com")]


def test_members_who_get_no_user_are_shown_with_their_reason(capsys):
    members = str(plan.REPOSITORY / "examples" / "okta-members.yaml")
    status, out, _ = run_plan(capsys, "--stack", "prod", "--okta-members", members)
    assert status == 0
    assert ("Okta members skipped: no User, no GlobalRoleBinding (1; `pulumi up` warns and exports them as "
            "skippedMembers):\n  00u1nem0000000000000 'no.email@example.com': has no email;") in out


def test_nobody_skipped_shows_no_skipped_section(capsys):
    status, out, _ = run_plan(capsys, "--stack", "prod")
    assert status == 0 and "Okta members skipped" not in out


def test_role_bindings_without_members_say_the_members_are_pending(capsys):
    status, out, _ = run_plan(capsys, "--stack", "prod")
    assert status == 0
    assert "<lookup: members of group 'KubeSphere Admins'>" in out
    assert "kubernetes:iam.kubesphere.io/v1beta1:User" not in out


def test_malformed_members_file_is_a_usage_error_naming_the_shape(capsys, tmp_path):
    members = tmp_path / "members.yaml"
    members.write_text("KubeSphere Admins: jane@example.com\n")
    with pytest.raises(SystemExit) as raised:
        plan.main(["--stack", "prod", "--okta-members", str(members)])
    assert raised.value.code == 2
    assert "expected a mapping of Okta group (name or id) to a list of members" in capsys.readouterr().err


def test_a_members_file_in_json_reads_as_the_same_members_in_yaml(tmp_path):
    yaml_file = plan.REPOSITORY / "examples" / "okta-members.yaml"
    json_file = tmp_path / "members.json"
    json_file.write_text(json.dumps(yaml.safe_load(yaml_file.read_text())))
    assert plan.read_members(json_file) == plan.read_members(yaml_file)
    broken = tmp_path / "broken.json"
    broken.write_text('{"KubeSphere Admins": [')  # neither JSON nor YAML: YAML's error, naming the file
    with pytest.raises(plan.InvalidInput, match="broken.json is not valid YAML"):
        plan.read_members(broken)


# --- What `pulumi destroy` really does: protect and retain_on_delete ---------------------------

MEMBERS = str(ROOT / "examples" / "okta-members.yaml")


def test_prod_destroy_shows_the_app_protected_and_the_users_kept(capsys):
    code, out, err = run_plan(capsys, "--stack", "prod", "--destroy", "--okta-members", MEMBERS)
    assert code == 0, err
    assert "! kubesphere-okta-app  (okta:app/oAuth:OAuth)  PROTECTED: pulumi destroy fails here" in out
    assert ("= kubesphere-okta-users  (pulumi-python:dynamic/kubesphere-okta:KubeSphereUsers)  KEPT: its 4 Users "
            "stay in KubeSphere (pruneUsers is off)") in out
    assert "- kubesphere-okta-global-role-bindings  (pulumi-python:dynamic/kubesphere-okta:KubeSphereRoleBindings)" in out
    assert "1 protected, which stop the destroy" in out
    assert "pulumi config set kubesphere-okta:protectApp false" in out
    assert "pulumi state unprotect 'urn:pulumi:prod::kubesphere-okta::" in out


def test_prod_destroy_json_has_protect_retain_and_warnings(capsys):
    document = json_plan(capsys, "--stack", "prod", "--destroy", "--okta-members", MEMBERS)
    by_name = {r["name"]: r for r in document["resources"]}
    assert document["operation"] == "destroy"
    assert by_name["kubesphere-okta-app"]["protect"] is True
    assert by_name["kubesphere-okta-app"]["retainOnDelete"] is False
    users = [r for r in document["objects"] if r["type"].endswith(":User")]
    assert users and all(u["writtenBy"] == "kubesphere-okta-users" for u in users)
    assert not by_name["kubesphere-okta-users"]["retainOnDelete"]  # its provider keeps the Users itself
    assert any("kubesphere-okta-app" in w and "pulumi state unprotect" in w for w in document["warnings"])
    assert sum(f"keeps the {len(users)} Users of kubesphere-okta-users" in w for w in document["warnings"]) == 1


def test_up_marks_protected_and_retained_resources(capsys):
    code, out, _ = run_plan(capsys, "--stack", "prod", "--okta-members", MEMBERS)
    assert code == 0
    assert "+ kubesphere-okta-app  (okta:app/oAuth:OAuth)  [protected]" in out
    assert "+ kubesphere-okta-users  (pulumi-python:dynamic/kubesphere-okta:KubeSphereUsers)" in out


def test_an_unprotected_stack_destroys_without_warnings_about_protection(capsys):
    document = json_plan(capsys, "--stack", "dev", "--destroy")
    assert not any(r["protect"] or r["retainOnDelete"] for r in document["resources"])
    assert not any("protected" in w for w in document["warnings"])


def test_pruned_users_are_deleted_not_kept(capsys):
    document = json_plan(capsys, "--stack", "prod", "--destroy", "--okta-members", MEMBERS,
                         "--config", "kubesphere-okta:pruneUsers=true")
    users = [r for r in document["objects"] if r["type"].endswith(":User")]
    assert users and not any(r["retainOnDelete"] for r in document["resources"] if r["name"] == "kubesphere-okta-users")
    assert not any("Users of kubesphere-okta-users" in w for w in document["warnings"])


def test_protection_follows_the_config_key_the_hint_names(capsys):
    document = json_plan(capsys, "--stack", "prod", "--destroy", "--config", "kubesphere-okta:protectApp=false")
    assert not any(r["protect"] for r in document["resources"])


def test_program_warnings_are_in_the_json_plan(capsys, tmp_path):
    base = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"]
    config = {**base, "kubesphere-okta:mappingMethod": "auto", "kubesphere-okta:roleBindings": {},
              "kubesphere-okta:loginConfirmation": "false"}
    config.pop("kubesphere-okta:roleBindings")
    project = project_with(tmp_path, "prod", config)
    document = json_plan(capsys, "--stack", "prod", "--project-dir", str(project))
    code, out, _ = run_plan(capsys, "--stack", "prod", "--project-dir", str(project))
    assert document["warnings"], "the 4.1.3 auto-linking warning should reach the plan"
    assert "Warnings:" in out and document["warnings"][0] in out


# --- Options that do not apply to the stack are usage errors ------------------------------------

def _usage_error(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as raised:
        plan.main(list(argv))
    assert raised.value.code == 2
    return capsys.readouterr().err


def test_cluster_configuration_on_a_4_1_stack_is_a_usage_error_even_with_a_bad_file(capsys, tmp_path):
    bogus = tmp_path / "cc.yaml"
    bogus.write_text("not: [a, cluster configuration\n")
    err = _usage_error(capsys, "--stack", "dev", "--cluster-configuration", str(bogus))
    assert "--cluster-configuration applies to KubeSphere 3.x only" in err and "'dev'" in err


def test_okta_members_on_a_stack_without_role_bindings_is_a_usage_error(capsys, tmp_path):
    bogus = tmp_path / "members.yaml"
    bogus.write_text("whatever\n")
    err = _usage_error(capsys, "--stack", "dev", "--okta-members", str(bogus))
    assert "--okta-members applies to stacks with kubesphere-okta:roleBindings" in err


def _cluster_configuration() -> dict:
    return yaml.safe_load((ROOT / "examples" / "kubesphere-v3.4.1" / "cluster-configuration.yaml").read_text())


def test_a_config_map_is_not_a_cluster_configuration(capsys, tmp_path):
    config_map = tmp_path / "cm.yaml"
    config_map.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap",
                                          "metadata": {"name": "kubesphere-config", "namespace": "kubesphere-system"},
                                          "data": {"kubesphere.yaml": "authentication: {}"}}))
    err = _usage_error(capsys, "--stack", V3_STACK, "--cluster-configuration", str(config_map))
    assert "v1 ConfigMap kubesphere-system/kubesphere-config" in err
    assert "kubectl -n kubesphere-system get cc ks-installer -o yaml" in err


@pytest.mark.parametrize("change", [
    {"apiVersion": "installer.kubesphere.io/v1beta9"},
    {"metadata": {"name": "ks-installer", "namespace": "default"}},
    {"metadata": {"name": "other", "namespace": "kubesphere-system"}},
])
def test_a_cluster_configuration_other_than_ks_installer_is_refused(capsys, tmp_path, change):
    wrong = tmp_path / "cc.yaml"
    wrong.write_text(yaml.safe_dump({**_cluster_configuration(), **change}))
    err = _usage_error(capsys, "--stack", V3_STACK, "--cluster-configuration", str(wrong))
    assert "not the installer.kubesphere.io/v1alpha1 ClusterConfiguration kubesphere-system/ks-installer" in err


def test_kubectl_get_cc_output_and_a_list_holding_it_both_plan(capsys, tmp_path):
    live = _cluster_configuration()
    live["metadata"] |= {"resourceVersion": "4242", "uid": "0b0e", "managedFields": [{"manager": "ks-installer"}]}
    live["status"] = {"core": {"status": "enabled"}}
    single = tmp_path / "cc.yaml"
    single.write_text(yaml.safe_dump(live))
    listed = tmp_path / "list.yaml"
    listed.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
                                      "items": [live]}))
    plans = [json_plan(capsys, "--stack", V3_STACK, "--cluster-configuration", str(p)) for p in (single, listed)]
    assert plans[0]["kubesphere"] == plans[1]["kubesphere"]
    assert plans[0]["kubesphere"]["before"]["metadata"]["name"] == "ks-installer"
    assert "ClusterConfiguration kubesphere-system/ks-installer" in run_plan(capsys, "--stack", V3_STACK,
                                                                            "--cluster-configuration", str(listed))[1]


def test_config_overrides_apply_like_pulumi_preview_config(capsys):
    document = json_plan(capsys, "--stack", "dev", "--config", "kubesphere-okta:providerName=OktaSSO")
    app = next(r for r in document["resources"] if r["type"] == "okta:app/oAuth:OAuth")
    assert app["inputs"]["redirectUris"] == ["https://kubesphere.dev.example.com/oauth/redirect/OktaSSO"]
    with pytest.raises(SystemExit) as raised:
        plan.main(["--stack", "dev", "--config", "no-equals-sign"])
    assert raised.value.code == 2


def test_prod_destroy_without_members_says_the_app_is_protected_and_the_users_kept(capsys):
    """Offline the members are unknown, yet the destroy view must not read as if their Users went."""
    code, out, _ = run_plan(capsys, "--stack", "prod", "--destroy")
    assert code == 0
    assert "! kubesphere-okta-app  (okta:app/oAuth:OAuth)  PROTECTED: pulumi destroy fails here" in out
    member_lines = [line for line in out.splitlines() if "<lookup: members of group" in line]
    assert member_lines and all("KEEPS each member's KubeSphere User" in line for line in member_lines)


def test_destroy_without_members_says_pruned_users_are_deleted(capsys):
    code, out, _ = run_plan(capsys, "--stack", "prod", "--destroy", "--config", "kubesphere-okta:pruneUsers=true")
    assert code == 0
    member_lines = [line for line in out.splitlines() if "<lookup: members of group" in line]
    assert member_lines and all("deletes each member's KubeSphere User" in line for line in member_lines)
    assert not any("KEEPS" in line for line in member_lines)
