"""`make plan --okta-members` shows the workspace, project and cluster bindings, and what destroy takes."""

from __future__ import annotations

import json

from infra import plan
from infra.plan_document import PlannedResource, membership_changes, role_lines
from kubesphere_okta import kubesphere_roles, membership_inputs, membership_model
from kubesphere_okta.usernames import PlannedUser

MAPS = [
    "--config", "kubesphere-okta:workspaceRoleBindings=" + json.dumps({"KubeSphere Developers": {"team-a": "regular"}}),
    "--config", "kubesphere-okta:projectRoleBindings=" + json.dumps({"KubeSphere Admins": {"team-a-dev": "admin"}}),
    "--config", "kubesphere-okta:clusterRoleBindings=" + json.dumps({"KubeSphere Admins": "cluster-viewer"}),
]


def run_plan(capsys, *argv: str) -> str:
    code = plan.main(["--stack", "prod", "--okta-members", "examples/okta-members.yaml", *MAPS, *argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def test_plan_shows_every_binding_of_every_member(capsys):
    out = run_plan(capsys)
    assert ("KubeSphere roles after `pulumi up` (4 users; one binding per user and workspace, project, and cluster):\n"
            "  ann.example.com: global platform-admin; workspace team-a: team-a-regular; project team-a-dev: admin; "
            "cluster cluster-viewer\n"
            "  dan-dev.example.com: global platform-regular; workspace team-a: team-a-regular\n") in out
    assert "+ kubesphere-okta-project-role-bindings  (pulumi-python:dynamic/kubesphere-okta:KubeSphereRoleBindings)" in out
    assert '"team-a-dev/ann.example.com-admin": {"role": "admin", "target": "team-a-dev"}' in out
    assert "+ kubesphere-okta-role-references  (pulumi-python:dynamic:Resource)" in out


def test_destroy_view_lists_the_roles_it_takes_away(capsys):
    out = run_plan(capsys, "--destroy")
    assert "KubeSphere roles `pulumi destroy` takes away (4 users; Users themselves are kept unless pruneUsers):" in out
    assert "- kubesphere-okta-workspace-role-bindings  (pulumi-python:dynamic/kubesphere-okta:KubeSphereRoleBindings)" in out
    assert '"zoe.unicode.example.com-team-a-regular": {"role": "team-a-regular", "target": "team-a"}' in out


def test_role_lines_group_each_users_bindings_by_scope():
    bodies = [kubesphere_roles.render_cluster_role_binding("3.4", "bob", "cluster-admin"),
              kubesphere_roles.render_workspace_role_binding("3.4", "bob", "ws", "viewer"),
              {"kind": "User", "metadata": {"name": "bob"}}]
    resources = [PlannedResource(f"kubernetes:{b.get('apiVersion', 'iam.kubesphere.io/v1alpha2')}:{b['kind']}", f"r{i}", None, b)
                 for i, b in enumerate(bodies)]
    assert role_lines(resources) == ["  bob: workspace ws: ws-viewer; cluster cluster-admin"]


def test_okta_members_apply_to_a_stack_with_only_scoped_maps(capsys):
    out = run_plan(capsys, "--config", "kubesphere-okta:roleBindings={}")
    assert "  dan-dev.example.com: workspace team-a: team-a-regular\n" in out
    assert "kubesphere-okta-global-role-bindings" not in out and "global platform-" not in out


def test_a_one_person_change_among_6000_members_is_one_line_each_way():
    """The plan's membership change lists who gains and who loses which role, not every member."""
    def keyed(names):
        users = [PlannedUser(n, f"00u{n}", f"{n}@acme.com", "platform-regular", n) for n in names]
        maps = membership_inputs.bindings_maps("4.1.3", users, [])
        return [PlannedResource(membership_model.BINDINGS_TYPE, "ks-global-role-bindings", "ks", {
            "template": membership_inputs.binding_template("4.1.3", "global", "Okta"), "bindings": maps["global"]})]
    people = [f"user{i:04d}.acme.com" for i in range(6000)]
    after = [p for p in people if p != "user0042.acme.com"] + ["newcomer.acme.com"]
    assert membership_changes(keyed(people), keyed(after)) == [
        "  + newcomer.acme.com: global platform-regular", "  - user0042.acme.com: global platform-regular"]
