"""The one way every KubeSphere object of an integration reaches its cluster (Pulumi wiring only).

``KubeSphereCluster`` is built once per component and hands out the ``ResourceOptions`` of every
object written with pulumi-kubernetes (``options``). Which provider writes them depends on the
``kubeconfig``/``kube_context`` arguments:

* **neither given** (this repository's program, and 0.1.0's way): the stack's DEFAULT
  ``kubernetes`` provider, exactly as release 0.1.0 wrote the 4.1 Secret, Users and
  GlobalRoleBindings. The engine replaces a resource whose provider changes between a default and
  an explicit one (pulumi/pulumi pkg/resource/deploy/step_generator.go, ``providerChanged``), and
  replacing a KubeSphere User deletes every membership granted to it, so these stacks must stay on
  the default provider. The guards, the 3.x entry and the role check then reach the cluster the
  default provider reaches: ``kubernetes:kubeconfig`` and ``kubernetes:context`` of the stack's
  config, read here (``default_provider_access``), falling back, like the provider, to
  ``KUBECONFIG`` or ``~/.kube/config`` and its current context;
* **either given**: an explicit ``kubernetes`` provider ``<name>-kubernetes``, a child of the
  component, built from them, so the kubeconfig (or its path) and context are pinned in state.

Either way:

* every object depends on the cluster guard (``<name>-cluster``), a dynamic resource that records
  the cluster's identity on first write and refuses, at preview and up, a cluster with another
  identity before any object is written (``cluster_guard.ClusterGuard``);
* after every object is registered, ``seal`` adds a second guard (``<name>-cluster-release``) that
  depends on all of them: ``pulumi destroy`` deletes dependents first, so this guard is deleted
  FIRST and its refusal stops the destroy before any KubeSphere object is deleted.

The 3.x ClusterConfiguration entry and the role check get the same kubeconfig and context
(``dynamic_inputs``). Objects added later (workspace/cluster roles) take ``options`` too.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import pulumi

from . import cluster_binding
from .cluster_guard import ClusterGuard
from .identity_provider import V4_NAMESPACE, IdentityProviderSettings, v4_secret_name
from .rules import in_terms, is_v4


class KubeSphereCluster:
    def __init__(self, name: str, settings: IdentityProviderSettings, access: dict[str, Any], parent: pulumi.Resource,
                 *, writes_kubernetes_objects: bool) -> None:
        self.name = name
        self.parent = parent
        self.explicit = access.get("kubeconfig") is not None or access.get("kube_context") is not None
        #: How the dynamic resources reach the cluster: the arguments, or the default provider's config.
        self.kubeconfig, self.kube_context = (
            (access.get("kubeconfig"), access.get("kube_context")) if self.explicit else default_provider_access()
        )
        self.rebind_cluster = access.get("rebind_cluster")
        self.adopt = bool(access.get("adopt_existing_provider"))
        self.provider_name = settings.provider_name
        self.provider: Optional[pulumi.ProviderResource] = None
        self.guard: Optional[ClusterGuard] = None
        self._secret_name = v4_secret_name(settings.provider_name) if is_v4(settings.kubesphere_version) else None
        for warning in cluster_binding.default_provider_warnings(
            explicit=self.explicit, cluster_override=pulumi.Config("kubernetes").get("cluster")
        ):
            pulumi.log.warn(in_terms(warning), resource=parent)
        if not writes_kubernetes_objects:
            return
        if self.explicit:
            from pulumi_kubernetes.provider import Provider

            self.provider = Provider(
                f"{name}-kubernetes",
                kubeconfig=pulumi.Output.secret(self.kubeconfig) if self.kubeconfig is not None else None,
                context=self.kube_context,
                opts=pulumi.ResourceOptions(parent=parent),
            )
        self.guard = self._guard(f"{name}-cluster", "before", depends_on=[])

    def _guard(self, resource_name: str, role: str, depends_on: Sequence[pulumi.Resource]) -> ClusterGuard:
        return ClusterGuard(
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

    def seal(self, objects: Sequence[pulumi.Resource]) -> Optional[ClusterGuard]:
        """Register the guard that ``pulumi destroy`` deletes before any of ``objects``."""
        if self.guard is None or not objects:
            return None
        return self._guard(f"{self.name}-cluster-release", "after", depends_on=list(objects))


def default_provider_access() -> tuple[Optional[pulumi.Output[str]], Optional[str]]:
    """The kubeconfig and context the stack's default ``kubernetes`` provider is configured with.

    The engine configures the default provider from the ``kubernetes:*`` stack config; its
    ``Configure`` uses ``kubernetes:kubeconfig`` (contents or path) when set, else client-go's
    default loading rules (``KUBECONFIG``, else ``~/.kube/config``), with ``kubernetes:context``
    overriding the current context (pulumi/pulumi-kubernetes provider/pkg/provider/provider.go,
    ``Configure``). ``cluster_access.api_client`` falls back the same way when given None, so the
    values are passed on as they are. The kubeconfig stays a secret Output (it may hold credentials).
    """
    config = pulumi.Config("kubernetes")
    kubeconfig = config.get_secret("kubeconfig")  # a secret Output, whether or not it was set --secret
    return kubeconfig, config.get("context") or None


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
