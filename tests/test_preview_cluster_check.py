"""The preview check reads the cluster for what only the cluster knows, on every supported version:

* one identity, one User: Users carrying our provider's identity keys (3.x and 4.1.0-4.1.2: the
  labels ``iam.kubesphere.io/identify-provider`` + ``iam.kubesphere.io/origin-uid``; 4.1.3 the
  annotation ``iam.kubesphere.io/identity-provider.<name>``), as each release's lookup reads them
  (kubesphere/kubesphere@v3.4.1:pkg/models/auth/authenticator.go ``findMappedUser``,
  @v4.1.2 and @v4.1.3:pkg/models/auth/mapper.go ``FindMappedUser``);
* a project creator's ``<creator>-admin`` RoleBinding (namespace controller) that a map would also
  declare;
* 4.1 member clusters, whose kubesphere-config says ``multicluster.clusterRole: member``.

The cluster is a read-only API double on 127.0.0.1 that filters Users by label selector as the API
server does.
"""

from __future__ import annotations

import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from kubesphere_okta import KubeSphereOktaIntegration, kubesphere_role_check
from tests.pulumi_harness import OktaAndKubernetesMocks, run

VERSIONS = ("3.2", "3.3", "3.4", "4.1.1", "4.1.2", "4.1.3")
ADMINS = "KS Admins"
GROUPS = {ADMINS: "00gadmins00000000000"}
ANN = {"id": "00u1ann0000000000000", "login": "ann@acme.com", "email": "ann@acme.com", "status": "ACTIVE"}
ARGS = {"console_url": "https://console.example.com", "issuer": "https://example.okta.com", "group_names": [ADMINS],
        "mapping_method": "lookup", "role_bindings": {ADMINS: "platform-regular"}}


@pytest.fixture(autouse=True)
def no_v3_cluster_configuration(monkeypatch):
    """The 3.x ClusterConfiguration entry is tested elsewhere."""
    monkeypatch.setattr(KubeSphereOktaIntegration, "_kubesphere_v3", lambda self, *args: None)


class ReadOnlyCluster:
    """GET answers ``objects[path]`` (404 otherwise); a LIST with ``labelSelector=k=v,...`` keeps the
    items whose labels hold every pair."""

    def __init__(self, objects: dict[str, Any]):
        self.objects, self.paths = objects, []
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                url = urlsplit(self.path)
                double.paths.append(url.path)
                found = copy.deepcopy(double.objects.get(url.path))
                selector = parse_qs(url.query).get("labelSelector", [""])[0]
                if found is not None and selector:
                    pairs = dict(p.split("=", 1) for p in selector.split(","))
                    found["items"] = [i for i in found["items"]
                                      if all((i["metadata"].get("labels") or {}).get(k) == v for k, v in pairs.items())]
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


def users_path(version: str) -> str:
    return f"/apis/iam.kubesphere.io/{'v1alpha2' if version.startswith('3.') else 'v1beta1'}/users"


def user(version: str, name: str, okta_id: str, provider: str = "Okta") -> dict:
    """A User bound to an identity as KubeSphere ``version`` itself binds one at login
    (pkg/models/auth/authenticator.go: labels before 4.1.3, the annotation in 4.1.3)."""
    if version == "4.1.3":
        return {"metadata": {"name": name, "annotations": {f"iam.kubesphere.io/identity-provider.{provider}": okta_id}}}
    return {"metadata": {"name": name, "labels": {"iam.kubesphere.io/identify-provider": provider,
                                                   "iam.kubesphere.io/origin-uid": okta_id}}}


def check(version: str, objects: dict[str, Any], **args):
    mocks = OktaAndKubernetesMocks(groups=GROUPS, group_members={GROUPS[ADMINS]: [ANN]})
    rec = run(lambda: KubeSphereOktaIntegration("ks", {**ARGS, "kubesphere_version": version, **args}), mocks=mocks)
    props = copy.deepcopy(rec.named("ks-role-references").inputs)
    with ReadOnlyCluster(objects) as cluster:
        props["kubeconfig"] = cluster.kubeconfig()
        result = kubesphere_role_check.RoleReferencesProvider().check({}, props)
    return [(f.property, f.reason) for f in result.failures], cluster.paths


@pytest.mark.parametrize("version", VERSIONS)
def test_the_user_we_plan_alone_with_its_identity_passes(version):
    failures, paths = check(version, {users_path(version): {"items": [user(version, "ann.acme.com", ANN["id"])]}})
    assert failures == []
    assert users_path(version) in paths


@pytest.mark.parametrize("version", VERSIONS)
def test_a_second_user_with_a_planned_identity_is_named_with_its_fix(version):
    users = [user(version, "ann.acme.com", ANN["id"]), user(version, "ann", ANN["id"]),
             user(version, "ann-other-idp", ANN["id"], provider="GitHub"), user(version, "bob", "00u1bob0000000000000")]
    failures, _ = check(version, {users_path(version): {"items": users}})
    (failure,) = failures
    prop, reason = failure
    assert prop == "identities"
    assert reason.startswith(f"User 'ann' carries the identity of Okta user {ANN['id']} (")
    assert "whom this stack declares as User 'ann.acme.com'" in reason
    assert "kubectl delete users.iam.kubesphere.io ann" in reason
    if version == "4.1.3":
        assert "lands in whichever of them" in reason
        assert "kubectl annotate users.iam.kubesphere.io ann iam.kubesphere.io/identity-provider.Okta-" in reason
    else:
        assert "the login fails" in reason
        assert ("kubectl label users.iam.kubesphere.io ann iam.kubesphere.io/identify-provider- "
                "iam.kubesphere.io/origin-uid-") in reason


@pytest.mark.parametrize("version", VERSIONS)
def test_a_user_bound_the_other_release_s_way_is_not_this_release_s_duplicate(version):
    # 4.1.3's lookup reads only the annotation; the others only the labels.
    other = "4.1.2" if version == "4.1.3" else "4.1.3"
    users = [user(version, "ann.acme.com", ANN["id"]), user(other, "ann", ANN["id"])]
    failures, _ = check(version, {users_path(version): {"items": users}})
    assert failures == []


@pytest.mark.parametrize("version", VERSIONS)
def test_a_project_creator_mapped_as_its_admin_is_refused_at_preview(version):
    v3 = version.startswith("3.")
    roles = f"/apis/{'rbac.authorization.k8s.io/v1' if v3 else 'iam.kubesphere.io/v1beta1'}/namespaces/team-a-dev/roles"
    objects = {"/api/v1/namespaces/team-a-dev": {"metadata": {"name": "team-a-dev",
                                                              "annotations": {"kubesphere.io/creator": "ann.acme.com"}}},
               roles: {"items": [{"metadata": {"name": "admin"}}]}}
    failures, _ = check(version, objects, project_role_bindings={ADMINS: {"team-a-dev": "admin"}})
    (failure,) = failures
    assert failure[0] == "planned"
    assert "namespace controller for the creator (ann.acme.com) of project team-a-dev" in failure[1]
    resource = "rolebinding" if v3 else "rolebindings.iam.kubesphere.io"
    assert f"kubectl -n team-a-dev delete {resource} ann.acme.com-admin" in failure[1]
    assert "pulumi config set --path 'kubesphere-okta:projectRoleBindings[\"KS Admins\"][\"team-a-dev\"]' operator" in failure[1]


@pytest.mark.parametrize("version", VERSIONS)
def test_a_member_cluster_is_refused_on_4_1_and_left_to_the_cluster_configuration_on_3x(version):
    member = {"/api/v1/namespaces/kubesphere-system/configmaps/kubesphere-config": {
        "data": {"kubesphere.yaml": yaml.safe_dump({"multicluster": {"clusterRole": "member", "hostClusterName": "host"}})}}}
    failures, paths = check(version, member)
    if version.startswith("3."):  # 3.x reads the ClusterConfiguration instead (cluster_configuration.check)
        assert failures == [] and "/api/v1/namespaces/kubesphere-system/configmaps/kubesphere-config" not in paths
    else:
        (failure,) = failures
        assert failure[0] == "kubeconfig" and "multicluster.clusterRole: member" in failure[1]
        assert "host cluster" in failure[1]
    host = {"/api/v1/namespaces/kubesphere-system/configmaps/kubesphere-config": {
        "data": {"kubesphere.yaml": yaml.safe_dump({"multicluster": {"clusterRole": "host"}})}}}
    assert check(version, host)[0] == []
