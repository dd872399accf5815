"""A whole OIDC login, as this project plans it, against a certified OpenID Provider on 127.0.0.1.

The Okta app and the KubeSphere identity-provider entry come from this repository's program run on
an example stack (Pulumi.dev.yaml for 4.1, Pulumi.staging.yaml for 3.4) under Pulumi mocks
(tests/pulumi_harness.py), with only the issuer pointed at the local provider. The
provider is oidc-provider (npm, pinned in tests/oidc_provider/package-lock.json) with the planned
app registered as its client; the relying party (tests/kubesphere_relying_party.py) logs in as
KubeSphere does. Each planted mistake must fail where and how it fails in production.
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import pulumi
import pytest
import requests
import yaml

from kubesphere_okta import rules
from kubesphere_okta.identity_provider import has_post_logout_redirect
from infra import program
from infra.config import NAMESPACE
from tests import openid_provider
from tests.kubesphere_relying_party import (
    IdentityProviderEntry,
    LoginFailed,
    LogoutFailed,
    browser_log_out,
    console_logout_url,
    load_identity_provider,
    log_in,
)
from tests.pulumi_harness import OktaAndKubernetesMocks, run

_missing = openid_provider.missing_prerequisite()
if _missing and os.environ.get("CI", "").lower() == "true":
    raise RuntimeError(f"CI must run the login-flow test, but {_missing}")
pytestmark = pytest.mark.skipif(_missing is not None, reason=_missing or "")

APP = "okta:app/oAuth:OAuth"
SECRET = "kubernetes:core/v1:Secret"
CLUSTER_CONFIGURATION_ENTRY = "pulumi-python:dynamic:Resource"  # kubesphere_v3.ClusterConfigurationIdentityProvider
CONSOLE = "https://kubesphere.dev.example.com"  # the dev example stack's consoleUrl
ACCOUNT = {
    "sub": "00u1abcdefghijklmnop",
    "preferred_username": "Jane.Doe@example.com",  # Okta's default: the login, an email address
    "email": "jane.doe@example.com",
    "email_verified": True,
    "name": "Jane Doe",
    "nickname": "Jane.Doe",
}


ROOT = Path(__file__).resolve().parent.parent


def stack_config(stack: str, issuer: str, **overrides: str) -> dict[str, str]:
    """Pulumi.<stack>.yaml as the engine hands it to the program, the issuer pointed at the local
    provider, plus ``overrides`` (camelCase keys of the ``kubesphere-okta:`` namespace)."""
    raw = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    config = {k: v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}
    config[f"{NAMESPACE}:issuer"] = issuer
    config.update({f"{NAMESPACE}:{key}": value for key, value in overrides.items()})
    return config


def plan(stack: str, config: dict[str, str]) -> tuple[dict[str, Any], IdentityProviderEntry]:
    """The planned Okta app inputs and KubeSphere entry: the repository's program on one example stack,
    under Pulumi mocks, as ``make plan`` runs it."""
    groups = {name: f"00g{i:017d}" for i, name in enumerate(json.loads(config.get(f"{NAMESPACE}:groupNames", "[]")))}
    recording = run(program.main, stack=stack, config=config, mocks=OktaAndKubernetesMocks(groups=groups))
    app = recording.one(APP).inputs
    if rules.is_v3(config[f"{NAMESPACE}:kubesphereVersion"]):
        return app, IdentityProviderEntry.from_v3_entry(recording.one(CLUSTER_CONFIGURATION_ENTRY).inputs["entry"])
    return app, IdentityProviderEntry.from_v4_configuration(recording.one(SECRET).inputs["stringData"]["configuration.yaml"])


def okta_client(app: dict[str, Any], entry: IdentityProviderEntry) -> dict[str, Any]:
    """The planned Okta app as oidc-provider client metadata; id and secret are the app's outputs,
    which the plan wires into the entry."""
    return {
        "client_id": entry.option("clientID"),
        "client_secret": entry.option("clientSecret"),
        "redirect_uris": app["redirectUris"],
        "grant_types": app["grantTypes"],
        "response_types": app["responseTypes"],
        "token_endpoint_auth_method": app["tokenEndpointAuthMethod"],
        "pkce_required": app["pkceRequired"],
        "post_logout_redirect_uris": app.get("postLogoutRedirectUris") or [],
    }


@pytest.fixture
def login(tmp_path) -> Callable[..., Any]:
    """``login(plant_in_app=..., plant_in_entry=..., stack=..., **config)``: plan, start the provider, log in."""

    def _login(
        plant_in_app: Callable[[dict], None] = lambda app: None,
        plant_in_entry: Callable[[dict], None] = lambda provider: None,
        stack: str = "dev",
        log_out: bool = False,
        **config_overrides: str,
    ):
        with openid_provider.openid_provider(tmp_path, ACCOUNT) as provider:
            config = stack_config(stack, provider.issuer, **config_overrides)
            app, entry = plan(stack, config)
            app = copy.deepcopy(app)
            plant_in_app(app)
            provider.register_client(okta_client(app, entry))
            planted = copy.deepcopy(dict(entry.provider))
            plant_in_entry(planted)
            entry = IdentityProviderEntry(entry.name, entry.mapping_method, entry.creates_user_without_confirmation, planted)
            with requests.Session() as http, requests.Session() as browser:
                # Trust exactly the throwaway certificate; trust_env off, else REQUESTS_CA_BUNDLE wins.
                http.verify = browser.verify = str(provider.ca_path)
                http.trust_env = browser.trust_env = False
                identity = log_in(entry, http, browser)
                if not log_out:
                    return identity
                # As the console does it: ks-apiserver's endSessionURL, as it built it at load time.
                version = config[f"{NAMESPACE}:kubesphereVersion"]
                logout_url = console_logout_url(load_identity_provider(entry, http), has_post_logout_redirect(version))
                logged_out = browser_log_out(logout_url, browser)
                return LoggedOut(identity, logout_url, logged_out.url, logged_out.prompts)

    return _login


@dataclass(frozen=True)
class LoggedOut:
    identity: Any
    logout_url: str
    """The URL the console sent the browser to."""
    landed_on: str
    """Where the browser ended up after the provider's logout."""
    prompts: int
    """Pages on which the provider asked the user to confirm the logout."""


def test_planned_configuration_logs_in_and_kubesphere_asks_for_a_username(login):
    identity = login()
    assert identity.sub == ACCOUNT["sub"]
    assert identity.email == "jane.doe@example.com"
    assert identity.username == "jane.doe@example.com"  # lower-cased preferred_username
    assert identity.needs_confirmation is True


def test_planned_kubesphere_3x_entry_of_the_staging_stack_logs_in(login):
    identity = login(stack="staging")
    assert identity.sub == ACCOUNT["sub"] and identity.email == ACCOUNT["email"]


def test_without_confirmation_the_user_is_created_from_the_configured_username_claim(login):
    identity = login(loginConfirmation="false", usernameClaim="nickname")
    assert identity.username == "jane.doe"
    assert identity.needs_confirmation is False


def test_email_username_claim_without_confirmation_is_refused_before_planning():
    with pytest.raises(pulumi.RunError, match="usernameClaim 'email' with loginConfirmation false"):
        plan("dev", stack_config("dev", "https://127.0.0.1:8443", loginConfirmation="false", usernameClaim="email"))


def test_without_confirmation_an_email_username_claim_cannot_become_a_user(login):
    # What the rule above prevents: planted past it, every first login fails in KubeSphere.
    with pytest.raises(LoginFailed) as failure:
        login(loginConfirmation="false", usernameClaim="nickname",
              plant_in_entry=lambda provider: provider.update(preferredUsernameKey="email"))
    assert failure.value.stage == "user"
    assert 'User.iam.kubesphere.io "jane.doe@example.com" is invalid' in failure.value.message


def test_pkce_required_on_the_okta_app_refuses_the_console_authorize_request(login):
    with pytest.raises(LoginFailed) as failure:
        login(plant_in_app=lambda app: app.update(pkceRequired=True))
    assert failure.value.authorize_error.startswith("invalid_request: Authorization Server policy requires PKCE")
    # ks-apiserver ignores the error on the redirect and fails exchanging the code it did not get.
    assert failure.value.stage == "token"
    assert failure.value.message.startswith("oidc: failed to get token: invalid_request")


def test_redirect_uri_one_character_off_is_refused_by_the_provider(login):
    with pytest.raises(LoginFailed) as failure:
        login(plant_in_app=lambda app: app.update(redirectUris=[f"{CONSOLE}/oauth/redirect/okta"]))
    assert failure.value.stage == "authorize"
    assert failure.value.message.startswith("invalid_redirect_uri:")


def test_redirect_url_not_ending_in_the_provider_name_finds_no_identity_provider(login):
    def plant(provider):
        provider["redirectURL"] = f"{CONSOLE}/oauth/redirect/okta"

    with pytest.raises(LoginFailed) as failure:
        login(plant_in_app=lambda app: app.update(redirectUris=[f"{CONSOLE}/oauth/redirect/okta"]), plant_in_entry=plant)
    assert (failure.value.stage, failure.value.message) == ("callback", "identity provider not found")


def test_issuer_with_a_trailing_slash_is_refused_before_planning():
    with pytest.raises(pulumi.RunError, match="issuer must not end with a slash"):
        plan("dev", stack_config("dev", "https://127.0.0.1:8443/"))


def test_issuer_with_a_trailing_slash_makes_kubesphere_skip_the_provider(login):
    def plant(provider):
        provider["issuer"] += "/"

    with pytest.raises(LoginFailed) as failure:
        login(plant_in_entry=plant)
    assert failure.value.stage == "load"
    assert failure.value.message.startswith("failed to create identity provider Okta: ")
    assert "issuer did not match the issuer returned by provider" in failure.value.message


def test_scopes_without_openid_get_no_id_token(login):
    def plant(provider):
        provider["scopes"] = [s for s in provider["scopes"] if s != "openid"]

    with pytest.raises(LoginFailed) as failure:
        login(plant_in_entry=plant)
    assert (failure.value.stage, failure.value.message) == ("token", "no id_token in token response")


def test_wrong_client_secret_fails_the_code_exchange(login):
    def plant(provider):
        provider["clientSecret"] = "not-the-okta-secret"

    with pytest.raises(LoginFailed) as failure:
        login(plant_in_entry=plant)
    assert failure.value.stage == "token"
    assert failure.value.message.startswith("oidc: failed to get token: invalid_client")


# --- logout ------------------------------------------------------------------------------------------


def test_logout_on_4_1_3_lands_back_on_the_console(login):
    result = login(log_out=True)
    assert result.identity.sub == ACCOUNT["sub"]
    query = parse_qs(urlsplit(result.logout_url).query)
    # What 4.1.3's console sends: client_id and post_logout_redirect_uri, and no id_token_hint.
    assert query["post_logout_redirect_uri"] == [CONSOLE] and "client_id" in query
    assert "id_token_hint" not in query
    # The provider asked the user to confirm (no id_token_hint), then sent the browser to the
    # console; it writes the URL through WHATWG URL, which spells the empty root path "/".
    assert result.landed_on in (CONSOLE, CONSOLE + "/")
    assert result.prompts == 1


def test_logout_without_the_console_registered_on_the_okta_app_is_refused(login):
    with pytest.raises(LogoutFailed) as failure:
        login(log_out=True, plant_in_app=lambda app: app.update(postLogoutRedirectUris=[]))
    assert failure.value.message.startswith("invalid_request: post_logout_redirect_uri not registered")


def test_logout_with_a_post_logout_uri_one_character_off_is_refused(login):
    def plant(provider):
        provider["postLogoutRedirectURI"] = CONSOLE + "/"

    with pytest.raises(LogoutFailed, match="post_logout_redirect_uri not registered"):
        login(log_out=True, plant_in_entry=plant)


def test_logout_on_4_1_2_sends_no_redirect_and_leaves_the_user_on_the_provider(login):
    # 4.1.0-4.1.2 (and 3.x) have no postLogoutRedirectURI: the console sends the bare end-session URL.
    result = login(log_out=True, kubesphereVersion="4.1.2")
    assert urlsplit(result.logout_url).query == ""
    assert not result.landed_on.startswith(CONSOLE)
    assert urlsplit(result.landed_on).path == "/session/end/success"


def test_logout_on_3x_staging_stack_leaves_the_user_on_the_provider(login):
    result = login(stack="staging", log_out=True)
    assert urlsplit(result.logout_url).query == "" and urlsplit(result.landed_on).path == "/session/end/success"
