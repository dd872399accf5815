"""KubeSphere 4.1: one identity-provider Secret in kubesphere-system (facts, section 4)."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

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


def identity_provider_secret(
    name: str,
    settings: IdentityProviderSettings,
    client_id: pulumi.Input[str],
    client_secret: pulumi.Input[str],
    parent: pulumi.Resource,
) -> k8s.core.v1.Secret:
    configuration = pulumi.Output.secret(
        pulumi.Output.all(client_id, client_secret).apply(
            lambda pair: dump_v4_configuration(render_v4_configuration(settings, pair[0], pair[1]))
        )
    )
    return k8s.core.v1.Secret(
        f"{name}-identity-provider",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=v4_secret_name(settings.provider_name),
            namespace=V4_NAMESPACE,
            labels=dict(V4_SECRET_LABELS),
        ),
        type=V4_SECRET_TYPE,
        string_data={V4_CONFIGURATION_KEY: configuration},
        opts=pulumi.ResourceOptions(parent=parent),
    )
