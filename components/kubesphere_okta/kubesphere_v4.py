"""KubeSphere 4.1: one identity-provider Secret in kubesphere-system (docs/kubesphere-okta-facts.md, "KubeSphere 4.1")."""

from __future__ import annotations

from typing import Any, Optional

import pulumi
from pulumi_kubernetes import _utilities as kubernetes_sdk

from .identity_provider import (
    V4_CONFIGURATION_KEY,
    V4_NAMESPACE,
    V4_SECRET_LABELS,
    V4_SECRET_TYPE,
    IdentityProviderSettings,
    dump_v4_configuration,
    render_v4_configuration,
    v4_secret_name,
)

SECRET_TYPE_TOKEN = "kubernetes:core/v1:Secret"


class Secret(pulumi.CustomResource):
    """A ``kubernetes:core/v1:Secret``, registered exactly as ``pulumi_kubernetes.core.v1.Secret``
    registers it (same type token, camelCase inputs, plugin version, ``data``/``stringData`` secret).

    Not the SDK class itself: importing ``pulumi_kubernetes.core.v1`` builds every core/v1 type
    (about a second, more than pulumi, pulumi_okta and pulumi_kubernetes together) for one Secret.
    """

    def __init__(
        self,
        resource_name: str,
        *,
        metadata: pulumi.Input[dict[str, Any]],
        type: pulumi.Input[str],
        string_data: pulumi.Input[dict[str, pulumi.Input[str]]],
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        opts = pulumi.ResourceOptions.merge(kubernetes_sdk.get_resource_opts_defaults(), opts)
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["data", "stringData"]))
        props = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": metadata,
            "type": type,
            "stringData": pulumi.Output.secret(string_data),
            "data": None,
            "immutable": None,
        }
        super().__init__(SECRET_TYPE_TOKEN, resource_name, props, opts)


def identity_provider_secret(
    name: str,
    settings: IdentityProviderSettings,
    client_id: pulumi.Input[str],
    client_secret: pulumi.Input[str],
    parent: pulumi.Resource,
    cluster: Any = None,
) -> Secret:
    """The identity-provider Secret; ``cluster`` (``cluster.KubeSphereCluster``) supplies its provider and guard."""
    configuration = pulumi.Output.secret(
        pulumi.Output.all(client_id, client_secret).apply(
            lambda pair: dump_v4_configuration(render_v4_configuration(settings, pair[0], pair[1]))
        )
    )
    return Secret(
        f"{name}-identity-provider",
        metadata={
            "name": v4_secret_name(settings.provider_name),
            "namespace": V4_NAMESPACE,
            "labels": dict(V4_SECRET_LABELS),
        },
        type=V4_SECRET_TYPE,
        string_data={V4_CONFIGURATION_KEY: configuration},
        opts=cluster.options() if cluster is not None else pulumi.ResourceOptions(parent=parent),
    )
