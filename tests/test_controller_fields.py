"""Nothing fights KubeSphere's controllers: what they add to a binding never shows as a diff and is
never removed by the next ``pulumi up``.

There is no cluster or Pulumi CLI here, so the test reproduces the two mechanisms pulumi-kubernetes
v4 (server-side apply on by default) relies on, as their sources describe them:

* Diff: the provider prunes the live object to the shape of the previous inputs
  (``pruneLiveState``/``pruneMap``/``pruneSlice`` in pulumi/pulumi-kubernetes
  provider/pkg/provider/util.go and provider.go, since the v4 diff rewrite, PR #2445) and compares
  that with the new inputs. A key the previous inputs never had is pruned away, so fields added by
  a controller cannot show as a diff.
* Apply: server-side apply (Kubernetes docs "Server-Side Apply") sets the fields in the applied
  configuration and removes only fields that this field manager owned and no longer applies; fields
  owned by another manager (the controller's ``Update``) stay.

The controllers' additions are the ones KubeSphere's source makes (kubesphere/kubesphere
pkg/controller/workspacerolebinding ``bindWorkspace``: a controller ownerReference to the
WorkspaceTemplate; 4.1 finalizer ``finalizers.kubesphere.io/workspacerolebindings``; 3.x
pkg/controller/globalrolebinding ``ensureNotControlledByKubefed``: the label
``kubefed.io/managed: "false"`` on GlobalRoleBindings), plus what the API server adds to every object.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubesphere_okta import KubeSphereOktaIntegration, membership_model
from tests.test_workspace_and_project_roles import MEMBERS, TEAM_A, plan

MANAGER = "pulumi-kubernetes"
GLOBAL = {TEAM_A: "platform-regular"}
CONTROLLER = "controller-manager"


@pytest.fixture(autouse=True)
def no_v3_cluster_configuration(monkeypatch):
    monkeypatch.setattr(KubeSphereOktaIntegration, "_kubesphere_v3", lambda self, *args: None)


# --- The two mechanisms, modelled -----------------------------------------------------------

def prune(live: Any, shape: Any) -> Any:
    """Keep of ``live`` only what ``shape`` (the previous inputs) has, recursively; lists element by
    element up to the shape's length (pulumi-kubernetes' pruneMap/pruneSlice)."""
    if isinstance(live, dict) and isinstance(shape, dict):
        return {k: prune(v, shape[k]) for k, v in live.items() if k in shape}
    if isinstance(live, list) and isinstance(shape, list):
        return [prune(v, s) for v, s in zip(live, shape)]
    return live


def provider_diff(old_inputs: dict, live: dict, new_inputs: dict) -> bool:
    """Whether pulumi-kubernetes would report a change for this object."""
    return prune(live, old_inputs) != new_inputs


def leaf_paths(value: Any, path: tuple = ()) -> set[tuple]:
    if isinstance(value, dict) and value:
        return set().union(*(leaf_paths(v, path + (k,)) for k, v in value.items()))
    if isinstance(value, list) and value:
        return set().union(*(leaf_paths(v, path + (i,)) for i, v in enumerate(value)))
    return {path}


def _remove(obj: dict, path: tuple) -> None:
    node = obj
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]


def server_side_apply(live: dict, owners: dict[tuple, str], manager: str, config: dict) -> tuple[dict, dict]:
    """Apply ``config`` as ``manager``: set its fields, drop fields ``manager`` alone owned and no
    longer applies, leave every other manager's fields. Returns (object, owners)."""
    result, owners = copy.deepcopy(live), dict(owners)
    applied = leaf_paths(config)
    for path in sorted((p for p, m in owners.items() if m == manager and p not in applied), key=len, reverse=True):
        _remove(result, path)
        del owners[path]

    def merge(into: dict, value: dict) -> None:
        for key, item in value.items():
            if isinstance(item, dict) and isinstance(into.get(key), dict):
                merge(into[key], item)
            else:
                into[key] = copy.deepcopy(item)

    merge(result, config)
    owners.update({p: manager for p in applied})
    return result, owners


def controllers_act(body: dict, version: str) -> tuple[dict, set[tuple]]:
    """What KubeSphere's controllers and the API server add to a created binding (an Update by the
    controller-manager), and the paths they now own."""
    live = copy.deepcopy(body)
    before = leaf_paths(live)
    metadata = live["metadata"]
    metadata.update(uid="6f1c-uid", resourceVersion="4242", creationTimestamp="2026-12-01T00:00:00Z", generation=1,
                    managedFields=[{"manager": MANAGER, "operation": "Apply"}])
    if body["kind"] == "WorkspaceRoleBinding":
        workspace = metadata["labels"]["kubesphere.io/workspace"]
        tenant = "tenant.kubesphere.io/v1alpha2" if version.startswith("3") else "tenant.kubesphere.io/v1beta1"
        metadata["ownerReferences"] = [{"apiVersion": tenant, "kind": "WorkspaceTemplate", "name": workspace,
                                        "uid": "ws-uid", "controller": True, "blockOwnerDeletion": True}]
        if not version.startswith("3"):
            metadata["finalizers"] = ["finalizers.kubesphere.io/workspacerolebindings"]
    if body["kind"] == "GlobalRoleBinding" and version.startswith("3"):
        metadata["labels"]["kubefed.io/managed"] = "false"
    return live, leaf_paths(live) - before


# --- The test the issue asks for ----------------------------------------------------------------

@pytest.mark.parametrize("version", ["3.4", "4.1.2", "4.1.3"])
def test_fields_controllers_add_never_show_as_a_diff_and_are_never_removed(version):
    first = {(r.type, r.name): r.inputs for r in plan(version, role_bindings=GLOBAL).kubesphere_objects()}
    bindings = {n: b for n, b in first.items() if b["kind"] != "User"}
    assert {b["kind"] for b in bindings.values()} >= {"WorkspaceRoleBinding", "GlobalRoleBinding"}
    # pulumi up: each binding applied by pulumi-kubernetes, then the controllers act.
    cluster = {}
    for name, body in bindings.items():
        applied, owners = server_side_apply({}, {}, MANAGER, body)
        live, added = controllers_act(applied, version)
        owners.update({p: CONTROLLER for p in added})
        cluster[name] = (live, owners, added)
    # Next run, same Okta groups: the program declares exactly the same objects...
    second = {(r.type, r.name): r.inputs for r in plan(version, role_bindings=GLOBAL).kubesphere_objects()}
    for name, (live, owners, added) in cluster.items():
        assert second[name] == bindings[name]
        # ...which never set a field the controllers own,
        assert not {p for p in leaf_paths(second[name]) if p[:2] in {("metadata", "ownerReferences"), ("metadata", "finalizers")}}
        assert "kubefed.io/managed" not in second[name]["metadata"]["labels"]
        # ...so pulumi-kubernetes (step 1 of the upgrade) reports no diff, and the keyed membership
        # provider, which writes only objects that differ in a field we declare, writes nothing,
        assert not provider_diff(bindings[name], live, second[name]), name
        assert not membership_model.differs(second[name], live), name
        # ...and an apply keeps every field the controllers added.
        reapplied, _ = server_side_apply(live, owners, MANAGER, second[name])
        assert reapplied == live


def test_the_diff_model_does_report_a_real_change():
    """Guard: the pruning model is not blind; a changed role or a dropped label is a diff."""
    bindings = {r.name: r.inputs for r in plan("4.1.3").kubesphere_objects() if r.inputs.get("kind") == "WorkspaceRoleBinding"}
    name, body = next(iter(bindings.items()))
    live, _ = controllers_act(body, "4.1.3")
    changed = copy.deepcopy(body)
    changed["roleRef"]["name"] = "team-a-viewer"
    assert provider_diff(body, live, changed) and membership_model.differs(changed, live)
    relabelled = copy.deepcopy(body)
    del relabelled["metadata"]["labels"]["iam.kubesphere.io/role-ref"]
    assert provider_diff(body, live, relabelled)


def test_a_label_we_stop_applying_is_removed_but_the_controllers_stay():
    """Guard for the apply model: our own field goes when we stop setting it; theirs stays."""
    body = next(r.inputs for r in plan("4.1.3").kubesphere_objects() if r.inputs.get("kind") == "WorkspaceRoleBinding")
    applied, owners = server_side_apply({}, {}, MANAGER, body)
    live, added = controllers_act(applied, "4.1.3")
    owners.update({p: CONTROLLER for p in added})
    smaller = copy.deepcopy(body)
    del smaller["metadata"]["labels"]["iam.kubesphere.io/role-ref"]
    after, _ = server_side_apply(live, owners, MANAGER, smaller)
    assert "iam.kubesphere.io/role-ref" not in after["metadata"]["labels"]
    assert after["metadata"]["finalizers"] == ["finalizers.kubesphere.io/workspacerolebindings"]
    assert after["metadata"]["ownerReferences"] == live["metadata"]["ownerReferences"]


def test_a_member_who_left_has_their_binding_deleted_not_just_their_role_changed():
    before = {r.name for r in plan("4.1.3").kubesphere_objects() if r.inputs.get("kind") == "WorkspaceRoleBinding"}
    after = {r.name for r in plan("4.1.3", members={**MEMBERS, "00gteamaaaaaaaaaaaaa": []}).kubesphere_objects()
             if r.inputs.get("kind") == "WorkspaceRoleBinding"}
    assert before and not after  # no longer declared: the keyed provider deletes bindings that are ours
