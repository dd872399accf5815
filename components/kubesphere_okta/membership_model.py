"""What the keyed membership resources write, delete and record: pure, no Pulumi, no I/O.

``membership_resources`` registers a few resources whose inputs are maps keyed by KubeSphere
username (docs/usernames-and-roles.md, "Membership resources"); its providers call this module for
every decision and only do the requests. This module imports nothing of the package: the
providers carry it by value into ``python -m pulumi.dynamic`` (``membership_resources``).

* An object body is a ``template`` (one per resource: the body KubeSphere's console writes, with
  placeholders such as ``<<user>>``) filled with one member's values (``fill``).
* Every object we write carries our two labels; ``owner`` tells ours from an object written by the
  console, by another integration, by an earlier release's per-member resource (field manager
  ``pulumi-kubernetes``), or labelled for handover by step 1 of the upgrade.
* ``plan`` decides, from what is declared and what is live, what to apply (and with ``force``),
  what to delete, which Users to keep, and which objects make the whole write refuse.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

#: The field manager of every write (``metadata.managedFields``, audit logs).
FIELD_MANAGER = "kubesphere-okta"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
#: Which integration (identity provider name) an object belongs to.
OWNER_LABEL = "kubesphere-okta.io/identity-provider"
#: Set by step 1 of the upgrade on objects of the per-member resources, which are then retained.
HANDOVER_LABEL = "kubesphere-okta.io/handover"
#: pulumi-kubernetes' field managers start with this (``pulumi-kubernetes-<hash>`` with
#: server-side apply); it also labels what it creates ``app.kubernetes.io/managed-by: pulumi``.
PULUMI_KUBERNETES_MANAGER = "pulumi-kubernetes"

USERS, GLOBAL, WORKSPACE, PROJECT, CLUSTER = "users", "global", "workspace", "project", "cluster"
SCOPES = (GLOBAL, WORKSPACE, PROJECT, CLUSTER)

_PLACEHOLDER = re.compile(r"<<(\w+)>>")
#: The fields of a User's values and of a binding's values the templates use.
USER_VALUES = ("email", "oktaId")
BINDING_VALUES = ("role", "target")

OURS, HANDOVER, PER_MEMBER, FOREIGN = "ours", "handover", "per-member", "foreign"


def placeholder(name: str) -> str:
    return f"<<{name}>>"


def fill(template: Any, values: Mapping[str, str]) -> Any:
    """``template`` with every ``<<name>>`` in its strings (keys included) replaced by ``values[name]``."""
    if isinstance(template, str):
        return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), template)
    if isinstance(template, Mapping):
        return {fill(k, values): fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, values) for v in template]
    return template


def object_key(body: Mapping[str, Any]) -> str:
    """``<namespace>/<name>`` for a namespaced object, ``<name>`` otherwise: unique per kind."""
    metadata = body.get("metadata") or {}
    return f"{metadata['namespace']}/{metadata['name']}" if metadata.get("namespace") else str(metadata.get("name"))


def user_values(username: str, fields: Mapping[str, Any]) -> dict[str, str]:
    return {"user": username, **{k: str(fields.get(k, "")) for k in USER_VALUES}}


def binding_values(username: str, fields: Any) -> dict[str, str]:
    """The values a binding template is filled with: ``fields`` is the binding's role object name
    (a binding with no target: global and cluster scope) or ``{"role", "target"}``."""
    if isinstance(fields, str):
        return {"user": username, "role": fields, "target": ""}
    return {"user": username, **{k: str(fields.get(k, "")) for k in BINDING_VALUES}}


def binding_entry(role: str, target: str) -> Any:
    """One binding in a ``bindings`` map: its role object name alone when it has no target, so a
    member's global binding is one value, not three (the SDK serializes, and the engine stores
    and diffs, every value of the map; docs/performance.md)."""
    return {"role": role, "target": target} if target else role


def filler(template: Mapping[str, Any]) -> Callable[[Mapping[str, str]], dict]:
    """``fill`` for one template, for many members: the template is serialized once and each member's
    values are put into the text (JSON-escaped), which the C JSON parser reads back; the same
    result as ``fill``, about ten times faster (tests/test_membership_model.py checks both agree)."""
    parts = _PLACEHOLDER.split(json.dumps(_plain_copy(template), separators=(",", ":")))
    texts, names = parts[0::2], parts[1::2]

    def filled(values: Mapping[str, str]) -> dict:
        out = [texts[0]]
        for name, text in zip(names, texts[1:]):
            out.append(json.dumps(str(values[name]))[1:-1])
            out.append(text)
        return json.loads("".join(out))

    return filled


def _plain_copy(value: Any) -> Any:
    """``value`` as plain dicts and lists (a policy pack hands in read-only mapping proxies)."""
    if isinstance(value, Mapping):
        return {k: _plain_copy(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [_plain_copy(v) for v in value]
    return value


def declared_users(template: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]]) -> dict[str, dict]:
    """Object key -> User body, one per username of ``users``."""
    make = filler(template)
    bodies = (make(user_values(name, fields)) for name, fields in users.items())
    return {object_key(body): body for body in bodies}


def declared_bindings(template: Mapping[str, Any], bindings: Mapping[str, Mapping[str, Any]]) -> dict[str, dict]:
    """Object key -> binding body, for every binding of every username of ``bindings``."""
    make = filler(template)
    declared: dict[str, dict] = {}
    for username, objects in bindings.items():
        for key, fields in objects.items():
            body = make(binding_values(username, fields))
            if object_key(body) != key:
                raise ValueError(f"binding {key!r} of {username!r}: its template makes object {object_key(body)!r}")
            declared[key] = body
    return declared


# --- ownership ------------------------------------------------------------------------------------


def _labels(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return (obj.get("metadata") or {}).get("labels") or {}


def our_labels(provider_name: str) -> dict[str, str]:
    return {MANAGED_BY_LABEL: FIELD_MANAGER, OWNER_LABEL: provider_name}


def owner(obj: Mapping[str, Any], provider_name: str) -> str:
    """Who wrote ``obj``, as far as deleting or overwriting it is concerned."""
    labels = _labels(obj)
    if labels.get(MANAGED_BY_LABEL) == FIELD_MANAGER and labels.get(OWNER_LABEL) == provider_name:
        return OURS
    if labels.get(HANDOVER_LABEL) == provider_name:
        return HANDOVER
    managers = [str(m.get("manager") or "") for m in (obj.get("metadata") or {}).get("managedFields") or []
                if isinstance(m, Mapping)]
    if labels.get(MANAGED_BY_LABEL) == "pulumi" or any(m.startswith(PULUMI_KUBERNETES_MANAGER) for m in managers):
        return PER_MEMBER
    return FOREIGN


def differs(declared: Any, live: Any) -> bool:
    """True when ``live`` does not hold every field of ``declared`` with the same value (lists
    compared whole; fields only others set are ignored, as server-side apply leaves them)."""
    if isinstance(declared, Mapping):
        if not isinstance(live, Mapping):
            return True
        return any(differs(value, live.get(key)) for key, value in declared.items())
    return declared != live


# --- the plan -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Write:
    key: str
    body: dict
    force: bool
    """Take over fields another manager holds: only for objects ours or handed over to us."""


@dataclass(frozen=True)
class Plan:
    apply: tuple[Write, ...] = ()
    delete: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    """Users that are ours and no longer declared, kept because ``prune_users`` is off."""
    conflicts: tuple[tuple[str, str], ...] = ()
    """(key, owner) of declared objects that are not ours: the whole write is refused."""
    unchanged: tuple[str, ...] = ()


def plan(declared: Mapping[str, dict], live: Mapping[str, Mapping[str, Any]], provider_name: str, *,
         prune: bool, adopt: bool = False, rewrite: bool = False) -> Plan:
    """What to do so that the cluster holds ``declared`` and nothing else of ours.

    ``live``: object key -> object as listed (every object of the kind that could be ours or clash
    with a declared one). Objects are applied only when they differ; ours and handed-over ones with
    ``force``; a declared name taken by a foreign object is a conflict unless ``adopt`` (never when an
    earlier release's per-member resource holds it: the engine would delete it afterwards). Ours or
    handed-over objects no longer declared are deleted when ``prune``, kept otherwise. ``rewrite``
    (the template changed) applies every declared object, so that server-side apply also removes a
    field we declared before and no longer do.
    """
    apply: list[Write] = []
    conflicts: list[tuple[str, str]] = []
    unchanged: list[str] = []
    for key, body in declared.items():
        current = live.get(key)
        if current is None:
            apply.append(Write(key, body, force=False))
            continue
        who = owner(current, provider_name)
        if who == OURS:
            if rewrite or differs(body, current):
                apply.append(Write(key, body, force=True))
            else:
                unchanged.append(key)
        elif who == HANDOVER or (who == FOREIGN and adopt):
            apply.append(Write(key, body, force=True))
        else:
            conflicts.append((key, who))
    gone = sorted(key for key, obj in live.items()
                  if key not in declared and owner(obj, provider_name) in (OURS, HANDOVER))
    return Plan(
        apply=tuple(sorted(apply, key=lambda w: w.key)),
        delete=tuple(gone) if prune else (),
        kept=() if prune else tuple(gone),
        conflicts=tuple(sorted(conflicts)),
        unchanged=tuple(sorted(unchanged)),
    )


def conflict_message(kind: str, conflicts: Iterable[tuple[str, str]], provider_name: str) -> str:
    """Why nothing was written, naming every object that is not ours and how to resolve it."""
    lines = []
    by_owner: dict[str, list[str]] = {}
    for key, who in conflicts:
        by_owner.setdefault(who, []).append(key)
    per_member = by_owner.get(PER_MEMBER)
    if per_member:
        lines.append(
            f"{len(per_member)} {kind}(s) were written by a per-member resource of an earlier release of this component "
            f"and are not labelled {HANDOVER_LABEL}={provider_name}: {_names(per_member)}. When this update drops those "
            "resources the engine deletes these objects. Run step 1 of the upgrade first: `pulumi config set "
            "kubesphere-okta:perMemberResources true && pulumi up` (argument per_member_resources=True), then "
            "`pulumi config rm kubesphere-okta:perMemberResources && pulumi up` (docs/usernames-and-roles.md, "
            "\"Upgrading from per-member resources\")."
        )
    foreign = by_owner.get(FOREIGN)
    if foreign:
        lines.append(
            f"{len(foreign)} {kind}(s) exist and are not ours (no label {OWNER_LABEL}={provider_name}): {_names(foreign)}. "
            "To take them over: `pulumi config set kubesphere-okta:adoptExistingProvider true` (argument "
            "adopt_existing_provider=True); or delete them in KubeSphere; or take their members out of the mapped Okta groups."
        )
    return f"refusing to write any {kind}: " + " ".join(lines) + " Nothing was written or deleted."


def _names(keys: list[str], shown: int = 20) -> str:
    keys = sorted(keys)
    more = f" and {len(keys) - shown} more" if len(keys) > shown else ""
    return ", ".join(keys[:shown]) + more


def progress_message(kind: str, done: Iterable[str], failed: str, error: str, remaining: Iterable[str]) -> str:
    """A write that stopped part-way: what was applied or deleted, what failed, what is left.

    The next ``pulumi up`` plans from the live objects, so it finishes the rest without duplicates."""
    done, remaining = list(done), list(remaining)
    return (
        f"{kind}: {failed} failed: {error}. Done before it ({len(done)}): {_names(done) or 'none'}. "
        f"Not done ({len(remaining)}): {_names(remaining) or 'none'}. The next `pulumi up` reads what is on the "
        "cluster and finishes the rest (objects already written are not written twice)."
    )


# --- what the state records -----------------------------------------------------------------------


def read_back(template: Mapping[str, Any], recorded: Mapping[str, Mapping[str, Any]], live_ours: Mapping[str, Mapping[str, Any]],
              *, bindings: bool) -> dict[str, Any]:
    """The members as found on the cluster, in the inputs' shape, for ``pulumi refresh``.

    A recorded member whose object(s) are gone is left out; one whose object differs from its
    template in a field we declare gets ``"drifted": [object keys]``; an object of ours that no
    member records appears under ``"<unrecorded>"``. Anything that is not as recorded therefore shows
    as a change in the next preview, which puts the declared state back.
    """
    found: dict[str, Any] = {}
    seen: set[str] = set()
    for username, fields in recorded.items():
        if bindings:
            objects = {}
            for key, values in fields.items():
                current = live_ours.get(key)
                if current is None:
                    continue
                seen.add(key)
                body = fill(template, binding_values(username, values))
                if not differs(body, current):
                    objects[key] = values if isinstance(values, str) else dict(values)
                else:
                    objects[key] = {"role": values, "drifted": True} if isinstance(values, str) else dict(values, drifted=True)
            if objects:
                found[username] = objects
        else:
            body = fill(template, user_values(username, fields))
            key = object_key(body)
            current = live_ours.get(key)
            if current is None:
                continue
            seen.add(key)
            found[username] = dict(fields, drifted=True) if differs(body, current) else dict(fields)
    unrecorded = sorted(set(live_ours) - seen)
    if unrecorded:
        found["<unrecorded>"] = unrecorded
    return found


def summary(result: Plan) -> dict[str, int]:
    """Counts for the outputs and the log (the names are in the inputs and the preview)."""
    return {"applied": len(result.apply), "deleted": len(result.delete), "kept": len(result.kept),
            "unchanged": len(result.unchanged)}


def keys_of(plan_: Plan) -> tuple[list[str], list[str]]:
    """(writes, deletes) in the order the provider performs them."""
    return [w.key for w in plan_.apply], list(plan_.delete)


def selector(scope_or_users: str) -> Optional[str]:
    """The label selector that lists every object of the kind that could be ours or clash with a
    declared one: every User, every binding that names a user (KubeSphere's ``user-ref`` label)."""
    return None if scope_or_users == USERS else "iam.kubesphere.io/user-ref"



# --- the objects a keyed resource declares, for the offline plan, the policy pack and tests ---------

#: The Pulumi type tokens of the keyed resources (``membership_resources``) and the input holding their map.
USERS_TYPE = "pulumi-python:dynamic/kubesphere-okta:KubeSphereUsers"
BINDINGS_TYPE = "pulumi-python:dynamic/kubesphere-okta:KubeSphereRoleBindings"
KEYED_TYPES = {USERS_TYPE: "users", BINDINGS_TYPE: "bindings"}
#: The kinds of object they write.
KINDS = ("User", "GlobalRoleBinding", "WorkspaceRoleBinding", "RoleBinding", "ClusterRoleBinding")


def at(node: Any, path: Sequence[str]) -> Any:
    """The value at ``path`` (keys from the top) in nested mappings; None where there is none."""
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def projector(template: Mapping[str, Any], paths: Sequence[Sequence[str]]) -> Callable[[Mapping[str, str]], tuple]:
    """For many members: ``values`` -> the value at each of ``paths`` in ``fill(template, values)``
    (None where there is none), filling only those values instead of the whole body.

    Exact as long as no key on a path holds a placeholder (``fill`` fills keys too, so such a key
    could only be found after filling): then every member's body is filled whole."""
    def keys_on(path: Sequence[str]) -> Iterable[Any]:
        node: Any = template
        for key in path:
            if not isinstance(node, Mapping):
                return
            yield from node
            node = node.get(key)

    if any(isinstance(k, str) and _PLACEHOLDER.search(k) for path in paths for k in keys_on(path)):
        make = filler(template)
        return lambda values: tuple(at(make(values), path) for path in paths)
    fillers = [_node_filler(at(template, path)) for path in paths]
    return lambda values: tuple(f(values) for f in fillers)


def _node_filler(node: Any) -> Callable[[Mapping[str, str]], Any]:
    """``lambda values: fill(node, values)``, with a string's placeholders found once, not per member."""
    if not isinstance(node, str):
        return lambda values: fill(node, values)
    parts = _PLACEHOLDER.split(node)
    if len(parts) == 1:
        return lambda values: node
    texts, names = parts[0::2], parts[1::2]
    return lambda values: texts[0] + "".join(str(values[n]) + t for n, t in zip(names, texts[1:]))


def declared_fields(type_token: str, inputs: Mapping[str, Any], paths: Sequence[Sequence[str]]) -> list[tuple]:
    """For every object a keyed resource with these inputs writes, the values at ``paths`` of its
    body (``projector``), in the order of ``declared_objects``; [] as there."""
    members = KEYED_TYPES.get(type_token)
    template = inputs.get("template")
    values = inputs.get(members) if members else None
    if not isinstance(template, Mapping) or not isinstance(values, Mapping):
        return []
    project = projector(template, paths)
    if members == "users":
        return [project(user_values(name, fields)) for name, fields in values.items()]
    return [project(binding_values(username, fields)) for username, objects in values.items() for fields in objects.values()]


def declared_objects(type_token: str, inputs: Mapping[str, Any]) -> dict[str, dict]:
    """Object key -> body of every object a keyed resource with these inputs writes ({} for any
    other resource, or while its inputs are unknown)."""
    members = KEYED_TYPES.get(type_token)
    template = inputs.get("template")
    values = inputs.get(members) if members else None
    if not isinstance(template, Mapping) or not isinstance(values, Mapping):
        return {}
    if members == "users":
        return declared_users(template, values)
    return declared_bindings(template, values)
