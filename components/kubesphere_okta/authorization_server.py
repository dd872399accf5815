"""The access policy of an Okta custom authorization server, for this app only (Pulumi wiring).

Assignments and the sign-on policy decide who may sign in to the app; the authorization server's
access policy decides who gets a token from it. Limiting the policy to this app's client and its
one rule to the allowed groups means a user outside them gets no token even if someone assigns
them to the app by mistake.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_okta as okta

from .identity_provider import IdentityProviderSettings


def access_policy(
    name: str,
    settings: IdentityProviderSettings,
    access: dict[str, Any],
    label: pulumi.Input[str],
    client_id: pulumi.Input[str],
    group_ids: pulumi.Input[list[str]],
    parent: pulumi.Resource,
) -> okta.auth.ServerPolicy:
    server_id = access["authorization_server_id"]
    policy = okta.auth.ServerPolicy(
        f"{name}-access-policy",
        auth_server_id=server_id,
        name=pulumi.Output.from_input(label).apply(lambda text: f"{text} access"),
        description=pulumi.Output.from_input(label).apply(
            lambda text: f"Tokens for {text} only: managed by kubesphere-okta, edit in code."
        ),
        client_whitelists=pulumi.Output.from_input(client_id).apply(lambda cid: [cid]),
        # First, so that no broader policy of the same server answers for this client before it.
        priority=1,
        status="ACTIVE",
        opts=pulumi.ResourceOptions(parent=parent),
    )
    okta.auth.ServerPolicyRule(
        f"{name}-access-rule",
        auth_server_id=server_id,
        policy_id=policy.id,
        name="Allowed groups",
        priority=1,
        status="ACTIVE",
        grant_type_whitelists=["authorization_code"],  # the only grant KubeSphere uses (docs/kubesphere-okta-facts.md, "A login")
        group_whitelists=group_ids,
        scope_whitelists=list(settings.scopes),
        opts=pulumi.ResourceOptions(parent=policy),
    )
    return policy
