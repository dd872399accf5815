"""The keyed membership providers, run by Pulumi's own dynamic-provider process against the stand-in
API server: server-side apply under ``kubesphere-okta``, delete only ours, Users kept unless
``prune_users``, partial failures finished by the next run, refresh by label, cluster identity."""

from __future__ import annotations

import grpc
import pytest

from kubesphere_okta import dynamic_registration
from kubesphere_okta import membership_inputs as inputs
from kubesphere_okta import membership_model as model
from kubesphere_okta import membership_resources
from kubesphere_okta.usernames import PlannedUser
from tests.dynamic_engine import DynamicProviderProcess
from tests.kubernetes_api_double import KubernetesApiDouble

VERSION = "3.4"


def provider() -> str:
    return dynamic_registration.serialized_provider(membership_resources.PROVIDER)


def people(*names: str) -> list[PlannedUser]:
    return [PlannedUser(n, f"00u{n}", f"{n}@acme.com", "platform-regular", f"{n}@acme.com") for n in names]


def users_inputs(kubeconfig: str, names, *, prune: bool = False, adopt: bool = False) -> dict:
    return {"__provider": provider(), "provider_name": "Okta",
            "template": inputs.user_template(VERSION, "Okta"), "users": inputs.users_map(people(*names)),
            "prune_users": prune, "kubeconfig": kubeconfig, "kube_context": None, "rebind_cluster": None,
            "adopt": adopt, "request_timeout": 5.0, "cluster": None, "kept": None}


def bindings_inputs(kubeconfig: str, names) -> dict:
    maps = inputs.bindings_maps(VERSION, people(*names), [])
    return {"__provider": provider(), "provider_name": "Okta", "scope": "global",
            "template": inputs.binding_template(VERSION, "global", "Okta"), "bindings": maps.get("global", {}),
            "kubeconfig": kubeconfig, "kube_context": None, "rebind_cluster": None, "adopt": False,
            "request_timeout": 5.0, "cluster": None, "kept": None}


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    home = tmp_path_factory.mktemp("membership")
    with DynamicProviderProcess(home, {"HOME": str(home), "KUBECONFIG": str(home / "none")}) as process:
        yield process


@pytest.fixture
def cluster():
    with KubernetesApiDouble(None) as double:
        yield double


def up(engine, props: dict, state: tuple | None = None):
    """``pulumi up`` of one resource: Check, then Create (no state) or Diff and Update."""
    if state is None:
        checked, failures = engine.check({}, props)
        assert failures == [], failures
        return engine.create(checked)
    id_, old_inputs, old_outputs = state
    checked, failures = engine.check(old_outputs, props)
    assert failures == [], failures
    return id_, engine.update_outputs(id_, old_inputs, old_outputs, checked)


def test_create_applies_every_user_with_our_field_manager_and_labels(engine, cluster):
    props = users_inputs(cluster.kubeconfig(), ["ann", "bob"])
    id_, outputs = up(engine, props)
    users = cluster.store.of_kind("User")
    assert sorted(users) == ["ann", "bob"]
    assert {m["manager"] for u in users.values() for m in u["metadata"]["managedFields"]} == {model.FIELD_MANAGER}
    assert users["ann"]["metadata"]["labels"][model.OWNER_LABEL] == "Okta"
    assert users["ann"]["spec"] == {"email": "ann@acme.com"}
    assert outputs["cluster"]["kube_system_uid"] == cluster.cluster_uid and id_ == "Okta/User"


def test_a_second_run_writes_only_who_changed_and_keeps_a_leaver_user(engine, cluster):
    first = users_inputs(cluster.kubeconfig(), ["ann", "bob", "cy"])
    id_, outputs = up(engine, first)
    writes_before = len(cluster.store.applied)
    second = users_inputs(cluster.kubeconfig(), ["ann", "bob", "dee"])
    _id, outputs = up(engine, second, (id_, first, outputs))
    assert [a[1] for a in cluster.store.applied[writes_before:]] == ["dee"]
    assert sorted(cluster.store.of_kind("User")) == ["ann", "bob", "cy", "dee"]  # cy kept: prune_users off
    assert outputs["kept"] == ["cy"] and cluster.store.deleted == []


def test_prune_users_deletes_a_leaver_user_and_bindings_always_go(engine, cluster):
    kubeconfig = cluster.kubeconfig()
    state = {}
    for kind, props in (("users", users_inputs(kubeconfig, ["ann", "cy"], prune=True)),
                        ("bindings", bindings_inputs(kubeconfig, ["ann", "cy"]))):
        state[kind] = (*up(engine, props), props)
    for kind, props in (("users", users_inputs(kubeconfig, ["ann"], prune=True)), ("bindings", bindings_inputs(kubeconfig, ["ann"]))):
        id_, outputs, old = state[kind]
        up(engine, props, (id_, old, outputs))
    assert sorted(cluster.store.deleted) == [("globalrolebindings", "cy-platform-regular"), ("users", "cy")]


def test_a_declared_name_someone_else_holds_refuses_before_anything_is_written(engine, cluster):
    cluster.store.put({"apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "User",
                       "metadata": {"name": "bob"}, "spec": {"email": "bob@elsewhere.com"}}, "kubectl-create")
    props = users_inputs(cluster.kubeconfig(), ["ann", "bob"])
    _checked, failures = engine.check({}, props)
    assert len(failures) == 1 and "bob" in failures[0] and "adoptExistingProvider" in failures[0]
    with pytest.raises(grpc.RpcError, match="refusing to write any User"):
        engine.create(props)
    assert cluster.store.applied == []
    # adopt: taken over with force, labelled ours.
    up(engine, users_inputs(cluster.kubeconfig(), ["ann", "bob"], adopt=True))
    assert cluster.store.of_kind("User")["bob"]["spec"]["email"] == "bob@acme.com"


def test_a_run_that_stops_part_way_names_what_is_left_and_the_next_finishes_it(engine, cluster):
    first = users_inputs(cluster.kubeconfig(), ["ann"])
    id_, outputs = up(engine, first)
    cluster.store.fail_applies["cy"] = 500
    grown = users_inputs(cluster.kubeconfig(), ["ann", "bob", "cy", "dee"])
    checked, _ = engine.check(outputs, grown)
    with pytest.raises(grpc.RpcError) as failed:
        engine.update_outputs(id_, first, outputs, checked)
    message = failed.value.details()
    assert "apply cy failed" in message and "Done before it (1): apply bob" in message and "Not done (1): apply dee" in message
    assert sorted(cluster.store.of_kind("User")) == ["ann", "bob"]
    # The engine kept the old outputs (the update failed); the next up plans from the cluster.
    _id, outputs = up(engine, grown, (id_, first, outputs))
    applied = [a[1] for a in cluster.store.applied]
    assert sorted(cluster.store.of_kind("User")) == ["ann", "bob", "cy", "dee"]
    assert applied.count("bob") == 1 and applied.count("cy") == 1 and applied.count("dee") == 1


def test_refresh_reports_the_members_as_found(engine, cluster):
    props = users_inputs(cluster.kubeconfig(), ["ann", "bob"])
    id_, outputs = up(engine, props)
    cluster.store.objects = {k: v for k, v in cluster.store.objects.items() if k[3] != "bob"}
    ann = cluster.store.of_kind("User")["ann"]
    ann["spec"]["email"] = "edited@acme.com"
    found = engine.read(id_, props, outputs)
    assert found["users"] == {"ann": {"email": "ann@acme.com", "oktaId": "00uann", "drifted": True}}
    assert engine.diff(id_, props, found, props) == "DIFF_SOME"


def test_destroy_deletes_our_bindings_keeps_users_and_never_touches_others(engine, cluster):
    kubeconfig = cluster.kubeconfig()
    foreign = cluster.store.put(inputs.binding_template(VERSION, "global", "Other") | {
        "metadata": {"name": "zed-platform-admin", "labels": {"iam.kubesphere.io/user-ref": "zed"}}}, "ks-apiserver")
    assert foreign
    created = {}
    for kind, props in (("users", users_inputs(kubeconfig, ["ann"])), ("bindings", bindings_inputs(kubeconfig, ["ann"]))):
        created[kind] = up(engine, props)
    for kind in ("bindings", "users"):
        engine.delete(*created[kind])
    assert cluster.store.deleted == [("globalrolebindings", "ann-platform-regular")]
    assert sorted(cluster.store.of_kind("User")) == ["ann"] and "zed-platform-admin" in cluster.store.of_kind("GlobalRoleBinding")


def test_every_operation_refuses_another_cluster(engine, cluster):
    props = users_inputs(cluster.kubeconfig(), ["ann"])
    id_, outputs = up(engine, props)
    elsewhere = {**outputs, "cluster": {"server": "https://old", "kube_system_uid": "another-uid"}}
    _checked, failures = engine.check(elsewhere, props)
    assert failures and "refusing to update" in failures[0]
    for attempt in (lambda: engine.delete(id_, elsewhere), lambda: engine.read(id_, props, elsewhere),
                    lambda: engine.update_outputs(id_, props, elsewhere, {**props, "cluster": elsewhere["cluster"]})):
        with pytest.raises(grpc.RpcError, match="another-uid"):
            attempt()
    assert cluster.store.deleted == [] and len(cluster.store.applied) == 1


def test_diff_never_replaces(engine, cluster):
    props = users_inputs(cluster.kubeconfig(), ["ann"])
    answer = engine.update("Okta/User", props, {**props, "cluster": None}, users_inputs(cluster.kubeconfig(), ["bob"]))
    assert answer["replaces"] == [] and answer["delete_before_replace"] is False


def test_a_cluster_whose_identity_cannot_be_read_is_never_a_silent_same_step(engine, cluster):
    """Fail closed, as the guards: unchanged members on a cluster that answers 403 to the identity
    read are not a no-op at check; diff reports a change, so `pulumi up` calls update, which reads
    again and refuses with nothing written."""
    props = users_inputs(cluster.kubeconfig(), ["ann", "bob"])
    id_, outputs = up(engine, props)
    writes = len(cluster.store.applied)
    cluster.forbidden.add("/api/v1/namespaces/kube-system")
    checked, failures = engine.check(outputs, props)
    assert failures == []  # preview goes on ...
    assert checked["cluster_unverified"] and checked["cluster"] == outputs["cluster"]  # ... binding kept
    assert engine.diff(id_, props, outputs, checked) == "DIFF_SOME"
    with pytest.raises(grpc.RpcError, match="Nothing was written"):
        engine.update_outputs(id_, props, outputs, checked)
    assert len(cluster.store.applied) == writes and cluster.store.deleted == []


def test_outputs_never_carry_the_unverified_marker(engine, cluster):
    props = users_inputs(cluster.kubeconfig(), ["ann"])
    id_, outputs = up(engine, props)
    marked = {**props, "cluster": outputs["cluster"], "cluster_unverified": "the cluster could not be read"}
    new_outputs = engine.update_outputs(id_, props, outputs, marked)  # readable again at update
    assert "cluster_unverified" not in new_outputs
    assert new_outputs["cluster"]["kube_system_uid"] == cluster.cluster_uid
