"""A stack that cannot read its cluster's identity writes nothing and deletes nothing.

The dynamic providers run in Pulumi's own dynamic-provider process (``python -m pulumi.dynamic``),
driven over gRPC in the engine's call order for preview, up, refresh and destroy
(``tests/dynamic_engine.py``, ``Stack``). The stack is the component's 4.1 shape: the guard
``before`` that every object depends on, an object written by pulumi-kubernetes (the
identity-provider Secret, here POSTed to the stand-in when the engine gets that far), the role
check that bindings depend on, a binding, and the release guard ``after`` that depends on all of
them. Each test first binds the stack to a healthy stand-in API server, then breaks the way it is
reached: the API server answers 403 to the identity read (a user without ``get`` on namespaces),
accepts connections and never answers, or sits behind a kubeconfig the resolver rejects. Then:
``up`` stops at the guard before any object is written, ``destroy`` stops before any object is
deleted, ``refresh`` fails, ``preview`` goes on with a warning naming the API server, and the state
never loses its cluster identity (so the next preview on another cluster is refused). Last, the
cluster reached is client-go's: with ``KUBECONFIG=a:b`` the first file's, and through a kubeconfig
client-go accepts that the project once refused (and then waved through).
"""

from __future__ import annotations

import copy
import functools
import json
import shutil
import urllib.request
from pathlib import Path
from typing import Optional

import pytest
import yaml
from pulumi.dynamic.dynamic import serialize_provider

from tests.dynamic_engine import EngineProcess, KubernetesObject, Resource, Stack, StepFailed
from tests.kubernetes_api_double import SECRETS_PATH, TOKEN, KubernetesApiDouble

ROOT = Path(__file__).resolve().parent.parent
PROGRAM_DIR = ROOT / yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["main"]
CLUSTER_ROLES = "/apis/iam.kubesphere.io/v1beta1/clusterroles"
#: Each request's deadline (the operation's is three), long enough for a loaded machine...
TIMEOUT = 5.0
#: ... and short where a server that never answers costs it.
BLACK_HOLE_TIMEOUT = 1.0


@functools.cache
def _providers() -> tuple[str, str]:
    """The serialized guard and role-check providers, made on first use, not at import: a module
    that only imports this one's fixtures (or `make mutation`, where they would serialize the
    mutants too) does not pay for it."""
    from kubesphere_okta import kubesphere_role_check
    from kubesphere_okta.cluster_guard import portable_guard_provider

    return (serialize_provider(portable_guard_provider()),
            serialize_provider(kubesphere_role_check.portable_provider()))


def guard(role: str, timeout: float = TIMEOUT, **overrides) -> dict:
    return {"__provider": _providers()[0], "role": role, "provider_name": "Okta", "kubeconfig": None, "kube_context": None,
            "secret_name": "identity-provider-okta" if role == "before" else None,
            "namespace": "kubesphere-system" if role == "before" else None,
            "rebind_cluster": None, "request_timeout": timeout, "cluster": None, **overrides}


def role_check(timeout: float = TIMEOUT, kubeconfig: Optional[str] = None) -> dict:
    return {"__provider": _providers()[1], "kubesphere_version": "4.1.3", "request_timeout": timeout,
            "references": [{"scope": "cluster", "target": "", "role": "cluster-admin", "role_name": "cluster-admin",
                            "group": "SRE"}],
            "read_plan": {"namespaces": [], "roles": {}, "cluster_roles": ["iam.kubesphere.io", "v1beta1", "clusterroles"]},
            "kubeconfig": kubeconfig, "kube_context": None}


class Cluster:
    """A stand-in API server and what pulumi-kubernetes would write to it."""

    def __init__(self, double: KubernetesApiDouble, role_check: bool = True):
        self.double, self.role_check = double, role_check
        double.collections[CLUSTER_ROLES] = [{"metadata": {"name": "cluster-admin"}}]
        self.attempted: list[str] = []
        self.deleted: list[str] = []
        self.written = 0

    def writer(self, name: str):
        def write() -> None:
            self.attempted.append(name)
            self.written += 1
            body = json.dumps({"apiVersion": "v1", "kind": "Secret",
                               "metadata": {"name": f"{name}-{self.written}", "namespace": "kubesphere-system"}})
            request = urllib.request.Request(self.double.url + SECRETS_PATH, data=body.encode(), method="POST",
                                             headers={"Authorization": f"Bearer {TOKEN}",
                                                      "Content-Type": "application/json"})
            urllib.request.urlopen(request, timeout=5).read()
        return write

    def deleter(self, name: str):
        return lambda: self.deleted.append(name)

    def program(self, process: EngineProcess, timeout: float = TIMEOUT, role_timeout: float = TIMEOUT,
                kubeconfig: Optional[str] = None) -> list:
        """The request timeout is not compared by diff: a run may change it. ``kubeconfig``: the
        contents ``kubernetes:kubeconfig`` gives (None: the ambient kubeconfig)."""
        checked = ("role-references",) if self.role_check else ()
        return [
            Resource("before", process, guard("before", timeout, kubeconfig=kubeconfig)),
            KubernetesObject("secret", self.writer("secret"), self.deleter("secret"), depends_on=("before",)),
            *([Resource("role-references", process, role_check(role_timeout, kubeconfig))] if self.role_check else []),
            KubernetesObject("binding", self.writer("binding"), self.deleter("binding"), depends_on=("before", *checked)),
            Resource("after", process, guard("after", timeout, kubeconfig=kubeconfig),
                     depends_on=("before", "secret", *checked, "binding")),
        ]


@pytest.fixture
def processes():
    started: list[EngineProcess] = []

    def start(kubeconfig: Path) -> EngineProcess:
        started.append(EngineProcess(PROGRAM_DIR, {"KUBECONFIG": str(kubeconfig)}))
        return started[-1]

    yield start
    for process in started:
        process.close()


def bound_stack(cluster: Cluster, process: EngineProcess) -> Stack:
    stack = Stack()
    assert stack.up(cluster.program(process)) == [
        "before: create", "secret: write", *(["role-references: create"] if cluster.role_check else []),
        "binding: write", "after: create"]
    assert stack.state["before"].outputs["cluster"]["kube_system_uid"] == cluster.double.cluster_uid
    cluster.attempted.clear()
    return stack


def break_by(how: str, double: KubernetesApiDouble, tmp_path: Path) -> Path:
    """Break the way the stack reaches its cluster; the kubeconfig the next run uses."""
    path = tmp_path / "kubeconfig"
    if how == "forbidden":
        double.forbidden |= {"/api/v1/namespaces/kube-system", CLUSTER_ROLES}
    elif how == "black-hole":
        double.black_hole = True
    else:  # a kubeconfig the resolver rejects: its current context names no context of the file
        document = yaml.safe_load(double.kubeconfig())
        document["current-context"] = "gone"
        path.write_text(yaml.safe_dump(document))
        return path
    path.write_text(double.kubeconfig())
    return path


def cause(how: str, double: KubernetesApiDouble) -> str:
    return {"forbidden": "get on namespaces", "black-hole": f"{double.url} did not answer",
            "rejected": "kubeconfig"}[how]


BROKEN = ["forbidden", "black-hole", "rejected"]


@pytest.mark.parametrize("how", BROKEN)
def test_a_stack_that_cannot_read_its_clusters_identity_writes_and_deletes_nothing(processes, tmp_path, how):
    """preview, up, refresh and destroy, in the engine's call order, against a cluster whose
    identity cannot be read (the 3.x entry's own update path is in test_cluster_binding_served.py)."""
    with KubernetesApiDouble(None) as double:
        cluster = Cluster(double, role_check=how != "black-hole")  # the role check's own deadline: issue part 4
        (tmp_path / "ok").write_text(double.kubeconfig())
        stack = bound_stack(cluster, processes(tmp_path / "ok"))
        posted = len(double.writes)
        before = {name: (s.inputs, s.outputs) for name, s in stack.state.items()}
        process = processes(break_by(how, double, tmp_path))
        program = cluster.program(process, BLACK_HOLE_TIMEOUT if how == "black-hole" else TIMEOUT)

        # preview: goes on, plans the guards' update (the engine calls update only during up) ...
        steps = stack.preview(program)
        assert steps[0] == "before: update" and steps[-1] == "after: update"
        assert ("role-references: update" in steps) == (how != "black-hole")
        assert "Create" not in process.calls and "Update" not in process.calls

        # ... up: stops at the guard, before any object is written ...
        with pytest.raises(StepFailed) as stopped:
            stack.up(program)
        assert stack.steps == ["before: failed"]
        assert cause(how, double) in str(stopped.value) and "Nothing was written" in str(stopped.value)
        assert cluster.attempted == [] and len(double.writes) == posted
        # Nothing stored without a cluster identity: the state is as the last good run left it.
        assert {name: (s.inputs, s.outputs) for name, s in stack.state.items()} == before

        # ... refresh fails rather than keep an unchecked state ...
        with pytest.raises(StepFailed) as stopped:
            stack.refresh(program)
        assert stack.steps == ["before: failed"] and cause(how, double) in str(stopped.value)

        # ... and destroy stops at the release guard, before any object is deleted.
        with pytest.raises(StepFailed) as stopped:
            stack.destroy(program)
        assert stack.steps == ["after: failed"] and "Nothing was deleted" in str(stopped.value)
        assert cause(how, double) in str(stopped.value)
        assert cluster.deleted == [] and set(stack.state) == set(before)
        stderr = process.close()
    where = double.url if how != "rejected" else "kubeconfig"
    assert "warning:" in stderr and where in stderr
    assert "`pulumi up` reads it again before anything is written and fails unless" in stderr


def test_an_unreadable_run_keeps_the_binding_so_the_next_preview_elsewhere_is_refused(processes, tmp_path):
    with KubernetesApiDouble(None) as dev, KubernetesApiDouble(None) as prod:
        cluster = Cluster(dev)
        (tmp_path / "dev").write_text(dev.kubeconfig())
        stack = bound_stack(cluster, processes(tmp_path / "dev"))
        try:
            stack.up(cluster.program(processes(break_by("forbidden", dev, tmp_path))))
        except StepFailed:
            pass
        assert stack.state["before"].inputs["cluster"]["kube_system_uid"] == dev.cluster_uid
        (tmp_path / "prod").write_text(prod.kubeconfig())
        with pytest.raises(StepFailed) as refused:
            stack.preview(Cluster(prod).program(processes(tmp_path / "prod")))
        assert stack.steps == ["before: failed"]
        assert dev.cluster_uid in str(refused.value) and prod.cluster_uid in str(refused.value)


def test_a_first_up_that_cannot_read_the_cluster_creates_nothing(processes, tmp_path):
    with KubernetesApiDouble(None) as double:
        cluster = Cluster(double)
        process = processes(break_by("forbidden", double, tmp_path))
        with pytest.raises(StepFailed) as stopped:
            Stack().up(cluster.program(process))
        assert "get on namespaces" in str(stopped.value)
        assert cluster.attempted == [] and double.writes == []


def test_the_role_check_refuses_an_up_when_it_cannot_list_the_roles(processes, tmp_path):
    """The guard can read the cluster's identity but the role check cannot read the roles: the
    bindings, which depend on the check, are not written."""
    with KubernetesApiDouble(None) as double:
        cluster = Cluster(double)
        (tmp_path / "ok").write_text(double.kubeconfig())
        stack = bound_stack(cluster, processes(tmp_path / "ok"))
        double.forbidden.add(CLUSTER_ROLES)
        process = processes(tmp_path / "ok")
        steps = stack.preview(cluster.program(process))
        assert "role-references: update" in steps and cluster.attempted == []
        with pytest.raises(StepFailed) as stopped:
            stack.up(cluster.program(process))
        assert stack.steps == ["before: same", "secret: write", "role-references: failed"]
        assert "HTTP 403" in str(stopped.value) and CLUSTER_ROLES.rsplit("/", 1)[-1] in str(stopped.value)
        assert cluster.attempted == ["secret"]  # written by the guard's leave; the binding is not
        assert "warning:" in process.close()


def test_the_role_check_refuses_a_first_up_when_it_cannot_list_the_roles(processes, tmp_path):
    with KubernetesApiDouble(None) as double:
        cluster = Cluster(double)
        double.forbidden.add(CLUSTER_ROLES)
        (tmp_path / "ok").write_text(double.kubeconfig())
        stack = Stack()
        with pytest.raises(StepFailed):
            stack.up(cluster.program(processes(tmp_path / "ok")))
        assert stack.steps[-1] == "role-references: failed" and "binding" not in cluster.attempted


def test_the_3x_entry_unchanged_on_an_unreadable_cluster_is_not_a_silent_same_step(processes, tmp_path):
    """3.x: nothing depends on a guard, but the entry's own state must never lose its binding:
    preview plans its update with a warning, up refuses in update and writes nothing, and the next
    preview on another cluster is refused by name."""
    from tests.test_cluster_binding_served import PROVIDER, entry

    inputs = {"__provider": PROVIDER, "provider_name": "Okta", "entry": entry(),
              "oauth_options": {}, "kubeconfig": None, "kube_context": None, "adopt": False, "rebind_cluster": None,
              "request_timeout": TIMEOUT}
    config = yaml.safe_load((ROOT / "tests" / "fixtures" / "kubesphere-v3.4.1" / "cluster-configuration-ldap-github.yaml").read_text())
    with KubernetesApiDouble(config) as dev, KubernetesApiDouble(copy.deepcopy(config)) as prod:
        (tmp_path / "dev").write_text(dev.kubeconfig())
        stack = Stack()
        assert stack.up([Resource("entry", processes(tmp_path / "dev"), inputs)]) == ["entry: create"]
        written = len(dev.writes)
        process = processes(break_by("forbidden", dev, tmp_path))
        assert stack.preview([Resource("entry", process, inputs)]) == ["entry: update"]
        with pytest.raises(StepFailed) as stopped:
            stack.up([Resource("entry", process, inputs)])
        assert "get on namespaces" in str(stopped.value) and "Nothing was written" in str(stopped.value)
        assert len(dev.writes) == written
        assert stack.state["entry"].inputs["cluster"]["kube_system_uid"] == dev.cluster_uid
        (tmp_path / "prod").write_text(prod.kubeconfig())
        with pytest.raises(StepFailed) as refused:
            stack.preview([Resource("entry", processes(tmp_path / "prod"), inputs)])
        assert dev.cluster_uid in str(refused.value) and prod.cluster_uid in str(refused.value)
        assert prod.writes == []


# --- the same cluster as pulumi-kubernetes -----------------------------------------------------------


def test_with_two_kubeconfig_files_the_guard_and_the_3x_entry_reach_the_first_files_cluster(processes, tmp_path):
    """``KUBECONFIG=a.yaml:b.yaml``, each file with its own current-context and no
    ``kubernetes:context``: client-go (so kubectl and pulumi-kubernetes) takes the first file's
    current-context, cluster A. The guard binds the stack to A and the 3.x entry is written into
    A's ClusterConfiguration; B is never written."""
    from tests.test_cluster_binding_served import PROVIDER, entry, fixture
    from tests.test_kubeconfig_loading import kubectl_view

    with KubernetesApiDouble(fixture()) as a, KubernetesApiDouble(fixture()) as b:
        for name, double in (("a", a), ("b", b)):
            document = yaml.safe_load(double.kubeconfig())
            document["clusters"][0]["name"] = document["contexts"][0]["context"]["cluster"] = f"cluster-{name}"
            document["contexts"][0]["name"] = document["current-context"] = f"context-{name}"
            (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(document))
        listed = f"{tmp_path / 'a.yaml'}:{tmp_path / 'b.yaml'}"
        if shutil.which("kubectl"):  # client-go's own answer (CI installs kubectl; test_kubeconfig_loading.py)
            view, _ = kubectl_view(listed, None, cwd=tmp_path, home=tmp_path)
            assert view["clusters"][0]["cluster"]["server"] == a.url
        process = processes(listed)
        stack = Stack()
        entry_inputs = {"__provider": PROVIDER, "provider_name": "Okta", "entry": entry(), "oauth_options": {},
                        "kubeconfig": None, "kube_context": None, "adopt": False, "rebind_cluster": None,
                        "request_timeout": TIMEOUT}
        stack.up([*Cluster(a, role_check=False).program(process), Resource("entry", process, entry_inputs)])
        assert stack.state["before"].outputs["cluster"]["kube_system_uid"] == a.cluster_uid
        assert stack.state["after"].outputs["cluster"]["kube_system_uid"] == a.cluster_uid
        assert stack.state["entry"].outputs["cluster"]["kube_system_uid"] == a.cluster_uid
        assert [p["name"] for p in a.object["spec"]["authentication"]["oauthOptions"]["identityProviders"]][-1] == "Okta"
        assert b.writes == [] and b.object["spec"] == fixture()["spec"]


def test_a_kubeconfig_client_go_accepts_is_read_and_another_cluster_refused(processes, tmp_path):
    """Bound to dev through ``kubernetes:kubeconfig`` given as a path (the same input every run);
    the file now reaches prod and is one client-go accepts though it is not tidy (a cluster entry
    no context uses has no server): the guard reads prod's identity and refuses by name at preview
    and at up, and nothing reaches prod."""
    with KubernetesApiDouble(None) as dev, KubernetesApiDouble(None) as prod:
        cluster = Cluster(dev)
        path = tmp_path / "kubeconfig"
        path.write_text(dev.kubeconfig())
        process = processes(tmp_path / "unused")
        stack = Stack()
        stack.up(cluster.program(process, kubeconfig=str(path)))
        assert stack.state["before"].outputs["cluster"]["kube_system_uid"] == dev.cluster_uid
        document = yaml.safe_load(prod.kubeconfig())
        document["clusters"].append({"name": "retired", "cluster": {}})
        path.write_text(yaml.safe_dump(document))
        on_prod = Cluster(prod)
        program = on_prod.program(process, kubeconfig=str(path))
        for run in (stack.preview, stack.up):
            with pytest.raises(StepFailed) as refused:
                run(program)
            assert stack.steps == ["before: failed"]
            assert dev.cluster_uid in str(refused.value) and prod.cluster_uid in str(refused.value)
        assert on_prod.attempted == [] and prod.writes == []
