"""Preview-time check that every workspace, project and role the maps name exists (dynamic resource).

A WorkspaceRoleBinding or RoleBinding that names a missing workspace, namespace or role is accepted
by the API server (only KubeSphere's own REST API refuses it) and simply grants nothing. So, like the
3.x ClusterConfiguration resource, ``KubeSphereRoleReferences`` reads the cluster in ``check``, which
the engine runs during ``pulumi preview`` as well as ``pulumi up``, and fails with every problem at
once (``kubesphere_roles.reference_problems``, each with its fix). It declares nothing on the
cluster: create/update only record the references, delete does nothing. Every binding the
component declares depends on it, so on ``up`` no binding is written before the check passed.

The reads are a few LISTs (WorkspaceTemplates, WorkspaceRoles, ClusterRoles, and per named project
its Namespace and Roles), never one per member. When the cluster cannot be read during the check (403, no answer, a kubeconfig that cannot be
resolved), the check does not pass silently: it warns, naming the API server, and marks its inputs
unverified (``cluster_check``), so diff reports a change and ``pulumi up`` calls update, which
reads the cluster again and refuses before any binding is written. ``create`` and ``update`` read
it again in any case and refuse what the check would refuse.

The provider is stored in the state BY VALUE, like the 3.x entry's (``dynamic_registration``): the
dynamic-provider process (``python -m pulumi.dynamic``) must unpickle it where ``kubesphere_okta``
may not be importable: after the package moved or was uninstalled (``pulumi destroy`` runs the
provider stored in the state), or in the Python a TypeScript/Go/YAML program's dynamic resources
run in (docs/component-package.md). What the check reads is decided at program time
(``kubesphere_roles.read_plan``, an input), so the provider needs nothing of ``rules``. It holds no
client: each check builds its own from its inputs, with the same kubeconfig rules as the 3.x
resource (``cluster_access``).
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

import pulumi
import pulumi.dynamic

from . import kubesphere_iam, kubesphere_roles
from .kubesphere_roles import ClusterView, Reference
# The engine's wrappers and unknowns, read the way the 3.x entry's provider reads them.
from .cluster_access import ClusterAccessError, Session, _contains_unknown, _plain, _warn
from . import cluster_check
from . import dynamic_registration

class ClusterUnreachable(Exception):
    """The cluster could not be read (see the module docstring: preview warns, up refuses)."""


class RoleReferencesRefused(Exception):
    """``pulumi up`` stops before any binding is written (message is safe to show)."""


def references_from(props: Mapping[str, Any]) -> list[Reference]:
    return [Reference(**r) for r in props.get("references") or []]


class RoleReferencesProvider(pulumi.dynamic.ResourceProvider):
    """Reads the cluster in ``check``; owns nothing on it."""

    @staticmethod
    def _read(session: Session, what: str, call, *args, **query) -> Optional[dict]:
        """One read through the Kubernetes client, all of it within the session's deadlines
        (``cluster_access.Session.call``: a server trickling its answer is cut off); None on 404."""
        from kubernetes.client.exceptions import ApiException

        try:
            return session.call(f"read {what}", lambda timeout: call(*args, _request_timeout=timeout, **query))
        except ApiException as error:
            if error.status == 404:
                return None
            raise ClusterUnreachable(f"{what}: HTTP {error.status}") from None
        except ClusterAccessError as error:  # no answer in time
            raise ClusterUnreachable(str(error)) from None
        except Exception as error:  # connection refused, DNS, TLS
            raise ClusterUnreachable(f"{what}: {type(error).__name__}") from None

    def read_cluster(self, props: Mapping[str, Any]) -> ClusterView:
        try:
            session = Session(props)  # per-request and per-operation deadlines (request_timeout)
        except ClusterAccessError as error:  # no kubeconfig here, or its credential plugin failed
            raise ClusterUnreachable(str(error)) from None
        try:
            return self._read_view(session, props)
        except ClusterUnreachable as error:
            raise ClusterUnreachable(f"the API server at {session.server}: {error}") from None

    def _read_view(self, session, props: Mapping[str, Any]) -> ClusterView:
        from kubernetes import client as k8s

        api = session.client
        custom, core = k8s.CustomObjectsApi(api), k8s.CoreV1Api(api)
        plan = props["read_plan"]

        def listed(spec, namespace: Optional[str] = None) -> list[dict]:
            if spec is None:
                return []
            if namespace is None:
                found = self._read(session, "/".join(spec), custom.list_cluster_custom_object, *spec)
            else:
                group, version, plural = spec
                found = self._read(session, f"{namespace}/{plural}", custom.list_namespaced_custom_object, group, version, namespace, plural)
            return list((found or {}).get("items") or [])

        def name(item: dict) -> str:
            return (item.get("metadata") or {}).get("name", "")

        def to_dict(found: Any) -> dict:
            return found if isinstance(found, dict) or found is None else api.sanitize_for_serialization(found)

        read_namespaces = {ns: to_dict(self._read(session, f"namespace {ns}", core.read_namespace, ns)) for ns in plan["namespaces"]}
        namespaces = {ns for ns, found in read_namespaces.items() if found is not None}
        workspace_templates = listed(plan.get("workspaces"))
        identity = props.get("identity_read")
        users: list[dict] = []
        if identity:
            found = self._read(session, "/".join((identity["group"], identity["version"], identity["plural"])),
                               custom.list_cluster_custom_object, identity["group"], identity["version"], identity["plural"],
                               **({"label_selector": identity["label_selector"]} if identity["label_selector"] else {}))
            users = list((found or {}).get("items") or [])
        cluster_role = None
        if plan.get("kubesphere_config"):
            config_map = to_dict(self._read(session, "configmap kubesphere-config", core.read_namespaced_config_map,
                                            plan["kubesphere_config"][1], plan["kubesphere_config"][0]))
            cluster_role = multicluster_role(config_map)
        return ClusterView(
            workspaces={name(item) for item in workspace_templates},
            workspace_managers={
                name(item): (((item.get("spec") or {}).get("template") or {}).get("spec") or {}).get("manager") or ""
                for item in workspace_templates
            },
            namespace_creators={
                ns: ((found.get("metadata") or {}).get("annotations") or {}).get(kubesphere_roles.CREATOR_ANNOTATION) or ""
                for ns, found in read_namespaces.items() if found is not None
            },
            users=users,
            cluster_role=cluster_role,
            workspace_roles={
                name(item): ((item.get("metadata") or {}).get("labels") or {}).get(kubesphere_roles.WORKSPACE_LABEL, "")
                for item in listed(plan.get("workspace_roles"))
            },
            namespaces=namespaces,
            roles={ns: {name(item) for item in listed(spec, ns)} for ns, spec in plan["roles"].items() if ns in namespaces},
            cluster_roles={name(item) for item in listed(plan.get("cluster_roles"))},
        )

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        props = _plain(news)
        if any(_contains_unknown(props.get(k)) for k in ("kubeconfig", "kube_context", "references", "read_plan")):
            return pulumi.dynamic.CheckResult(news, [])
        try:
            cluster = self.read_cluster(props)
        except ClusterUnreachable as error:
            # Not read: a preview goes on with a warning, but never as a same step (the bindings
            # depending on this check would be written unchecked): marked unverified, diff reports
            # a change and the engine calls update during `pulumi up`, which reads again (cluster_check).
            _warn(cluster_check.preview_warning(self._what(), str(error)))
            return pulumi.dynamic.CheckResult(cluster_check.unverified_inputs(news, None, str(error)), [])
        return pulumi.dynamic.CheckResult(cluster_check.cleared(news), cluster_problems(props, cluster))

    @staticmethod
    def _what() -> str:
        return "the workspaces, projects and roles the role bindings name"

    def _verify(self, props: Mapping[str, Any]) -> dict:
        """Read the cluster again before any binding is written: refuse when it cannot be read or a
        reference is missing. The outputs: the inputs, without the engine's keys or the marker."""
        props = _plain(props)
        try:
            cluster = self.read_cluster(props)
        except ClusterUnreachable as error:
            raise RoleReferencesRefused(
                f"refusing to write the role bindings: {self._what()} could not be read ({error}), so a binding "
                "that would grant nothing cannot be told apart. Nothing was written. The kubeconfig's user needs "
                "get and list on them (workspacetemplates, workspaceroles, roles, clusterroles and the namespaces).") from None
        problems = cluster_problems(props, cluster)
        if problems:
            raise RoleReferencesRefused("refusing to write the role bindings. Nothing was written. "
                                        + " ".join(f"{p.property}: {p.reason}" for p in problems))
        return {k: v for k, v in cluster_check.cleared(props).items() if not k.startswith("__")}

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        keys = ("references", "kubesphere_version", "kube_context")
        olds, news = _plain(olds), _plain(news)
        return pulumi.dynamic.DiffResult(
            changes=cluster_check.unverified(news) or any(olds.get(k) != news.get(k) for k in keys))

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        return pulumi.dynamic.CreateResult("role-references", self._verify(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        return pulumi.dynamic.UpdateResult(self._verify(news))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


def multicluster_role(config_map: Optional[dict]) -> Optional[str]:
    """``multicluster.clusterRole`` of kubesphere-config's ``kubesphere.yaml`` (None when unread or unset)."""
    import yaml

    text = ((config_map or {}).get("data") or {}).get("kubesphere.yaml")
    try:
        document = yaml.safe_load(text) if isinstance(text, str) else None
    except yaml.YAMLError:
        return None
    role = ((document or {}).get("multicluster") or {}).get("clusterRole") if isinstance(document, dict) else None
    return role if isinstance(role, str) else None


def cluster_problems(props: Mapping[str, Any], cluster: ClusterView) -> list[pulumi.dynamic.CheckFailure]:
    """Every problem the read cluster shows: missing roles and workspaces, bindings a KubeSphere
    controller also creates, a second User with a planned identity, a 4.1 member cluster."""
    version = props["kubesphere_version"]
    failures = [pulumi.dynamic.CheckFailure("references", p)
                for p in kubesphere_roles.reference_problems(references_from(props), cluster)]
    made = kubesphere_roles.controller_objects(version, workspace_managers=cluster.workspace_managers,
                                               namespace_creators=cluster.namespace_creators)
    failures += [pulumi.dynamic.CheckFailure("planned", p)
                 for p in kubesphere_roles.controller_collisions(version, props.get("planned") or [], made)]
    identities = props.get("identities") or {}
    users = identities.get("users") or {}
    # {username: Okta id}; a state written before 0.3.0 holds [[username, Okta id], ...].
    planned = list(users.items()) if isinstance(users, Mapping) else [tuple(u) for u in users]
    failures += [pulumi.dynamic.CheckFailure("identities", p) for p in kubesphere_iam.duplicate_identity_problems(
        version, identities.get("provider_name", ""), planned, cluster.users)]
    member = kubesphere_roles.v4_member_cluster_problem(version, cluster.cluster_role)
    if member:
        failures.append(pulumi.dynamic.CheckFailure("kubeconfig", member))
    return failures


class KubeSphereRoleReferences(pulumi.dynamic.Resource):
    """Fails preview when a mapped workspace, project or role does not exist (declares nothing)."""

    references: pulumi.Output[list]
    """The checked references: scope, target (workspace or namespace), role, role object name, group."""

    def __init__(
        self,
        name: str,
        *,
        kubesphere_version: str,
        references: Sequence[Reference],
        kubeconfig: Optional[pulumi.Input[str]] = None,
        kube_context: Optional[pulumi.Input[str]] = None,
        planned: Sequence[Mapping[str, str]] = (),
        provider_name: str = "",
        users: Sequence[tuple[str, str]] = (),
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        props = {
            "kubesphere_version": kubesphere_version,
            "references": [vars(r) for r in references],
            "read_plan": kubesphere_roles.read_plan(kubesphere_version, references),
            "planned": [dict(p) for p in planned],
            # Keyed by username, like the membership resources' inputs: a preview shows who joined or left.
            "identities": {"provider_name": provider_name, "users": dict(users)},
            "identity_read": kubesphere_iam.identity_read(kubesphere_version, provider_name) if users else None,
            "kubeconfig": pulumi.Output.secret(kubeconfig) if kubeconfig is not None else None,
            "kube_context": kube_context,
        }
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["kubeconfig"]))
        dynamic_registration.register_dynamic(self, PROVIDER, name, props, opts)


#: The provider every resource of this module registers, carried by value (``dynamic_registration``).
PROVIDER = dynamic_registration.PortableProvider("kubesphere_role_check", "RoleReferencesProvider")


def portable_provider() -> pulumi.dynamic.ResourceProvider:
    """The role check's provider, carried by value (see the module docstring)."""
    return PROVIDER.instance()
