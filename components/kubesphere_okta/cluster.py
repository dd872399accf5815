"""The one way every KubeSphere object of an integration reaches its cluster (Pulumi wiring only).

``KubeSphereCluster`` is built once per component from the ``kubeconfig``/``kube_context``
arguments (the program fills them from ``kubernetes:kubeconfig``/``kubernetes:context``) and hands
out the ``ResourceOptions`` of every object written with pulumi-kubernetes (``options``):

* an explicit ``kubernetes`` provider, a child of the component, built from those arguments when
  any is given, so the kubeconfig (or its path) and context are pinned in state: ``pulumi destroy``
  deletes through the provider recorded in state, not through whatever kubeconfig is current;
* a dependency on the cluster guard (``<name>-cluster``), a dynamic resource that records the
  cluster's identity on first write and refuses, at preview and up, a cluster with another
  identity before any object is written (``kubesphere_v3.ClusterGuard``);
* after every object is registered, ``seal`` adds a second guard (``<name>-cluster-release``) that
  depends on all of them: ``pulumi destroy`` deletes dependents first, so this guard is deleted
  FIRST and its refusal stops the destroy before any KubeSphere object is deleted.

The 3.x ClusterConfiguration entry gets the same kubeconfig and context (``dynamic_inputs``) and
carries its own binding. Objects added later (workspace/cluster roles) take ``options`` too.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import pulumi

from . import kubesphere_v3
from .identity_provider import V4_NAMESPACE, IdentityProviderSettings, v4_secret_name
from .rules import is_v4


class KubeSphereCluster:
    def __init__(self, name: str, settings: IdentityProviderSettings, access: dict[str, Any], parent: pulumi.Resource,
                 *, writes_kubernetes_objects: bool) -> None:
        self.name = name
        self.parent = parent
        self.kubeconfig = access.get("kubeconfig")
        self.kube_context = access.get("kube_context")
        self.rebind_cluster = access.get("rebind_cluster")
        self.adopt = bool(access.get("adopt_existing_provider"))
        self.provider_name = settings.provider_name
        self.provider: Optional[pulumi.ProviderResource] = None
        self.guard: Optional[kubesphere_v3.ClusterGuard] = None
        self._secret_name = v4_secret_name(settings.provider_name) if is_v4(settings.kubesphere_version) else None
        if not writes_kubernetes_objects:
            return
        if self.kubeconfig is not None or self.kube_context is not None:
            from pulumi_kubernetes.provider import Provider

            self.provider = Provider(
                f"{name}-kubernetes",
                kubeconfig=pulumi.Output.secret(self.kubeconfig) if self.kubeconfig is not None else None,
                context=self.kube_context,
                opts=pulumi.ResourceOptions(parent=parent),
            )
        self.guard = self._guard(f"{name}-cluster", "before", depends_on=[])

    def _guard(self, resource_name: str, role: str, depends_on: Sequence[pulumi.Resource]) -> kubesphere_v3.ClusterGuard:
        return kubesphere_v3.ClusterGuard(
            resource_name,
            role=role,
            provider_name=self.provider_name,
            kubeconfig=self.kubeconfig,
            kube_context=self.kube_context,
            secret_name=self._secret_name if role == "before" else None,
            namespace=V4_NAMESPACE if role == "before" and self._secret_name else None,
            rebind_cluster=self.rebind_cluster,
            opts=pulumi.ResourceOptions(parent=self.parent, depends_on=list(depends_on)),
        )

    def options(self, *, depends_on: Sequence[pulumi.Resource] = (), **extra: Any) -> pulumi.ResourceOptions:
        """The options of one KubeSphere object written with pulumi-kubernetes."""
        after = [self.guard] if self.guard is not None else []
        return pulumi.ResourceOptions(parent=self.parent, provider=self.provider,
                                      depends_on=[*after, *depends_on], **extra)

    def dynamic_inputs(self) -> dict[str, Any]:
        """How the 3.x ClusterConfiguration entry reaches the same cluster."""
        return {"kubeconfig": self.kubeconfig, "kube_context": self.kube_context,
                "rebind_cluster": self.rebind_cluster, "adopt": self.adopt}

    def seal(self, objects: Sequence[pulumi.Resource]) -> Optional[kubesphere_v3.ClusterGuard]:
        """Register the guard that ``pulumi destroy`` deletes before any of ``objects``."""
        if self.guard is None or not objects:
            return None
        return self._guard(f"{self.name}-cluster-release", "after", depends_on=list(objects))


def kubernetes_provider_in(opts: Optional[pulumi.ResourceOptions]) -> bool:
    """True when ``opts`` passes a kubernetes provider (``provider=`` or ``providers=``)."""
    if opts is None:
        return False
    candidates: list[Any] = [opts.provider]
    providers = opts.providers
    if isinstance(providers, dict):
        candidates += list(providers.values())
        if "kubernetes" in providers:
            return True
    elif providers:
        candidates += list(providers)
    return any(getattr(p, "package", None) == "kubernetes" for p in candidates if p is not None)
