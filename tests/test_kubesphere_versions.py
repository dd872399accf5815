"""What differs by KubeSphere version, checked against what the upstream source at each tag says.

The expected tables below were read from the files named beside them (repository@tag:path); the
module under test must say the same, and must stay importable without the rest of the package.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from kubesphere_okta import kubesphere_versions as versions
from kubesphere_okta import rules

#: version setting -> the tag its behaviour was read at (there is no v4.1.0 tag; "4.1" is 4.1.3).
TAGS = {"3.2": "v3.2.1", "3.3": "v3.3.2", "3.4": "v3.4.1", "4.1.1": "v4.1.1", "4.1.2": "v4.1.2", "4.1.3": "v4.1.3"}

#: kind GlobalRole in kubesphere/ks-installer@<tag>:roles/ks-core/prepare/files/ks-init/role-templates.yaml
#: (3.x) and kubesphere/kubesphere@<tag>:config/ks-core/templates/globalroles.yaml (4.1).
GLOBAL_ROLES_READ = {
    "3.2": {"anonymous", "pre-registration", "authenticated", "platform-admin", "platform-regular",
            "users-manager", "workspaces-manager"},
    "3.3": {"anonymous", "pre-registration", "authenticated", "platform-admin", "platform-regular",
            "platform-self-provisioner"},
    "3.4": {"anonymous", "pre-registration", "authenticated", "platform-admin", "platform-regular",
            "platform-self-provisioner"},
    "4.1.1": {"anonymous", "authenticated", "platform-admin", "platform-regular", "platform-self-provisioner",
              "pre-registration"},
    "4.1.2": {"anonymous", "authenticated", "platform-admin", "platform-regular", "platform-self-provisioner",
              "pre-registration"},
    "4.1.3": {"anonymous", "authenticated", "platform-admin", "platform-regular", "platform-self-provisioner",
              "pre-registration", "ks-console"},
}
#: RoleBase (3.x, same file) / BuiltinRole (4.1, config/ks-core/templates/builtinroles.yaml)
#: ``workspace-<role>`` and ``project-<role>``; kind ClusterRole in the same files.
WORKSPACE_ROLES_READ = {"admin", "regular", "viewer", "self-provisioner"}
PROJECT_ROLES_READ = {"admin", "operator", "viewer"}
CLUSTER_ROLES_READ = {"cluster-admin", "cluster-viewer"}


def test_the_version_module_imports_nothing_of_the_package():
    tree = ast.parse(Path(versions.__file__).read_text())
    imports = [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert all(isinstance(n, ast.ImportFrom) and n.module == "__future__" for n in imports), imports


def test_rules_iam_and_roles_no_longer_import_each_other():
    package = Path(versions.__file__).parent
    for module, forbidden in (("kubesphere_iam", {"rules", "kubesphere_roles"}), ("kubesphere_roles", {"rules"})):
        tree = ast.parse((package / f"{module}.py").read_text())
        imported = {alias.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 1
                    for alias in n.names} | {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                                             and n.level == 1 and n.module}
        assert not imported & forbidden, (module, imported)


def test_old_names_stay_importable_from_rules():
    assert rules.SUPPORTED_VERSIONS == versions.SUPPORTED_VERSIONS
    assert rules.is_v3 is versions.is_v3 and rules.is_v4 is versions.is_v4
    assert rules.IDENTITY_ANNOTATION_VERSIONS is versions.IDENTITY_ANNOTATION_VERSIONS


@pytest.mark.parametrize("version", TAGS)
def test_every_role_the_release_ships_is_known_and_no_other(version):
    assert set(versions.shipped_global_roles(version)) == GLOBAL_ROLES_READ[version]
    assert set(versions.SHIPPED_WORKSPACE_ROLES[versions.release(version)]) == WORKSPACE_ROLES_READ
    assert set(versions.SHIPPED_PROJECT_ROLES[versions.release(version)]) == PROJECT_ROLES_READ
    assert set(versions.SHIPPED_CLUSTER_ROLES[versions.release(version)]) == CLUSTER_ROLES_READ
    assert TAGS[version] in versions.role_source(version)


@pytest.mark.parametrize("version", TAGS)
def test_each_shipped_global_role_is_accepted_silently_and_each_other_release_s_role_is_refused(version):
    for role in versions.assignable_global_roles(version):
        values = {"kubesphere_version": version, "role_bindings": {"G": role}, "group_names": ["G"],
                  "mapping_method": "lookup"}
        assert rules.integration_warnings(values) == [], role
        assert [p for p in rules.cross_field_problems(values) if p[0] == "role_bindings"] == [], role
    elsewhere = set().union(*GLOBAL_ROLES_READ.values()) - GLOBAL_ROLES_READ[version]
    for role in sorted(elsewhere):
        values = {"kubesphere_version": version, "role_bindings": {"G": role}, "group_names": ["G"],
                  "mapping_method": "lookup"}
        (problem,) = [p for p in rules.cross_field_problems(values) if p[0] == "role_bindings"]
        assert f"not into {version} " in problem[1] and TAGS[version] in problem[1]


def test_a_3_2_stack_mapping_users_and_workspaces_managers_gets_no_warning_and_no_problem():
    values = {"kubesphere_version": "3.2", "console_url": "https://console.example.com",
              "issuer": "https://acme.okta.com", "group_names": ["Ops", "Leads"], "mapping_method": "lookup",
              "role_bindings": {"Ops": "users-manager", "Leads": "workspaces-manager"}}
    assert rules.integration_warnings(values) == []
    assert rules.integration_problems(values) == []


@pytest.mark.parametrize("version, labels, annotations", [
    ("3.2", ("iam.kubesphere.io/identify-provider", "iam.kubesphere.io/origin-uid"), ()),
    ("3.3", ("iam.kubesphere.io/identify-provider", "iam.kubesphere.io/origin-uid"), ()),
    ("3.4", ("iam.kubesphere.io/identify-provider", "iam.kubesphere.io/origin-uid"), ()),
    ("4.1.1", ("iam.kubesphere.io/identify-provider", "iam.kubesphere.io/origin-uid"), ()),
    ("4.1.2", ("iam.kubesphere.io/identify-provider", "iam.kubesphere.io/origin-uid"), ()),
    ("4.1.3", (), ("iam.kubesphere.io/identity-provider.Okta",)),
])
def test_identity_keys_are_the_ones_the_release_s_lookup_reads(version, labels, annotations):
    # v3.x pkg/models/auth/authenticator.go findMappedUser, v4.1.1/v4.1.2 pkg/models/auth/mapper.go
    # FindMappedUser (label selector), v4.1.3 the same function (annotation "<prefix>.<idp>").
    assert versions.identity_keys(version, "Okta") == (labels, annotations)


@pytest.mark.parametrize("version, line", [
    ("3.2", "3.x"), ("3.3", "3.x"), ("3.4", "3.x"), ("4.1.0", "4.1.1-4.1.2"), ("4.1.1", "4.1.1-4.1.2"),
    ("4.1.2", "4.1.1-4.1.2"), ("4.1.3", "4.1.3"), ("4.1", "4.1.3"),
])
def test_logout_is_told_from_the_console_the_release_ships(version, line):
    assert versions.logout_line(version) == line
    summary = versions.logout_summary(version)
    assert "kubesphere/console@" in summary and "NOT revoked" in summary or "neither" in summary
    if line == "4.1.1-4.1.2":
        assert "JSON" in summary and "kubesphere/console@v4.1.2:server/controllers/session.js" in summary
    if line == "4.1.3":
        assert "post_logout_redirect_uri" in summary


@pytest.mark.parametrize("version", TAGS)
def test_the_plan_says_what_logout_does_on_the_stack_s_version(capsys, version):
    from infra import plan

    stack = "staging" if version.startswith("3.") else "dev"  # staging sets 3.x-only token lifetimes
    assert plan.main(["--stack", stack, "--format", "json", "--config", f"kubesphere-okta:kubesphereVersion={version}"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["logout"] == versions.logout_summary(version)
    assert document["logout"].startswith(f"Logout on KubeSphere {version}: ")
