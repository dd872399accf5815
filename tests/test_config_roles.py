"""Stack config for workspace, project and cluster roles: workspaceRoleBindings, projectRoleBindings,
clusterRoleBindings, through the config model and the program."""

from __future__ import annotations

import json

import pytest

from infra import program
from infra.config import ConfigError, load
from tests import kubesphere_schemas
from tests.pulumi_harness import OktaAndKubernetesMocks, run

GROUPS = {"KS Team A": "00g1teamateamateamat", "KS SRE": "00g1sresresresresres"}
MEMBERS = {"00g1teamateamateamat": [{"id": "00uann", "login": "ann@example.com", "email": "ann@example.com"}],
           "00g1sresresresresres": [{"id": "00udan", "login": "dan@example.com", "email": "dan@example.com"}]}
BASE = {"consoleUrl": "https://c.example.com", "kubesphereVersion": "4.1.3", "mappingMethod": "lookup",
        "groupNames": json.dumps(list(GROUPS))}
MAPS = {
    "workspaceRoleBindings": json.dumps({"KS Team A": {"team-a": "regular", "team-b": "viewer"}}),
    "projectRoleBindings": json.dumps({"KS Team A": {"team-a-dev": "operator"}}),
    "clusterRoleBindings": json.dumps({"KS SRE": "cluster-viewer", "KS Team A": "cluster-viewer"}),
}


def test_scoped_maps_reach_the_component_in_config_order():
    model, _ = load({**BASE, **MAPS}, stack="dev", okta={"orgName": "example"})
    args = model.component_args(stack="dev")
    assert list(args["workspace_role_bindings"]["KS Team A"].items()) == [("team-a", "regular"), ("team-b", "viewer")]
    assert args["project_role_bindings"] == {"KS Team A": {"team-a-dev": "operator"}}
    assert list(args["cluster_role_bindings"]) == ["KS SRE", "KS Team A"]


def test_each_map_without_lookup_is_named_with_its_fix():
    with pytest.raises(ConfigError) as raised:
        load({**BASE, **MAPS, "mappingMethod": "auto"}, stack="dev", okta={"orgName": "example"})
    message = str(raised.value)
    for key in ("workspaceRoleBindings", "projectRoleBindings", "clusterRoleBindings"):
        assert f"  - kubesphere-okta:{key}: " in message and "set mappingMethod: lookup" in message
    # Each problem's fix is the mapping method, whichever map it is filed under.
    assert message.count("fix: pulumi config set kubesphere-okta:mappingMethod lookup") == 3
    assert "3 configuration problem(s)" in message  # one per map, nothing else


def test_bad_workspace_name_and_group_outside_the_app_are_listed_at_once():
    with pytest.raises(ConfigError) as raised:
        load({**BASE, "workspaceRoleBindings": json.dumps({"KS Team A": {"Team_A": "regular"}}),
              "clusterRoleBindings": json.dumps({"KS Ops": "cluster-admin"})}, stack="dev", okta={"orgName": "example"})
    message = str(raised.value)
    assert "'Team_A' (group 'KS Team A') is not a KubeSphere workspace name" in message
    assert "cluster_role_bindings" not in message and "clusterRoleBindings group(s) 'KS Ops' are not allowed" in message
    assert "fix: pulumi config set --path 'kubesphere-okta:groupNames[2]' 'KS Ops'" in message


def test_program_plans_bindings_from_stack_config():
    config = {f"kubesphere-okta:{k}": v for k, v in {**BASE, **MAPS}.items()}
    config["okta:orgName"] = "example"
    rec = run(program.main, stack="dev", config=config, mocks=OktaAndKubernetesMocks(groups=GROUPS, group_members=MEMBERS))
    kinds = sorted((r.inputs["kind"], r.inputs["metadata"]["name"]) for r in rec.kubesphere_objects()
                   if r.type.startswith("kubernetes:iam.kubesphere.io/"))
    assert kinds == [
        ("ClusterRoleBinding", "ann.example.com-cluster-viewer"), ("ClusterRoleBinding", "dan.example.com-cluster-viewer"),
        ("RoleBinding", "ann.example.com-operator"), ("User", "ann.example.com"), ("User", "dan.example.com"),
        ("WorkspaceRoleBinding", "ann.example.com-team-a-regular"), ("WorkspaceRoleBinding", "ann.example.com-team-b-viewer"),
    ]
    for r in rec.kubesphere_objects():
        if r.type.startswith("kubernetes:iam.kubesphere.io/"):
            assert kubesphere_schemas.problems("4.1.3", r.inputs) == []


LONG_WORKSPACE = "platform-engineering-shared-services-observability-europe"  # 57 characters


@pytest.mark.parametrize("version", ["3.2", "3.3", "3.4", "4.1.1", "4.1.2", "4.1.3"])
@pytest.mark.parametrize("group", ["Platform Team", "KS Team A"])
def test_a_too_long_workspace_role_is_fixed_by_removing_that_very_entry(version, group):
    # <ws>-regular is 65 characters: 4.1.0-4.1.2 cannot label a binding with it (4.1.3 hashes the
    # name: kubesphere/kubesphere@v4.1.3:pkg/controller/workspacetemplate/workspacetemplate_controller.go
    # ensureWorkspaceRoleName); 3.x labels no binding with its role.
    maps = {group: {LONG_WORKSPACE: "regular", "team-a": "viewer"}}
    config = {**BASE, "kubesphereVersion": version, "groupNames": json.dumps([group]),
              "workspaceRoleBindings": json.dumps(maps)}
    if version not in ("4.1.1", "4.1.2"):
        load(config, stack="dev", okta={"orgName": "example"})
        return
    with pytest.raises(ConfigError) as raised:
        load(config, stack="dev", okta={"orgName": "example"})
    message = str(raised.value)
    expected = f"pulumi config rm --path 'kubesphere-okta:workspaceRoleBindings[{json.dumps(group)}][\"{LONG_WORKSPACE}\"]'"
    assert f"fix: {expected}" in message, message
    assert "KS Team A\"][\"team-a\"]" not in message or group == "KS Team A"
    # Applied literally (the entry that path names goes), the problem is gone.
    path = json.loads("[" + expected.split("workspaceRoleBindings", 1)[1].rstrip("'").replace("][", ",").strip("[]") + "]")
    fixed = json.loads(config["workspaceRoleBindings"])
    del fixed[path[0]][path[1]]
    load({**config, "workspaceRoleBindings": json.dumps(fixed)}, stack="dev", okta={"orgName": "example"})
