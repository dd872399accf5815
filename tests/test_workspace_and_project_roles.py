"""Okta groups -> KubeSphere workspace, project and cluster roles, through the component under mocks.

The issue's "done when": a lookup-mode stack mapping three Okta groups to a workspace role, a
project role and a cluster role plans, on 3.4, 4.1.2 and 4.1.3, one correctly shaped binding per
user per scope (validated against that version's CRDs), none for members who left, and a clear
preview error for a missing workspace.
"""

from __future__ import annotations

import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import yaml

from kubesphere_okta import KubeSphereOktaIntegration, kubesphere_role_check
from kubesphere_okta.args import IntegrationArgsError
from tests import kubesphere_schemas
from tests.pulumi_harness import OktaAndKubernetesMocks, run

TEAM_A, DEVS, SRE, ADMINS = "KS Team A", "KS Devs", "KS SRE", "KS Admins"
GROUPS = {TEAM_A: "00gteamaaaaaaaaaaaaa", DEVS: "00gdevsssssssssssssss"[:20], SRE: "00gsreeeeeeeeeeeeeee", ADMINS: "00gadmins00000000000"}
GET_USERS = "okta:user/getUsers:getUsers"
GET_GROUP = "okta:group/getGroup:getGroup"
DYNAMIC = "pulumi-python:dynamic:Resource"


def member(okta_id: str, login: str) -> dict[str, Any]:
    return {"id": okta_id, "login": login, "email": login, "status": "ACTIVE"}


ANN, BOB, CAT, DAN = (member("00uann", "ann@acme.com"), member("00ubob", "bob@acme.com"),
                      member("00ucat", "cat@acme.com"), member("00udan", "dan@acme.com"))
MEMBERS = {GROUPS[TEAM_A]: [ANN, BOB], GROUPS[DEVS]: [BOB, CAT], GROUPS[SRE]: [DAN, ANN], GROUPS[ADMINS]: []}

ARGS = {
    "console_url": "https://console.example.com",
    "issuer": "https://example.okta.com",
    "group_names": [TEAM_A, DEVS, SRE],
    "mapping_method": "lookup",
    "workspace_role_bindings": {TEAM_A: {"team-a": "regular"}},
    "project_role_bindings": {DEVS: {"team-a-dev": "operator"}},
    "cluster_role_bindings": {SRE: "cluster-viewer"},
}


@pytest.fixture(autouse=True)
def no_v3_cluster_configuration(monkeypatch):
    """The 3.x ClusterConfiguration entry is tested elsewhere."""
    monkeypatch.setattr(KubeSphereOktaIntegration, "_kubesphere_v3", lambda self, *args: None)


def plan(version: str, members=None, **args):
    mocks = OktaAndKubernetesMocks(groups=GROUPS, group_members=members or MEMBERS)
    return run(lambda: KubeSphereOktaIntegration("ks", {**ARGS, "kubesphere_version": version, **args}), mocks=mocks)


def kubesphere_objects(rec) -> list[Any]:
    """Every User and binding declared, whichever resource writes it (Recording.kubesphere_objects)."""
    return rec.kubesphere_objects()


def bindings_of(rec, kind: str) -> dict[str, Any]:
    return {r.inputs["metadata"]["name"]: r for r in kubesphere_objects(rec) if r.type.endswith(f":{kind}")}


def scopes_of_user(rec) -> dict[tuple[str, str, str], str]:
    """(user, kind, workspace or namespace) -> role, asserting there is at most one per key."""
    seen: dict[tuple[str, str, str], str] = {}
    for r in kubesphere_objects(rec):
        body = r.inputs
        if body["kind"] in ("User", "GlobalRoleBinding"):
            continue
        user = body["metadata"]["labels"]["iam.kubesphere.io/user-ref"]
        where = body["metadata"].get("namespace") or body["metadata"]["labels"].get("kubesphere.io/workspace", "")
        key = (user, body["kind"], where)
        assert key not in seen, f"two bindings for {key}"
        seen[key] = body["roleRef"]["name"]
    return seen


@pytest.mark.parametrize("version, rbac_kind_prefix", [
    ("3.4", "kubernetes:rbac.authorization.k8s.io/v1"),
    ("4.1.2", "kubernetes:iam.kubesphere.io/v1beta1"),
    ("4.1.3", "kubernetes:iam.kubesphere.io/v1beta1"),
])
def test_three_groups_plan_one_valid_binding_per_user_and_scope(version, rbac_kind_prefix):
    rec = plan(version)
    assert scopes_of_user(rec) == {
        ("ann.acme.com", "WorkspaceRoleBinding", "team-a"): "team-a-regular",
        ("bob.acme.com", "WorkspaceRoleBinding", "team-a"): "team-a-regular",
        ("bob.acme.com", "RoleBinding", "team-a-dev"): "operator",
        ("cat.acme.com", "RoleBinding", "team-a-dev"): "operator",
        ("dan.acme.com", "ClusterRoleBinding", ""): "cluster-viewer",
        ("ann.acme.com", "ClusterRoleBinding", ""): "cluster-viewer",
    }
    # Every member of any mapped group gets a User; no global role unless role_bindings gives one.
    users = {r.inputs["metadata"]["name"] for r in kubesphere_objects(rec) if r.inputs["kind"] == "User"}
    assert users == {"ann.acme.com", "bob.acme.com", "cat.acme.com", "dan.acme.com"}
    assert not bindings_of(rec, "GlobalRoleBinding")
    assert {r.type for r in kubesphere_objects(rec) if r.inputs.get("kind") == "RoleBinding"} == {f"{rbac_kind_prefix}:RoleBinding"}
    for r in kubesphere_objects(rec):
        assert kubesphere_schemas.problems(version, r.inputs) == [], r.name
        assert r.type == f"kubernetes:{r.inputs['apiVersion']}:{r.inputs['kind']}"


def test_global_roles_and_scoped_roles_combine_for_one_user():
    rec = plan("4.1.3", role_bindings={TEAM_A: "platform-regular"})
    assert set(bindings_of(rec, "GlobalRoleBinding")) == {"ann.acme.com-platform-regular", "bob.acme.com-platform-regular"}
    assert set(bindings_of(rec, "WorkspaceRoleBinding")) == {"ann.acme.com-team-a-regular", "bob.acme.com-team-a-regular"}


def test_members_who_left_lose_exactly_their_bindings_and_the_rest_is_unchanged():
    before = plan("4.1.3")
    after = plan("4.1.3", members={**MEMBERS, GROUPS[TEAM_A]: [ANN], GROUPS[SRE]: [DAN]})
    gone = {(r.inputs["kind"], r.name) for r in kubesphere_objects(before)} - {(r.inputs["kind"], r.name) for r in kubesphere_objects(after)}
    assert gone == {("WorkspaceRoleBinding", "bob.acme.com-team-a-regular"), ("ClusterRoleBinding", "ann.acme.com-cluster-viewer")}
    kept = {(r.inputs["kind"], r.name): r.inputs for r in kubesphere_objects(after)}
    assert all(kept[(r.inputs["kind"], r.name)] == r.inputs for r in kubesphere_objects(before) if (r.inputs["kind"], r.name) in kept)


def test_first_group_in_the_stack_order_wins_within_a_workspace():
    rec = plan("4.1.3", group_names=[TEAM_A, DEVS, SRE],
               workspace_role_bindings={DEVS: {"team-a": "admin"}, TEAM_A: {"team-a": "viewer", "team-b": "regular"}})
    roles = {(b.inputs["subjects"][0]["name"], b.inputs["metadata"]["labels"]["kubesphere.io/workspace"]): b.inputs["roleRef"]["name"]
             for b in bindings_of(rec, "WorkspaceRoleBinding").values()}
    assert roles == {("bob.acme.com", "team-a"): "team-a-admin", ("cat.acme.com", "team-a"): "team-a-admin",
                     ("ann.acme.com", "team-a"): "team-a-viewer",
                     ("ann.acme.com", "team-b"): "team-b-regular", ("bob.acme.com", "team-b"): "team-b-regular"}


def test_one_okta_read_per_group_whatever_the_number_of_maps():
    rec = plan("4.1.3", role_bindings={TEAM_A: "platform-regular", SRE: "platform-regular"},
               workspace_role_bindings={TEAM_A: {"team-a": "regular", "team-b": "viewer"}, SRE: {"ops": "admin"}},
               project_role_bindings={TEAM_A: {"team-a-dev": "operator"}, DEVS: {"team-a-dev": "viewer"}},
               cluster_role_bindings={SRE: "cluster-viewer", TEAM_A: "cluster-viewer"})
    reads = [args["groupId"] for token, args in rec.invokes if token == GET_USERS]
    lookups = [args["name"] for token, args in rec.invokes if token == GET_GROUP]
    assert sorted(reads) == sorted([GROUPS[TEAM_A], GROUPS[DEVS], GROUPS[SRE]])
    assert sorted(lookups) == sorted([TEAM_A, DEVS, SRE])


def test_bindings_wait_for_their_user_and_the_preview_check():
    rec = plan("4.1.3")
    check = rec.named("ks-role-references")
    users = {r.inputs["metadata"]["name"]: r.urn for r in kubesphere_objects(rec) if r.inputs["kind"] == "User"}
    component = rec.one("kubesphere-okta:index:KubeSphereOktaIntegration").urn
    assert check.parent_urn == component
    for r in kubesphere_objects(rec):
        if r.inputs["kind"] != "User":
            assert check.urn in r.dependencies
            assert users[r.inputs["metadata"]["labels"]["iam.kubesphere.io/user-ref"]] in r.dependencies
            assert r.parent_urn == component and not r.retain_on_delete


def test_maps_without_lookup_mapping_are_refused_before_anything_is_registered():
    with pytest.raises(IntegrationArgsError, match="workspace_role_bindings pre-provisions each member"):
        plan("4.1.3", mapping_method="auto")


# --- A missing workspace: the preview check, with the references the component registered -------

class KubernetesObjects:
    """A read-only Kubernetes API on 127.0.0.1: GET of a path in ``objects`` answers it, else 404."""

    def __init__(self, objects: dict[str, Any]):
        self.objects = objects
        self.paths: list[str] = []
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                path = self.path.split("?")[0]
                double.paths.append(path)
                found = double.objects.get(path)
                body = json.dumps(found if found is not None else {"kind": "Status", "code": 404}).encode()
                self.send_response(200 if found is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def kubeconfig(self) -> str:
        return yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "test",
            "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{self.server.server_address[1]}"}}],
            "users": [{"name": "u", "user": {"token": "t"}}],
            "contexts": [{"name": "test", "context": {"cluster": "c", "user": "u"}}],
        })

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def items(*objects: tuple[str, dict[str, str]]) -> dict[str, Any]:
    return {"items": [{"metadata": {"name": name, "labels": labels}} for name, labels in objects]}


def cluster_41(workspaces=("team-a",)) -> dict[str, Any]:
    return {
        "/apis/tenant.kubesphere.io/v1beta1/workspacetemplates": items(*[(w, {}) for w in workspaces]),
        "/apis/iam.kubesphere.io/v1beta1/workspaceroles": items(
            *[(f"{w}-{r}", {"kubesphere.io/workspace": w}) for w in workspaces for r in ("admin", "regular", "viewer")]),
        "/api/v1/namespaces/team-a-dev": {"metadata": {"name": "team-a-dev"}},
        "/apis/iam.kubesphere.io/v1beta1/namespaces/team-a-dev/roles": items(("admin", {}), ("operator", {}), ("viewer", {})),
        "/apis/iam.kubesphere.io/v1beta1/clusterroles": items(("cluster-admin", {}), ("cluster-viewer", {})),
    }


def check_registered(rec, kubeconfig: str):
    props = copy.deepcopy(rec.named("ks-role-references").inputs)
    props["kubeconfig"] = kubeconfig
    return kubesphere_role_check.RoleReferencesProvider().check({}, props)


def test_preview_check_passes_when_every_workspace_project_and_role_exists():
    rec = plan("4.1.3")
    with KubernetesObjects(cluster_41()) as api:
        assert check_registered(rec, api.kubeconfig()).failures == []
    # a few reads, whatever the number of members: the five the maps need, the Users that carry
    # our identity, and kubesphere-config (is this a member cluster?)
    assert len(api.paths) == 7


def test_preview_fails_with_a_clear_error_for_a_missing_workspace():
    rec = plan("4.1.3", workspace_role_bindings={TEAM_A: {"team-aa": "regular"}})
    with KubernetesObjects(cluster_41()) as api:
        failures = check_registered(rec, api.kubeconfig()).failures
    assert [f.property for f in failures] == ["references"]
    assert failures[0].reason == (
        "workspace_role_bindings (config workspaceRoleBindings), group 'KS Team A': workspace 'team-aa' does not "
        "exist on this cluster (did you mean 'team-a'?). Fix: pulumi config set --path "
        "'kubesphere-okta:workspaceRoleBindings[\"KS Team A\"][\"team-a\"]' regular && pulumi config rm --path "
        "'kubesphere-okta:workspaceRoleBindings[\"KS Team A\"][\"team-aa\"]'"
    )


def test_v3_preview_check_reads_the_v3_apis():
    rec = plan("3.4", workspace_role_bindings={TEAM_A: {"team-a": "regular"}}, project_role_bindings={},
               cluster_role_bindings={SRE: "cluster-admin"})
    cluster = {
        "/apis/tenant.kubesphere.io/v1alpha2/workspacetemplates": items(("team-a", {})),
        "/apis/iam.kubesphere.io/v1alpha2/workspaceroles": items(("team-a-viewer", {"kubesphere.io/workspace": "team-a"})),
        "/apis/rbac.authorization.k8s.io/v1/clusterroles": items(("cluster-admin", {})),
    }
    with KubernetesObjects(cluster) as api:
        failures = check_registered(rec, api.kubeconfig()).failures
    assert len(failures) == 1 and "WorkspaceRole 'team-a-regular' for workspace 'team-a' does not exist" in failures[0].reason


def test_preview_goes_on_when_no_cluster_can_be_reached_but_marks_the_check_unverified(capsys):
    """Never a silent pass: diff then reports a change, so `pulumi up` calls update, which reads
    the cluster again and refuses (tests/test_fail_closed.py drives that over gRPC)."""
    rec = plan("4.1.3")
    props = dict(rec.named("ks-role-references").inputs, kubeconfig=None, kube_context="no-such-context")
    provider = kubesphere_role_check.RoleReferencesProvider()
    checked = provider.check({}, props)
    assert checked.failures == [] and checked.inputs["cluster_unverified"]
    assert provider.diff("role-references", dict(props), checked.inputs).changes
    assert "warning: the workspaces, projects and roles the role bindings name" in capsys.readouterr().err
    with pytest.raises(kubesphere_role_check.RoleReferencesRefused, match="Nothing was written"):
        provider.update("role-references", dict(props), checked.inputs)


def test_the_check_provider_unpickles_in_a_fresh_interpreter_outside_the_repository(tmp_path):
    """Pulumi runs a dynamic provider in its own process; this one is pickled by value (its class
    lives in ``__main__``), so it does not need the package (tests/test_dynamic_providers_portable.py
    runs it in a Python without it)."""
    import subprocess
    import sys

    serialized = plan("4.1.3").named("ks-role-references").inputs["__provider"]
    # On stdin: the pickle is longer than one command-line argument may be (MAX_ARG_STRLEN, 128 KiB).
    script = ("import base64, sys, dill; provider = dill.loads(base64.b64decode(sys.stdin.read())); "
              "print(type(provider).__module__, type(provider).__name__)")
    done = subprocess.run([sys.executable, "-c", script], input=serialized, cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["__main__", "RoleReferencesProvider"]


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PEOPLE = [ANN, BOB, CAT, DAN, member("00ueve", "Eve_X@acme.com")]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(version=st.sampled_from(["3.4", "4.1.2", "4.1.3"]),
       membership=st.lists(st.sets(st.sampled_from([TEAM_A, DEVS, SRE])), min_size=5, max_size=5))
def test_any_membership_plans_exactly_the_first_groups_binding_per_scope(version, membership):
    members = {gid: [p for p, groups in zip(PEOPLE, membership) if name in groups] for name, gid in GROUPS.items()}
    rec = plan(version, members=members,
               workspace_role_bindings={DEVS: {"team-a": "admin"}, TEAM_A: {"team-a": "viewer", "team-b": "regular"}},
               project_role_bindings={SRE: {"ops": "admin"}, DEVS: {"ops": "viewer"}},
               cluster_role_bindings={SRE: "cluster-viewer"})
    got = scopes_of_user(rec)  # asserts one binding per user and scope
    expected = {}
    for person, groups in zip(PEOPLE, membership):
        user = person["login"].lower().replace("@", ".").replace("_", "-")
        if DEVS in groups:
            expected[(user, "WorkspaceRoleBinding", "team-a")] = "team-a-admin"
        elif TEAM_A in groups:
            expected[(user, "WorkspaceRoleBinding", "team-a")] = "team-a-viewer"
        if TEAM_A in groups:
            expected[(user, "WorkspaceRoleBinding", "team-b")] = "team-b-regular"
        if SRE in groups:
            expected[(user, "RoleBinding", "ops")] = "admin"
            expected[(user, "ClusterRoleBinding", "")] = "cluster-viewer"
        elif DEVS in groups:
            expected[(user, "RoleBinding", "ops")] = "viewer"
    assert got == expected
    for r in kubesphere_objects(rec):
        assert kubesphere_schemas.problems(version, r.inputs) == []
