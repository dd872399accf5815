"""Is a planned change a membership change only? The membership sync's one decision (pure: no Pulumi, no I/O).

The scheduled sync (``.github/workflows/sync.yml``, docs/membership-sync.md) applies a stack's
change on its own only when every planned step is a membership change: Users and role bindings
that the component derives from Okta group members, on the cluster the stack is bound to. Anything
else (the Okta app, its assignments and policies, the identity provider, a guard, a provider, a
mapping added or removed, a setting changed) waits for a reviewed pull request.

``classify`` reads what the Pulumi CLI writes, in the formats of pulumi/pulumi@v3.259.0:

* the preview digest of ``pulumi preview --json --show-sames``: ``{"steps": [{"op", "urn",
  "oldState", "newState", "diffReasons", "replaceReasons", "detailedDiff"}], "changeSummary",
  ...}`` (pkg/display/json.go ``PreviewDigest``/``PreviewStep``, filled by
  pkg/backend/display/json.go ``ShowPreviewDigest``; states are ``apitype.ResourceV3`` of
  sdk/go/common/apitype/core.go with secrets shown as ``"[secret]"``). Without ``--show-sames`` the
  digest leaves out unchanged resources (pkg/backend/display/display.go ``shouldShow``), and with
  them the guards and the group sizes the burst rule needs: refused then, not guessed;
* the saved update plan of ``pulumi preview --save-plan`` (sdk/go/common/apitype/plan.go
  ``DeploymentPlanV1``: ``{"manifest", "config", "resourcePlans": {urn: {"goal": {"type", "name",
  "inputDiff": {"adds", "updates", "deletes"}, ...}, "steps": [op, ...], "state"}}}``, written by
  pkg/resource/stack/plan.go ``SerializePlan``). ``pulumi up --plan`` performs nothing the plan
  does not hold (pkg/resource/deploy/plan.go), so the sync classifies the plan's operations; the
  preview supplies the before and after of each input, and the plan the top-level input keys that
  changed, secrets included (``inputDiff`` compares the real values; the digest shows every
  secret as ``"[secret]"``).

Membership resources, by Pulumi type token:

* ``pulumi-python:dynamic/kubesphere-okta:KubeSphereUsers`` (inputs ``users: {username: ...}`` and
  ``prune_users``) and ``pulumi-python:dynamic/kubesphere-okta:KubeSphereRoleBindings``
  (``bindings: {username: {binding name: ...}}``): an ``update`` whose only changed inputs are that
  map (and an unchanged cluster) is membership; creating, deleting or replacing one is a mapping
  added or removed (a configuration change), refused;
* the per-member objects of release 0.2 (a ``User`` and one binding per role, children of the
  component): creating and deleting them is membership; replacing a User is refused (KubeSphere
  deletes every membership granted to a deleted User), and so is deleting one that pruneUsers
  does not allow.

Each membership resource's recorded ``cluster`` (``{"server", "kube_system_uid"}``, as the cluster
guards record it) must be the one it had and the one the guard holds; a guard may only stay the
same. A mapping losing more members at once than the burst threshold is held for review.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

COMPONENT_TYPE = "kubesphere-okta:index:KubeSphereOktaIntegration"
USERS_TYPE = "pulumi-python:dynamic/kubesphere-okta:KubeSphereUsers"
ROLE_BINDINGS_TYPE = "pulumi-python:dynamic/kubesphere-okta:KubeSphereRoleBindings"
#: The input each keyed membership resource holds its members in.
MEMBER_MAP = {USERS_TYPE: "users", ROLE_BINDINGS_TYPE: "bindings"}
#: The inputs of a keyed membership resource that identify its cluster.
CLUSTER_KEY = "cluster"
#: The cluster guards (kubesphere_v3.ClusterGuard): dynamic resources named ``<name>-cluster`` and
#: ``<name>-cluster-release``.
DYNAMIC_TYPE = "pulumi-python:dynamic:Resource"
GUARD_SUFFIXES = ("-cluster", "-cluster-release")
STACK_TYPE = "pulumi:pulumi:Stack"

#: Release 0.2's per-member objects (kubesphere_iam, kubesphere_roles): kind -> what it is.
PER_MEMBER_KINDS = {
    "User": "User",
    "GlobalRoleBinding": "role binding",
    "WorkspaceRoleBinding": "role binding",
    "RoleBinding": "role binding",
    "ClusterRoleBinding": "role binding",
}
PER_MEMBER_GROUPS = ("iam.kubesphere.io/", "rbac.authorization.k8s.io/")

#: Labels and annotations that tie a User to its Okta identity (kubesphere_iam.identity_binding).
ORIGIN_UID_LABEL = "iam.kubesphere.io/origin-uid"
IDENTITY_ANNOTATION_PREFIX = "iam.kubesphere.io/identity-provider."

#: Operations that write nothing.
NO_OPS = frozenset({"same", "read"})
REPLACE_OPS = frozenset({"replace", "create-replacement", "delete-replaced", "discard-replaced",
                         "import-replacement", "read-replacement"})

#: What the non-membership resources of the component are, for the message.
KNOWN_TYPES = {
    "okta:app/oAuth:OAuth": "the Okta app",
    "okta:index/appGroupAssignments:AppGroupAssignments": "the Okta app's group assignments",
    "okta:app/groupAssignment:GroupAssignment": "an Okta app group assignment",
    "okta:index/appSignonPolicy:AppSignonPolicy": "the app sign-on policy",
    "okta:index/appSignonPolicyRule:AppSignonPolicyRule": "an app sign-on policy rule",
    "kubernetes:core/v1:Secret": "KubeSphere's identity-provider Secret",
}

# Refusal kinds.
NOT_MEMBERSHIP = "not-membership"
USER_DELETION = "user-deletion"
WRONG_CLUSTER = "wrong-cluster"
UNCONFIRMED = "unconfirmed"
BURST = "burst"


@dataclass(frozen=True)
class BurstThreshold:
    """A mapping may lose up to ``percent`` % of its members (at least ``minimum``) in one run."""

    percent: float = 10.0
    minimum: int = 1

    def allowed(self, members_before: int) -> int:
        return max(self.minimum, math.floor(members_before * self.percent / 100))


@dataclass(frozen=True)
class Refusal:
    urn: str
    op: str
    kind: str
    reason: str

    def line(self) -> str:
        return f"{self.op} {name_of(self.urn)} ({type_of(self.urn)}): {self.reason}"


@dataclass(frozen=True)
class MemberChange:
    """One membership resource's change: who joins, who leaves, who is renamed (old -> new)."""

    urn: str
    joined: tuple[str, ...] = ()
    left: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    renamed: tuple[tuple[str, str], ...] = ()
    members_before: int = 0
    deleted_users: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    refusals: tuple[Refusal, ...]
    changes: tuple[MemberChange, ...]
    steps: int
    notes: tuple[str, ...] = ()

    @property
    def refused(self) -> bool:
        return any(r.kind != BURST for r in self.refusals)

    @property
    def held(self) -> bool:
        return not self.refused and any(r.kind == BURST for r in self.refusals)

    @property
    def membership_only(self) -> bool:
        return not self.refusals

    @property
    def first(self) -> Refusal | None:
        return self.refusals[0] if self.refusals else None

    @property
    def outcome(self) -> str:
        if self.refused:
            return "refused"
        if self.held:
            return "held"
        return "apply" if self.steps else "none"

    def summary(self, stack: str) -> str:
        """Markdown: what the sync does with this plan, and why."""
        lines = [f"### Membership sync of stack `{stack}`: {OUTCOME_TITLES[self.outcome]}", ""]
        if self.first is not None:
            lines += [f"First {'held' if self.held else 'refused'} step: `{self.first.line()}`", ""]
            others = self.refusals[1:]
            if others:
                lines.append(f"Also refused ({len(others)}):")
                lines += [f"- `{r.line()}`" for r in others[:50]]
                if len(others) > 50:
                    lines.append(f"- ... and {len(others) - 50} more")
                lines.append("")
        for change in self.changes:
            parts = [f"{len(change.joined)} join", f"{len(change.left)} leave"]
            if change.renamed:
                parts.append(f"{len(change.renamed)} renamed")
            if change.changed:
                parts.append(f"{len(change.changed)} changed")
            lines.append(f"- `{name_of(change.urn)}` ({type_of(change.urn)}, {change.members_before} before): "
                         + ", ".join(parts))
            for label, names in (("joins", change.joined), ("leaves", change.left), ("changes", change.changed),
                                 ("User deleted (pruneUsers)", change.deleted_users)):
                if names:
                    lines.append(f"  - {label}: {', '.join(names[:20])}{' ...' if len(names) > 20 else ''}")
            if change.renamed:
                lines.append("  - renamed: " + ", ".join(f"{a} -> {b}" for a, b in change.renamed[:20]))
        lines += [f"- note: {note}" for note in self.notes]
        return "\n".join(lines).rstrip() + "\n"


OUTCOME_TITLES = {
    "refused": "more than membership changes: the sync does not apply this plan (review it in a pull request)",
    "held": "membership changes only, but too many members leave at once: held for review",
    "apply": "membership changes only: the sync applies them",
    "none": "nothing to change",
}


class PlanFormatError(ValueError):
    """The preview or the plan is not what the Pulumi CLI writes."""


def type_of(urn: str) -> str:
    """The resource's own type: the last of the URN's ``$``-separated type chain."""
    parts = urn.split("::")
    return parts[2].split("$")[-1] if len(parts) >= 4 else ""


def type_chain(urn: str) -> list[str]:
    parts = urn.split("::")
    return parts[2].split("$") if len(parts) >= 4 else []


def name_of(urn: str) -> str:
    parts = urn.split("::")
    return "::".join(parts[3:]) if len(parts) >= 4 else urn


def _effective_op(ops: Sequence[str]) -> str:
    """The logical operation of a resource plan's steps (a replacement is several steps)."""
    changes = [op for op in ops if op not in NO_OPS]
    if not changes:
        return ops[0] if ops else "same"
    if any(op in REPLACE_OPS for op in changes):
        return "replace"
    return changes[0] if len(set(changes)) == 1 else "+".join(dict.fromkeys(changes))


def _steps(preview: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if not isinstance(preview, Mapping) or not isinstance(preview.get("steps", []), list):
        raise PlanFormatError("the preview is not `pulumi preview --json` output: expected an object with a "
                              "'steps' list")
    steps = preview.get("steps") or []
    for index, step in enumerate(steps):
        if not isinstance(step, Mapping) or not isinstance(step.get("op"), str) or not isinstance(step.get("urn"), str):
            raise PlanFormatError(f"the preview's step {index} has no 'op' and 'urn': not `pulumi preview --json` output")
    return steps


def _resource_plans(plan: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]] | None:
    if plan is None:
        return None
    if not isinstance(plan, Mapping) or not isinstance(plan.get("manifest"), Mapping) \
            or not isinstance(plan.get("resourcePlans", {}), Mapping):
        raise PlanFormatError("the plan is not a `pulumi preview --save-plan` file: expected an object with "
                              "'manifest' and 'resourcePlans'")
    plans = dict(plan.get("resourcePlans") or {})
    for urn, resource_plan in plans.items():
        if not isinstance(resource_plan, Mapping) or not isinstance(resource_plan.get("steps", []), list):
            raise PlanFormatError(f"the plan's entry for {urn} has no 'steps' list")
    return plans


def _state(step: Mapping[str, Any], which: str) -> Mapping[str, Any]:
    state = step.get(which)
    return state if isinstance(state, Mapping) else {}


def _inputs(state: Mapping[str, Any]) -> Mapping[str, Any]:
    inputs = state.get("inputs")
    return inputs if isinstance(inputs, Mapping) else {}


def is_component_child(urn: str) -> bool:
    return COMPONENT_TYPE in type_chain(urn)[:-1]


def per_member_kind(urn: str) -> str | None:
    """'User' or 'role binding' for release 0.2's per-member objects, children of the component."""
    token = type_of(urn)
    if not token.startswith("kubernetes:") or not is_component_child(urn):
        return None
    group_version, _, kind = token[len("kubernetes:"):].rpartition(":")
    if not group_version.startswith(PER_MEMBER_GROUPS):
        return None
    return PER_MEMBER_KINDS.get(kind)


def is_guard(urn: str) -> bool:
    return type_of(urn) == DYNAMIC_TYPE and is_component_child(urn) and name_of(urn).endswith(GUARD_SUFFIXES)


def integration_of(step: Mapping[str, Any]) -> str:
    """The URN of the component a step's resource is a direct child of (its recorded parent)."""
    for which in ("newState", "oldState"):
        parent = _state(step, which).get("parent")
        if isinstance(parent, str) and type_of(parent) == COMPONENT_TYPE:
            return parent
    goal = step.get("goal")
    parent = goal.get("parent") if isinstance(goal, Mapping) else None
    return parent if isinstance(parent, str) and type_of(parent) == COMPONENT_TYPE else ""


def cluster_uid(value: Any) -> str | None:
    if isinstance(value, Mapping) and isinstance(value.get("kube_system_uid"), str) and value["kube_system_uid"]:
        return value["kube_system_uid"]
    return None


def okta_identity(value: Any) -> str | None:
    """The Okta user id a User (or a member's entry) is bound to, wherever it carries it."""
    if not isinstance(value, Mapping):
        return None
    for key in ("okta_id", "oktaId"):
        if isinstance(value.get(key), str):
            return value[key]
    metadata = value.get("metadata") if isinstance(value.get("metadata"), Mapping) else value
    labels = metadata.get("labels") if isinstance(metadata.get("labels"), Mapping) else {}
    if isinstance(labels.get(ORIGIN_UID_LABEL), str):
        return labels[ORIGIN_UID_LABEL]
    annotations = metadata.get("annotations") if isinstance(metadata.get("annotations"), Mapping) else {}
    for key, identity in annotations.items():
        if str(key).startswith(IDENTITY_ANNOTATION_PREFIX) and isinstance(identity, str):
            return identity
    for nested in value.values():  # a User body under a member's entry
        if isinstance(nested, Mapping) and nested is not value:
            found = okta_identity(nested) if ("metadata" in nested or "okta_id" in nested) else None
            if found:
                return found
    return None


def _renames(left: Mapping[str, Any], joined: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(old, new) usernames of the same Okta identity: a login renamed in Okta, not a leaver."""
    by_identity: dict[str, str] = {}
    for username, value in joined.items():
        identity = okta_identity(value)
        if identity:
            by_identity.setdefault(identity, username)
    return [(username, by_identity[identity]) for username, value in left.items()
            if (identity := okta_identity(value)) and identity in by_identity]


@dataclass
class _Context:
    prune_users: bool | None
    threshold: BurstThreshold
    check_cluster: bool
    guards: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)  # integration -> (op, uid)
    refusals: list[Refusal] = field(default_factory=list)
    changes: list[MemberChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def classify(
    preview: Mapping[str, Any],
    plan: Mapping[str, Any] | None = None,
    *,
    prune_users: bool | None = None,
    threshold: BurstThreshold = BurstThreshold(),
    check_cluster: bool = True,
) -> Verdict:
    """Refusals (in the engine's step order) and membership changes of a preview and its saved plan.

    ``prune_users`` is the stack's pruneUsers setting (None: read from the plan itself: the keyed
    Users resource's input, or the per-member Users' retainOnDelete). ``check_cluster`` False only
    for the offline plan, which has no cluster: then nothing is said about the binding.
    """
    steps = _steps(preview)
    plans = _resource_plans(plan)
    context = _Context(prune_users, threshold, check_cluster)
    by_urn: dict[str, Mapping[str, Any]] = {}
    order: list[str] = []
    for step in steps:
        urn = step["urn"]
        if urn in by_urn:
            # A replacement shown as several steps: keep the logical one.
            if step["op"] in ("replace",) or by_urn[urn]["op"] in NO_OPS:
                by_urn[urn] = step
            continue
        by_urn[urn] = step
        order.append(urn)
    ops = {urn: step["op"] for urn, step in by_urn.items()}
    input_keys: dict[str, set[str]] = {}
    if plans is not None:
        for urn, resource_plan in plans.items():
            planned = _effective_op(list(resource_plan.get("steps") or []))
            goal = resource_plan.get("goal") if isinstance(resource_plan.get("goal"), Mapping) else {}
            shown = by_urn.get(urn, {}).get("op", "same")
            shown = "replace" if shown in REPLACE_OPS else shown
            if urn not in by_urn and planned not in NO_OPS:
                context.refusals.append(Refusal(urn, planned, NOT_MEMBERSHIP,
                                                "planned, but not in the preview that was classified"))
                continue
            if planned not in NO_OPS and shown != planned:
                context.refusals.append(Refusal(urn, planned, NOT_MEMBERSHIP,
                                                f"the plan holds {planned!r} where the preview shows {shown!r}"))
            if urn not in by_urn:
                order.append(urn)
                by_urn[urn] = {"op": planned, "urn": urn, "goal": goal}
            ops[urn] = planned if planned not in NO_OPS else ops.get(urn, planned)
            diff = goal.get("inputDiff") if isinstance(goal.get("inputDiff"), Mapping) else {}
            input_keys[urn] = {*(diff.get("adds") or {}), *(diff.get("updates") or {}), *(diff.get("deletes") or [])}
        for urn, step in by_urn.items():
            if step["op"] not in NO_OPS and urn not in plans:
                context.refusals.append(Refusal(urn, step["op"], NOT_MEMBERSHIP,
                                                "in the preview, but not in the saved plan"))
    # Guards first: every membership step is checked against its integration's guard.
    for urn in order:
        if is_guard(urn):
            _guard(context, by_urn[urn], ops[urn])
    if context.prune_users is None:
        context.prune_users = _prune_users_from(by_urn.values())
    members_changed = False
    for urn in order:
        if is_guard(urn):
            continue
        step, op = by_urn[urn], ops[urn]
        token = type_of(urn)
        if token in MEMBER_MAP:
            members_changed |= _keyed(context, step, op, input_keys.get(urn, set()))
        elif per_member_kind(urn):
            members_changed |= op not in NO_OPS
            _per_member(context, step, op)
        elif op not in NO_OPS:
            _other(context, step, op, input_keys.get(urn, set()))
    _per_member_burst(context, by_urn, ops)
    if members_changed and context.check_cluster:
        _require_guards(context, sorted({integration_of(by_urn[u]) for u in order
                                         if ops[u] not in NO_OPS and (type_of(u) in MEMBER_MAP or per_member_kind(u))}))
    if not context.check_cluster:
        context.notes.append("offline: the cluster binding was not checked (the sync checks it against the cluster)")
    refusals = _in_order(context.refusals, order)
    changed_steps = sum(1 for urn in order if ops[urn] not in NO_OPS)
    return Verdict(tuple(refusals), tuple(context.changes), changed_steps, tuple(context.notes))


def _in_order(refusals: list[Refusal], order: list[str]) -> list[Refusal]:
    """Refusals in the engine's step order (burst holds after every other refusal of a step)."""
    position = {urn: index for index, urn in enumerate(order)}
    unique = list(dict.fromkeys(refusals))
    return sorted(unique, key=lambda r: (r.kind == BURST, position.get(r.urn, len(order))))


def _guard(context: _Context, step: Mapping[str, Any], op: str) -> None:
    urn = step["urn"]
    old, new = _state(step, "oldState"), _state(step, "newState")
    recorded = cluster_uid((old.get("outputs") or {}).get(CLUSTER_KEY)) or cluster_uid(_inputs(old).get(CLUSTER_KEY))
    context.guards.setdefault(integration_of(step), []).append((op, recorded))
    if op in NO_OPS:
        live = cluster_uid(_inputs(new).get(CLUSTER_KEY))
        if context.check_cluster and recorded and live and live != recorded:
            context.refusals.append(Refusal(urn, op, WRONG_CLUSTER,
                                            f"the cluster guard recorded kube-system uid {recorded}, the cluster "
                                            f"reached now has {live}"))
        return
    context.refusals.append(Refusal(urn, op, NOT_MEMBERSHIP,
                                    "a cluster guard may only stay the same: a guard that changes moves the "
                                    "stack's cluster binding"))


def _require_guards(context: _Context, integrations: Iterable[str]) -> None:
    """Each integration (its component's URN) whose members change must hold an unchanged cluster guard."""
    for integration in integrations:
        guards = context.guards.get(integration) or []
        if not any(op in NO_OPS for op, _uid in guards):
            context.refusals.append(Refusal(
                integration, "same", UNCONFIRMED,
                "cannot confirm the cluster binding: the plan holds no unchanged cluster guard for this "
                "integration (run the preview with --show-sames)"))


def _prune_users_from(steps: Iterable[Mapping[str, Any]]) -> bool | None:
    for step in steps:
        new = _state(step, "newState") or _state(step, "oldState")
        if type_of(step["urn"]) == USERS_TYPE and isinstance(_inputs(new).get("prune_users"), bool):
            return _inputs(new)["prune_users"]
    for step in steps:
        new = _state(step, "newState")
        if new and per_member_kind(step["urn"]) == "User":
            return not new.get("retainOnDelete", False)
    return None


def _keyed(context: _Context, step: Mapping[str, Any], op: str, plan_keys: set[str]) -> bool:
    """A KubeSphereUsers or KubeSphereRoleBindings step; True when its members change."""
    urn, token = step["urn"], type_of(step["urn"])
    members_key = MEMBER_MAP[token]
    old, new = _state(step, "oldState"), _state(step, "newState")
    old_inputs, new_inputs = _inputs(old), _inputs(new)
    recorded = cluster_uid(old_inputs.get(CLUSTER_KEY)) or cluster_uid((old.get("outputs") or {}).get(CLUSTER_KEY))
    live = cluster_uid(new_inputs.get(CLUSTER_KEY))
    if context.check_cluster and op not in ("create", "delete"):
        if recorded and live and recorded != live:
            context.refusals.append(Refusal(urn, op, WRONG_CLUSTER,
                                            f"recorded on the cluster with kube-system uid {recorded}, planned "
                                            f"against {live}: another cluster"))
            return False
        guard_uids = {uid for _op, uid in context.guards.get(integration_of(step), []) if uid}
        if live and guard_uids and live not in guard_uids:
            context.refusals.append(Refusal(urn, op, WRONG_CLUSTER,
                                            f"planned against kube-system uid {live}, but the stack's cluster guard "
                                            f"holds {', '.join(sorted(guard_uids))}"))
            return False
        if op not in NO_OPS and not (recorded and live):
            context.refusals.append(Refusal(urn, op, UNCONFIRMED,
                                            "cannot confirm which cluster this writes to: no recorded or planned "
                                            "cluster identity"))
            return False
    if op in NO_OPS:
        return False
    if op in ("delete", "replace") and token == USERS_TYPE:
        context.refusals.append(Refusal(urn, op, USER_DELETION,
                                        f"{op} of the resource holding every User: never a membership change"))
        return False
    if op != "update":
        what = "added" if op == "create" else "removed" if op == "delete" else op
        context.refusals.append(Refusal(urn, op, NOT_MEMBERSHIP,
                                        f"a role mapping {what}: a configuration change, not a membership change"))
        return False
    before, after = old_inputs.get(members_key), new_inputs.get(members_key)
    if not isinstance(before, Mapping) or not isinstance(after, Mapping):
        context.refusals.append(Refusal(urn, op, UNCONFIRMED,
                                        f"'{members_key}' is not a map keyed by username in the preview "
                                        "(unknown or secret): cannot tell who joins or leaves"))
        return False
    other = sorted(changed_inputs(step, plan_keys) - {members_key, CLUSTER_KEY})
    if other:
        context.refusals.append(Refusal(urn, op, NOT_MEMBERSHIP,
                                        f"changes {', '.join(other)}, not only its members ('{members_key}'): "
                                        "a configuration change"))
        return False
    left = {u: before[u] for u in before if u not in after}
    joined = {u: after[u] for u in after if u not in before}
    renamed = _renames(left, joined) if token == USERS_TYPE else []
    prune = new_inputs.get("prune_users") if token == USERS_TYPE else None
    change = MemberChange(
        urn=urn,
        joined=tuple(sorted(joined)),
        left=tuple(sorted(left)),
        changed=tuple(sorted(u for u in after if u in before and before[u] != after[u])),
        renamed=tuple(renamed),
        members_before=len(before),
        deleted_users=tuple(sorted(left)) if prune is True else (),
    )
    context.changes.append(change)
    if renamed and prune is not True:
        context.notes.append(
            f"{len(renamed)} Okta login(s) renamed while pruneUsers is off: the old User ({renamed[0][0]}, ...) stays, "
            "bound to the same Okta identity as the new one, and a login that looks Users up by that identity "
            "finds two: remove the old User, or set pruneUsers")
    if token == ROLE_BINDINGS_TYPE:
        _role_burst(context, urn, op, before, after)
    else:
        _burst(context, urn, op, len(left) - len(renamed), len(before))
    return True


def role_of(value: Any) -> tuple[str, str] | None:
    """(role, where) of one binding entry: a role object name (no target), ``{"role", "target"}``
    values, or a binding body."""
    if isinstance(value, str):
        return value, ""
    if not isinstance(value, Mapping):
        return None
    if isinstance(value.get("role"), str):
        return value["role"], str(value.get("target") or "")
    role_ref = value.get("roleRef")
    if isinstance(role_ref, Mapping) and isinstance(role_ref.get("name"), str):
        metadata = value.get("metadata") if isinstance(value.get("metadata"), Mapping) else {}
        return role_ref["name"], str(metadata.get("namespace") or "")
    return None


def _holders(bindings: Mapping[str, Any]) -> dict[tuple[str, str], set[str]]:
    """(role, where) -> the usernames holding it: one role mapping's members."""
    holders: dict[tuple[str, str], set[str]] = {}
    for username, entries in bindings.items():
        for value in (entries.values() if isinstance(entries, Mapping) else ()):
            key = role_of(value)
            if key is not None:
                holders.setdefault(key, set()).add(username)
    return holders


def _role_burst(context: _Context, urn: str, op: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
    """The burst rule per role mapping of a bindings resource (the members of one group mapped to
    one role in one place), and over the whole resource when its entries name no role."""
    old, new = _holders(before), _holders(after)
    if not old:
        _burst(context, urn, op, len([u for u in before if u not in after]), len(before))
        return
    worst = max(old, key=lambda k: (len(old[k] - new.get(k, set())) - context.threshold.allowed(len(old[k])), k))
    leavers, holders = len(old[worst] - new.get(worst, set())), len(old[worst])
    role, where = worst
    _burst(context, urn, op, leavers, holders, f"role {role}" + (f" in {where}" if where else ""))


def _burst(context: _Context, urn: str, op: str, leavers: int, before: int, mapping: str = "") -> None:
    allowed = context.threshold.allowed(before)
    if leavers > allowed:
        context.refusals.append(Refusal(
            urn, op, BURST,
            f"{leavers} of {before} members{' of ' + mapping if mapping else ''} leave at once, over the threshold of {allowed} "
            f"({context.threshold.percent:g}% of the mapping, at least {context.threshold.minimum}): an Okta "
            "mistake or a group rename looks like this, so it waits for review"))


def _per_member(context: _Context, step: Mapping[str, Any], op: str) -> None:
    urn, kind = step["urn"], per_member_kind(step["urn"])
    old = _state(step, "oldState")
    if op in NO_OPS or kind != "User":
        if op not in NO_OPS and op not in ("create", "delete", "update", "replace"):
            context.refusals.append(Refusal(urn, op, NOT_MEMBERSHIP, f"{op} of a {kind}"))
        return
    if op == "replace":
        context.refusals.append(Refusal(urn, op, USER_DELETION,
                                        "replacing a User deletes it first, and KubeSphere then deletes every "
                                        "membership anyone granted it"))
    elif op == "delete" and not old.get("retainOnDelete", False) and context.prune_users is not True:
        why = ("pruneUsers is false" if context.prune_users is False
               else "cannot confirm pruneUsers is true (no User in the plan says so)")
        context.refusals.append(Refusal(urn, op, USER_DELETION,
                                        f"deletes the User, which {why}: KubeSphere would delete every "
                                        "membership anyone granted it"))


def _per_member_burst(context: _Context, by_urn: Mapping[str, Mapping[str, Any]], ops: Mapping[str, str]) -> None:
    """Release 0.2's Users: joins and leaves per integration, against the Users it had before."""
    integrations: dict[str, dict[str, Any]] = {}
    for urn, step in by_urn.items():
        if per_member_kind(urn) != "User":
            continue
        entry = integrations.setdefault(integration_of(step), {"before": 0, "left": {}, "joined": {}, "deleted": [],
                                                                "urns": []})
        op = ops[urn]
        old, new = _state(step, "oldState"), _state(step, "newState")
        username = _username(old or new, urn)
        if op != "create":
            entry["before"] += 1
        if op == "delete":
            entry["left"][username] = _inputs(old)
            entry["urns"].append(urn)
            if not old.get("retainOnDelete", False):
                entry["deleted"].append(username)
        elif op == "create":
            entry["joined"][username] = _inputs(new)
            entry["urns"].append(urn)
    for integration, entry in integrations.items():
        if not entry["urns"]:
            continue
        renamed = _renames(entry["left"], entry["joined"])
        urn = entry["urns"][0]
        context.changes.append(MemberChange(
            urn=integration or urn, joined=tuple(sorted(entry["joined"])), left=tuple(sorted(entry["left"])),
            renamed=tuple(renamed), members_before=entry["before"], deleted_users=tuple(sorted(entry["deleted"]))))
        _burst(context, urn, ops[urn], len(entry["left"]) - len(renamed), entry["before"])


def _username(state: Mapping[str, Any], urn: str) -> str:
    """A per-member User's name: its ``metadata.name``, else the resource name."""
    metadata = _inputs(state).get("metadata")
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    return name if isinstance(name, str) else name_of(urn)


#: Inputs of the component's preview check (``<name>-role-references``) that follow the members:
#: the planned Users' identities and the bindings a controller could also write. The check writes
#: nothing to the cluster, and its provider's diff reports no change for these.
CHECK_MEMBER_INPUTS = frozenset({"identities", "planned", "identity_read"})


def changed_inputs(step: Mapping[str, Any], plan_keys: Iterable[str] = ()) -> set[str]:
    """Every top-level input a step changes, as far as anything shows it: the preview's before and
    after (secrets read "[secret]" on both sides), its diff reasons, and the saved plan's inputDiff
    (which compares the real values, secrets included)."""
    old, new = _inputs(_state(step, "oldState")), _inputs(_state(step, "newState"))
    shown = {k for k in set(old) | set(new) if old.get(k) != new.get(k)}
    return shown | set(map(str, step.get("diffReasons") or ())) | set(plan_keys)


def _other(context: _Context, step: Mapping[str, Any], op: str, plan_keys: set[str] = frozenset()) -> None:
    urn, token = step["urn"], type_of(step["urn"])
    if token == STACK_TYPE and op == "update":
        return  # the stack's outputs (skippedMembers, ...): nothing outside the state is written
    if token == DYNAMIC_TYPE and op == "update" and name_of(urn).endswith("-role-references"):
        changed = changed_inputs(step, plan_keys)
        if changed and changed <= CHECK_MEMBER_INPUTS:
            return  # the preview check's record of who is planned: members joined or left
    if not (_state(step, "newState") or _state(step, "oldState")).get("custom", True) and op == "update":
        return  # a component's outputs: nothing is written outside the state
    if token.startswith("pulumi:providers:"):
        what = "a provider"
    elif token == DYNAMIC_TYPE:
        what = "KubeSphere's identity-provider entry (or another dynamic resource)"
    else:
        what = KNOWN_TYPES.get(token, "not a membership resource")
    reasons = step.get("diffReasons") or sorted((step.get("detailedDiff") or {}))
    detail = f", changing {', '.join(map(str, reasons[:8]))}" if reasons else ""
    context.refusals.append(Refusal(urn, op, NOT_MEMBERSHIP, f"{what}{detail}: only a reviewed deploy changes it"))


def preview_from_offline_plans(before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]],
                               stack: str) -> dict[str, Any]:
    """What ``pulumi preview --json --show-sames`` would show between two offline plans.

    ``before`` and ``after`` are the ``resources`` of two ``python -m infra.plan --format json``
    documents ({type, name, parent, urn, protect, retainOnDelete, inputs}): a resource only in
    ``after`` is created, only in ``before`` deleted (with its ``retainOnDelete``), in both updated
    when its inputs or protection differ. Offline nothing knows a provider's replacements: a change
    the provider would make a replacement shows as an update here.
    """

    def urns(resources: Sequence[Mapping[str, Any]]) -> dict[str, str]:
        named: dict[str, str] = {}
        for resource in resources:
            if resource["type"] == COMPONENT_TYPE or resource["name"] not in named:
                named[resource["name"]] = resource["urn"]
        return named

    def state(resource: Mapping[str, Any], parents: Mapping[str, str]) -> dict[str, Any]:
        custom = resource["type"] != COMPONENT_TYPE
        result = {"urn": resource["urn"], "custom": custom, "type": resource["type"],
                  "inputs": resource.get("inputs") or {}, "outputs": resource.get("inputs") or {}}
        if resource.get("parent"):
            result["parent"] = parents.get(resource["parent"], resource["parent"])
        if resource.get("protect"):
            result["protect"] = True
        if resource.get("retainOnDelete"):
            result["retainOnDelete"] = True
        return result

    old_parents, new_parents = urns(before), urns(after)
    old = {r["urn"]: r for r in before}
    steps: list[dict[str, Any]] = [{"op": "same", "urn": f"urn:pulumi:{stack}::offline::{STACK_TYPE}::offline"}]
    for resource in after:
        urn = resource["urn"]
        new_state = state(resource, new_parents)
        if urn not in old:
            steps.append({"op": "create", "urn": urn, "newState": new_state})
            continue
        old_state = state(old[urn], old_parents)
        changed = sorted(k for k in set(old_state["inputs"]) | set(new_state["inputs"])
                         if old_state["inputs"].get(k) != new_state["inputs"].get(k))
        op = "update" if changed or old_state.get("protect") != new_state.get("protect") else "same"
        step = {"op": op, "urn": urn, "oldState": old_state, "newState": new_state}
        if changed:
            step["diffReasons"] = changed
        steps.append(step)
    kept = {r["urn"] for r in after}
    steps += [{"op": "delete", "urn": r["urn"], "oldState": state(r, old_parents)} for r in before if r["urn"] not in kept]
    return {"steps": steps}


def _load_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise PlanFormatError(f"{what} {path}: {error}") from None


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m infra.membership_sync``: the sync workflow's decision. Exit 0 apply (or nothing to
    do), 3 refused, 4 held for review, 2 unreadable input."""
    parser = argparse.ArgumentParser(prog="python -m infra.membership_sync",
                                     description="Classify a preview and its saved plan for the membership sync.")
    parser.add_argument("--stack", required=True)
    parser.add_argument("--preview", type=Path, required=True, help="`pulumi preview --json --show-sames` output")
    parser.add_argument("--plan", type=Path, required=True, help="the `pulumi preview --save-plan` file")
    parser.add_argument("--prune-users", choices=("true", "false"), help="the stack's pruneUsers (default: from the plan)")
    parser.add_argument("--max-leavers-percent", type=float, default=10.0)
    parser.add_argument("--min-leavers", type=int, default=1)
    parser.add_argument("--summary", type=Path, help="append the Markdown summary here ($GITHUB_STEP_SUMMARY)")
    parser.add_argument("--report", type=Path, help="write the Markdown summary here (the stack's issue body)")
    parser.add_argument("--output", type=Path, help="append outcome=<apply|none|refused|held> here ($GITHUB_OUTPUT)")
    args = parser.parse_args(argv)
    if not 0 <= args.max_leavers_percent <= 100 or args.min_leavers < 0:
        parser.error("--max-leavers-percent must be within 0..100 and --min-leavers at least 0")
    try:
        verdict = classify(
            _load_json(args.preview, "--preview"), _load_json(args.plan, "--plan"),
            prune_users=None if args.prune_users is None else args.prune_users == "true",
            threshold=BurstThreshold(args.max_leavers_percent, args.min_leavers),
        )
    except PlanFormatError as error:
        print(f"membership sync: {error}", file=sys.stderr)
        return 2
    summary = verdict.summary(args.stack)
    print(summary, end="")
    if args.summary:
        with args.summary.open("a") as out:
            out.write(summary)
    if args.report:
        args.report.write_text(summary)
    if args.output:
        with args.output.open("a") as out:
            out.write(f"outcome={verdict.outcome}\n")
    return {"refused": 3, "held": 4}.get(verdict.outcome, 0)


if __name__ == "__main__":
    sys.exit(main())
