"""The Okta half: the OIDC web app, who may use it, and its sign-on policy (Pulumi resources)."""

from __future__ import annotations

from typing import Any, Sequence

import pulumi
import pulumi_okta as okta

from .identity_provider import IdentityProviderSettings, okta_app_settings
from .okta_directory import OktaDirectory
from .okta_resources import OAuthApp, SignonPolicy, SignonPolicyRule


def sign_on_policy(
    name: str, label: str, group_ids: pulumi.Input[list[str]], access: dict[str, Any], parent: pulumi.Resource
) -> SignonPolicy:
    """A policy whose default rule denies, and one rule that allows the allowed groups (docs/kubesphere-okta-facts.md, "Okta")."""
    policy = SignonPolicy(  # registers as okta.AppSignonPolicy does (okta_resources.py)
        f"{name}-signon-policy",
        name=f"{label} sign-on",
        description=f"Who may sign in to {label}: managed by kubesphere-okta, edit in code.",
        catch_all=False,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    SignonPolicyRule(  # registers as okta.AppSignonPolicyRule does (okta_resources.py)
        f"{name}-signon-rule",
        policy_id=policy.id,
        name="Allowed groups",
        access="ALLOW",
        groups_included=group_ids,
        factor_mode="2FA" if access["require_mfa"] else "1FA",
        re_authentication_frequency=access["reauthenticate_every"],
        opts=pulumi.ResourceOptions(parent=policy),
    )
    return policy


def allowed_group_ids(access: dict[str, Any], directory: OktaDirectory) -> list[str]:
    """Ids of the allowed groups: the given ids, then each name (one exact-name lookup, shared)."""
    return directory.group_ids([*access["group_ids"], *access["group_names"]])


def okta_app(
    name: str, settings: IdentityProviderSettings, access: dict[str, Any], group_ids: Sequence[str],
    parent: pulumi.Resource,
) -> tuple[OAuthApp, okta.AppGroupAssignments]:
    """The OIDC web app, its sign-on policy (when enabled) and its one authoritative group assignment."""
    label = access["app_label"] or f"KubeSphere ({name})"
    group_ids = list(group_ids)
    policy = sign_on_policy(name, label, group_ids, access, parent) if access["sign_on_policy"] else None
    app = OAuthApp(  # registers as okta.app.OAuth does, without loading pulumi_okta.app (okta_resources.py)
        f"{name}-app",
        label=label,
        authentication_policy=policy.id if policy else None,
        **okta_app_settings(settings),
        # pulumi-okta itself marks clientSecret as a secret output.
        opts=pulumi.ResourceOptions(parent=parent, protect=access["protect_app"]),
    )
    assignments = okta.AppGroupAssignments(
        f"{name}-groups",
        app_id=app.id,
        groups=[okta.AppGroupAssignmentsGroupArgs(id=gid, profile="{}", priority=i) for i, gid in enumerate(group_ids)],
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return app, assignments
