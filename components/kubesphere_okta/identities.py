"""Okta group members as KubeSphere Users and GlobalRoleBindings (Pulumi wiring only).

Every decision (names, roles, labels, object bodies) is made by ``usernames`` and
``kubesphere_iam``; this module reads the groups from Okta and registers what those decide.

* One ``okta.user.get_users(group_id=...)`` per group, cached per program run, so 5 groups of
  2,000 members cost 5 Okta reads, in preview too. The reads are synchronous so that a refused
  member stops the run before any User or GlobalRoleBinding is registered.
* Users carry ``retain_on_delete`` unless ``prune_users``: when a member leaves the groups, Pulumi
  deletes their GlobalRoleBinding (the role goes) but only forgets their User. Deleting a User
  makes KubeSphere's user controller delete every workspace, namespace and cluster membership that
  anyone granted it; a person moved between teams in Okta must not lose those.
"""

from __future__ import annotations

from typing import Any, Sequence

import pulumi
import pulumi_okta as okta
from pulumi.runtime import settings as pulumi_settings
from pulumi_kubernetes import _utilities as kubernetes_utilities

from . import kubesphere_iam, rules
from .identity_provider import IdentityProviderSettings
from .usernames import OktaMember, PlannedUser, plan_users


class KubernetesObject(pulumi.CustomResource):
    """A custom resource registered with every top-level field of ``body``.

    pulumi-kubernetes' Python ``CustomResource`` only takes ``metadata`` and ``spec``
    (pulumi/pulumi-kubernetes#2363); a GlobalRoleBinding needs ``roleRef`` and ``subjects`` at the
    top level. Same type token and provider as ``CustomResource``, which is what the provider expects.
    """

    def __init__(self, resource_name: str, body: dict[str, Any], opts: pulumi.ResourceOptions):
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(version=kubernetes_utilities.get_version()))
        super().__init__(f"kubernetes:{body['apiVersion']}:{body['kind']}", resource_name, dict(body), opts)


# --- Okta reads, cached per program run (one run = one resource monitor) -------------------------

_cache: dict[str, Any] = {"monitor": None, "members": {}, "groups": {}}


def _run_cache() -> dict[str, Any]:
    monitor = pulumi_settings.get_monitor()
    if _cache["monitor"] is not monitor:
        _cache.update(monitor=monitor, members={}, groups={})
    return _cache


def group_members(group_id: str, parent: pulumi.Resource) -> list[OktaMember]:
    """The members of one Okta group: one ``getUsers`` invoke per group per program run."""
    members = _run_cache()["members"]
    if group_id not in members:
        result = okta.user.get_users(group_id=group_id, opts=pulumi.InvokeOptions(parent=parent))
        members[group_id] = [
            OktaMember(id=u.id, login=u.login, email=u.email, status=getattr(u, "status", None))
            for u in result.users or []
        ]
    return members[group_id]


def group_id(group: str, parent: pulumi.Resource) -> str:
    """A ``role_bindings`` key as a group id: ids as given, names by an exact-name lookup (facts 5)."""
    if rules.is_okta_group_id(group):
        return group
    groups = _run_cache()["groups"]
    if group not in groups:
        found = okta.group.get_group(name=group, opts=pulumi.InvokeOptions(parent=parent))
        groups[group] = rules.exact_group_id(group, found.name, found.id)
    return groups[group]


def planned_users(access: dict[str, Any], parent: pulumi.Resource) -> list[PlannedUser]:
    """Read the ``role_bindings`` groups and decide every User; raises ``IdentityProblems``."""
    pairs = [(group_id(group, parent), role) for group, role in access["role_bindings"]]
    members_by_group = {gid: group_members(gid, parent) for gid, _role in pairs}
    return plan_users(pairs, members_by_group, access["reserved_usernames"])


def kubesphere_identities(
    name: str,
    settings: IdentityProviderSettings,
    access: dict[str, Any],
    users: Sequence[PlannedUser],
    parent: pulumi.Resource,
    cluster: Any = None,
) -> dict[str, KubernetesObject]:
    """One User and one GlobalRoleBinding per planned user, children of ``parent``.

    ``cluster`` (``cluster.KubeSphereCluster``) supplies every object's options: the provider that
    pins the cluster and the guard that refuses another one. Every KubeSphere object goes through it.
    """

    def options(**extra: Any) -> pulumi.ResourceOptions:
        if cluster is None:
            depends_on = extra.pop("depends_on", [])
            return pulumi.ResourceOptions(parent=parent, depends_on=depends_on, **extra)
        return cluster.options(**extra)

    version, provider_name = settings.kubesphere_version, settings.provider_name
    declared: dict[str, KubernetesObject] = {}
    for user in users:
        body = kubesphere_iam.render_user(version, provider_name, user)
        declared[f"user/{user.username}"] = kubesphere_user = KubernetesObject(
            f"{name}-user-{user.username}",
            body,
            options(retain_on_delete=not access["prune_users"]),
        )
        binding = kubesphere_iam.render_global_role_binding(version, user.username, user.role)
        declared[f"globalrolebinding/{binding['metadata']['name']}"] = KubernetesObject(
            f"{name}-globalrolebinding-{binding['metadata']['name']}",
            binding,
            options(depends_on=[kubesphere_user]),
        )
    return declared
