"""Okta group members as KubeSphere Users and GlobalRoleBindings (Pulumi wiring only).

Every decision (names, roles, labels, object bodies) is made by ``usernames`` and
``kubesphere_iam``; this module reads the groups from Okta and registers what those decide.

* Groups and members come from the component's ``OktaDirectory`` (okta_directory.py): one
  ``getGroup`` per group name and one ``getUsers`` per group per run, shared with the app's
  assignments and policies, so 5 groups of 2,000 members cost 5 + 5 Okta reads, in preview too.
* Users carry ``retain_on_delete`` unless ``prune_users``: when a member leaves the groups, Pulumi
  deletes their GlobalRoleBinding (the role goes) but only forgets their User. Deleting a User
  makes KubeSphere's user controller delete every workspace, namespace and cluster membership that
  anyone granted it; a person moved between teams in Okta must not lose those.
"""

from __future__ import annotations

from typing import Any, Sequence

import pulumi
from pulumi_kubernetes import _utilities as kubernetes_utilities

from . import kubesphere_iam
from .identity_provider import IdentityProviderSettings
from .okta_directory import OktaDirectory
from .usernames import IdentityPlan, PlannedUser, plan_users


class KubernetesObject(pulumi.CustomResource):
    """A custom resource registered with every top-level field of ``body``.

    pulumi-kubernetes' Python ``CustomResource`` only takes ``metadata`` and ``spec``
    (pulumi/pulumi-kubernetes#2363); a GlobalRoleBinding needs ``roleRef`` and ``subjects`` at the
    top level. Same type token and provider as ``CustomResource``, which is what the provider expects.
    """

    def __init__(self, resource_name: str, body: dict[str, Any], opts: pulumi.ResourceOptions):
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(version=kubernetes_utilities.get_version()))
        super().__init__(f"kubernetes:{body['apiVersion']}:{body['kind']}", resource_name, dict(body), opts)


def planned_users(access: dict[str, Any], directory: OktaDirectory, mapping_method: str = "lookup") -> IdentityPlan:
    """Read the ``role_bindings`` groups (through the component's one directory) and decide every User.

    Members who cannot be provisioned are in ``IdentityPlan.skipped``; with ``strict_identities``
    this raises ``IdentityProblems`` instead, before anything is registered.
    """
    pairs = [(directory.group_id(group), role) for group, role in access["role_bindings"]]
    members_by_group = {gid: directory.members(gid) for gid, _role in pairs}
    return plan_users(pairs, members_by_group, access["reserved_usernames"],
                      strict=access.get("strict_identities", False), mapping_method=mapping_method)


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
