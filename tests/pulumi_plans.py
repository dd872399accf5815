"""Previews and saved plans in the Pulumi CLI's own formats, for the membership-sync tests.

Shapes from pulumi/pulumi@v3.259.0 (no CLI runs here):

* ``pulumi preview --json``: pkg/display/json.go ``PreviewDigest`` {config, steps, diagnostics,
  duration, changeSummary, maybeCorrupt}, each step a ``PreviewStep`` {op, urn, provider, oldState,
  newState, diffReasons, replaceReasons, detailedDiff}, states ``apitype.ResourceV3``
  (sdk/go/common/apitype/core.go: urn, custom, id, type, inputs, outputs, parent, protect,
  dependencies, provider, retainOnDelete, ...), secrets as ``"[secret]"``
  (pkg/backend/display/json.go ``massagePropertyValue``). A replacement is shown as its logical
  ``replace`` step only (display.go ``shouldShow``), unchanged resources only with ``--show-sames``.
* ``pulumi preview --save-plan``: sdk/go/common/apitype/plan.go ``DeploymentPlanV1`` {manifest
  {time, magic, version}, config, resourcePlans {urn: {goal, steps, state, seed}}}; ``goal`` is
  ``GoalV1`` with ``inputDiff`` {adds, updates, deletes} of top-level input keys (new values),
  absent for a delete (pkg/resource/deploy/step_generator.go adds a goal-less plan for deletes);
  a replacement's steps are ``create-replacement``, ``replace``, ``delete-replaced``.
"""

from __future__ import annotations

import copy
from typing import Any, Mapping

from infra import membership_sync

PROJECT = "kubesphere-okta"
COMPONENT_NAME = "kubesphere-okta"
CLUSTER_A = {"server": "https://10.0.0.1:6443", "kube_system_uid": "6f1c2d9e-0000-4000-8000-00000000000a"}
CLUSTER_B = {"server": "https://10.0.0.1:6443", "kube_system_uid": "6f1c2d9e-0000-4000-8000-00000000000b"}
KUBERNETES_PROVIDER = "urn:pulumi:{stack}::kubesphere-okta::pulumi:providers:kubernetes::default_4_34_2::04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def user_entry(username: str, okta_id: str, email: str | None = None) -> dict[str, Any]:
    """A member's entry in KubeSphereUsers' ``users`` map: the User body, bound to the Okta identity."""
    return {
        "apiVersion": "iam.kubesphere.io/v1beta1",
        "kind": "User",
        "metadata": {"name": username, "annotations": {"iam.kubesphere.io/identity-provider.Okta": okta_id}},
        "spec": {"email": email or f"{username}@example.com"},
    }


def binding_entry(username: str, role: str = "platform-regular") -> dict[str, Any]:
    """One member's entry in a global bindings map, as ``membership_inputs.bindings_maps`` makes it."""
    return {f"{username}-{role}": role}


class Plan:
    """One stack's preview digest and saved plan, built step by step as the engine would emit them."""

    def __init__(self, stack: str = "prod"):
        self.stack = stack
        self.steps: list[dict[str, Any]] = []
        self.resource_plans: dict[str, dict[str, Any]] = {}
        self.stack_urn = f"urn:pulumi:{stack}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{stack}"
        self.component_urn = self.urn(membership_sync.COMPONENT_TYPE, COMPONENT_NAME, parent_chain="")
        self.add("same", membership_sync.STACK_TYPE, f"{PROJECT}-{stack}", {}, {}, custom=False, urn=self.stack_urn)
        self.add("same", membership_sync.COMPONENT_TYPE, COMPONENT_NAME, {}, {}, custom=False,
                 urn=self.component_urn, parent=self.stack_urn)

    def urn(self, type_: str, name: str, parent_chain: str | None = None) -> str:
        chain = membership_sync.COMPONENT_TYPE + "$" if parent_chain is None else parent_chain
        return f"urn:pulumi:{self.stack}::{PROJECT}::{chain}{type_}::{name}"

    def _state(self, urn: str, type_: str, inputs: Mapping[str, Any], outputs: Mapping[str, Any] | None,
               custom: bool, parent: str | None, retain: bool, protect: bool) -> dict[str, Any]:
        state: dict[str, Any] = {"urn": urn, "custom": custom, "type": type_, "inputs": copy.deepcopy(dict(inputs)),
                                 "outputs": copy.deepcopy(dict(outputs if outputs is not None else inputs)),
                                 "parent": parent or self.component_urn}
        if custom:
            state["id"] = f"id-{urn.rsplit('::', 1)[-1]}"
            state["provider"] = KUBERNETES_PROVIDER.format(stack=self.stack)
        if retain:
            state["retainOnDelete"] = True
        if protect:
            state["protect"] = True
        return state

    def add(self, op: str, type_: str, name: str, old_inputs: Mapping[str, Any] | None,
            new_inputs: Mapping[str, Any] | None, *, old_outputs: Mapping[str, Any] | None = None,
            custom: bool = True, retain: bool = False, protect: bool = False, urn: str | None = None,
            parent: str | None = None, in_preview: bool = True, in_plan: bool = True,
            plan_input_keys: set[str] | None = None) -> str:
        urn = urn or self.urn(type_, name)
        old = None if op == "create" or old_inputs is None else self._state(
            urn, type_, old_inputs, old_outputs, custom, parent, retain, protect)
        new = None if op == "delete" or new_inputs is None else self._state(
            urn, type_, new_inputs, None, custom, parent, retain, protect)
        changed = sorted(k for k in set(old_inputs or {}) | set(new_inputs or {})
                         if (old_inputs or {}).get(k) != (new_inputs or {}).get(k)) if op not in ("create", "delete") else []
        if in_preview:
            step: dict[str, Any] = {"op": op, "urn": urn, "detailedDiff": None}
            if custom:
                step["provider"] = KUBERNETES_PROVIDER.format(stack=self.stack)
            if old is not None:
                step["oldState"] = old
            if new is not None:
                step["newState"] = new
            if op in ("update", "replace"):
                step["diffReasons"] = changed
                step["detailedDiff"] = {k: {"kind": "update", "inputDiff": True} for k in changed}
            if op == "replace":
                step["replaceReasons"] = changed
            self.steps.append(step)
        if in_plan:
            steps = {"replace": ["create-replacement", "replace", "delete-replaced"]}.get(op, [op])
            resource_plan: dict[str, Any] = {"steps": steps, "state": None}
            if op != "delete":
                keys = set(changed) if plan_input_keys is None else plan_input_keys
                news = dict(new_inputs or {})
                diff: dict[str, Any] = {}
                if op == "create":
                    diff["adds"] = news
                else:
                    updates = {k: news[k] for k in keys if k in news and k in (old_inputs or {})}
                    adds = {k: news[k] for k in keys if k in news and k not in (old_inputs or {})}
                    deletes = sorted(k for k in keys if k not in news)
                    diff = {k: v for k, v in (("adds", adds), ("updates", updates), ("deletes", deletes)) if v}
                resource_plan["goal"] = {"type": type_, "name": name, "custom": custom, "inputDiff": diff,
                                         "outputDiff": {}, "parent": parent or self.component_urn,
                                         "protect": protect}
                resource_plan["seed"] = "c2VlZA=="
            self.resource_plans[urn] = resource_plan
        return urn

    # The component's resources, as 0.3 (issue 23's keyed resources) registers them.
    def guards(self, cluster: Mapping[str, Any] = CLUSTER_A, live: Mapping[str, Any] | None = None,
               op: str = "same") -> None:
        for suffix, role in (("-cluster", "before"), ("-cluster-release", "after")):
            inputs = {"role": role, "provider_name": "Okta", "kubeconfig": "[secret]", "kube_context": None,
                      "cluster": dict(cluster)}
            new = dict(inputs, cluster=dict(live or cluster))
            self.add(op, membership_sync.DYNAMIC_TYPE, f"{COMPONENT_NAME}{suffix}", inputs, new)

    def okta_app(self, op: str = "same", in_preview: bool = True, **changes: Any) -> str:
        inputs = {"label": "KubeSphere (prod)", "grantTypes": ["authorization_code"], "pkceRequired": False}
        return self.add(op, "okta:app/oAuth:OAuth", f"{COMPONENT_NAME}-app", inputs, {**inputs, **changes},
                        protect=True, in_preview=in_preview)

    def users(self, before: Mapping[str, Any], after: Mapping[str, Any], *, prune_users: bool = False,
              new_prune_users: bool | None = None, cluster: Mapping[str, Any] = CLUSTER_A,
              live: Mapping[str, Any] | None = None, op: str | None = None, **extra: Any) -> str:
        old = {"users": dict(before), "prune_users": prune_users, "kubeconfig": "[secret]", "kube_context": None,
               "cluster": dict(cluster)}
        new = {**old, "users": dict(after), "cluster": dict(live or cluster),
               "prune_users": prune_users if new_prune_users is None else new_prune_users, **extra}
        op = op or ("same" if old == new else "update")
        return self.add(op, membership_sync.USERS_TYPE, f"{COMPONENT_NAME}-users", old, new)

    def bindings(self, name: str, before: Mapping[str, Any], after: Mapping[str, Any], *,
                 cluster: Mapping[str, Any] = CLUSTER_A, live: Mapping[str, Any] | None = None,
                 op: str | None = None, scope: str = "global") -> str:
        old = {"bindings": dict(before), "scope": scope, "kubeconfig": "[secret]", "kube_context": None,
               "cluster": dict(cluster)}
        new = {**old, "bindings": dict(after), "cluster": dict(live or cluster)}
        op = op or ("same" if old == new else "update")
        return self.add(op, membership_sync.ROLE_BINDINGS_TYPE, f"{COMPONENT_NAME}-{name}", old, new)

    def preview(self) -> dict[str, Any]:
        summary: dict[str, int] = {}
        for step in self.steps:
            summary[step["op"]] = summary.get(step["op"], 0) + 1
        return {"config": {"kubesphere-okta:consoleUrl": "https://kubesphere.example.com",
                           "okta:apiToken": "[secret]"},
                "steps": copy.deepcopy(self.steps), "duration": 4200000000, "changeSummary": summary}

    def plan(self) -> dict[str, Any]:
        return {"manifest": {"time": "2026-12-03T16:00:00.000000000Z",
                             "magic": "5a0f1b0e4f0c9d8c7b6a5948372615049382716059483726150493827160594",
                             "version": "v3.259.0"},
                "config": {"kubesphere-okta:consoleUrl": "https://kubesphere.example.com"},
                "resourcePlans": copy.deepcopy(self.resource_plans)}

    def classify(self, **options: Any) -> membership_sync.Verdict:
        return membership_sync.classify(self.preview(), self.plan(), **options)


def members(count: int, prefix: str = "user") -> dict[str, dict[str, Any]]:
    return {f"{prefix}{i:05d}.example.com": user_entry(f"{prefix}{i:05d}.example.com", f"00u{prefix}{i:05d}")
            for i in range(count)}
