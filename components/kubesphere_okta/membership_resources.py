"""KubeSphere Users and role bindings of Okta group members: a few dynamic resources keyed by user.

``KubeSphereUsers`` (one per integration) writes every User the component derives from Okta group
members; ``KubeSphereRoleBindings`` (one per scope with members: global, workspace, project,
cluster) writes their bindings. Their inputs are maps keyed by KubeSphere username, so a preview
names who gains and who loses what, and the number of Pulumi resources does not grow with the
members (docs/usernames-and-roles.md, "Membership resources"; docs/performance.md).

Every decision is ``membership_model``'s; the providers here only do the requests:

* check, create, update, read and delete first read the cluster's identity
  (``cluster_access.Session.identity``) and refuse another cluster than the recorded one;
* create and update LIST the objects of the kind, ``membership_model.plan`` them against what is
  declared, refuse everything when a declared name is held by an object that is not ours, then
  server-side apply (field manager ``kubesphere-okta``) what differs and delete what is ours and no
  longer declared (Users only with ``prune_users``). They plan from the live objects, never from
  the state, so a run that stopped part-way is finished by the next one;
* read (refresh) reports the members as found; delete (destroy) deletes our bindings, and our
  Users only with ``prune_users``.

The providers are stored in the state by value (``dynamic_registration``).
"""

from __future__ import annotations

import json
import time
from typing import Any, Mapping, Optional

import pulumi
import pulumi.dynamic

from . import cluster_binding as binding
from . import cluster_check
from . import membership_model as model
from .cluster_access import OPERATION_TIMEOUT_REQUESTS, REQUEST_TIMEOUT_SECONDS, ClusterAccessError, ClusterUnreachable, Session, _changed, _contains_unknown, _plain, _warn, api_error
from . import dynamic_registration

#: Kind -> plural, for every kind these resources write.
PLURALS = {"User": "users", "GlobalRoleBinding": "globalrolebindings", "WorkspaceRoleBinding": "workspacerolebindings",
           "RoleBinding": "rolebindings", "ClusterRoleBinding": "clusterrolebindings"}
#: Objects per LIST page.
LIST_LIMIT = 500
_CONNECTION = ("kubeconfig", "kube_context", "rebind_cluster", "request_timeout")


def collection_path(api_version: str, kind: str, namespace: Optional[str] = None) -> str:
    root = "/api/v1" if "/" not in api_version else f"/apis/{api_version}"
    where = f"/namespaces/{namespace}" if namespace else ""
    return f"{root}{where}/{PLURALS[kind]}"


def object_path(body: Mapping[str, Any]) -> str:
    metadata = body["metadata"]
    return f"{collection_path(body['apiVersion'], body['kind'], metadata.get('namespace'))}/{metadata['name']}"


class _Cluster:
    """The requests of one operation, each under ``Session``'s deadlines."""

    def __init__(self, session: Session):
        self.session = session

    def _request(self, what: str, method: str, path: str, *, query: Optional[list] = None, body: Any = None,
                 content_type: Optional[str] = None) -> Any:
        from kubernetes.client.exceptions import ApiException

        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        api = self.session.client
        serialized = json.dumps(body) if body is not None else None  # JSON is YAML: apply takes it as is

        def send(timeout: float) -> Any:
            method_, url, sent_headers, sent_body, _ = api.param_serialize(
                method, path, query_params=query or [], header_params=headers, body=serialized, auth_settings=["BearerToken"])
            response = api.call_api(method_, url, header_params=sent_headers, body=sent_body, _request_timeout=timeout)
            data = response.read()
            if not 200 <= response.status < 300:
                raise ApiException(status=response.status, reason=response.reason, body=data.decode("utf-8", "replace"))
            return json.loads(data) if data else None

        try:
            return self.session.call(what, send)
        except ApiException as error:
            if method == "DELETE" and error.status == 404:
                return None  # already gone: what we wanted
            raise api_error(what, error, self.session.secrets) from None
        except ClusterAccessError:
            raise
        except Exception as error:
            raise self.session.unreachable(what, error) from None

    def list(self, template: Mapping[str, Any], label_selector: Optional[str]) -> dict[str, dict]:
        """Every object of the template's kind (all namespaces), keyed by ``membership_model.object_key``."""
        path = collection_path(template["apiVersion"], template["kind"])
        found: dict[str, dict] = {}
        token = None
        while True:
            query = [("limit", LIST_LIMIT)] + ([("labelSelector", label_selector)] if label_selector else [])
            query += [("continue", token)] if token else []
            page = self._request(f"list {template['kind']}s", "GET", path, query=query) or {}
            for item in page.get("items") or []:
                found[model.object_key(item)] = item
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return found

    def apply(self, write: model.Write) -> None:
        query = [("fieldManager", model.FIELD_MANAGER)] + ([("force", "true")] if write.force else [])
        self._request(f"apply {write.body['kind']} {write.key}", "PATCH", object_path(write.body), query=query,
                      body=write.body, content_type="application/apply-patch+yaml")

    def delete(self, body: Mapping[str, Any]) -> None:
        self._request(f"delete {body['kind']} {model.object_key(body)}", "DELETE", object_path(body))


class MembershipProvider(pulumi.dynamic.ResourceProvider):
    """The provider of both keyed resources (one class, so a program pickles one provider): the
    inputs hold ``users`` (``KubeSphereUsers``) or ``bindings`` (``KubeSphereRoleBindings``)."""

    members_key = "users"

    @staticmethod
    def _for(props: Mapping[str, Any]) -> "MembershipProvider":
        """A provider reading the map ``props`` hold. A new one per operation: the dynamic-provider
        process shares one instance between resources whose operations run concurrently."""
        provider = MembershipProvider()
        provider.members_key = "users" if "users" in _plain(props) else "bindings"
        return provider

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        return self._for(news)._check(olds, news)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        return self._for(news)._diff(id_, olds, news)

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        return self._for(props)._create(props)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        return self._for(news)._update(id_, olds, news)

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        return self._for(props)._read(id_, props)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self._for(props)._delete(id_, props)

    # --- what the inputs declare --------------------------------------------------------------

    def _declared(self, props: Mapping[str, Any]) -> dict[str, dict]:
        if self.members_key == "users":
            return model.declared_users(props["template"], props.get("users") or {})
        return model.declared_bindings(props["template"], props.get("bindings") or {})

    def _prune(self, props: Mapping[str, Any]) -> bool:
        return bool(props.get("prune_users")) if self.members_key == "users" else True

    def _kind(self, props: Mapping[str, Any]) -> str:
        return str(props["template"]["kind"])

    def _what(self, props: Mapping[str, Any]) -> str:
        return f"the {self._kind(props)}s of identity provider {props.get('provider_name')!r}"

    def _selector(self) -> Optional[str]:
        return model.selector(model.USERS if self.members_key == "users" else model.GLOBAL)

    # --- the operations -----------------------------------------------------------------------

    def _bound(self, props: Mapping[str, Any], recorded: Any, verb: str) -> tuple[_Cluster, dict]:
        try:
            session = Session(props)
            live = session.identity()
        except ClusterAccessError as error:
            raise ClusterAccessError(cluster_check.unreadable_message(self._what(props), verb, str(error))) from None
        try:
            binding.check(self._what(props), verb, recorded, live, props.get("rebind_cluster"))
        except binding.ClusterMismatch as error:
            raise ClusterAccessError(str(error)) from None
        return _Cluster(session), live

    def _check(self, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        olds_plain, news_plain = _plain(olds or {}), _plain(news)
        if any(_contains_unknown(news_plain.get(k)) for k in (*_CONNECTION, "template", self.members_key)):
            return pulumi.dynamic.CheckResult(news, [])
        recorded = olds_plain.get("cluster")
        failures: list = []
        try:
            session = Session(news_plain)
            live_identity = session.identity()
            decision = binding.decide(recorded, live_identity, news_plain.get("rebind_cluster"))
            if decision == "mismatch":
                message = binding.mismatch_message(self._what(news_plain), "update", recorded, live_identity)
                return pulumi.dynamic.CheckResult(news, [pulumi.dynamic.CheckFailure("kubeconfig", message)])
            news = dict(news)
            news["cluster"] = binding.updated(recorded, live_identity) if decision == "same" else live_identity
            live = _Cluster(session).list(news_plain["template"], self._selector())
            result = model.plan(self._declared(news_plain), live, news_plain["provider_name"],
                                prune=self._prune(news_plain), adopt=bool(news_plain.get("adopt")))
            if result.conflicts:
                message = model.conflict_message(self._kind(news_plain), result.conflicts, news_plain["provider_name"])
                failures.append(pulumi.dynamic.CheckFailure(self.members_key, message))
        except ClusterAccessError as error:
            # Not read: never a same step (a state without the binding, or a write the check did not
            # see). Marked unverified, diff reports a change and `pulumi up` calls update, which
            # reads the identity again and refuses unless it is the bound cluster (cluster_check).
            if cluster_check.fails_at_check(not olds_plain, isinstance(error, ClusterUnreachable)):
                return pulumi.dynamic.CheckResult(news, [pulumi.dynamic.CheckFailure("kubeconfig", str(error))])
            _warn(cluster_check.preview_warning(self._what(news_plain), str(error)))
            return pulumi.dynamic.CheckResult(cluster_check.unverified_inputs(news, recorded, str(error)), [])
        return pulumi.dynamic.CheckResult(news, failures)

    def _diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        olds, news = _plain(olds), _plain(news)
        keys = (self.members_key, "template", "prune_users", "adopt", "provider_name", "kubeconfig", "kube_context")
        changed = _changed(olds, news, keys)
        if cluster_check.unverified(news):
            changed.append(cluster_check.UNVERIFIED)  # update reads the cluster again (see _check)
        if binding.binding_changed(olds.get("cluster"), news.get("cluster")):
            changed.append("cluster")
        # Never a replacement: replacing would delete every member's objects.
        return pulumi.dynamic.DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def _sync(self, props: Mapping[str, Any], recorded: Any, verb: str, *, declared: Optional[dict] = None,
              rewrite: bool = False) -> tuple[dict, model.Plan]:
        """Make the cluster hold what ``props`` declares (or ``declared``), and nothing else of ours."""
        cluster, live_identity = self._bound(props, recorded, verb)
        live = cluster.list(props["template"], self._selector())
        wanted = self._declared(props) if declared is None else declared
        result = model.plan(wanted, live, props["provider_name"], prune=self._prune(props), adopt=bool(props.get("adopt")),
                            rewrite=rewrite)
        kind = self._kind(props)
        if result.conflicts:
            raise ClusterAccessError(model.conflict_message(kind, result.conflicts, props["provider_name"]))
        steps = [("apply", w.key, w) for w in result.apply] + [("delete", key, live[key]) for key in result.delete]
        # Each request keeps its own deadline; the operation may take one per request it has to make.
        session = cluster.session
        session.deadline = time.monotonic() + session.timeout * (OPERATION_TIMEOUT_REQUESTS + len(steps))
        done: list[str] = []
        for index, (action, key, item) in enumerate(steps):
            try:
                cluster.apply(item) if action == "apply" else cluster.delete(item)
            except ClusterAccessError as error:
                left = [f"{a} {k}" for a, k, _ in steps[index + 1:]]
                raise type(error)(model.progress_message(f"{kind}s of {props['provider_name']!r}", done,
                                                         f"{action} {key}", str(error), left)) from None
            done.append(f"{action} {key}")
        return (binding.updated(recorded, live_identity) if binding.is_identity(recorded) else live_identity), result

    def _outs(self, props: Mapping[str, Any], identity: dict, result: model.Plan) -> dict:
        outs = {k: v for k, v in cluster_check.cleared(props).items() if k != pulumi.dynamic.dynamic.PROVIDER_KEY}
        outs["cluster"] = identity
        outs["kept"] = list(result.kept)
        return outs

    def _create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        props = _plain(props)
        identity, result = self._sync(props, props.get("cluster"), "write")
        return pulumi.dynamic.CreateResult(f"{props['provider_name']}/{self._kind(props)}", self._outs(props, identity, result))

    def _update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        olds, news = _plain(olds), _plain(news)
        # A new template (another release's labels or shape): apply every object, so fields we no longer declare go.
        identity, result = self._sync(news, olds.get("cluster"), "update", rewrite=olds.get("template") != news.get("template"))
        return pulumi.dynamic.UpdateResult(self._outs(news, identity, result))

    def _read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        props = _plain(props)
        cluster, _live = self._bound({**props, "rebind_cluster": None}, props.get("cluster"), "refresh")
        live = cluster.list(props["template"], self._selector())
        ours = {k: v for k, v in live.items() if model.owner(v, props["provider_name"]) == model.OURS}
        outs = {k: v for k, v in props.items() if k != pulumi.dynamic.dynamic.PROVIDER_KEY}
        outs[self.members_key] = model.read_back(props["template"], props.get(self.members_key) or {}, ours,
                                                 bindings=self.members_key == "bindings")
        return pulumi.dynamic.ReadResult(id_, outs)

    def _delete(self, _id: str, props: dict[str, Any]) -> None:
        props = _plain(props)
        self._sync({**props, "rebind_cluster": None}, props.get("cluster"), "delete", declared={})


def _connection(kubeconfig: Any, kube_context: Any, rebind_cluster: Any, adopt: bool, request_timeout: float) -> dict:
    return {"kubeconfig": pulumi.Output.secret(kubeconfig) if kubeconfig is not None else None,
            "kube_context": kube_context, "rebind_cluster": rebind_cluster, "adopt": adopt,
            "request_timeout": request_timeout, "cluster": None, "kept": None}


class KubeSphereUsers(pulumi.dynamic.Resource, module="kubesphere-okta", name="KubeSphereUsers"):
    """Every KubeSphere User the integration derives from Okta group members, keyed by username."""

    users: pulumi.Output[dict]
    """Username -> the User's fields we own (``email``, ``oktaId``), as last written or read back."""

    kept: pulumi.Output[list]
    """Users that are ours and no longer declared, kept because ``prune_users`` is off."""

    cluster: pulumi.Output[dict]
    """The cluster the Users were written to: API server URL and kube-system uid."""

    def __init__(self, name: str, *, provider_name: str, template: dict, users: dict, prune_users: bool,
                 kubeconfig: Optional[pulumi.Input[str]] = None, kube_context: Optional[str] = None,
                 rebind_cluster: Optional[str] = None, adopt: bool = False,
                 request_timeout: float = REQUEST_TIMEOUT_SECONDS, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        props = {"provider_name": provider_name, "template": template, "users": users, "prune_users": prune_users,
                 **_connection(kubeconfig, kube_context, rebind_cluster, adopt, request_timeout)}
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["kubeconfig"]))
        dynamic_registration.register_dynamic(self, PROVIDER, name, props, opts)


class KubeSphereRoleBindings(pulumi.dynamic.Resource, module="kubesphere-okta", name="KubeSphereRoleBindings"):
    """The role bindings of one scope (``global``, ``workspace``, ``project``, ``cluster``), keyed by username."""

    bindings: pulumi.Output[dict]
    """Username -> binding object name -> ``{role, target}``, as last written or read back."""

    cluster: pulumi.Output[dict]
    """The cluster the bindings were written to: API server URL and kube-system uid."""

    def __init__(self, name: str, *, provider_name: str, scope: str, template: dict, bindings: dict,
                 kubeconfig: Optional[pulumi.Input[str]] = None, kube_context: Optional[str] = None,
                 rebind_cluster: Optional[str] = None, adopt: bool = False,
                 request_timeout: float = REQUEST_TIMEOUT_SECONDS, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        props = {"provider_name": provider_name, "scope": scope, "template": template, "bindings": bindings,
                 **_connection(kubeconfig, kube_context, rebind_cluster, adopt, request_timeout)}
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["kubeconfig"]))
        dynamic_registration.register_dynamic(self, PROVIDER, name, props, opts)


#: The provider every resource of this module registers, carried by value (``dynamic_registration``).
PROVIDER = dynamic_registration.PortableProvider("membership_resources", "MembershipProvider")


def portable_provider() -> pulumi.dynamic.ResourceProvider:
    """A provider the dynamic-provider process unpickles without this package (``dynamic_registration``)."""
    return PROVIDER.instance()
