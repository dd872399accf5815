"""Workspace, project and cluster roles for Okta group members: pure, no Pulumi, no I/O.

Every object is shaped as KubeSphere's own console writes it when an administrator adds a member
(``pkg/models/iam/am/am.go`` at kubesphere/kubesphere@v3.4.1, @v4.1.2 and @v4.1.3; see
docs/workspace-and-project-roles.md for the per-version table):

* named ``<user>-<role>``, labelled ``iam.kubesphere.io/user-ref: <user>`` (KubeSphere finds a user's
  memberships, and deletes them with the User, by that label); 4.1 adds
  ``iam.kubesphere.io/role-ref: <role>``; a WorkspaceRoleBinding also carries
  ``kubesphere.io/workspace: <workspace>``;
* one ``User`` subject, apiGroup ``rbac.authorization.k8s.io`` on 3.x and ``iam.kubesphere.io`` on
  4.1; 4.1.3 adds a ``ServiceAccount`` subject ``kubesphere-system/kubesphere.users.<user>`` to
  project and cluster bindings (what the user's kubeconfig authenticates as);
* 3.x project and cluster bindings are plain ``rbac.authorization.k8s.io/v1`` RoleBinding and
  ClusterRoleBinding; 4.1 has ``iam.kubesphere.io/v1beta1`` ones.

A workspace role is a built-in short name (``admin``, ``regular``, ``viewer``, ``self-provisioner``:
that workspace's own built-in role) or a custom WorkspaceRole's full name. The built-in role of
workspace ``ws`` is ``ws-<role>``; KubeSphere 4.1.3 names it ``<role>.<FNV-64a of ws, hex>`` when
``ws-<role>`` is longer than 63 characters (workspacetemplate controller ``ensureWorkspaceRoleName``).

Exactly one binding per user per workspace, per project and for the cluster: KubeSphere's API deletes
a user's other bindings in a scope before it creates one, and two bindings would both grant. When a
user is in several mapped groups, the first entry in the stack's order wins, as for global roles.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional, Sequence

from . import kubesphere_versions
from .kubesphere_iam import IAM_GROUP, ROLE_REFERENCE_LABEL, USER_REFERENCE_LABEL, iam_api_version

RBAC_GROUP = "rbac.authorization.k8s.io"
WORKSPACE_LABEL = "kubesphere.io/workspace"
#: The namespace of the ServiceAccount a 4.1.3 user's kubeconfig uses (``kubesphere.users.<user>``).
KUBESPHERE_NAMESPACE = "kubesphere-system"
USER_SERVICE_ACCOUNT_FORMAT = "kubesphere.users.{}"
#: Kubernetes' limit on a label value; KubeSphere 4.1.3 hashes longer workspace-role names.
LABEL_VALUE_MAX = 63

BUILT_IN_WORKSPACE_ROLES = ("admin", "regular", "viewer", "self-provisioner")
BUILT_IN_PROJECT_ROLES = ("admin", "operator", "viewer")
BUILT_IN_CLUSTER_ROLES = ("cluster-admin", "cluster-viewer")
#: Versions whose workspacetemplate controller hashes long built-in workspace-role names.
HASHED_WORKSPACE_ROLE_VERSIONS = kubesphere_versions.HASHED_WORKSPACE_ROLE_VERSIONS
#: Versions whose console adds the user's ServiceAccount to project and cluster bindings.
SERVICE_ACCOUNT_SUBJECT_VERSIONS = kubesphere_versions.SERVICE_ACCOUNT_SUBJECT_VERSIONS

WORKSPACE, PROJECT, CLUSTER = "workspace", "project", "cluster"
#: Argument and config key of each scope, for messages.
ARGUMENTS = {WORKSPACE: "workspace_role_bindings", PROJECT: "project_role_bindings", CLUSTER: "cluster_role_bindings"}
CONFIG_KEYS = {WORKSPACE: "workspaceRoleBindings", PROJECT: "projectRoleBindings", CLUSTER: "clusterRoleBindings"}
BUILT_IN_ROLES = {WORKSPACE: BUILT_IN_WORKSPACE_ROLES, PROJECT: BUILT_IN_PROJECT_ROLES, CLUSTER: BUILT_IN_CLUSTER_ROLES}

_FNV64_OFFSET = 0xCBF29CE484222325
_FNV64_PRIME = 0x100000001B3


def fnv64a_hex(data: bytes) -> str:
    """FNV-1a, 64 bits, as 16 lower-case hex digits (Go's ``hash/fnv.New64a`` + ``hex.EncodeToString``)."""
    value = _FNV64_OFFSET
    for byte in data:
        value = ((value ^ byte) * _FNV64_PRIME) & 0xFFFFFFFFFFFFFFFF
    return f"{value:016x}"


def built_in_workspace_role_name(kubesphere_version: str, workspace: str, role: str) -> str:
    """The name of workspace ``workspace``'s built-in role ``role`` (``admin``, ``regular``...)."""
    name = f"{workspace}-{role}"
    if len(name) > LABEL_VALUE_MAX and kubesphere_version in HASHED_WORKSPACE_ROLE_VERSIONS:
        return f"{role}.{fnv64a_hex(workspace.encode('utf-8'))}"
    return name


def role_object_name(kubesphere_version: str, scope: str, target: str, role: str) -> str:
    """The role object a binding refers to: short built-in workspace roles become the workspace's
    own role; every other role name is the object's full name."""
    if scope == WORKSPACE and role in BUILT_IN_WORKSPACE_ROLES:
        return built_in_workspace_role_name(kubesphere_version, target, role)
    return role


def binding_name(username: str, role_name: str) -> str:
    return f"{username}-{role_name}"


def _user_subject(kubesphere_version: str, username: str) -> dict[str, str]:
    group = RBAC_GROUP if kubesphere_versions.is_v3(kubesphere_version) else IAM_GROUP
    return {"apiGroup": group, "kind": "User", "name": username}


def _service_account_subject(username: str) -> dict[str, str]:
    return {"kind": "ServiceAccount", "name": USER_SERVICE_ACCOUNT_FORMAT.format(username), "namespace": KUBESPHERE_NAMESPACE}


def _labels(kubesphere_version: str, username: str, role_name: str) -> dict[str, str]:
    labels = {USER_REFERENCE_LABEL: username}
    if not kubesphere_versions.is_v3(kubesphere_version):
        labels[ROLE_REFERENCE_LABEL] = role_name
    return labels


def render_workspace_role_binding(kubesphere_version: str, username: str, workspace: str, role: str) -> dict[str, Any]:
    """The WorkspaceRoleBinding KubeSphere's console writes for ``username`` in ``workspace``."""
    role_name = role_object_name(kubesphere_version, WORKSPACE, workspace, role)
    labels = _labels(kubesphere_version, username, role_name)
    labels[WORKSPACE_LABEL] = workspace
    return {
        "apiVersion": iam_api_version(kubesphere_version),
        "kind": "WorkspaceRoleBinding",
        "metadata": {"name": binding_name(username, role_name), "labels": labels},
        "roleRef": {"apiGroup": IAM_GROUP, "kind": "WorkspaceRole", "name": role_name},
        "subjects": [_user_subject(kubesphere_version, username)],
    }


def _rbac_binding(kubesphere_version: str, kind: str, role_kind: str, username: str, role: str) -> dict[str, Any]:
    v3 = kubesphere_versions.is_v3(kubesphere_version)
    subjects = [_user_subject(kubesphere_version, username)]
    if kubesphere_version in SERVICE_ACCOUNT_SUBJECT_VERSIONS:
        subjects.append(_service_account_subject(username))
    return {
        "apiVersion": f"{RBAC_GROUP}/v1" if v3 else f"{IAM_GROUP}/v1beta1",
        "kind": kind,
        "metadata": {"name": binding_name(username, role), "labels": _labels(kubesphere_version, username, role)},
        "roleRef": {"apiGroup": RBAC_GROUP if v3 else IAM_GROUP, "kind": role_kind, "name": role},
        "subjects": subjects,
    }


def render_project_role_binding(kubesphere_version: str, username: str, namespace: str, role: str) -> dict[str, Any]:
    """The RoleBinding KubeSphere's console writes for ``username`` in project ``namespace``."""
    body = _rbac_binding(kubesphere_version, "RoleBinding", "Role", username, role)
    body["metadata"] = {"name": body["metadata"]["name"], "namespace": namespace, "labels": body["metadata"]["labels"]}
    return body


def render_cluster_role_binding(kubesphere_version: str, username: str, role: str) -> dict[str, Any]:
    """The ClusterRoleBinding KubeSphere's console writes for ``username`` (cluster members page)."""
    return _rbac_binding(kubesphere_version, "ClusterRoleBinding", "ClusterRole", username, role)


# --- Who gets which binding ------------------------------------------------------------------


@dataclass(frozen=True)
class Membership:
    """One binding to declare: ``username`` has ``role`` in the workspace/project ``target`` (or the
    cluster, ``target`` empty), granted by Okta group ``group`` (the first mapped one they are in)."""

    scope: str
    target: str
    role: str
    username: str
    group: str

    def render(self, kubesphere_version: str) -> dict[str, Any]:
        if self.scope == WORKSPACE:
            return render_workspace_role_binding(kubesphere_version, self.username, self.target, self.role)
        if self.scope == PROJECT:
            return render_project_role_binding(kubesphere_version, self.username, self.target, self.role)
        return render_cluster_role_binding(kubesphere_version, self.username, self.role)


#: (group, {workspace or namespace: role}) in the stack's order; for the cluster, (group, role).
ScopedMap = Sequence[tuple[str, Sequence[tuple[str, str]]]]


def plan_memberships(
    users: Iterable[tuple[str, str]],
    members_by_group: Mapping[str, Iterable[str]],
    workspace_role_bindings: ScopedMap = (),
    project_role_bindings: ScopedMap = (),
    cluster_role_bindings: Sequence[tuple[str, str]] = (),
) -> list[Membership]:
    """Every binding to declare, exactly one per user and workspace, project, and for the cluster.

    ``users`` are (username, Okta user id) of the Users this run declares (refused and deactivated
    members are not among them, so they get nothing); ``members_by_group`` maps each group id to
    the Okta user ids in it. The maps hold group ids, in the stack's order: the first entry whose
    group a user is in decides their role in that scope. Time is linear in the group memberships
    plus users times map entries.
    """
    groups_of: dict[str, set[str]] = {}
    mapped = {g for g, _ in workspace_role_bindings} | {g for g, _ in project_role_bindings} | {g for g, _ in cluster_role_bindings}
    for group in mapped:
        for okta_id in members_by_group.get(group, ()):
            groups_of.setdefault(okta_id, set()).add(group)
    entries: list[tuple[str, str, str, str]] = [
        (WORKSPACE, target, role, group) for group, targets in workspace_role_bindings for target, role in targets
    ] + [
        (PROJECT, target, role, group) for group, targets in project_role_bindings for target, role in targets
    ] + [(CLUSTER, "", role, group) for group, role in cluster_role_bindings]
    planned: list[Membership] = []
    for username, okta_id in users:
        groups = groups_of.get(okta_id)
        if not groups:
            continue
        decided: set[tuple[str, str]] = set()
        for scope, target, role, group in entries:
            if group in groups and (scope, target) not in decided:
                decided.add((scope, target))
                planned.append(Membership(scope, target, role, username, group))
    return planned


# --- Mistakes that need no cluster ----------------------------------------------------------


def configuration_problem_entries(
    kubesphere_version: str, memberships_config: Mapping[str, Any]
) -> list[tuple[str, str, tuple[str, ...]]]:
    """Problems of the three maps that only the version decides, as (argument, message, entry): a
    4.1.0-4.1.2 workspace role name longer than 63 characters (its ``role-ref`` label would be
    invalid, and 4.1.2 cannot create such a built-in role at all), and on 4.1 any role name that
    long. ``entry`` is the path of the map entry at fault within the argument (``(group, workspace)``,
    ``(group, namespace)`` or ``(group,)``): removing it removes the problem."""
    problems: list[tuple[str, str, tuple[str, ...]]] = []
    if kubesphere_versions.is_v3(kubesphere_version):
        return problems
    for group, targets in memberships_config.get(WORKSPACE, ()):
        for workspace, role in targets:
            name = role_object_name(kubesphere_version, WORKSPACE, workspace, role)
            if len(name) > LABEL_VALUE_MAX:
                problems.append((ARGUMENTS[WORKSPACE], (
                    f"group {group!r}: workspace role {name!r} is {len(name)} characters; KubeSphere "
                    f"{kubesphere_version} labels a binding with its role name, and a label value holds at most "
                    f"{LABEL_VALUE_MAX} (4.1.3 shortens long built-in workspace-role names: upgrade, or use a "
                    "shorter workspace name)"
                ), (group, workspace)))
    for group, targets in memberships_config.get(PROJECT, ()):
        for namespace, role in targets:
            if len(role) > LABEL_VALUE_MAX:
                problems.append((ARGUMENTS[PROJECT], (
                    f"group {group!r}: role {role!r} in project {namespace!r} is {len(role)} characters; KubeSphere "
                    f"4.1 labels a binding with its role name, and a label value holds at most {LABEL_VALUE_MAX}"
                ), (group, namespace)))
    for group, role in memberships_config.get(CLUSTER, ()):
        if len(role) > LABEL_VALUE_MAX:
            problems.append((ARGUMENTS[CLUSTER], (
                f"group {group!r}: role {role!r} is {len(role)} characters; KubeSphere 4.1 labels a binding "
                f"with its role name, and a label value holds at most {LABEL_VALUE_MAX}"
            ), (group,)))
    return problems


def configuration_problems(kubesphere_version: str, memberships_config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``configuration_problem_entries`` as (argument, message)."""
    return [(argument, message) for argument, message, _entry in configuration_problem_entries(kubesphere_version, memberships_config)]


def role_warnings(memberships_config: Mapping[str, Any]) -> list[str]:
    """A warning for each role that is not built in but looks like a misspelt built-in name.

    A custom role is allowed (its existence is checked against the cluster during preview); a name
    one typo away from a built-in one is almost always a mistake that would grant nothing.
    """
    warnings: list[str] = []
    for scope in (WORKSPACE, PROJECT, CLUSTER):
        pairs = memberships_config.get(scope, ())
        found = (
            [(group, "", role) for group, role in pairs] if scope == CLUSTER
            else [(group, target, role) for group, targets in pairs for target, role in targets]
        )
        built_in = BUILT_IN_ROLES[scope]
        for group, target, role in dict.fromkeys(found):
            if role in built_in:
                continue
            close = difflib.get_close_matches(role, built_in, n=1, cutoff=0.75)
            if close:
                where = f" in {scope} {target!r}" if target else ""
                warnings.append(
                    f"{ARGUMENTS[scope]}: group {group!r} maps to {scope} role {role!r}{where}, which is not built in; "
                    f"did you mean {close[0]!r}? Built-in {scope} roles: {', '.join(built_in)}. A custom role "
                    f"must exist on the cluster (preview checks it). Fix: {fix_command(scope, group, target, close[0])}"
                )
    return warnings


def fix_command(scope: str, group: str, target: str, role: str) -> str:
    """The ``pulumi config set`` that maps ``group`` to ``role`` in ``target`` (empty for the cluster)."""
    key = CONFIG_KEYS[scope]
    path = f'kubesphere-okta:{key}["{group}"]' + (f'["{target}"]' if scope != CLUSTER else "")
    return f"pulumi config set --path '{path}' {role}"


# --- Mistakes only the cluster can show (read during preview by kubesphere_role_check) -------


@dataclass(frozen=True)
class Reference:
    """A workspace/project and role that a map entry needs on the cluster."""

    scope: str
    target: str
    role: str
    """As configured (a short built-in workspace role, or a full name)."""
    role_name: str
    """The role object's name (``role_object_name``)."""
    group: str


def configured_references(kubesphere_version: str, maps: Mapping[str, Any]) -> list[Reference]:
    """Every (workspace or project, role) and cluster role the maps name, whether or not their
    groups have members now: a mistake shows before the first member joins."""
    found: list[Reference] = []
    for scope in (WORKSPACE, PROJECT):
        for group, targets in maps.get(scope, ()):
            for target, role in targets:
                found.append(Reference(scope, target, role, role_object_name(kubesphere_version, scope, target, role), group))
    for group, role in maps.get(CLUSTER, ()):
        found.append(Reference(CLUSTER, "", role, role, group))
    return list(dict.fromkeys(found))


@dataclass
class ClusterView:
    """What exists on the cluster, as far as the references need it.

    ``workspace_roles`` maps a WorkspaceRole's name to its ``kubesphere.io/workspace`` label;
    ``roles`` maps each read namespace to its Roles' names. A namespace missing from ``namespaces``
    does not exist.
    """

    workspaces: set[str]
    workspace_roles: dict[str, str]
    namespaces: set[str]
    roles: dict[str, set[str]]
    cluster_roles: set[str]
    workspace_managers: dict[str, str] = field(default_factory=dict)
    """Workspace -> its ``spec.template.spec.manager`` (for ``controller_objects``)."""
    namespace_creators: dict[str, str] = field(default_factory=dict)
    """Read namespace -> its ``kubesphere.io/creator`` annotation (for ``controller_objects``)."""
    users: list[dict] = field(default_factory=list)
    """Users that may carry our identity (``kubesphere_iam.identity_read``), as returned."""
    cluster_role: Optional[str] = None
    """4.1: ``multicluster.clusterRole`` of ConfigMap kubesphere-system/kubesphere-config, if read."""


def _did_you_mean(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def reference_problems(references: Iterable[Reference], cluster: ClusterView) -> list[str]:
    """One line per reference the cluster cannot satisfy, each ending with the fix; [] when all
    exist. A binding to a missing workspace or role is accepted by the API server and grants nothing."""
    problems: list[str] = []
    for ref in references:
        where = f"{ARGUMENTS[ref.scope]} (config {CONFIG_KEYS[ref.scope]}), group {ref.group!r}"
        remove = (f"pulumi config rm --path 'kubesphere-okta:{CONFIG_KEYS[ref.scope]}[\"{ref.group}\"]"
                  + (f"[\"{ref.target}\"]'" if ref.scope != CLUSTER else "'"))
        if ref.scope == WORKSPACE:
            if ref.target not in cluster.workspaces:
                close = difflib.get_close_matches(ref.target, sorted(cluster.workspaces), n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                fix = (f"{fix_command(WORKSPACE, ref.group, close[0], ref.role)} && {remove}" if close
                       else f"create workspace {ref.target!r} in KubeSphere first, or {remove}")
                problems.append(f"{where}: workspace {ref.target!r} does not exist on this cluster{hint}. Fix: {fix}")
                continue
            owner = cluster.workspace_roles.get(ref.role_name)
            if owner != ref.target:
                in_ws = [n for n, ws in cluster.workspace_roles.items() if ws == ref.target]
                reason = "does not exist" if owner is None else f"belongs to workspace {owner!r}"
                problems.append(
                    f"{where}: WorkspaceRole {ref.role_name!r} for workspace {ref.target!r} {reason}"
                    f"{_did_you_mean(ref.role_name, in_ws)}; roles of {ref.target!r}: {', '.join(sorted(in_ws)) or 'none'}. "
                    f"Fix: {fix_command(WORKSPACE, ref.group, ref.target, 'regular')} (or another of its roles)"
                )
        elif ref.scope == PROJECT:
            if ref.target not in cluster.namespaces:
                problems.append(
                    f"{where}: project (namespace) {ref.target!r} does not exist on this cluster"
                    f"{_did_you_mean(ref.target, cluster.namespaces)}. Fix: create it, or {remove}"
                )
                continue
            roles = cluster.roles.get(ref.target, set())
            if ref.role_name not in roles:
                problems.append(
                    f"{where}: Role {ref.role_name!r} does not exist in project {ref.target!r}"
                    f"{_did_you_mean(ref.role_name, roles)}; its roles: {', '.join(sorted(roles)) or 'none'}. "
                    f"Fix: {fix_command(PROJECT, ref.group, ref.target, 'viewer')} (or another of its roles)"
                )
        elif ref.role_name not in cluster.cluster_roles:
            problems.append(
                f"{where}: cluster role {ref.role_name!r} does not exist{_did_you_mean(ref.role_name, cluster.cluster_roles)}. "
                f"Fix: {fix_command(CLUSTER, ref.group, '', 'cluster-viewer')} (or another ClusterRole)"
            )
    return problems


def read_plan(kubesphere_version: str, references: Iterable[Reference]) -> dict[str, Any]:
    """What to read for ``references``, as (group, version, plural) lists: a few LISTs and one GET
    per named project, whatever the number of members. ``namespaces`` are read with a GET each."""
    v3 = kubesphere_versions.is_v3(kubesphere_version)
    iam = (IAM_GROUP, "v1alpha2" if v3 else "v1beta1")
    rbac = (RBAC_GROUP, "v1") if v3 else iam
    refs = list(references)
    namespaces = sorted({r.target for r in refs if r.scope == PROJECT})
    plan: dict[str, Any] = {"namespaces": namespaces, "roles": {ns: (*rbac, "roles") for ns in namespaces}}
    if any(r.scope == WORKSPACE for r in refs):
        plan["workspaces"] = ("tenant.kubesphere.io", "v1alpha2" if v3 else "v1beta1", "workspacetemplates")
        plan["workspace_roles"] = (*iam, "workspaceroles")
    if any(r.scope == CLUSTER for r in refs):
        plan["cluster_roles"] = (*rbac, "clusterroles")
    if not v3:
        plan["kubesphere_config"] = (KUBESPHERE_NAMESPACE, "kubesphere-config")
    return plan


# --- Objects a KubeSphere controller creates: never declare one of those ----------------------


@dataclass(frozen=True)
class ObjectKey:
    """What identifies an object on the cluster: API group, kind, namespace ("" if cluster-scoped), name."""

    api_group: str
    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, body: Mapping[str, Any]) -> "ObjectKey":
        group = str(body.get("apiVersion", "")).rpartition("/")[0]
        metadata = body.get("metadata") or {}
        return cls(group, str(body.get("kind", "")), str(metadata.get("namespace") or ""), str(metadata.get("name", "")))

    def describe(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name} ({self.api_group})"


@dataclass(frozen=True)
class ControllerObject:
    """An object a KubeSphere controller creates, for whom, and the upstream code that does it."""

    key: ObjectKey
    controller: str
    made_for: str
    source: str


def _source(kubesphere_version: str, path: str) -> str:
    return kubesphere_versions.kubesphere_source(kubesphere_version, path)


def controller_objects(
    kubesphere_version: str,
    *,
    global_roles: Iterable[tuple[str, str]] = (),
    workspace_managers: Mapping[str, str] | None = None,
    namespace_creators: Mapping[str, str] | None = None,
    declared: Iterable[Mapping[str, Any]] = (),
) -> list[ControllerObject]:
    """Every object KubeSphere's controllers create, on ``kubesphere_version``, of the kinds this
    project declares, given what is known:

    * ``global_roles``: (user, global role) of the GlobalRoleBindings; for each ``platform-admin`` the
      globalrolebinding controller creates an RBAC ClusterRoleBinding ``<user>-cluster-admin``
      controlled by (ownerReference to) the GlobalRoleBinding (``assignClusterAdminRole``);
    * ``workspace_managers``: workspace -> its ``spec.template.spec.manager``; the workspacetemplate
      controller writes WorkspaceRoleBinding ``<ws>-admin`` (4.1.3: the hashed built-in name when
      longer than 63) for the manager (``initManagerRoleBinding``);
    * ``namespace_creators``: namespace -> its ``kubesphere.io/creator`` annotation; the namespace
      controller writes RoleBinding ``<creator>-admin`` in it (``initCreatorRoleBinding``; RBAC on
      3.x, ``iam.kubesphere.io`` on 4.1);
    * ``declared``: on 4.1 the rolebinding and clusterrolebinding controllers copy each
      ``iam.kubesphere.io`` RoleBinding/ClusterRoleBinding to an RBAC one named
      ``kubesphere:iam:<name>`` (pkg/utils/rbac/name.go ``RelatedK8sResourceName``).
    """
    v3 = kubesphere_versions.is_v3(kubesphere_version)
    found: list[ControllerObject] = []
    for user, role in global_roles:
        if role == "platform-admin":
            found.append(ControllerObject(
                ObjectKey(RBAC_GROUP, "ClusterRoleBinding", "", f"{user}-cluster-admin"),
                "globalrolebinding controller", f"GlobalRoleBinding {user}-platform-admin",
                _source(kubesphere_version, "pkg/controller/globalrolebinding/globalrolebinding_controller.go"),
            ))
    for workspace, manager in (workspace_managers or {}).items():
        if manager:
            name = built_in_workspace_role_name(kubesphere_version, workspace, "admin")
            found.append(ControllerObject(
                ObjectKey(IAM_GROUP, "WorkspaceRoleBinding", "", name),
                "workspacetemplate controller", f"the manager ({manager}) of workspace {workspace}",
                _source(kubesphere_version, "pkg/controller/workspacetemplate/workspacetemplate_controller.go"),
            ))
    for namespace, creator in (namespace_creators or {}).items():
        if creator:
            found.append(ControllerObject(
                ObjectKey(RBAC_GROUP if v3 else IAM_GROUP, "RoleBinding", namespace, f"{creator}-admin"),
                "namespace controller", f"the creator ({creator}) of project {namespace}",
                _source(kubesphere_version, "pkg/controller/namespace/namespace_controller.go"),
            ))
    if not v3:
        for body in declared:
            key = ObjectKey.of(body)
            if key.api_group == IAM_GROUP and key.kind in ("RoleBinding", "ClusterRoleBinding"):
                found.append(ControllerObject(
                    ObjectKey(RBAC_GROUP, key.kind, key.namespace, f"kubesphere:iam:{key.name}"),
                    f"{key.kind.lower()} controller", key.describe(),
                    _source(kubesphere_version, f"pkg/controller/{key.kind.lower()}/{key.kind.lower()}_controller.go"),
                ))
    return found


@dataclass(frozen=True)
class SkippedObject:
    """A planned object left out because a KubeSphere controller creates and owns it."""

    key: ObjectKey
    user: str
    reason: str

    def as_output(self) -> dict[str, str]:
        return {"kind": self.key.kind, "apiGroup": self.key.api_group, "namespace": self.key.namespace,
                "name": self.key.name, "user": self.user, "reason": self.reason}


def skip_reason(made: ControllerObject) -> str:
    return (f"KubeSphere's {made.controller} creates and owns {made.key.describe()} for {made.made_for} "
            f"({made.source}); declaring it too would give it two owners: KubeSphere deletes it with what it "
            "was made for, and removing it from this stack would delete KubeSphere's own grant. Not declared: "
            "the user holds this role through KubeSphere already")


def objects_to_declare(
    planned: Sequence[Mapping[str, Any]], made_by_controllers: Iterable[ControllerObject]
) -> tuple[list[Mapping[str, Any]], list[SkippedObject]]:
    """``planned`` without the objects a KubeSphere controller creates (same group, kind, namespace
    and name), and those left out, each with its reason. Order is kept."""
    made = {m.key: m for m in made_by_controllers}
    declare: list[Mapping[str, Any]] = []
    skipped: list[SkippedObject] = []
    for body in planned:
        key = ObjectKey.of(body)
        if key in made:
            user = ((body.get("metadata") or {}).get("labels") or {}).get(USER_REFERENCE_LABEL, "")
            skipped.append(SkippedObject(key, user, skip_reason(made[key])))
        else:
            declare.append(body)
    return declare, skipped


def declarable_memberships(
    kubesphere_version: str, memberships: Sequence[Membership], global_roles: Iterable[tuple[str, str]]
) -> tuple[list[Membership], list[SkippedObject]]:
    """The memberships to declare, given each user's global role (known at program time), and those
    left out because KubeSphere's controllers already create that very binding (on 3.x: a
    ``platform-admin``'s ``<user>-cluster-admin``)."""
    bodies = [m.render(kubesphere_version) for m in memberships]
    made = controller_objects(kubesphere_version, global_roles=global_roles, declared=bodies)
    _declared, skipped = objects_to_declare(bodies, made)
    left_out = {s.key for s in skipped}
    return [m for m, body in zip(memberships, bodies) if ObjectKey.of(body) not in left_out], skipped


def planned_keys(kubesphere_version: str, memberships: Iterable[Membership]) -> list[dict[str, str]]:
    """What the preview check needs of each planned binding whose name a controller could also
    write (``controller_objects``: a project binding to ``admin`` is ``<user>-admin``, the creator's
    name; a workspace binding ending ``-admin`` can be workspace ``<user>-<ws>``'s manager binding;
    the hashed ``admin.<hex>`` holds no ``-``, so no ``<user>-<role>`` equals it): its key and the
    map entry behind it. Other bindings cannot collide and are left out, so the input stays small."""
    keys = []
    for m in memberships:
        key = ObjectKey.of(m.render(kubesphere_version))
        if not ((m.scope == PROJECT and m.role == "admin") or (m.scope == WORKSPACE and key.name.endswith("-admin"))):
            continue
        keys.append({"api_group": key.api_group, "kind": key.kind, "namespace": key.namespace, "name": key.name,
                     "group": m.group, "scope": m.scope, "target": m.target, "role": m.role})
    return keys


def controller_collisions(
    kubesphere_version: str, planned: Iterable[Mapping[str, str]], made_by_controllers: Iterable[ControllerObject]
) -> list[str]:
    """Preview: one line per planned binding (``{api_group, kind, namespace, name, group, scope,
    target, role}``) that a controller also creates according to what the cluster shows (workspace
    managers, project creators), with the fix."""
    made = {m.key: m for m in made_by_controllers}
    problems: list[str] = []
    for item in planned:
        key = ObjectKey(item["api_group"], item["kind"], item.get("namespace", ""), item["name"])
        if key not in made:
            continue
        found = made[key]
        scope, target, group = item.get("scope", ""), item.get("target", ""), item.get("group", "")
        if found.controller == "namespace controller":
            resource = "rolebinding" if kubesphere_versions.is_v3(kubesphere_version) else "rolebindings.iam.kubesphere.io"
            fix = (f"{fix_command(PROJECT, group, target, 'operator')} (the creator keeps admin through KubeSphere), "
                   f"or make this stack the only owner: kubectl annotate namespace {target} kubesphere.io/creator- && "
                   f"kubectl -n {target} delete {resource} {key.name}")
        else:
            fix = (f"rename or remove the workspace whose manager binding this is, or "
                   f"{fix_command(scope, group, target, 'viewer') if scope in CONFIG_KEYS else 'remove the mapping'}")
        problems.append(
            f"{ARGUMENTS.get(scope, scope)} (config {CONFIG_KEYS.get(scope, scope)}), group {group!r}: the planned "
            f"{key.describe()} is also created by KubeSphere's {found.controller} for {found.made_for} ({found.source}); "
            f"two owners of one object fight over it, and removing it from this stack would delete KubeSphere's grant. "
            f"Fix: {fix}"
        )
    return problems


#: The creator annotation the namespace controller reads (kubesphere/kubesphere@v3.4.1:pkg/constants/constants.go).
CREATOR_ANNOTATION = "kubesphere.io/creator"


def v4_member_cluster_problem(kubesphere_version: str, cluster_role: Optional[str]) -> Optional[str]:
    """4.1: a member cluster runs neither ks-apiserver nor ks-console (ks-core's templates render them
    only where ``multicluster.role`` is ``host``: kubesphere/kubesphere@v4.1.3:config/ks-core/templates/
    ks-apiserver.yaml and ks-console.yaml), so an identity provider there is read by nobody."""
    if kubesphere_versions.is_v3(kubesphere_version) or cluster_role != "member":
        return None
    return ("ConfigMap kubesphere-system/kubesphere-config has multicluster.clusterRole: member: this is a member "
            "cluster of a multi-cluster KubeSphere 4.1, which runs no ks-apiserver or console of its own (the host "
            "serves every login). Identity providers, Users and role bindings belong on the host cluster: point the "
            "stack's kubeconfig context at the host (this project changed nothing)")
