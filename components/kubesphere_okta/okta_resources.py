"""The Okta app and its sign-on rule, registered exactly as pulumi-okta's own classes register them.

Not the SDK classes ``pulumi_okta.app.OAuth``, ``pulumi_okta.AppSignonPolicy`` and
``pulumi_okta.AppSignonPolicyRule``, for two costs that grow with what a program does:

* importing ``pulumi_okta.app`` loads every app type of the provider (about a fifth of
  ``import pulumi, pulumi_okta, pulumi_kubernetes`` again) for one class;
* an SDK class declares all of its properties on every instance (~95 for an app, ~30 for a rule)
  and the Pulumi SDK makes four futures and an Output for each, resolved one by one: an OAuth app
  cost three times an AppSignonPolicy to register. These classes declare the inputs they are given
  and the outputs the component reads.

The engine sees the same registration: type token, inputs under the provider's (camelCase)
names, the plugin version and download URL of pulumi-okta, and the same additional secret
outputs. ``tests/test_okta_resources.py`` registers each beside its SDK class and compares them;
if pulumi-okta ever registers one differently, it fails.
"""

from __future__ import annotations

from typing import Any, ClassVar, Optional

import pulumi
from pulumi_okta import _utilities as okta_sdk


def provider_name(python_name: str) -> str:
    """``token_endpoint_auth_method`` -> ``tokenEndpointAuthMethod``: pulumi-okta's property names."""
    head, *rest = python_name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class _OktaResource(pulumi.CustomResource):
    """Keyword arguments are the SDK class's (snake_case); ``None`` inputs are not sent, as there."""

    TYPE_TOKEN: ClassVar[str]
    SECRET_OUTPUTS: ClassVar[tuple[str, ...]] = ()
    #: Outputs the component reads besides ``id``, declared as unset inputs as the SDK class does.
    READ_OUTPUTS: ClassVar[tuple[str, ...]] = ()

    def __init__(self, resource_name: str, *, opts: Optional[pulumi.ResourceOptions] = None, **inputs: Any) -> None:
        opts = pulumi.ResourceOptions.merge(okta_sdk.get_resource_opts_defaults(), opts)
        if self.SECRET_OUTPUTS:
            opts = pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(additional_secret_outputs=list(self.SECRET_OUTPUTS)))
        props: dict[str, Any] = dict.fromkeys(self.READ_OUTPUTS)
        props.update((provider_name(name), value) for name, value in inputs.items())
        super().__init__(self.TYPE_TOKEN, resource_name, props, opts)


class OAuthApp(_OktaResource):
    """An ``okta:app/oAuth:OAuth``, as ``pulumi_okta.app.OAuth`` registers it."""

    TYPE_TOKEN = "okta:app/oAuth:OAuth"
    SECRET_OUTPUTS = ("clientBasicSecret", "clientBasicSecretWo", "clientSecret")
    READ_OUTPUTS = ("clientId", "clientSecret", "label")

    @property
    def client_id(self) -> pulumi.Output[str]:
        return self.__dict__["clientId"]

    @property
    def client_secret(self) -> pulumi.Output[str]:
        return self.__dict__["clientSecret"]

    @property
    def label(self) -> pulumi.Output[str]:
        return self.__dict__["label"]


class SignonPolicyRule(_OktaResource):
    """An ``okta:index/appSignonPolicyRule:AppSignonPolicyRule``, as ``pulumi_okta.AppSignonPolicyRule``
    registers it."""

    TYPE_TOKEN = "okta:index/appSignonPolicyRule:AppSignonPolicyRule"


class SignonPolicy(_OktaResource):
    """An ``okta:index/appSignonPolicy:AppSignonPolicy``, as ``pulumi_okta.AppSignonPolicy``
    registers it (the component reads only its ``id``)."""

    TYPE_TOKEN = "okta:index/appSignonPolicy:AppSignonPolicy"
