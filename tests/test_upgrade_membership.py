"""Upgrading a stack whose Users and bindings are per-member resources (0.1.0, 0.2.0) to the keyed
membership resources, in two steps, loses no User and no binding on the cluster.

The engine's side is played here step by step, as pulumi/pulumi's deployment executor orders it
(pkg/resource/deploy/step_generator.go): every resource the program registers is created or
updated as it is registered, and the resources the program no longer registers are deleted after
all of that, dependents first; a resource whose STATE says ``retainOnDelete`` is only dropped from
the state (``deleteStep`` with ``retainOnDelete``), which the state learns from the last run that
registered it. A step that fails stops the update before any delete. Each scenario also runs the
deletes first, to show the result does not depend on that order.

* The keyed resources run in Pulumi's own dynamic-provider process (``tests/dynamic_engine.py``)
  against the stand-in API server (``tests/kubernetes_api_double.py``).
* pulumi-kubernetes, which writes the per-member resources, is not available here; its writes are
  server-side applies under its field manager (``pulumi-kubernetes-<suffix>`` in its default
  server-side-apply mode: pulumi/pulumi-kubernetes provider/pkg/provider/provider.go,
  ``fieldManagerName``) and its delete is a DELETE of the object, made on the same stand-in.

Every scenario counts the DELETEs the stand-in received for objects that must survive: zero.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from infra import program
from kubesphere_okta import KubeSphereOktaIntegration, membership_model
from tests.dynamic_engine import DynamicProviderProcess
from tests.kubernetes_api_double import KubernetesApiDouble
from tests.kubernetes_objects import MEMBER_PATH
from tests.pulumi_harness import OktaAndKubernetesMocks, run

FIXTURES = Path(__file__).parent / "fixtures"
V010 = json.loads((FIXTURES / "upgrade-0.1.0" / "state.json").read_text())
V020 = json.loads((FIXTURES / "upgrade-0.2.0" / "state.json").read_text())
PULUMI_KUBERNETES = "pulumi-kubernetes-5a7c1e9d"


def is_member_object(type_: str) -> bool:
    return type_.startswith("kubernetes:") and type_.rsplit(":", 1)[-1] in membership_model.KINDS


class Mocks(OktaAndKubernetesMocks):
    def app_credentials(self, args):
        return {"clientId": "0oa1upgradeclient000", "clientSecret": "upgrade-client-secret"}


def registrations(fixture: dict, key: str, step: int, members: dict | None = None) -> list:
    """What this release registers for the fixture's program ``key`` in ``step`` (1: per-member
    resources retained, 2: keyed), in registration order."""
    mocks = Mocks(groups=fixture["groups"], group_members=members or fixture["members"])
    if key.startswith("program-"):
        stack = fixture["program"][key]
        extra = {"kubesphere-okta:perMemberResources": "true"} if step == 1 else {}
        recording = run(program.main, stack="dev", config={**stack["config"], **extra},
                        secret_keys=stack["secret_keys"], mocks=mocks)
    else:
        args = {**fixture["args"][key], **({"per_member_resources": True} if step == 1 else {})}
        recording = run(lambda: KubeSphereOktaIntegration("ks", args), mocks=mocks)
    return recording.resources


def old_state(fixture: dict, key: str) -> dict[str, dict]:
    """The per-member resources the previous release left in the state: urn -> {type, body, retain}.

    0.1.0's fixture records their inputs and options. 0.2.0's records their URNs only: their bodies
    are what this release's step 1 declares without the handover label, and 0.2.0 kept Users on
    delete (``prune_users`` off) and not bindings."""
    if "resources" in fixture and isinstance(fixture["resources"].get(key), list) and any(
            "inputs" in r for r in fixture["resources"][key] if is_member_object(r["type"])):
        return {r["urn"]: {"type": r["type"], "body": r["inputs"], "retain": r["retain_on_delete"]}
                for r in fixture["resources"][key] if is_member_object(r["type"])}
    step_1 = {r.urn: r for r in registrations(fixture, key, 1)}
    state = {}
    for old in fixture["resources"][key]:
        if is_member_object(old["type"]):
            body = json.loads(json.dumps(step_1[old["urn"]].inputs))
            body["metadata"]["labels"].pop(membership_model.HANDOVER_LABEL)
            if not body["metadata"]["labels"]:
                del body["metadata"]["labels"]
            state[old["urn"]] = {"type": old["type"], "body": body, "retain": old["type"].endswith(":User")}
    return state


class Engine:
    """The engine's steps for the resources this test follows: per-member objects and keyed ones."""

    def __init__(self, cluster: KubernetesApiDouble, provider: DynamicProviderProcess, state: dict[str, dict]):
        self.cluster, self.provider, self.state = cluster, provider, dict(state)

    # pulumi-kubernetes, as its requests reach the API server
    def _kubernetes(self, method: str, body: dict) -> None:
        metadata = body["metadata"]
        plural = body["kind"].lower() + "s"
        where = f"/namespaces/{metadata['namespace']}" if metadata.get("namespace") else ""
        root = "/api/v1" if "/" not in body["apiVersion"] else f"/apis/{body['apiVersion']}"
        path = f"{root}{where}/{plural}/{metadata['name']}"
        assert MEMBER_PATH.match(path), path
        query = {"fieldManager": [PULUMI_KUBERNETES]} if method == "PATCH" else {}
        status, answer = self.cluster.store.handle(method, path, query, json.dumps(body).encode(), "application/apply-patch+yaml")
        assert status in (200, 201), answer

    def seed(self) -> None:
        """The cluster as the previous release left it: each per-member object applied."""
        for entry in self.state.values():
            self._kubernetes("PATCH", entry["body"])

    def up(self, registered: list, *, deletes_first: bool = False) -> list[str]:
        """One ``pulumi up``; returns the check failures that stopped it (empty when it ran)."""
        followed = [r for r in registered if is_member_object(r.type) or r.type in membership_model.KEYED_TYPES]
        removed = [urn for urn in self.state if urn not in {r.urn for r in followed}]
        if deletes_first:
            self._delete(removed)
        for r in followed:
            if is_member_object(r.type):
                self._kubernetes("PATCH", r.inputs)
                self.state[r.urn] = {"type": r.type, "body": r.inputs, "retain": r.retain_on_delete}
                continue
            inputs = {**r.inputs, "kubeconfig": self.kubeconfig(r.inputs.get("kubeconfig"))}
            old = self.state.get(r.urn)
            checked, failures = self.provider.check(old["outputs"] if old else {}, inputs)
            if failures:
                return failures  # the engine stops: nothing after this, no delete
            if old is None:
                id_, outputs = self.provider.create(checked)
            else:
                id_ = old["id"]
                outputs = self.provider.update_outputs(id_, old["inputs"], old["outputs"], checked)
            self.state[r.urn] = {"type": r.type, "id": id_, "inputs": checked, "outputs": outputs,
                                 "retain": r.retain_on_delete}
        if not deletes_first:
            self._delete(removed)
        return []

    def _delete(self, urns: list[str]) -> None:
        for urn in reversed(urns):  # registered later, deleted first
            entry = self.state.pop(urn)
            if entry["retain"]:
                continue  # retainOnDelete in the state: dropped from the stack only
            if entry["type"] in membership_model.KEYED_TYPES:
                self.provider.delete(entry["id"], entry["outputs"])
            else:
                self._kubernetes("DELETE", entry["body"])

    def kubeconfig(self, configured):
        return configured  # paths resolve in the provider process's HOME (see ``engine``)


def kubeconfig_for(double: KubernetesApiDouble, context: str) -> str:
    config = yaml.safe_load(double.kubeconfig())
    for entry in config["contexts"]:
        if entry["name"] == "test":
            entry["name"] = context
    config["current-context"] = context
    return yaml.safe_dump(config)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("upgrade-membership")


@pytest.fixture(scope="module")
def double():
    with KubernetesApiDouble(None) as api:
        yield api


@pytest.fixture(scope="module")
def provider(home, double):
    kube = home / ".kube"
    kube.mkdir()
    (kube / "config").write_text(kubeconfig_for(double, "test"))
    (kube / "prod-config").write_text(kubeconfig_for(double, "prod"))  # 0.2.0: kubeconfig argument
    (kube / "dev-config").write_text(kubeconfig_for(double, "dev-cluster"))  # 0.1.0's program config
    with DynamicProviderProcess(home, {"HOME": str(home), "KUBECONFIG": str(kube / "config")}) as process:
        yield process


@pytest.fixture
def cluster(double):
    double.store.objects.clear()
    double.store.deleted.clear()
    double.store.applied.clear()
    return double


SCENARIOS = [(V010, "0.1.0", key) for key in ("4.1", "program-3.4", "program-4.1")] + \
            [(V020, "0.2.0", key) for key in ("3.4", "4.1")]


def survivors(registered: list) -> set[tuple[str, str]]:
    """(kind, object key) of every User and binding the keyed release declares."""
    return {(body["kind"], key) for r in registered
            for key, body in membership_model.declared_objects(r.type, r.inputs).items()}


def deleted_survivors(cluster, must_survive: set[tuple[str, str]]) -> list:
    kinds = {k.lower() + "s": k for k in membership_model.KINDS}
    return [(kinds[plural], key) for plural, key in cluster.store.deleted if (kinds[plural], key) in must_survive]


@pytest.mark.parametrize("deletes_first", [False, True], ids=["engine-order", "deletes-first"])
@pytest.mark.parametrize("fixture, release, key", SCENARIOS, ids=[f"{r}-{k}" for _, r, k in SCENARIOS])
def test_two_step_upgrade_deletes_no_user_and_no_binding(cluster, provider, fixture, release, key, deletes_first):
    engine = Engine(cluster, provider, old_state(fixture, key))
    engine.seed()
    assert engine.state, "the fixture's stack has per-member resources"
    step_2 = registrations(fixture, key, 2)
    must_survive = survivors(step_2)
    assert must_survive and {k for k, _ in must_survive} >= {"User", "GlobalRoleBinding"}
    # Step 1: the same per-member resources, now retained and labelled for handover.
    assert engine.up(registrations(fixture, key, 1), deletes_first=deletes_first) == []
    assert all(entry["retain"] for entry in engine.state.values())
    # Step 2: keyed resources adopt the objects; the engine forgets the per-member resources.
    assert engine.up(step_2, deletes_first=deletes_first) == []
    assert deleted_survivors(cluster, must_survive) == [] and cluster.store.deleted == []
    for kind, key_ in must_survive:
        obj = cluster.store.of_kind(kind)[key_]
        assert membership_model.owner(obj, "Okta") == membership_model.OURS, (kind, key_)
        assert any(m["manager"] == membership_model.FIELD_MANAGER for m in obj["metadata"]["managedFields"])
    assert set(engine.state) == {r.urn for r in step_2 if r.type in membership_model.KEYED_TYPES}
    # A third `pulumi up` with nothing changed writes nothing.
    writes = len(cluster.store.applied)
    assert engine.up(step_2) == [] and len(cluster.store.applied) == writes


@pytest.mark.parametrize("fixture, release, key", SCENARIOS[:1] + SCENARIOS[3:4], ids=["0.1.0-4.1", "0.2.0-3.4"])
def test_skipping_step_1_is_refused_at_check_and_deletes_nothing(cluster, provider, fixture, release, key):
    engine = Engine(cluster, provider, old_state(fixture, key))
    engine.seed()
    failures = engine.up(registrations(fixture, key, 2))
    assert failures and "perMemberResources true" in failures[0] and "pulumi-kubernetes" not in failures[0].split(":")[0]
    assert cluster.store.deleted == [] and not any(a[2] == membership_model.FIELD_MANAGER for a in cluster.store.applied)
    assert all(is_member_object(entry["type"]) for entry in engine.state.values())  # the old state stands


def test_a_member_who_left_between_the_steps_loses_their_binding_and_keeps_their_user(cluster, provider):
    fixture, key = V010, "program-4.1"
    engine = Engine(cluster, provider, old_state(fixture, key))
    engine.seed()
    assert engine.up(registrations(fixture, key, 1)) == []
    everyone = fixture["members"]
    stayed = {group: [m for m in people if m["id"] != "00u1bob"] for group, people in everyone.items()}
    step_2 = registrations(fixture, key, 2, members=stayed)
    assert engine.up(step_2) == []
    assert cluster.store.deleted == [("globalrolebindings", "bob.acme.com-platform-regular")]
    assert "bob.acme.com" in cluster.store.of_kind("User")  # pruneUsers is off
    assert deleted_survivors(cluster, survivors(step_2)) == []
