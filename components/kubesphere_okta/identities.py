"""Okta group members as KubeSphere Users and their global, workspace, project and cluster role
bindings (Pulumi wiring only).

Every decision (names, roles, labels, object bodies) is made by ``usernames``,
``kubesphere_iam`` and ``kubesphere_roles``; this module reads the groups from Okta and registers what those decide.

* Groups and members come from the component's ``OktaDirectory`` (okta_directory.py): one
  ``getGroup`` per group name and one ``getUsers`` per group per run, shared with the app's
  assignments and policies, so 5 groups of 2,000 members cost 5 + 5 Okta reads, in preview too.
* By default a few resources write them all, whatever the number of members: one
  ``KubeSphereUsers`` and one ``KubeSphereRoleBindings`` per scope, with maps keyed by username
  (``membership_resources``; docs/usernames-and-roles.md, "Membership resources"). A member who
  leaves the groups loses their bindings; their User is kept unless ``prune_users``: deleting a
  User makes KubeSphere's user controller delete every workspace, namespace and cluster membership
  that anyone granted it, and a person moved between teams in Okta must not lose those.
* ``per_member_resources`` is step 1 of the upgrade from releases that declared one resource per
  User and per binding: those resources again, all ``retain_on_delete`` and labelled for handover.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Optional, Sequence

import pulumi
from pulumi_kubernetes import _utilities as kubernetes_utilities

from . import kubesphere_iam, kubesphere_role_check, kubesphere_roles, rules
from . import membership_inputs, membership_model, membership_resources
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


def has_member_maps(access: dict[str, Any]) -> bool:
    """Whether any map grants Okta group members a KubeSphere role (so they need Users)."""
    return any(access.get(field) for field in rules.MEMBER_MAPS)


def mapped_group_ids(access: dict[str, Any], directory: OktaDirectory) -> dict[str, str]:
    """Each group named by any of the maps (as configured) -> its id, through the component's one
    directory: one lookup per group per run, whatever the number of maps naming it."""
    groups = dict.fromkeys(group for field in rules.MEMBER_MAPS for group, _value in access.get(field) or ())
    return {group: directory.group_id(group) for group in groups}


def planned_users(access: dict[str, Any], directory: OktaDirectory, mapping_method: str = "lookup") -> IdentityPlan:
    """Read the mapped groups (through the component's one directory) and decide every User.

    Every member of any mapped group gets a User, whichever map names the group; one ``getUsers``
    per group, however many maps name it. Members who cannot be provisioned are in
    ``IdentityPlan.skipped`` (they get no binding either); with ``strict_identities`` this raises
    ``IdentityProblems`` instead, before anything is registered.
    """
    ids = mapped_group_ids(access, directory)
    pairs = [(ids[group], role) for group, role in access["role_bindings"]]
    members_by_group = {gid: directory.members(gid) for gid in dict.fromkeys(ids.values())}
    return plan_users(pairs, members_by_group, access["reserved_usernames"], other_groups=list(ids.values()),
                      strict=access.get("strict_identities", False), mapping_method=mapping_method)


def planned_memberships(
    access: dict[str, Any], users: Sequence[PlannedUser], directory: OktaDirectory
) -> list[kubesphere_roles.Membership]:
    """The workspace, project and cluster bindings of ``users`` (groups already read, so no Okta call)."""
    ids = mapped_group_ids(access, directory)
    maps = {field: [(ids[group], value) for group, value in access.get(field) or ()]
            for field in ("workspace_role_bindings", "project_role_bindings", "cluster_role_bindings")}
    members = {gid: [m.id for m in directory.members(gid)] for gid in dict.fromkeys(ids.values())}
    names = {gid: group for group, gid in ids.items()}
    planned = kubesphere_roles.plan_memberships(
        [(u.username, u.okta_id) for u in users], members, maps["workspace_role_bindings"],
        maps["project_role_bindings"], maps["cluster_role_bindings"],
    )
    # Report the group as configured (a name reads better than its id).
    return [dataclasses.replace(m, group=names.get(m.group, m.group)) for m in planned]


def role_references_check(
    name: str, settings: IdentityProviderSettings, access: dict[str, Any], parent: pulumi.Resource,
    cluster: Any = None, users: Sequence[PlannedUser] = (), memberships: Sequence[kubesphere_roles.Membership] = (),
) -> Optional[kubesphere_role_check.KubeSphereRoleReferences]:
    """The preview-time check of every workspace, project and role the maps name, of the bindings a
    KubeSphere controller also creates, and of Users that already carry a planned ``users``' identity
    (None without maps and users).

    It reads the cluster ``cluster`` (``cluster.KubeSphereCluster``) reaches: the arguments'
    kubeconfig and context, or, without them, the default kubernetes provider's."""
    references = kubesphere_roles.configured_references(settings.kubesphere_version, scoped_maps(access))
    if not references and not users:
        return None
    reach = cluster.dynamic_inputs() if cluster is not None else access
    return kubesphere_role_check.KubeSphereRoleReferences(
        f"{name}-role-references",
        kubesphere_version=settings.kubesphere_version,
        references=references,
        kubeconfig=reach.get("kubeconfig"),
        kube_context=reach.get("kube_context"),
        planned=kubesphere_roles.planned_keys(settings.kubesphere_version, memberships),
        provider_name=settings.provider_name,
        users=[(u.username, u.okta_id) for u in users],
        opts=pulumi.ResourceOptions(parent=parent),
    )


def scoped_maps(access: dict[str, Any]) -> dict[str, Any]:
    """The three scoped maps keyed by scope, as ``kubesphere_roles`` takes them."""
    return {
        kubesphere_roles.WORKSPACE: access.get("workspace_role_bindings") or [],
        kubesphere_roles.PROJECT: access.get("project_role_bindings") or [],
        kubesphere_roles.CLUSTER: access.get("cluster_role_bindings") or [],
    }


def kubesphere_identities(
    name: str,
    settings: IdentityProviderSettings,
    access: dict[str, Any],
    users: Sequence[PlannedUser],
    parent: pulumi.Resource,
    memberships: Sequence[kubesphere_roles.Membership] = (),
    references_check: Optional[pulumi.Resource] = None,
    cluster: Any = None,
) -> dict[str, pulumi.Resource]:
    """The Users of ``users`` and their bindings (global, workspace, project, cluster), children of
    ``parent``: by default a few keyed resources (``keyed_identities``); with
    ``per_member_resources``, step 1 of the upgrade (``per_member_identities``)."""
    if access.get("per_member_resources"):
        return per_member_identities(name, settings, access, users, parent, memberships, references_check, cluster)
    return keyed_identities(name, settings, access, users, parent, memberships, references_check, cluster)


def keyed_identities(
    name: str,
    settings: IdentityProviderSettings,
    access: dict[str, Any],
    users: Sequence[PlannedUser],
    parent: pulumi.Resource,
    memberships: Sequence[kubesphere_roles.Membership] = (),
    references_check: Optional[pulumi.Resource] = None,
    cluster: Any = None,
) -> dict[str, pulumi.Resource]:
    """One ``KubeSphereUsers`` (``<name>-users``) and one ``KubeSphereRoleBindings`` per scope with
    bindings (``<name>-<scope>-role-bindings``), whatever the number of members.

    The bindings depend on the Users and on ``references_check``; all of them on the cluster guard
    (``cluster``), and reach the cluster the same way the guard does (docs/usernames-and-roles.md,
    "Membership resources").
    """
    if not users:
        return {}
    version, provider_name = settings.kubesphere_version, settings.provider_name
    reach = cluster.dynamic_inputs() if cluster is not None else {
        "kubeconfig": access.get("kubeconfig"), "kube_context": access.get("kube_context"),
        "rebind_cluster": access.get("rebind_cluster"), "adopt": bool(access.get("adopt_existing_provider"))}
    guard = [cluster.guard] if cluster is not None and cluster.guard is not None else []
    checked = [references_check] if references_check is not None else []
    declared: dict[str, pulumi.Resource] = {}
    declared["users"] = kubesphere_users = membership_resources.KubeSphereUsers(
        f"{name}-users",
        provider_name=provider_name,
        template=membership_inputs.user_template(version, provider_name),
        users=membership_inputs.users_map(users),
        prune_users=bool(access["prune_users"]),
        **reach,
        # The preview check also refuses a second User carrying a planned member's identity.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[*guard, *checked]),
    )
    for scope, bindings in membership_inputs.bindings_maps(version, users, memberships).items():
        declared[f"bindings/{scope}"] = membership_resources.KubeSphereRoleBindings(
            f"{name}-{scope}-role-bindings",
            provider_name=provider_name,
            scope=scope,
            template=membership_inputs.binding_template(version, scope, provider_name),
            bindings=bindings,
            **reach,
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[*guard, kubesphere_users, *checked]),
        )
    return declared


def per_member_identities(
    name: str,
    settings: IdentityProviderSettings,
    access: dict[str, Any],
    users: Sequence[PlannedUser],
    parent: pulumi.Resource,
    memberships: Sequence[kubesphere_roles.Membership] = (),
    references_check: Optional[pulumi.Resource] = None,
    cluster: Any = None,
) -> dict[str, KubernetesObject]:
    """Step 1 of the upgrade from per-member resources (docs/usernames-and-roles.md): one
    pulumi-kubernetes resource per User and per binding, as releases up to 0.2 declared them (same
    names, same provider), now every one ``retain_on_delete`` and labelled for handover, so that the
    next run, keyed, adopts the objects and the engine only forgets these resources.

    Nothing is declared that KubeSphere's controllers add (ownerReferences, finalizers, their
    labels): with server-side apply those fields stay theirs (docs/workspace-and-project-roles.md).
    """

    def options(**extra: Any) -> pulumi.ResourceOptions:
        if cluster is None:
            depends_on = extra.pop("depends_on", [])
            return pulumi.ResourceOptions(parent=parent, depends_on=depends_on, **extra)
        return cluster.options(**extra)

    version, provider_name = settings.kubesphere_version, settings.provider_name
    handover = {membership_model.HANDOVER_LABEL: provider_name}

    def labelled(body: dict[str, Any]) -> dict[str, Any]:
        body["metadata"]["labels"] = {**(body["metadata"].get("labels") or {}), **handover}
        return body

    declared: dict[str, KubernetesObject] = {}
    user_objects: dict[str, KubernetesObject] = {}
    # Users wait for the preview check too: it refuses a second User with the same identity.
    checked = [references_check] if references_check is not None else []
    for user in users:
        body = labelled(kubesphere_iam.render_user(version, provider_name, user))
        declared[f"user/{user.username}"] = user_objects[user.username] = kubesphere_user = KubernetesObject(
            f"{name}-user-{user.username}", body, options(retain_on_delete=True, depends_on=checked),
        )
        if not user.role:
            continue  # in no role_bindings group: no global role
        binding = labelled(kubesphere_iam.render_global_role_binding(version, user.username, user.role))
        declared[f"globalrolebinding/{binding['metadata']['name']}"] = KubernetesObject(
            f"{name}-globalrolebinding-{binding['metadata']['name']}",
            binding,
            options(depends_on=[kubesphere_user], retain_on_delete=True),
        )
    for membership in memberships:
        binding = labelled(membership.render(version))
        key = binding_key(binding)
        declared[key] = KubernetesObject(
            f"{name}-{key.replace('/', '-')}",
            binding,
            options(depends_on=[user_objects[membership.username], *checked], retain_on_delete=True),
        )
    return declared


def binding_key(binding: dict[str, Any]) -> str:
    """``<kind>/<name>``, with the namespace for a RoleBinding: unique per object on the cluster."""
    metadata = binding["metadata"]
    where = f"{metadata['namespace']}/" if "namespace" in metadata else ""
    return f"{binding['kind'].lower()}/{where}{metadata['name']}"
