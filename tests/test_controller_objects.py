"""No object with two owners: nothing this project declares is an object a KubeSphere controller creates.

``controllers_add`` below replays, per release, what KubeSphere's controllers create once the planned
objects exist (and a workspace has a manager, a project a creator), written from the controllers'
source at each tag, independently of the code under test:

* globalrolebinding controller ``assignClusterAdminRole``: for a GlobalRoleBinding to
  ``platform-admin``, an RBAC ClusterRoleBinding ``<user>-cluster-admin`` (3.x: user from the User
  subject; 4.1: from the ``user-ref`` label) -- kubesphere/kubesphere@v3.2.1, @v3.3.2, @v3.4.1,
  @v4.1.1, @v4.1.2, @v4.1.3:pkg/controller/globalrolebinding/globalrolebinding_controller.go;
* workspacetemplate controller ``initManagerRoleBinding``: WorkspaceRoleBinding ``<ws>-admin``
  (v4.1.3 ``ensureWorkspaceRoleName``: ``admin.<fnv64a(ws)>`` past 63 characters);
* namespace controller ``initCreatorRoleBinding``: RoleBinding ``<creator>-admin`` in the namespace
  (``rbac.authorization.k8s.io`` on 3.x, ``iam.kubesphere.io`` on 4.1);
* 4.1 rolebinding/clusterrolebinding controllers: an RBAC copy ``kubesphere:iam:<name>`` of each
  ``iam.kubesphere.io`` RoleBinding/ClusterRoleBinding (pkg/utils/rbac/name.go).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from infra import plan
from kubesphere_okta import kubesphere_iam, kubesphere_roles
from kubesphere_okta.kubesphere_roles import CLUSTER, PROJECT, WORKSPACE, Membership, ObjectKey

VERSIONS = ("3.2", "3.3", "3.4", "4.1.1", "4.1.2", "4.1.3")
RBAC, IAM = "rbac.authorization.k8s.io", "iam.kubesphere.io"


def _fnv64a(text: str) -> str:
    value = 0xCBF29CE484222325
    for byte in text.encode():
        value = ((value ^ byte) * 0x100000001B3) % 2**64
    return f"{value:016x}"


def controllers_add(version: str, declared: list[dict], managers: dict[str, str], creators: dict[str, str]) -> set[ObjectKey]:
    v3 = version.startswith("3.")
    added: set[ObjectKey] = set()
    for body in declared:
        group, kind = body["apiVersion"].rpartition("/")[0], body["kind"]
        metadata = body["metadata"]
        if kind == "GlobalRoleBinding" and body["roleRef"]["name"] == "platform-admin":
            user = body["subjects"][0]["name"] if v3 else metadata["labels"]["iam.kubesphere.io/user-ref"]
            added.add(ObjectKey(RBAC, "ClusterRoleBinding", "", f"{user}-cluster-admin"))
        if not v3 and group == IAM and kind in ("RoleBinding", "ClusterRoleBinding"):
            added.add(ObjectKey(RBAC, kind, metadata.get("namespace", ""), f"kubesphere:iam:{metadata['name']}"))
    for workspace in managers:
        name = f"{workspace}-admin"
        if version == "4.1.3" and len(name) > 63:
            name = f"admin.{_fnv64a(workspace)}"
        added.add(ObjectKey(IAM, "WorkspaceRoleBinding", "", name))
    for namespace, creator in creators.items():
        added.add(ObjectKey(RBAC if v3 else IAM, "RoleBinding", namespace, f"{creator}-admin"))
    return added


def planned_objects(version: str, users: dict[str, str], memberships: list[Membership]) -> tuple[list[dict], list]:
    """What the component declares: each user's GlobalRoleBinding and the declarable memberships."""
    grbs = [kubesphere_iam.render_global_role_binding(version, user, role) for user, role in users.items()]
    kept, skipped = kubesphere_roles.declarable_memberships(version, memberships, users.items())
    return grbs + [m.render(version) for m in kept], skipped


@pytest.mark.parametrize("version", VERSIONS)
def test_no_planned_object_is_one_a_controller_adds_at_program_time(version):
    users = {"ann": "platform-admin", "bob": "platform-regular"}
    memberships = [Membership(CLUSTER, "", "cluster-admin", "ann", "Admins"),
                   Membership(CLUSTER, "", "cluster-admin", "bob", "Admins"),
                   Membership(WORKSPACE, "team-a", "admin", "ann", "Admins"),
                   Membership(PROJECT, "team-a-dev", "operator", "ann", "Admins")]
    declared, skipped = planned_objects(version, users, memberships)
    added = controllers_add(version, declared, {}, {})
    assert not {ObjectKey.of(body) for body in declared} & added
    if version.startswith("3."):  # the platform-admin's cluster-admin binding is KubeSphere's, and said so
        assert [(s.key.name, s.user) for s in skipped] == [("ann-cluster-admin", "ann")]
        assert "globalrolebinding controller" in skipped[0].reason
        assert f"kubesphere/kubesphere@v{ {'3.2': '3.2.1', '3.3': '3.3.2', '3.4': '3.4.1'}[version] }:" in skipped[0].reason
        assert ObjectKey(RBAC, "ClusterRoleBinding", "", "bob-cluster-admin") in {ObjectKey.of(b) for b in declared}
    else:  # 4.1 declares iam.kubesphere.io bindings; the controller's is RBAC, its copies are kubesphere:iam:*
        assert skipped == []
        assert ObjectKey(IAM, "ClusterRoleBinding", "", "ann-cluster-admin") in {ObjectKey.of(b) for b in declared}


@pytest.mark.parametrize("version", VERSIONS)
def test_what_only_the_cluster_shows_is_refused_at_preview_with_a_fix(version):
    # A project's creator mapped as its admin, and workspace "ann-team-a" whose manager binding is
    # named like ann's binding to team-a's admin role.
    users = {"ann": "platform-regular"}
    memberships = [Membership(PROJECT, "team-a-dev", "admin", "ann", "Devs"),
                   Membership(WORKSPACE, "team-a", "admin", "ann", "Devs")]
    declared, _ = planned_objects(version, users, memberships)
    managers, creators = {"ann-team-a": "carl", "team-a": "dora"}, {"team-a-dev": "ann"}
    added = controllers_add(version, declared, managers, creators)
    clashing = {ObjectKey.of(body) for body in declared} & added
    assert clashing == {ObjectKey(RBAC if version.startswith("3.") else IAM, "RoleBinding", "team-a-dev", "ann-admin"),
                        ObjectKey(IAM, "WorkspaceRoleBinding", "", "ann-team-a-admin")}
    made = kubesphere_roles.controller_objects(version, workspace_managers=managers, namespace_creators=creators)
    problems = kubesphere_roles.controller_collisions(version, kubesphere_roles.planned_keys(version, memberships), made)
    assert len(problems) == 2
    creator, manager = sorted(problems, key=lambda p: "namespace controller" not in p)
    assert "namespace controller for the creator (ann) of project team-a-dev" in creator
    assert "kubesphere.io/creator-" in creator and "team-a-dev" in creator
    assert "pulumi config set --path 'kubesphere-okta:projectRoleBindings[\"Devs\"][\"team-a-dev\"]' operator" in creator
    assert "workspacetemplate controller for the manager (carl) of workspace ann-team-a" in manager


@given(st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True), st.from_regex(r"[a-z][a-z0-9-]{0,60}[a-z0-9]", fullmatch=True),
       st.sampled_from(VERSIONS))
@settings(max_examples=60)
def test_a_long_workspace_manager_binding_is_matched_as_its_release_names_it(user, workspace, version):
    made = kubesphere_roles.controller_objects(version, workspace_managers={workspace: user})
    (only,) = made
    expected = f"{workspace}-admin"
    if version == "4.1.3" and len(expected) > 63:
        expected = f"admin.{_fnv64a(workspace)}"
    assert only.key == ObjectKey(IAM, "WorkspaceRoleBinding", "", expected)


def test_a_3_4_plan_whose_admins_are_also_cluster_admins_declares_no_cluster_admin_binding_and_says_why(capsys):
    code = plan.main(["--stack", "staging", "--okta-members", "examples/okta-members.yaml", "--format", "json",
                      "--config", "kubesphere-okta:mappingMethod=lookup",
                      "--config", "kubesphere-okta:roleBindings=" + json.dumps({"KubeSphere Admins": "platform-admin"}),
                      "--config", "kubesphere-okta:clusterRoleBindings=" + json.dumps({"KubeSphere Admins": "cluster-admin"})])
    out, err = capsys.readouterr()
    assert code == 0, err
    document = json.loads(out)
    names = [r["inputs"].get("metadata", {}).get("name") for r in document["resources"] + document["objects"]
             if r["type"].startswith("kubernetes:")]
    assert "ann.example.com-platform-admin" in names
    assert not [n for n in names if n and n.endswith("-cluster-admin")]
    (skipped,) = document["skippedObjects"]
    assert (skipped["kind"], skipped["name"], skipped["user"]) == ("ClusterRoleBinding", "ann.example.com-cluster-admin", "ann.example.com")
    assert "kubesphere/kubesphere@v3.4.1:pkg/controller/globalrolebinding/globalrolebinding_controller.go" in skipped["reason"]
    text = plan_text(capsys)
    assert "Role bindings not declared: a KubeSphere controller creates and owns each (1):" in text
    assert "  ann.example.com: global platform-admin; cluster cluster-admin (KubeSphere's own binding)" in text


def plan_text(capsys) -> str:
    code = plan.main(["--stack", "staging", "--okta-members", "examples/okta-members.yaml",
                      "--config", "kubesphere-okta:mappingMethod=lookup",
                      "--config", "kubesphere-okta:roleBindings=" + json.dumps({"KubeSphere Admins": "platform-admin"}),
                      "--config", "kubesphere-okta:clusterRoleBindings=" + json.dumps({"KubeSphere Admins": "cluster-admin"})])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out
