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
from typing import Any, Iterable, Mapping

import yaml

from kubesphere_okta import cluster_configuration
from kubesphere_okta.identity_provider import SECRET_PLACEHOLDER

#: Keys whose non-empty values are credentials, in our entry or anywhere in a live object
#: (another provider's clientSecret, an LDAP managerPassword, ks-installer's jwtSecret).
CREDENTIAL_KEYS = frozenset({"clientSecret", "jwtSecret", "managerPassword", "password", "adminPassword"})
CLUSTER_CONFIGURATION = "ClusterConfiguration"
SECRET = "Secret"


@dataclass(frozen=True)
class PlannedResource:
    type: str
    name: str
    parent: str | None
    """The parent's resource name; None for a resource directly under the stack."""
    inputs: dict[str, Any]
    """Inputs as registered (camelCase), engine-marked secrets already shown as ``[secret]``."""


@dataclass(frozen=True)
class KubeSphereChange:
    kind: str
    """``ClusterConfiguration`` (3.x) or ``Secret`` (4.1)."""
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    """None only when the object does not exist afterwards (4.1 after ``pulumi destroy``)."""


def hide_credentials(value: Any, secret_values: Iterable[str] = ()) -> Any:
    """A copy of ``value`` with credentials shown as ``[secret]``: values under ``CREDENTIAL_KEYS``,
    and any of ``secret_values`` wherever it appears, also inside a longer string."""
    secrets = [s for s in secret_values if s]

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

    return stable({k: v for k, v in inputs.items() if not k.startswith("__")})


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


def document(stack: str, resources: list[PlannedResource], kubesphere: KubeSphereChange,
             skipped_members: Iterable[Mapping[str, str]] = ()) -> dict[str, Any]:
    """The plan as one JSON-ready document (the shape ``--format json`` prints).

    ``skipped_members``: the program's ``skippedMembers`` output (roleBindings members who get no User).
    """
    return {
        "stack": stack,
        "resources": [
            {"type": r.type, "name": r.name, "parent": r.parent, "inputs": r.inputs} for _, r in tree_order(resources)
        ],
        "kubesphere": {"kind": kubesphere.kind, "before": kubesphere.before, "after": kubesphere.after},
        "skippedMembers": [dict(m) for m in skipped_members],
    }


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


def _tree_lines(resources: list[PlannedResource], marker: str) -> list[str]:
    lines: list[str] = []
    for depth, r in tree_order(resources):
        indent = "    " * depth
        lines.append(f"{indent}{marker} {r.name}  ({r.type})")
        lines += [f"{indent}      {key}: {_compact(value)}" for key, value in r.inputs.items() if value not in (None, {}, [])]
    return lines


def _object_title(kubesphere: KubeSphereChange) -> str:
    shown = kubesphere.after if kubesphere.after is not None else kubesphere.before
    metadata = (shown or {}).get("metadata") or {}
    return f"{kubesphere.kind} {metadata.get('namespace', '?')}/{metadata.get('name', '?')}"


def text(plan: Mapping[str, Any], destroy: bool, pending_lookups: Iterable[str] = ()) -> str:
    """The plan for people: resource tree, the KubeSphere object as written, and its diff."""
    resources = [PlannedResource(r["type"], r["name"], r["parent"], r["inputs"]) for r in plan["resources"]]
    kubesphere = KubeSphereChange(**plan["kubesphere"])
    action, marker = ("pulumi destroy", "-") if destroy else ("pulumi up", "+")
    out = [
        f"Plan of `{action}` for stack {plan['stack']!r}: offline, under Pulumi mocks; no credentials "
        "used, nothing contacted. Secrets are shown as [secret].",
        "",
        f"Resources ({len(resources)}, {'deleted' if destroy else 'created'}):",
        *_tree_lines(resources, marker),
    ]
    skipped = plan.get("skippedMembers") or []
    if skipped:
        out += ["", f"Okta members skipped: no User, no GlobalRoleBinding ({len(skipped)}; `pulumi up` warns "
                "and exports them as skippedMembers):"]
        out += [f"  {m['oktaId']} {m['login']!r}: {m['reason']}" for m in skipped]
    pending = list(pending_lookups)
    if pending:
        out += ["", "Looked up by Okta at deploy time (shown as <lookup: ...> above):", *[f"  {p}" for p in pending]]
    title = _object_title(kubesphere)
    out += ["", f"KubeSphere {title} after `{action}`:"]
    out += [to_yaml(kubesphere.after).rstrip("\n")] if kubesphere.after is not None else ["(does not exist)"]
    diff = unified_diff(kubesphere.before, kubesphere.after, kubesphere.kind)
    out += ["", f"Change to {title} (unified diff, before -> after):", diff.rstrip("\n") or "(no change)"]
    return "\n".join(out) + "\n"
