"""The offline plan as a reader sees it: pure functions, no Pulumi, no I/O.

``infra.plan`` runs the program under mocks and hands the registrations here. This module decides
what KubeSphere's object looks like before and after (3.x: our entry merged into the live
ClusterConfiguration by the same code the real resource runs; 4.1: our identity-provider Secret),
hides every secret, and renders the plan as one JSON document or as text.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import yaml

from kubesphere_okta import cluster_configuration, membership_model
from kubesphere_okta.identity_provider import SECRET_PLACEHOLDER

#: Keys whose non-empty values are credentials, in our entry or anywhere in a live object
#: (another provider's clientSecret, an LDAP managerPassword, ks-installer's jwtSecret).
CREDENTIAL_KEYS = frozenset({"clientSecret", "jwtSecret", "managerPassword", "password", "adminPassword"})
CLUSTER_CONFIGURATION = "ClusterConfiguration"
SECRET = "Secret"



#: The type of a stack's root resource, which no URN's type chain includes.
ROOT_STACK_TYPE = "pulumi:pulumi:Stack"


def engine_urn(stack: str, project: str, parent_urn: str, type_: str, name: str) -> str:
    """The URN the Pulumi engine assigns: the parent's whole qualified type chain, ``$``, the type,
    except under the root Stack (pulumi/pulumi@v3.259.0: sdk/go/common/resource/urn/urn.go ``New``,
    called with the parent URN's ``QualifiedType()``). The Python SDK's mocks keep only the parent's
    last type and prefix the Stack's (sdk/python/lib/pulumi/runtime/mocks.py ``make_urn``)."""
    parent_type = parent_urn.split("::")[2] if parent_urn.count("::") >= 3 else ""
    if parent_type and parent_type != ROOT_STACK_TYPE:
        type_ = f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::{project}::{type_}::{name}"

@dataclass(frozen=True)
class PlannedResource:
    type: str
    name: str
    parent: str | None
    """The parent's resource name; None for a resource directly under the stack."""
    inputs: dict[str, Any]
    """Inputs as registered (camelCase), engine-marked secrets already shown as ``[secret]``."""
    protect: bool = False
    """Pulumi refuses to delete (or replace) it: ``pulumi destroy`` fails at it."""
    retain_on_delete: bool = False
    """``pulumi destroy`` drops it from the stack but leaves it where it is (Okta, the cluster)."""
    urn: str = ""


@dataclass(frozen=True)
class KubeSphereChange:
    kind: str
    """``ClusterConfiguration`` (3.x) or ``Secret`` (4.1)."""
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    """None only when the object does not exist afterwards (4.1 after ``pulumi destroy``)."""


def hide_credentials(value: Any, secret_values: Iterable[str] = ()) -> Any:
    """A copy of ``value`` with credentials shown as ``[secret]``: values under ``CREDENTIAL_KEYS``,
    and any of ``secret_values`` wherever it appears, also inside a longer string.

    ``value`` itself when its JSON text shows there is nothing to hide: no credential key, no
    secret value (JSON escapes character by character, so a string holding a secret holds its
    escaped form). The C encoder reads a keyed resource's 10,000 members far faster than the walk."""
    secrets = [s for s in secret_values if s]
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = None
    if text is not None and not any(f'"{key}":' in text for key in CREDENTIAL_KEYS) \
            and not any(json.dumps(secret, ensure_ascii=False)[1:-1] in text for secret in secrets):
        return value

    def hide(item: Any) -> Any:
        if isinstance(item, Mapping):
            return {
                k: SECRET_PLACEHOLDER if k in CREDENTIAL_KEYS and isinstance(v, str) and v else hide(v)
                for k, v in item.items()
            }
        if isinstance(item, list):
            return [hide(v) for v in item]
        if isinstance(item, str):
            for secret in secrets:
                item = item.replace(secret, SECRET_PLACEHOLDER)
        return item

    return hide(value)


def hide_credentials_in_documents(value: Mapping[str, Any], secret_values: Iterable[str] = ()) -> dict[str, Any]:
    """Like ``hide_credentials`` for a Secret's ``stringData``: each value that is a YAML mapping
    (KubeSphere's ``configuration.yaml``) is parsed, hidden and dumped again, so the text stays
    valid YAML with ``clientSecret: '[secret]'``; other values get ``hide_credentials``."""
    result: dict[str, Any] = {}
    for key, text in value.items():
        document = yaml.load(text, Loader=SafeLoader) if isinstance(text, str) else None
        if isinstance(document, dict):
            result[key] = yaml.dump(hide_credentials(document, secret_values), Dumper=_SafeDumper, sort_keys=False,
                                    default_flow_style=False)
        else:
            result[key] = hide_credentials(text, secret_values)
    return result


def registered_inputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs in a stable form for reading and diffing: internal ``__`` keys dropped, keys sorted,
    and whole numbers as integers (the engine's wire format carries every number as a double)."""

    def stable(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: stable(value[k]) for k in sorted(value)}
        if isinstance(value, list):
            return [stable(v) for v in value]
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    top = {k: v for k, v in inputs.items() if not k.startswith("__")}
    try:
        # The same, through the C encoder and decoder, for JSON values (what the engine sends: a
        # tuple would come back a list); anything else takes the walk.
        return json.loads(json.dumps(top, sort_keys=True, allow_nan=False), parse_float=_whole_as_int)
    except (TypeError, ValueError):
        return stable(top)


def _whole_as_int(text: str) -> float | int:
    number = float(text)
    return int(number) if number.is_integer() else number


def v4_secret_object(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The Secret as pulumi-kubernetes will apply it, from its registered inputs."""
    order = ("apiVersion", "kind", "metadata", "type", "immutable", "data", "stringData")
    present = {k: v for k, v in registered_inputs(inputs).items() if v is not None}
    return {k: present[k] for k in order if k in present} | {k: v for k, v in present.items() if k not in order}


def v4_change(secret: dict[str, Any], destroy: bool) -> KubeSphereChange:
    """4.1: the Secret is ours alone; ``pulumi up`` creates it, ``pulumi destroy`` deletes it."""
    return KubeSphereChange(SECRET, before=secret if destroy else None, after=None if destroy else secret)


def v3_change(
    live: dict[str, Any], entry: dict[str, Any], oauth_options: Mapping[str, Any] | None, destroy: bool
) -> KubeSphereChange:
    """3.x: our entry merged by name into the live ClusterConfiguration (``pulumi up``), or, for
    ``pulumi destroy``, removed again from the object as ``pulumi up`` leaves it."""
    if not destroy:  # a member's entry may still be removed, never added (cluster_configuration.check)
        cluster_configuration.check(live, entry["name"])
    deployed = cluster_configuration.upsert_identity_provider(live, entry, dict(oauth_options or {}))
    if not destroy:
        return KubeSphereChange(CLUSTER_CONFIGURATION, before=live, after=deployed)
    # As the resource deletes: our entry goes, token lifetimes we set get their earlier values back.
    removed = cluster_configuration.restore_oauth_options(
        cluster_configuration.remove_identity_provider(deployed, entry["name"]),
        dict(oauth_options or {}),
        cluster_configuration.oauth_options_before(live, list(oauth_options or ())),
    )
    return KubeSphereChange(CLUSTER_CONFIGURATION, before=deployed, after=removed)


KS_INSTALLER = ("installer.kubesphere.io/v1alpha1", "ClusterConfiguration", "kubesphere-system", "ks-installer")
GET_CLUSTER_CONFIGURATION = "kubectl -n kubesphere-system get cc ks-installer -o yaml"


def _describe(item: Any) -> str:
    if not isinstance(item, Mapping):
        return f"a {type(item).__name__}, not a Kubernetes object"
    metadata = item.get("metadata") if isinstance(item.get("metadata"), Mapping) else {}
    where = "/".join(str(metadata.get(k)) for k in ("namespace", "name") if metadata.get(k) is not None)
    return f"{item.get('apiVersion', '<no apiVersion>')} {item.get('kind', '<no kind>')} {where or '<no name>'}".strip()


def _is_ks_installer(item: Any) -> bool:
    if not isinstance(item, Mapping) or not isinstance(item.get("metadata"), Mapping):
        return False
    metadata = item["metadata"]
    return (item.get("apiVersion"), item.get("kind"), metadata.get("namespace"), metadata.get("name")) == KS_INSTALLER


def live_cluster_configuration(documents: list[Any]) -> dict[str, Any]:
    """The ks-installer ClusterConfiguration in what the user gave: the object as
    ``kubectl -n kubesphere-system get cc ks-installer -o yaml`` prints it, or a ``kind: List`` holding
    it (``kubectl get cc -A -o yaml``). Anything else raises ValueError saying what was found."""
    candidates: list[Any] = []
    for item in (d for d in documents if d is not None):
        if isinstance(item, Mapping) and item.get("kind") == "List" and isinstance(item.get("items"), list):
            candidates += item["items"]
        else:
            candidates.append(item)
    found = [item for item in candidates if _is_ks_installer(item)]
    expected = "{} {} {}/{}".format(*KS_INSTALLER)
    if len(found) == 1:
        if not isinstance(found[0].get("spec"), Mapping):
            raise ValueError(f"the {expected} has no spec mapping; get the object with: {GET_CLUSTER_CONFIGURATION}")
        return dict(found[0])
    if found:
        raise ValueError(f"holds {len(found)} copies of {expected}; give exactly one ({GET_CLUSTER_CONFIGURATION})")
    seen = ", ".join(_describe(item) for item in candidates) or "nothing"
    raise ValueError(f"holds {seen}, not the {expected} KubeSphere 3.x reads; get it with: {GET_CLUSTER_CONFIGURATION}")


def _system(resource_type: str) -> str:
    return "Okta" if resource_type.startswith("okta:") else "the cluster"


def destroy_warnings(resources: Iterable[PlannedResource], stack: str, unprotect_hints: Mapping[str, str]) -> list[str]:
    """What ``pulumi destroy`` will not do: delete a protected resource (the destroy fails there) or
    delete a retained one (it stays where it is). Each protected one with how to unprotect it."""
    warnings = []
    for _, r in tree_order(resources):
        if r.protect:
            hint = unprotect_hints.get(r.type)
            how = f"`{hint}`, then `pulumi up -s {stack}`; or " if hint else ""
            warnings.append(
                f"pulumi destroy stops at {r.name} ({r.type}): it is protected, so Pulumi refuses to delete it "
                f"and the destroy fails. To destroy it, unprotect it first: {how}`pulumi state unprotect '{r.urn}'`"
            )
    for _, r in tree_order(resources):
        if r.retain_on_delete and not r.protect:
            warnings.append(f"pulumi destroy keeps {r.name} ({r.type}): retain_on_delete, it leaves the stack "
                            f"but stays in {_system(r.type)}")
        elif _kept_by_provider(r) and not r.protect:
            warnings.append(f"pulumi destroy keeps the {len(r.inputs.get('users') or {})} Users of {r.name} ({r.type}): "
                            "pruneUsers is off, so its provider leaves them in the cluster (their bindings go)")
    return warnings


# --- what the stack's state says (``--state``: the output of `pulumi stack export`) ------------------

#: The component's type token and the Pulumi types of what it writes to the cluster.
COMPONENT_TYPE = "kubesphere-okta:index:KubeSphereOktaIntegration"
DYNAMIC_TYPE = "pulumi-python:dynamic:Resource"
#: The two cluster guards of a component named N: N-cluster and N-cluster-release (docs/cluster-binding.md).
GUARD_SUFFIXES = ("-cluster", "-cluster-release")


def state_resources(document: Any) -> list[Mapping[str, Any]]:
    """The resources of a `pulumi stack export` document; ValueError naming what is wrong."""
    deployment = document.get("deployment") if isinstance(document, Mapping) else None
    resources = deployment.get("resources") if isinstance(deployment, Mapping) else None
    if resources is None and isinstance(deployment, Mapping):
        return []  # a stack that was never deployed exports no resources
    if not isinstance(resources, list) or not all(
            isinstance(r, Mapping) and isinstance(r.get("urn"), str) and isinstance(r.get("type"), str) for r in resources):
        raise ValueError("is not the output of `pulumi stack export` (expected deployment.resources: a list of "
                         "resources, each with a urn and a type)")
    return list(resources)


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def missing_guard_warnings(resources: Iterable[Mapping[str, Any]]) -> list[str]:
    """A component whose state still holds KubeSphere objects written by pulumi-kubernetes but lacks
    one of its cluster guards (removed with `pulumi state delete`): nothing checks the cluster for
    those objects any more, and the next `pulumi up` binds a new guard to whatever cluster it reaches."""
    resources = list(resources)
    warnings = []
    for component in resources:
        if component.get("type") != COMPONENT_TYPE:
            continue
        name = _name(component["urn"])
        children = [r for r in resources if r.get("parent") == component["urn"]]
        objects = [r for r in children if r["type"].startswith("kubernetes:")]
        present = {_name(r["urn"]) for r in children if r["type"] == DYNAMIC_TYPE}
        missing = [name + suffix for suffix in GUARD_SUFFIXES if name + suffix not in present]
        if not objects or not missing:
            continue
        warnings.append(
            f"the state of {name!r} holds {len(objects)} KubeSphere object(s) written by pulumi-kubernetes but no "
            f"cluster guard {' or '.join(repr(m) for m in missing)} (removed with `pulumi state delete`?): nothing "
            "refuses another cluster for them now, and the next `pulumi up` binds a new guard to whatever cluster "
            "the kubeconfig reaches. Before it, check that `kubectl config current-context` (or "
            "kubernetes:context / kubernetes:kubeconfig) reaches this stack's cluster; or put the guard back with "
            "`pulumi stack import` of an export taken before it was deleted (docs/cluster-binding.md, limits)."
        )
    return warnings


def document(stack: str, resources: list[PlannedResource], kubesphere: KubeSphereChange,
             skipped_members: Iterable[Mapping[str, str]] = (), *,
             destroy: bool = False, warnings: Iterable[str] = (),
             skipped_objects: Iterable[Mapping[str, str]] = (), logout: str = "",
             with_objects: bool = True) -> dict[str, Any]:
    """The plan as one JSON-ready document (the shape ``--format json`` prints).

    ``skipped_members``: the program's ``skippedMembers`` output (roleBindings members who get no User);
    ``skipped_objects``: bindings not declared because a KubeSphere controller owns them;
    ``logout``: what logging out does on the stack's KubeSphere version. ``with_objects=False``
    leaves out ``objects`` (every User and binding the keyed resources write, expanded from their
    templates: 20,000 bodies at 10,000 members), which ``text`` does not need.
    """
    plan: dict[str, Any] = {
        "stack": stack,
        "operation": "destroy" if destroy else "up",
        "resources": resource_entries(resources),
    }
    if with_objects:
        plan["objects"] = [
            {"type": f"kubernetes:{body['apiVersion']}:{body['kind']}", "name": key, "writtenBy": r.name, "inputs": body}
            for _, r in tree_order(resources) for key, body in membership_model.declared_objects(r.type, r.inputs).items()
        ]
    return plan | {
        "kubesphere": {"kind": kubesphere.kind, "before": kubesphere.before, "after": kubesphere.after},
        "warnings": list(warnings),
        "skippedMembers": [dict(m) for m in skipped_members],
        "skippedObjects": [dict(o) for o in skipped_objects],
        "logout": logout,
    }


def resource_entries(resources: list[PlannedResource]) -> list[dict[str, Any]]:
    """The ``resources`` of the JSON document, in tree order."""
    return [
        {"type": r.type, "name": r.name, "parent": r.parent, "urn": r.urn, "protect": r.protect,
         "retainOnDelete": r.retain_on_delete, "inputs": r.inputs}
        for _, r in tree_order(resources)
    ]


#: libyaml's C emitter and parser when PyYAML has them (it does on the usual wheels): several
#: times faster than the pure-Python ones, same output.
_SafeDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _BlockDumper(_SafeDumper):
    """Multi-line strings (a Secret's configuration.yaml) as literal blocks, the way kubectl shows them."""


_BlockDumper.add_representer(
    str,
    lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None),
)


def to_yaml(value: Any) -> str:
    if value is None:
        return ""
    return yaml.dump(value, Dumper=_BlockDumper, sort_keys=False, default_flow_style=False, allow_unicode=True)


def unified_diff(before: Any, after: Any, kind: str) -> str:
    lines = difflib.unified_diff(
        to_yaml(before).splitlines(keepends=True),
        to_yaml(after).splitlines(keepends=True),
        fromfile=f"{kind} (before)" if before is not None else "/dev/null",
        tofile=f"{kind} (after)" if after is not None else "/dev/null",
    )
    return "".join(lines)


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def tree_order(resources: Iterable[PlannedResource]) -> list[tuple[int, PlannedResource]]:
    """(depth, resource) pairs, parents before children, siblings by name: the same order on
    every run, whatever order the program's asynchronous registrations happened to take."""
    resources = list(resources)
    names = {r.name for r in resources}
    children: dict[str | None, list[PlannedResource]] = {}
    for r in resources:
        children.setdefault(r.parent if r.parent in names else None, []).append(r)
    ordered: list[tuple[int, PlannedResource]] = []

    def walk(parent: str | None, depth: int) -> None:
        for r in sorted(children.get(parent, []), key=lambda r: (r.name, r.type)):
            ordered.append((depth, r))
            walk(r.name, depth + 1)

    walk(None, 0)
    return ordered


def _kept_by_provider(r: PlannedResource) -> bool:
    """The keyed Users resource keeps its Users on delete unless ``prune_users`` (its provider's rule)."""
    return r.type == membership_model.USERS_TYPE and not r.inputs.get("prune_users")


def _resource_line(r: PlannedResource, destroy: bool) -> str:
    if destroy and _kept_by_provider(r) and not r.protect:
        count = len(r.inputs.get("users") or {})
        return f"= {r.name}  ({r.type})  KEPT: its {count} Users stay in KubeSphere (pruneUsers is off)"
    if not destroy:
        tags = [t for t, on in (("protected", r.protect), ("retain_on_delete", r.retain_on_delete)) if on]
        return f"+ {r.name}  ({r.type})" + (f"  [{', '.join(tags)}]" if tags else "")
    if r.protect:
        return f"! {r.name}  ({r.type})  PROTECTED: pulumi destroy fails here"
    if r.retain_on_delete:
        return f"= {r.name}  ({r.type})  KEPT: retain_on_delete, stays in {_system(r.type)}"
    return f"- {r.name}  ({r.type})"


#: Above this many users the text plan counts instead of listing: a map or list of more entries (the
#: keyed resources' members, the preview check's identities) shows as its size, and the roles section
#: one line per role with its number of users. ``--format json`` lists everything;
#: ``--membership-only BEFORE`` lists each role gained or lost, per user.
LISTED_USERS = 200


class _Counted(str):
    """A map or list too long to print, shown as the number of its entries."""


def _abbreviated(value: Any) -> Any:
    if isinstance(value, (Mapping, list)) and len(value) > LISTED_USERS:
        return _Counted(f"<{len(value):,} entries, more than {LISTED_USERS}: --format json lists them>")
    if isinstance(value, Mapping):
        return {k: _abbreviated(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_abbreviated(v) for v in value]
    return value


def _input_line(key: str, value: Any) -> str:
    shown = _abbreviated(value)
    return f"{key}: {shown if isinstance(shown, _Counted) else _compact(shown)}"


def _tree_lines(resources: list[PlannedResource], destroy: bool) -> list[str]:
    lines: list[str] = []
    for depth, r in tree_order(resources):
        indent = "    " * depth
        lines.append(f"{indent}{_resource_line(r, destroy)}")
        lines += [f"{indent}      {_input_line(key, value)}" for key, value in r.inputs.items() if value not in (None, {}, [])]
    return lines


def role_counts(lines: Iterable[str]) -> list[str]:
    """``role_lines`` counted per role (``  global platform-regular: 6,000 users``), roles sorted."""
    counts: dict[str, int] = {}
    for line in lines:
        for role in line.split(": ", 1)[1].split("; "):
            counts[role] = counts.get(role, 0) + 1
    return [f"  {role}: {n:,} user{'s' if n != 1 else ''}" for role, n in sorted(counts.items())]


def _object_title(kubesphere: KubeSphereChange) -> str:
    shown = kubesphere.after if kubesphere.after is not None else kubesphere.before
    metadata = (shown or {}).get("metadata") or {}
    return f"{kubesphere.kind} {metadata.get('namespace', '?')}/{metadata.get('name', '?')}"


#: The bindings that grant a member a role, and how the roles section names each scope.
_BINDING_SCOPES = {"GlobalRoleBinding": "global", "WorkspaceRoleBinding": "workspace", "RoleBinding": "project",
                   "ClusterRoleBinding": "cluster"}
_USER_REFERENCE = "iam.kubesphere.io/user-ref"
_WORKSPACE_LABEL = "kubesphere.io/workspace"


#: What ``role_lines`` reads of a binding: its kind, the user it binds, the role, its workspace and namespace.
_GRANT_PATHS = (("kind",), ("metadata", "labels", _USER_REFERENCE), ("roleRef", "name"),
                ("metadata", "labels", _WORKSPACE_LABEL), ("metadata", "namespace"))


def declared_grants(resources: Iterable[PlannedResource], objects: Iterable[Mapping[str, Any]] | None = None) -> list[tuple]:
    """``_GRANT_PATHS`` of every KubeSphere object the plan declares: a pulumi-kubernetes resource's
    inputs, or each member of a keyed membership resource (``membership_model.declared_fields``,
    which reads them without building the bodies), or the document's ``objects`` when given."""
    grants: list[tuple] = []
    for r in resources:
        if not isinstance(r.inputs, Mapping):
            continue
        if r.type.startswith("kubernetes:"):
            grants.append(tuple(membership_model.at(r.inputs, path) for path in _GRANT_PATHS))
        elif objects is None and membership_model.at(r.inputs, ("template", "kind")) in _BINDING_SCOPES:  # a User grants nothing
            grants += membership_model.declared_fields(r.type, r.inputs, _GRANT_PATHS)
    if objects is not None:
        grants += [tuple(membership_model.at(o["inputs"], path) for path in _GRANT_PATHS) for o in objects]
    return grants


def role_entries(resources: Iterable[PlannedResource]) -> dict[str, set[str]]:
    """KubeSphere user -> each role the plan grants them, as ``role_lines`` words it."""
    return {user.strip(): set(found.split("; ")) for user, found in
            (line.split(": ", 1) for line in role_lines(resources))}


def membership_changes(before: Iterable[PlannedResource], after: Iterable[PlannedResource]) -> list[str]:
    """One line per user and role gained (``+``) or lost (``-``) between two plans, users sorted:
    a one-person change among thousands is one or two lines."""
    old, new = role_entries(before), role_entries(after)
    lines = []
    for user in sorted(set(old) | set(new)):
        lines += [f"  + {user}: {role}" for role in sorted(new.get(user, set()) - old.get(user, set()))]
        lines += [f"  - {user}: {role}" for role in sorted(old.get(user, set()) - new.get(user, set()))]
    return lines


def role_lines(resources: Iterable[PlannedResource], kept_by_kubesphere: Iterable[Mapping[str, str]] = (),
               objects: Iterable[Mapping[str, Any]] | None = None) -> list[str]:
    """One line per KubeSphere user: every role the planned bindings give them, by scope
    (``global platform-regular; workspace team-a: team-a-regular; project team-a-dev: operator;
    cluster: cluster-viewer``), users sorted by name."""
    roles: dict[str, list[tuple[int, str]]] = {}
    order = list(_BINDING_SCOPES)
    for kind, user, role, workspace, namespace in declared_grants(resources, objects):
        if kind not in _BINDING_SCOPES:
            continue
        user, role = "?" if user is None else user, "?" if role is None else role
        scope = _BINDING_SCOPES[kind]
        where = {"workspace": "?" if workspace is None else workspace,
                 "project": "?" if namespace is None else namespace}.get(scope)
        roles.setdefault(user, []).append((order.index(kind), f"{scope} {where}: {role}" if where else f"{scope} {role}"))
    for kept in kept_by_kubesphere:  # bindings KubeSphere's controllers create (skippedObjects)
        if kept.get("kind") == "ClusterRoleBinding" and kept.get("user"):
            role = kept["name"][len(kept["user"]) + 1:]
            roles.setdefault(kept["user"], []).append((order.index("ClusterRoleBinding"), f"cluster {role} (KubeSphere's own binding)"))
    return [f"  {user}: {'; '.join(text for _, text in sorted(found))}" for user, found in sorted(roles.items())]


def text(plan: Mapping[str, Any], destroy: bool, pending_lookups: Iterable[str] = ()) -> str:
    """The plan for people: resource tree, the KubeSphere object as written, and its diff."""
    resources = [
        PlannedResource(r["type"], r["name"], r["parent"], r["inputs"], r["protect"], r["retainOnDelete"], r["urn"])
        for r in plan["resources"]
    ]
    kubesphere = KubeSphereChange(**plan["kubesphere"])
    action = "pulumi destroy" if destroy else "pulumi up"
    protected = [r for r in resources if r.protect]
    retained = [r for r in resources if (r.retain_on_delete or (destroy and _kept_by_provider(r))) and not r.protect]
    if destroy:
        summary = f"Resources ({len(resources)}: {len(resources) - len(protected) - len(retained)} deleted"
        summary += f", {len(retained)} kept" if retained else ""
        summary += f", {len(protected)} protected, which stop the destroy):" if protected else "):"
    else:
        summary = f"Resources ({len(resources)}, created):"
    out = [
        f"Plan of `{action}` for stack {plan['stack']!r}: offline, under Pulumi mocks; no credentials "
        "used, nothing contacted. Secrets are shown as [secret].",
        "",
        summary,
        *_tree_lines(resources, destroy),
    ]
    granted = role_lines(resources, plan.get("skippedObjects") or [], plan.get("objects"))
    if granted:
        heading = (f"KubeSphere roles `pulumi destroy` takes away ({len(granted)} users; Users themselves are kept "
                   "unless pruneUsers):" if destroy else
                   f"KubeSphere roles after `pulumi up` ({len(granted)} users; one binding per user and workspace, "
                   "project, and cluster):")
        if len(granted) > LISTED_USERS:
            out += ["", heading, *role_counts(granted),
                    f"  (more than {LISTED_USERS} users: counted per role. `--format json` lists every User and binding; "
                    "`--membership-only BEFORE` lists each role gained or lost since BEFORE, per user)"]
        else:
            out += ["", heading, *granted]
    skipped = plan.get("skippedMembers") or []
    if skipped:
        out += ["", f"Okta members skipped: no User, no GlobalRoleBinding ({len(skipped)}; `pulumi up` warns "
                "and exports them as skippedMembers):"]
        out += [f"  {m['oktaId']} {m['login']!r}: {m['reason']}" for m in skipped]
    not_declared = plan.get("skippedObjects") or []
    if not_declared:
        out += ["", f"Role bindings not declared: a KubeSphere controller creates and owns each ({len(not_declared)}):"]
        out += [f"  {o['kind']} {o['namespace'] + '/' if o.get('namespace') else ''}{o['name']} ({o['user']}): {o['reason']}"
                for o in not_declared]
    pending = list(pending_lookups)
    if pending:
        out += ["", "Looked up by Okta at deploy time (shown as <lookup: ...> above):", *[f"  {p}" for p in pending]]
    if plan.get("warnings"):
        out += ["", "Warnings:", *[f"  - {w}" for w in plan["warnings"]]]
    if plan.get("logout") and not destroy:
        out += ["", "Logout:", f"  {plan['logout']}"]
    title = _object_title(kubesphere)
    when = f"`{action}`" + (" succeeds (once the protected resources are unprotected)" if destroy and protected else "")
    out += ["", f"KubeSphere {title} after {when}:"]
    out += [to_yaml(kubesphere.after).rstrip("\n")] if kubesphere.after is not None else ["(does not exist)"]
    diff = unified_diff(kubesphere.before, kubesphere.after, kubesphere.kind)
    out += ["", f"Change to {title} (unified diff, before -> after):", diff.rstrip("\n") or "(no change)"]
    return "\n".join(out) + "\n"
