"""Workspace, project and cluster role bindings as KubeSphere's console writes them (pure module)."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubesphere_okta import kubesphere_roles as roles
from kubesphere_okta import rules
from tests import kubesphere_schemas

VERSIONS = ("3.4", "4.1.2", "4.1.3")


# --- FNV-64a and the 4.1.3 workspace-role name -------------------------------------------------

def test_fnv64a_matches_the_published_test_vectors():
    # FNV-1a 64-bit vectors from the reference test suite (Noll's fnv test vectors).
    assert roles.fnv64a_hex(b"") == "cbf29ce484222325"
    assert roles.fnv64a_hex(b"a") == "af63dc4c8601ec8c"
    assert roles.fnv64a_hex(b"foobar") == "85944171f73967e8"


def test_built_in_workspace_role_is_workspace_dash_role_up_to_63_characters():
    ws = "w" * (63 - len("-self-provisioner"))
    assert roles.built_in_workspace_role_name("4.1.3", ws, "self-provisioner") == f"{ws}-self-provisioner"


def test_413_hashes_the_workspace_when_the_name_exceeds_63_characters():
    ws = "w" * 60
    assert roles.built_in_workspace_role_name("4.1.3", ws, "regular") == f"regular.{roles.fnv64a_hex(ws.encode())}"
    assert roles.built_in_workspace_role_name("4.1", ws, "admin") == f"admin.{roles.fnv64a_hex(ws.encode())}"


@pytest.mark.parametrize("version", ["3.4", "4.1.2"])
def test_earlier_versions_keep_the_long_name(version):
    ws = "w" * 60
    assert roles.built_in_workspace_role_name(version, ws, "regular") == f"{ws}-regular"


def test_custom_workspace_role_is_used_by_its_full_name():
    assert roles.role_object_name("4.1.3", roles.WORKSPACE, "team-a", "team-a-deployer") == "team-a-deployer"


# --- Shapes, per version ------------------------------------------------------------------------

def test_v3_workspace_role_binding():
    assert roles.render_workspace_role_binding("3.4", "jane.acme.com", "team-a", "regular") == {
        "apiVersion": "iam.kubesphere.io/v1alpha2",
        "kind": "WorkspaceRoleBinding",
        "metadata": {"name": "jane.acme.com-team-a-regular", "labels": {
            "iam.kubesphere.io/user-ref": "jane.acme.com", "kubesphere.io/workspace": "team-a"}},
        "roleRef": {"apiGroup": "iam.kubesphere.io", "kind": "WorkspaceRole", "name": "team-a-regular"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "jane.acme.com"}],
    }


@pytest.mark.parametrize("version", ["4.1.2", "4.1.3"])
def test_v41_workspace_role_binding_adds_role_ref_and_iam_subject(version):
    body = roles.render_workspace_role_binding(version, "jane.acme.com", "team-a", "regular")
    assert body["apiVersion"] == "iam.kubesphere.io/v1beta1"
    assert body["metadata"]["labels"] == {"iam.kubesphere.io/user-ref": "jane.acme.com",
                                          "iam.kubesphere.io/role-ref": "team-a-regular",
                                          "kubesphere.io/workspace": "team-a"}
    assert body["subjects"] == [{"apiGroup": "iam.kubesphere.io", "kind": "User", "name": "jane.acme.com"}]


def test_413_long_workspace_binding_refers_to_the_hashed_role():
    ws = "a" * 58
    body = roles.render_workspace_role_binding("4.1.3", "jane.acme.com", ws, "viewer")
    hashed = f"viewer.{roles.fnv64a_hex(ws.encode())}"
    assert body["roleRef"]["name"] == hashed == body["metadata"]["labels"]["iam.kubesphere.io/role-ref"]
    assert body["metadata"]["name"] == f"jane.acme.com-{hashed}"
    assert body["metadata"]["labels"]["kubesphere.io/workspace"] == ws


def test_v3_project_and_cluster_bindings_are_plain_rbac():
    project = roles.render_project_role_binding("3.4", "jane.acme.com", "team-a-dev", "operator")
    assert project == {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "jane.acme.com-operator", "namespace": "team-a-dev",
                     "labels": {"iam.kubesphere.io/user-ref": "jane.acme.com"}},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "operator"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "jane.acme.com"}],
    }
    cluster = roles.render_cluster_role_binding("3.4", "jane.acme.com", "cluster-viewer")
    assert cluster["apiVersion"] == "rbac.authorization.k8s.io/v1" and cluster["kind"] == "ClusterRoleBinding"
    assert cluster["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-viewer"}
    assert "namespace" not in cluster["metadata"]


def test_412_project_and_cluster_bindings_have_only_the_user_subject():
    for body in (roles.render_project_role_binding("4.1.2", "jane.acme.com", "dev", "viewer"),
                 roles.render_cluster_role_binding("4.1.2", "jane.acme.com", "cluster-admin")):
        assert body["apiVersion"] == "iam.kubesphere.io/v1beta1"
        assert body["subjects"] == [{"apiGroup": "iam.kubesphere.io", "kind": "User", "name": "jane.acme.com"}]
        assert body["roleRef"]["apiGroup"] == "iam.kubesphere.io"
        assert body["metadata"]["labels"]["iam.kubesphere.io/role-ref"] == body["roleRef"]["name"]


def test_413_project_and_cluster_bindings_add_the_users_service_account():
    for body in (roles.render_project_role_binding("4.1.3", "jane.acme.com", "dev", "viewer"),
                 roles.render_cluster_role_binding("4.1.3", "jane.acme.com", "cluster-admin")):
        assert body["subjects"] == [
            {"apiGroup": "iam.kubesphere.io", "kind": "User", "name": "jane.acme.com"},
            {"kind": "ServiceAccount", "name": "kubesphere.users.jane.acme.com", "namespace": "kubesphere-system"},
        ]
    assert roles.render_workspace_role_binding("4.1.3", "jane.acme.com", "w", "admin")["subjects"] == [
        {"apiGroup": "iam.kubesphere.io", "kind": "User", "name": "jane.acme.com"}]


names = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)


@settings(max_examples=60, deadline=None)
@given(version=st.sampled_from(VERSIONS + ("4.1",)), user=names, target=names,
       role=st.sampled_from(roles.BUILT_IN_WORKSPACE_ROLES + roles.BUILT_IN_PROJECT_ROLES), scope=st.sampled_from(
           [roles.WORKSPACE, roles.PROJECT, roles.CLUSTER]))
def test_every_rendered_binding_is_valid_for_its_versions_crds_and_carries_user_ref(version, user, target, role, scope):
    body = roles.Membership(scope, target, role, user, "g").render(version)
    assert kubesphere_schemas.problems(version, body) == []
    assert body["metadata"]["labels"]["iam.kubesphere.io/user-ref"] == user


# --- Who gets which binding ------------------------------------------------------------------

def test_first_entry_in_stack_order_wins_per_workspace_and_other_workspaces_are_kept():
    planned = roles.plan_memberships(
        [("jane", "00ujane")],
        {"A": ["00ujane"], "B": ["00ujane"]},
        workspace_role_bindings=[("A", [("ws1", "admin")]), ("B", [("ws1", "viewer"), ("ws2", "regular")])],
    )
    assert [(m.target, m.role, m.group) for m in planned] == [("ws1", "admin", "A"), ("ws2", "regular", "B")]


def test_one_binding_per_project_and_one_for_the_cluster():
    planned = roles.plan_memberships(
        [("jane", "00ujane"), ("bob", "00ubob")],
        {"A": ["00ujane"], "B": ["00ujane", "00ubob"]},
        project_role_bindings=[("B", [("dev", "viewer")]), ("A", [("dev", "admin")])],
        cluster_role_bindings=[("A", "cluster-admin"), ("B", "cluster-viewer")],
    )
    got = {(m.username, m.scope, m.target): m.role for m in planned}
    assert got == {("jane", "project", "dev"): "viewer", ("bob", "project", "dev"): "viewer",
                   ("jane", "cluster", ""): "cluster-admin", ("bob", "cluster", ""): "cluster-viewer"}


def test_users_not_planned_get_nothing():
    planned = roles.plan_memberships([("jane", "00ujane")], {"A": ["00ujane", "00uleft"]},
                                     cluster_role_bindings=[("A", "cluster-viewer")])
    assert [m.username for m in planned] == ["jane"]


@settings(max_examples=60, deadline=None)
@given(memberships=st.dictionaries(st.sampled_from(["u1", "u2", "u3", "u4"]),
                                   st.sets(st.sampled_from(["A", "B", "C"])), max_size=4),
       order=st.permutations(["A", "B", "C"]),
       roles_=st.lists(st.sampled_from(["admin", "regular", "viewer"]), min_size=3, max_size=3))
def test_exactly_one_binding_per_user_and_workspace_from_the_first_group(memberships, order, roles_):
    members = {g: [u for u, gs in memberships.items() if g in gs] for g in "ABC"}
    ws_map = [(g, [("ws", roles_[i])]) for i, g in enumerate(order)]
    planned = roles.plan_memberships([(u, u) for u in memberships], members, workspace_role_bindings=ws_map)
    by_user = {}
    for m in planned:
        assert m.username not in by_user
        by_user[m.username] = m.role
    for user, groups in memberships.items():
        first = next((roles_[i] for i, g in enumerate(order) if g in groups), None)
        assert by_user.get(user) == first


class CountingMembers(list):
    """A group's member list that counts every element it hands out or compares against."""

    visits = 0

    def __iter__(self):
        for item in super().__iter__():
            CountingMembers.visits += 1
            yield item

    def __contains__(self, item):
        CountingMembers.visits += len(self)
        return super().__contains__(item)


def planning_work(n: int) -> tuple[int, int]:
    """(lines of kubesphere_roles executed + member-list elements visited, bindings planned) for
    n members in three overlapping groups mapped to several workspaces, a project and the cluster.
    Counted, not timed: the count is the same on any machine and under any load."""
    users = [(f"user{i}", f"00u{i}") for i in range(n)]
    members = {g: CountingMembers(f"00u{i}" for i in range(n) if i % 3 != k) for k, g in enumerate("ABC")}
    ws = [("A", [("ws1", "admin"), ("ws2", "regular")]), ("B", [("ws2", "viewer"), ("ws3", "regular")]),
          ("C", [("ws4", "viewer")])]
    lines = 0

    def trace(frame, event, arg):
        nonlocal lines
        if frame.f_code.co_filename != roles.__file__:
            return None
        if event == "line":
            lines += 1
        return trace

    CountingMembers.visits = 0
    sys.settrace(trace)
    try:
        planned = roles.plan_memberships(users, members, workspace_role_bindings=ws,
                                         project_role_bindings=[("C", [("dev", "viewer")])],
                                         cluster_role_bindings=[("A", "cluster-viewer")])
    finally:
        sys.settrace(None)
    return lines + CountingMembers.visits, len(planned)


def test_planning_stays_linear_in_the_members_in_several_workspaces():
    small, count_small = planning_work(1_200)
    large, count_large = planning_work(4_800)
    assert count_large == 4 * count_small
    # Four times the members: four times the work, plus a constant (quadratic would be sixteen).
    assert large <= 4 * small + 100


# --- Mistakes caught from the configuration alone -------------------------------------------

def test_typo_in_a_built_in_role_warns_with_the_built_in_names_and_the_fix():
    warnings = roles.role_warnings({roles.WORKSPACE: [("KS Team A", [("team-a", "reguler")])],
                                    roles.CLUSTER: [("KS SRE", "cluster-veiwer")]})
    assert len(warnings) == 2
    assert "did you mean 'regular'?" in warnings[0] and "admin, regular, viewer, self-provisioner" in warnings[0]
    assert "maps to workspace role 'reguler' in workspace 'team-a'" in warnings[0]
    assert "pulumi config set --path 'kubesphere-okta:workspaceRoleBindings[\"KS Team A\"][\"team-a\"]' regular" in warnings[0]
    assert "did you mean 'cluster-viewer'?" in warnings[1]
    assert "kubesphere-okta:clusterRoleBindings[\"KS SRE\"]' cluster-viewer" in warnings[1]


def test_custom_role_names_far_from_built_ins_do_not_warn():
    assert roles.role_warnings({roles.PROJECT: [("G", [("dev", "deployer")])],
                                roles.WORKSPACE: [("G", [("ws", "ws-auditor")])]}) == []


def test_long_workspace_role_names_are_refused_before_413():
    maps = {roles.WORKSPACE: [("G", [("w" * 60, "regular")])]}
    assert roles.configuration_problems("4.1.3", maps) == []
    assert roles.configuration_problems("3.4", maps) == []
    [(field, message)] = roles.configuration_problems("4.1.2", maps)
    assert field == "workspace_role_bindings" and "upgrade" in message and "68 characters" in message


def test_all_configuration_problems_are_listed_at_once():
    problems = rules.integration_problems({
        "console_url": "https://c.example.com", "issuer": "https://e.okta.com", "kubesphere_version": "4.1.3",
        "group_names": ["A"], "mapping_method": "auto",
        "workspace_role_bindings": {"A": {"team-a": "regular"}, "B": {"team-b": "viewer"}},
        "cluster_role_bindings": {"A": "Cluster Admin"},
    })
    fields = [field for field, _ in problems]
    assert fields.count("workspace_role_bindings") == 2  # needs lookup; group B not allowed to use the app
    assert "cluster_role_bindings" in fields


@pytest.mark.parametrize("value, message", [
    ({"A": {"Team_A": "regular"}}, "not a KubeSphere workspace name"),
    ({"A": {"team-a": ""}}, "not a role name"),
    ({"A": "regular"}, "must map to a non-empty {workspace: role} mapping"),
    (["A"], "must map Okta groups"),
    ({" A": {"team-a": "admin"}}, "not an Okta group name or id"),
])
def test_bad_workspace_maps_say_what_is_wrong(value, message):
    with pytest.raises(ValueError, match=message.replace("{", r"\{").replace("}", r"\}")):
        rules.check_scoped_role_bindings(value, field="workspace_role_bindings")


# --- Mistakes only the cluster shows ----------------------------------------------------------

def _view(**overrides):
    view = roles.ClusterView(
        workspaces={"team-a", "team-b"},
        workspace_roles={"team-a-admin": "team-a", "team-a-regular": "team-a", "team-b-viewer": "team-b"},
        namespaces={"team-a-dev"}, roles={"team-a-dev": {"admin", "operator", "viewer"}},
        cluster_roles={"cluster-admin", "cluster-viewer"},
    )
    for key, value in overrides.items():
        setattr(view, key, value)
    return view


def refs(**maps):
    return roles.configured_references("4.1.3", {k: v for k, v in maps.items()})


def test_everything_existing_is_no_problem():
    assert roles.reference_problems(refs(
        workspace=[("A", [("team-a", "regular")])], project=[("A", [("team-a-dev", "operator")])],
        cluster=[("S", "cluster-viewer")]), _view()) == []


def test_missing_workspace_is_named_with_the_closest_one_and_a_config_fix():
    [problem] = roles.reference_problems(refs(workspace=[("KS Team A", [("team-aa", "regular")])]), _view())
    assert "workspace 'team-aa' does not exist on this cluster (did you mean 'team-a'?)" in problem
    assert "pulumi config set --path 'kubesphere-okta:workspaceRoleBindings[\"KS Team A\"][\"team-a\"]' regular" in problem
    assert "pulumi config rm --path 'kubesphere-okta:workspaceRoleBindings[\"KS Team A\"][\"team-aa\"]'" in problem


def test_missing_role_in_a_workspace_lists_that_workspaces_roles():
    [problem] = roles.reference_problems(refs(workspace=[("A", [("team-b", "regular")])]), _view())
    assert "WorkspaceRole 'team-b-regular' for workspace 'team-b' does not exist" in problem
    assert "roles of 'team-b': team-b-viewer" in problem


def test_role_of_another_workspace_is_refused():
    [problem] = roles.reference_problems(refs(workspace=[("A", [("team-b", "team-a-admin")])]), _view())
    assert "belongs to workspace 'team-a'" in problem


def test_missing_project_role_and_cluster_role_are_all_listed_at_once():
    problems = roles.reference_problems(refs(
        workspace=[("A", [("nope", "admin")])],
        project=[("A", [("team-a-dev", "deployer"), ("team-x", "viewer")])],
        cluster=[("S", "cluster-root")]), _view())
    assert len(problems) == 4
    assert any("Role 'deployer' does not exist in project 'team-a-dev'" in p for p in problems)
    assert any("project (namespace) 'team-x' does not exist" in p for p in problems)
    assert any("cluster role 'cluster-root' does not exist" in p for p in problems)


def test_read_plan_is_a_few_lists_per_version():
    references = roles.configured_references("3.4", {
        roles.WORKSPACE: [("A", [("ws", "admin")])], roles.PROJECT: [("A", [("dev", "viewer")])],
        roles.CLUSTER: [("A", "cluster-viewer")]})
    assert roles.read_plan("3.4", references) == {
        "workspaces": ("tenant.kubesphere.io", "v1alpha2", "workspacetemplates"),
        "workspace_roles": ("iam.kubesphere.io", "v1alpha2", "workspaceroles"),
        "namespaces": ["dev"],
        "roles": {"dev": ("rbac.authorization.k8s.io", "v1", "roles")},
        "cluster_roles": ("rbac.authorization.k8s.io", "v1", "clusterroles"),
    }
    v41 = roles.read_plan("4.1.3", references)
    assert v41["cluster_roles"] == ("iam.kubesphere.io", "v1beta1", "clusterroles")
    assert v41["roles"] == {"dev": ("iam.kubesphere.io", "v1beta1", "roles")}
    assert v41["workspaces"] == ("tenant.kubesphere.io", "v1beta1", "workspacetemplates")


def test_missing_workspace_with_nothing_close_says_create_it_or_remove_the_entry():
    [problem] = roles.reference_problems(refs(workspace=[("A", [("zzz-platform", "viewer")])]), _view())
    assert problem.endswith(
        "workspace 'zzz-platform' does not exist on this cluster. Fix: create workspace 'zzz-platform' in KubeSphere "
        "first, or pulumi config rm --path 'kubesphere-okta:workspaceRoleBindings[\"A\"][\"zzz-platform\"]'")
