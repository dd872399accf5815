"""The Okta OIDC app resource, registered exactly as ``pulumi_okta.app.OAuth`` registers it.

Not the SDK class itself, for two costs that grow with what a program does:

* importing ``pulumi_okta.app`` loads every app type of the provider (about a fifth of
  ``import pulumi, pulumi_okta, pulumi_kubernetes`` again) for this one class;
* the SDK class declares all of its ~95 properties on every instance, and the Pulumi SDK makes
  four futures and an Output for each, resolved one by one: an OAuth app cost three times an
  AppSignonPolicy to register. This class declares the inputs it is given and the outputs the
  component reads.

The engine sees the same registration: type token, inputs under the provider's (camelCase)
names, the plugin version and download URL of pulumi-okta, and the same additional secret
outputs. ``tests/test_okta_oauth.py`` registers both and compares them; if pulumi-okta ever
registers an OAuth app differently, it fails.
"""

from __future__ import annotations

from typing import Any, Optional

import pulumi
from pulumi_okta import _utilities as okta_sdk

TYPE_TOKEN = "okta:app/oAuth:OAuth"
#: What pulumi_okta.app.OAuth marks as secret outputs.
SECRET_OUTPUTS = ["clientBasicSecret", "clientBasicSecretWo", "clientSecret"]
#: Outputs the component reads besides ``id``; registered as unset inputs, as the SDK class does.
READ_OUTPUTS = ("clientId", "clientSecret", "label")


def provider_name(python_name: str) -> str:
    """``token_endpoint_auth_method`` -> ``tokenEndpointAuthMethod``: pulumi-okta's property names."""
    head, *rest = python_name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class OAuthApp(pulumi.CustomResource):
    """An ``okta:app/oAuth:OAuth``; keyword arguments are ``pulumi_okta.app.OAuth``'s (snake_case)."""

    def __init__(self, resource_name: str, *, opts: Optional[pulumi.ResourceOptions] = None, **inputs: Any) -> None:
        opts = pulumi.ResourceOptions.merge(okta_sdk.get_resource_opts_defaults(), opts)
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=list(SECRET_OUTPUTS)))
        props: dict[str, Any] = {name: None for name in READ_OUTPUTS}
        props.update((provider_name(name), value) for name, value in inputs.items())
        super().__init__(TYPE_TOKEN, resource_name, props, opts)

    @property
    def client_id(self) -> pulumi.Output[str]:
        return self.__dict__["clientId"]

    @property
    def client_secret(self) -> pulumi.Output[str]:
        return self.__dict__["clientSecret"]

    @property
    def label(self) -> pulumi.Output[str]:
        return self.__dict__["label"]
