"""The Okta app and sign-on rule register exactly as pulumi-okta's own classes would.

okta_resources stands in for pulumi_okta.app.OAuth and pulumi_okta.AppSignonPolicyRule only to
avoid loading pulumi_okta.app and declaring every property per instance (see its docstring); if
the SDK ever registers one differently, this fails.
"""

from __future__ import annotations

import subprocess
import sys

import pulumi
import pytest

from kubesphere_okta import okta_resources
from kubesphere_okta.identity_provider import IdentityProviderSettings, okta_app_settings
from tests.pulumi_harness import run


@pytest.mark.parametrize("username_format", ["okta-login", "dns-safe"])
def test_registers_like_the_sdk_oauth_class(username_format):
    import pulumi_okta as okta

    settings = IdentityProviderSettings(console_url="https://console.example.com", issuer="https://example.okta.com",
                                        kubesphere_version="4.1", username_format=username_format)
    inputs = dict(label="KubeSphere (dev)", authentication_policy="rst1abc", **okta_app_settings(settings))
    opts = pulumi.ResourceOptions(protect=True)
    ours = run(lambda: okta_resources.OAuthApp("app", opts=opts, **inputs)).resources[0]
    sdk = run(lambda: okta.app.OAuth("app", opts=opts, **inputs)).resources[0]
    assert (ours.type, ours.name, ours.inputs, ours.secret_inputs, ours.protect, ours.dependencies) == (
        sdk.type, sdk.name, sdk.inputs, sdk.secret_inputs, sdk.protect, sdk.dependencies)
    assert sorted(ours.additional_secret_outputs) == sorted(sdk.additional_secret_outputs)
    assert ours.provider_version == sdk.provider_version != ""


@pytest.mark.parametrize("reauthenticate_every, groups", [(None, ["00g1abcdefghijklmnop"]), ("PT12H", ["00ga", "00gb"])])
def test_rule_registers_like_the_sdk_class(reauthenticate_every, groups):
    import pulumi_okta as okta

    inputs = dict(policy_id="rst1abc", name="Allowed groups", access="ALLOW", groups_included=groups,
                  factor_mode="2FA", re_authentication_frequency=reauthenticate_every)
    ours = run(lambda: okta_resources.SignonPolicyRule("rule", **inputs)).resources[0]
    sdk = run(lambda: okta.AppSignonPolicyRule("rule", **inputs)).resources[0]
    assert (ours.type, ours.name, ours.inputs, ours.secret_inputs, ours.dependencies) == (
        sdk.type, sdk.name, sdk.inputs, sdk.secret_inputs, sdk.dependencies)
    assert sorted(ours.additional_secret_outputs) == sorted(sdk.additional_secret_outputs)
    assert ours.provider_version == sdk.provider_version != ""


def test_policy_registers_like_the_sdk_class():
    import pulumi_okta as okta

    inputs = dict(name="KubeSphere (dev) sign-on", description="Who may sign in", catch_all=False)
    opts = pulumi.ResourceOptions(protect=True)
    ours = run(lambda: okta_resources.SignonPolicy("policy", opts=opts, **inputs)).resources[0]
    sdk = run(lambda: okta.AppSignonPolicy("policy", opts=opts, **inputs)).resources[0]
    assert (ours.type, ours.name, ours.inputs, ours.secret_inputs, ours.protect, ours.dependencies) == (
        sdk.type, sdk.name, sdk.inputs, sdk.secret_inputs, sdk.protect, sdk.dependencies)
    assert sorted(ours.additional_secret_outputs) == sorted(sdk.additional_secret_outputs)
    assert ours.provider_version == sdk.provider_version != ""


def test_outputs_the_component_reads_resolve():
    # (The engine, not the SDK, makes clientSecret secret, from additional_secret_outputs pinned above.)
    def program():
        app = okta_resources.OAuthApp("app", label="KubeSphere (dev)", type="web")
        return {"client_id": app.client_id, "secret": app.client_secret, "label": app.label, "id": app.id}

    rec = run(program)
    assert rec.outputs["client_id"].startswith("0oa") and rec.outputs["secret"] == "mock-client-secret"
    assert (rec.outputs["label"], rec.outputs["id"]) == ("KubeSphere (dev)", "app-id")


def test_planning_a_stack_does_not_load_pulumi_okta_app():
    # pulumi_okta puts a lazy placeholder for its `app` package in sys.modules; o_auth is only
    # there once the package really loaded.
    code = ("import sys, contextlib, io; from infra import plan\n"
            "with contextlib.redirect_stdout(io.StringIO()): status = plan.main(['--stack', 'prod'])\n"
            "print(status, 'pulumi_okta.app.o_auth' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["0", "False"]


@pytest.mark.parametrize("python_name, provider_name", [
    ("token_endpoint_auth_method", "tokenEndpointAuthMethod"), ("hide_ios", "hideIos"), ("type", "type"),
    ("post_logout_redirect_uris", "postLogoutRedirectUris"), ("user_name_template_type", "userNameTemplateType"),
])
def test_provider_names(python_name, provider_name):
    assert okta_resources.provider_name(python_name) == provider_name
