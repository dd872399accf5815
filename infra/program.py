"""This repository's Pulumi program: one KubeSphereOktaIntegration per stack, from stack config."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from kubesphere_okta import IdentityProblems, KubeSphereOktaIntegration, rules
from infra.config import NAMESPACE, ConfigError, in_config_terms, load, plaintext_credential_warnings
from kubesphere_okta.args import IntegrationArgsError

COMPONENT_NAME = "kubesphere-okta"

#: How to lift each protection this program sets, by resource type (the offline plan's
#: `--destroy` advice); `pulumi state unprotect <urn>` works for any protected resource.
UNPROTECT_HINTS = {"okta:app/oAuth:OAuth": f"pulumi config set {NAMESPACE}:protectApp false"}


def namespace_config(namespace: str) -> dict[str, Any]:
    """Every config value of one namespace, keys without the prefix.

    pulumi.Config can only get keys it is asked for; reading the whole namespace lets the model
    reject unknown (mistyped) keys instead of silently ignoring them.
    """
    everything = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    prefix = f"{namespace}:"
    return {key[len(prefix):]: value for key, value in everything.items() if key.startswith(prefix)}


def full_config() -> dict[str, Any]:
    """Every config value of the stack, full keys (``namespace:key``)."""
    return {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}


def main() -> KubeSphereOktaIntegration:
    stack = pulumi.get_stack()
    everything = full_config()
    secret_keys = {key for key in everything if runtime_config.is_config_secret(key)}
    try:
        settings, issuer = load(namespace_config(NAMESPACE), stack=stack, okta=namespace_config("okta"),
                                full_config=everything, secret_keys=secret_keys)
    except ConfigError as error:
        # RunError prints the message alone, without a Python traceback; nothing was registered.
        raise pulumi.RunError(str(error)) from None
    for warning in plaintext_credential_warnings(everything, secret_keys, stack):
        pulumi.log.warn(warning)

    args = settings.component_args(stack=stack)
    args["issuer"] = issuer
    # No kubeconfig/kube_context: the component then writes through the stack's default kubernetes
    # provider, as 0.1.0 did (a switch to an explicit provider would replace every User), and its
    # guards and 3.x entry read kubernetes:kubeconfig/kubernetes:context themselves
    # (kubesphere_okta/cluster.py, docs/cluster-binding.md).

    terms = rules.message_terms.set(in_config_terms)  # the component's messages name config keys
    try:
        integration = KubeSphereOktaIntegration(COMPONENT_NAME, args)
    except (IdentityProblems, IntegrationArgsError) as error:  # one message, no traceback, in config terms
        raise pulumi.RunError(rules.in_terms(str(error))) from None
    finally:
        rules.message_terms.reset(terms)
    pulumi.export("clientId", integration.client_id)
    pulumi.export("clientSecret", integration.client_secret)
    pulumi.export("redirectUrl", integration.redirect_url)
    pulumi.export("issuer", integration.issuer)
    pulumi.export("oktaAppId", integration.okta_app_id)
    pulumi.export("identityProvider", integration.identity_provider)
    pulumi.export("skippedMembers", integration.skipped_members)
    return integration
