"""The inputs of the keyed membership resources, from the planned Users and memberships: pure.

Each resource gets one ``template`` (the body ``kubesphere_iam``/``kubesphere_roles`` render, with
placeholders for the member's values, plus our two labels) and a map keyed by KubeSphere username
of only the values that vary per member (docs/usernames-and-roles.md, "Membership resources"):

* Users: ``{username: {"email": ..., "oktaId": ...}}``;
* bindings, per scope: ``{username: {object key: <role object name>}}``, or
  ``{object key: {"role": <role object name>, "target": <workspace or namespace>}}`` for a binding
  with a target; the object key is the binding's name (``<namespace>/<name>`` for a project
  RoleBinding).

``membership_model.fill(template, values)`` gives back exactly the body the renderers make for that
member (tests/test_membership_model.py checks it over generated members, per version and scope).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Sequence

from . import kubesphere_iam, kubesphere_roles
from . import membership_model as model
from .usernames import PlannedUser

_U, _E, _O = model.placeholder("user"), model.placeholder("email"), model.placeholder("oktaId")
_R, _T = model.placeholder("role"), model.placeholder("target")


def _with_labels(body: dict[str, Any], labels: Mapping[str, str]) -> dict[str, Any]:
    metadata = body["metadata"]
    metadata["labels"] = {**(metadata.get("labels") or {}), **labels}
    return body


def user_template(kubesphere_version: str, provider_name: str, extra_labels: Optional[Mapping[str, str]] = None) -> dict[str, Any]:
    body = kubesphere_iam.render_user(kubesphere_version, provider_name,
                                      PlannedUser(username=_U, okta_id=_O, email=_E, role="", login=""))
    return _with_labels(body, {**model.our_labels(provider_name), **(extra_labels or {})})


def binding_template(kubesphere_version: str, scope: str, provider_name: str,
                     extra_labels: Optional[Mapping[str, str]] = None) -> dict[str, Any]:
    """The binding of scope ``scope`` for user ``<<user>>``, role object ``<<role>>`` in ``<<target>>``."""
    if scope == model.GLOBAL:
        body = kubesphere_iam.render_global_role_binding(kubesphere_version, _U, _R)
    elif scope == model.WORKSPACE:
        body = kubesphere_roles.render_workspace_role_binding(kubesphere_version, _U, _T, _R)
    elif scope == model.PROJECT:
        body = kubesphere_roles.render_project_role_binding(kubesphere_version, _U, _T, _R)
    else:
        body = kubesphere_roles.render_cluster_role_binding(kubesphere_version, _U, _R)
    return _with_labels(body, {**model.our_labels(provider_name), **(extra_labels or {})})


def users_map(users: Iterable[PlannedUser]) -> dict[str, dict[str, str]]:
    return {u.username: {"email": u.email, "oktaId": u.okta_id} for u in users}


def bindings_maps(kubesphere_version: str, users: Sequence[PlannedUser],
                  memberships: Iterable[kubesphere_roles.Membership]) -> dict[str, dict[str, dict[str, Any]]]:
    """Scope -> username -> object key -> role, or {role, target}; scopes without bindings are left out."""
    maps: dict[str, dict[str, dict[str, Any]]] = {}

    def add(scope: str, username: str, role_name: str, target: str) -> None:
        name = kubesphere_roles.binding_name(username, role_name)
        key = f"{target}/{name}" if scope == model.PROJECT else name
        maps.setdefault(scope, {}).setdefault(username, {})[key] = model.binding_entry(role_name, target)

    for user in users:
        if user.role:
            add(model.GLOBAL, user.username, user.role, "")
    for m in memberships:
        role_name = kubesphere_roles.role_object_name(kubesphere_version, m.scope, m.target, m.role)
        add(m.scope, m.username, role_name, m.target)
    return maps


def rendered(kubesphere_version: str, provider_name: str, users: Sequence[PlannedUser],
             memberships: Iterable[kubesphere_roles.Membership]) -> dict[str, dict[str, dict]]:
    """Kind of resource (``users`` or a scope) -> object key -> body: what the providers will write."""
    found = {model.USERS: model.declared_users(user_template(kubesphere_version, provider_name), users_map(users))}
    for scope, bindings in bindings_maps(kubesphere_version, users, memberships).items():
        found[scope] = model.declared_bindings(binding_template(kubesphere_version, scope, provider_name), bindings)
    return found
