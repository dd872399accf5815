"""The cluster guard: binds the pulumi-kubernetes objects of one integration to their cluster.

``ClusterGuard`` is a Pulumi dynamic resource that writes nothing to the cluster. It reads the
identity of the cluster its kubeconfig reaches (``cluster_access.Session.identity``: the uid of
the ``kube-system`` Namespace), records it on create, and refuses, in check (preview and up),
update, read and delete, a cluster with another identity (``cluster_binding``). A check that
cannot read the identity marks its inputs unverified (``cluster_check``), so ``pulumi up`` calls
update, which reads it again and refuses unless it is the bound cluster. The component
registers two per integration (``cluster.KubeSphereCluster``): one every KubeSphere object
depends on, and one that depends on all of them, so that ``pulumi destroy`` deletes it first.
See docs/cluster-binding.md.

The provider is stored in the state BY VALUE (``dynamic_registration``): the dynamic-provider
process must unpickle it where ``kubesphere_okta`` cannot be imported.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

import pulumi
import pulumi.dynamic

from . import cluster_binding as binding
from . import cluster_check
from .cluster_access import REQUEST_TIMEOUT_SECONDS, ClusterAccessError, ClusterUnreachable, Session, _changed, _contains_unknown, _plain, _warn
from . import dynamic_registration


class ClusterGuardProvider(pulumi.dynamic.ResourceProvider):
    """The cluster binding for objects written by pulumi-kubernetes (Secret, Users, role bindings).

    A guard writes nothing to the cluster. It records the cluster on create and refuses, in check
    (preview and up), update, read and delete, a cluster with another kube-system uid. The
    component registers two: one every KubeSphere object depends on (checked before any of them
    is written) and one that depends on all of them (so ``pulumi destroy`` deletes it FIRST, and
    its refusal stops the destroy before any object is deleted). With ``secret_name`` set (4.1),
    check also looks for other identity-provider Secrets defining our provider name, which
    KubeSphere's webhook would refuse.
    """

    def _identity(self, props: Mapping[str, Any]) -> tuple[Session, dict]:
        session = Session(props)
        return session, session.identity()

    @staticmethod
    def _what(props: Mapping[str, Any]) -> str:
        return f"the KubeSphere objects of identity provider {props.get('provider_name')!r}"

    def _secret_problems(self, session: Session, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        name, secret, namespace = news.get("provider_name"), news.get("secret_name"), news.get("namespace")
        if not (isinstance(name, str) and isinstance(secret, str) and isinstance(namespace, str)):
            return []
        old_name, old_secret = olds.get("provider_name"), olds.get("secret_name")
        if old_name and old_name != name and old_secret == secret:
            return [binding.rename_in_place_message(old_name, name, secret, namespace)]
        core = client.CoreV1Api(session.client)
        what = f"list the identity-provider Secrets in {namespace}"
        try:
            listed = session.call(what, lambda t: core.list_namespaced_secret(
                namespace, label_selector="config.kubesphere.io/type=identityprovider", _request_timeout=t))
        except ApiException as error:
            _warn(f"{what} failed (HTTP {error.status}): cannot tell whether another Secret already defines "
                  f"provider {name!r}; KubeSphere refuses a second one at `pulumi up`")
            return []
        secrets = [{"metadata": {"name": item.metadata.name}, "type": item.type, "data": dict(item.data or {})}
                   for item in listed.items]
        others = binding.conflicting_secrets(secrets, name, secret)
        return [binding.conflicting_secret_message(name, secret, others, namespace)] if others else []

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        olds_plain, news_plain = _plain(olds or {}), _plain(news)
        if any(_contains_unknown(news_plain.get(k)) for k in ("kubeconfig", "kube_context", "rebind_cluster")):
            return pulumi.dynamic.CheckResult(news, [])
        recorded = olds_plain.get("cluster")
        failures = []
        try:
            session, live = self._identity(news_plain)
        except ClusterAccessError as error:
            # Not read: never a same step (objects depending on the guard would be written
            # unchecked). Marked unverified, diff reports a change and the engine calls update
            # during `pulumi up`, which reads again and refuses (docs/cluster-binding.md).
            if cluster_check.fails_at_check(not olds_plain, isinstance(error, ClusterUnreachable)):
                return pulumi.dynamic.CheckResult(news, [pulumi.dynamic.CheckFailure("kubeconfig", str(error))])
            _warn(cluster_check.preview_warning(self._what(news_plain), str(error)))
            return pulumi.dynamic.CheckResult(cluster_check.unverified_inputs(news, recorded, str(error)), [])
        decision = binding.decide(recorded, live, news_plain.get("rebind_cluster"))
        if decision == "mismatch":
            message = binding.mismatch_message(self._what(news_plain), "update", recorded, live)
            return pulumi.dynamic.CheckResult(news, [pulumi.dynamic.CheckFailure("kubeconfig", message)])
        news = cluster_check.verified_inputs(news, binding.updated(recorded, live) if decision == "same" else live)
        try:
            for problem in self._secret_problems(session, olds_plain, news_plain):
                failures.append(pulumi.dynamic.CheckFailure("provider_name", problem))
        except ClusterAccessError as error:
            _warn(f"{self._what(news_plain)}: {error} (`pulumi up` fails if KubeSphere refuses the Secret)")
        return pulumi.dynamic.CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        olds, news = _plain(olds), _plain(news)
        changed = _changed(olds, news, ("kubeconfig", "kube_context", "provider_name", "secret_name"))
        if cluster_check.unverified(news):
            changed.append(cluster_check.UNVERIFIED)  # update reads the cluster again (see check)
        if binding.binding_changed(olds.get("cluster"), news.get("cluster")):
            changed.append("cluster")
        return pulumi.dynamic.DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def _bind(self, planned: Any, news: Mapping[str, Any], verb: str) -> dict:
        try:
            session, live = self._identity(news)
        except ClusterAccessError as error:
            raise ClusterAccessError(cluster_check.unreadable_message(self._what(news), verb, str(error))) from None
        try:
            binding.check(self._what(news), verb, planned, live, news.get("rebind_cluster"))
        except binding.ClusterMismatch as error:
            raise ClusterAccessError(str(error)) from None
        return live

    def _outs(self, news: Mapping[str, Any], live: dict) -> dict:
        keys = ("kubeconfig", "kube_context", "provider_name", "secret_name", "namespace", "rebind_cluster",
                "request_timeout", "role")
        outs = {k: news.get(k) for k in keys}
        outs["cluster"] = live
        return outs

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        props = _plain(props)
        live = self._bind(props.get("cluster"), props, "write")
        return pulumi.dynamic.CreateResult(live["kube_system_uid"], self._outs(props, live))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        olds, news = _plain(olds), _plain(news)
        live = self._bind(olds.get("cluster"), news, "update")
        return pulumi.dynamic.UpdateResult(self._outs(news, live))

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        props = _plain(props)
        self._bind(props.get("cluster"), {**props, "rebind_cluster": None}, "refresh")
        outs = dict(props)
        outs.pop(pulumi.dynamic.dynamic.PROVIDER_KEY, None)
        return pulumi.dynamic.ReadResult(id_, outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        props = _plain(props)
        self._bind(props.get("cluster"), {**props, "rebind_cluster": None}, "delete")


class ClusterGuard(pulumi.dynamic.Resource):
    """Binds the pulumi-kubernetes objects of one integration to the cluster they were first written to."""

    cluster: pulumi.Output[dict]
    """The cluster recorded on first write: API server URL and kube-system uid."""

    def __init__(
        self,
        name: str,
        *,
        role: str,
        provider_name: str,
        kubeconfig: Optional[pulumi.Input[str]] = None,
        kube_context: Optional[pulumi.Input[str]] = None,
        secret_name: Optional[str] = None,
        namespace: Optional[str] = None,
        rebind_cluster: Optional[str] = None,
        request_timeout: float = REQUEST_TIMEOUT_SECONDS,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        props = {
            "role": role,
            "provider_name": provider_name,
            "kubeconfig": pulumi.Output.secret(kubeconfig) if kubeconfig is not None else None,
            "kube_context": kube_context,
            "secret_name": secret_name,
            "namespace": namespace,
            "rebind_cluster": rebind_cluster,
            "request_timeout": request_timeout,
            "cluster": None,
        }
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["kubeconfig"]))
        dynamic_registration.register_dynamic(self, PROVIDER, name, props, opts)


#: The provider every resource of this module registers, carried by value (``dynamic_registration``).
PROVIDER = dynamic_registration.PortableProvider("cluster_guard", "ClusterGuardProvider")


def portable_guard_provider() -> pulumi.dynamic.ResourceProvider:
    """The cluster guard's provider, carried by value (see the module docstring)."""
    return PROVIDER.instance()
