"""Rendering the KubeSphere entry and the Okta app settings, tested directly (no Pulumi)."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from kubesphere_okta import identity_provider as idp
from kubesphere_okta.identity_provider import IdentityProviderSettings

V3 = IdentityProviderSettings(console_url="https://console.example.com", issuer="https://example.okta.com",
                              kubesphere_version="3.4")
V4 = IdentityProviderSettings(console_url="https://console.example.com", issuer="https://example.okta.com",
                              kubesphere_version="4.1")


def test_v3_entry_nests_exactly_as_kubesphere_reads_it():
    assert idp.render_v3_entry(V3, "0oa1", "s3cr3t") == {
        "name": "Okta",
        "type": "OIDCIdentityProvider",
        "mappingMethod": "auto",
        "disableLoginConfirmation": False,
        "provider": {
            "clientID": "0oa1",
            "clientSecret": "s3cr3t",
            "issuer": "https://example.okta.com",
            "redirectURL": "https://console.example.com/oauth/redirect/Okta",
            "scopes": ["openid", "email", "profile"],
        },
    }


def test_v3_entry_without_confirmation_and_custom_claims():
    settings = IdentityProviderSettings(**{**V3.__dict__, "login_confirmation": False,
                                           "username_claim": "ks_username", "email_claim": "mail"})
    entry = idp.render_v3_entry(settings, "0oa1", "s")
    assert entry["disableLoginConfirmation"] is True and entry["mappingMethod"] == "auto"
    assert entry["provider"]["preferredUsernameKey"] == "ks_username"
    assert entry["provider"]["emailKey"] == "mail"


def test_v4_mapping_methods_fold_login_confirmation_in():
    assert idp.kubesphere_mapping_method(V4) == "manual"
    assert idp.kubesphere_mapping_method(IdentityProviderSettings(**{**V4.__dict__, "login_confirmation": False})) == "auto"
    assert idp.kubesphere_mapping_method(IdentityProviderSettings(**{**V4.__dict__, "mapping_method": "lookup"})) == "lookup"


def test_v4_configuration_has_no_disable_login_confirmation_key():
    configuration = idp.render_v4_configuration(V4, "0oa1", "s")
    assert "disableLoginConfirmation" not in configuration
    assert configuration["type"] == "OIDCIdentityProvider"


def test_v4_secret_round_trips_through_yaml():
    secret = idp.render_v4_secret(V4, "0oa1", "s3cr3t")
    assert secret["type"] == "config.kubesphere.io/identityprovider"
    assert secret["metadata"]["labels"] == {"config.kubesphere.io/type": "identityprovider"}
    document = yaml.safe_load(secret["stringData"]["configuration.yaml"])
    assert document == idp.render_v4_configuration(V4, "0oa1", "s3cr3t")


@given(st.from_regex(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,40}[A-Za-z0-9])?", fullmatch=True))
def test_v4_secret_name_is_a_dns_1123_name(provider_name):
    import re

    name = idp.v4_secret_name(provider_name)
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name) and len(name) <= 63


@given(st.sampled_from(["https://c.example.com", "https://c.example.com/", "http://localhost:30880"]),
       st.from_regex(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,20}[A-Za-z0-9])?", fullmatch=True))
def test_redirect_url_last_segment_is_the_provider_name(console, name):
    url = idp.redirect_url(console, name)
    assert url.rsplit("/", 1)[1] == name
    assert "//oauth" not in url and url.endswith(f"/oauth/redirect/{name}")


def test_okta_app_settings_match_what_kubesphere_sends():
    app = idp.okta_app_settings(V4)
    assert app["redirect_uris"] == [V4.redirect_url]
    assert app["grant_types"] == ["authorization_code"] and app["response_types"] == ["code"]
    assert app["pkce_required"] is False and app["token_endpoint_auth_method"] == "client_secret_basic"


def test_redact_replaces_every_client_secret():
    entry = idp.render_v3_entry(V3, "0oa1", "s3cr3t")
    assert "s3cr3t" not in repr(idp.redact({"list": [entry], "client_secret": "s3cr3t"}))
    assert idp.redact(entry)["provider"]["clientID"] == "0oa1"


# --- logout: the console as the post-logout redirect URI -------------------------------------------

@given(st.sampled_from(["https://c.example.com", "https://c.example.com/", "https://c.example.com/ks",
                        "http://localhost:30880/"]))
def test_post_logout_redirect_uri_is_the_console_base_url_and_the_redirect_url_extends_it(console):
    uri = idp.post_logout_redirect_uri(console)
    assert uri == console.rstrip("/") and not uri.endswith("/")
    assert idp.redirect_url(console, "Okta") == f"{uri}/oauth/redirect/Okta"


@pytest.mark.parametrize("version", ["4.1", "4.1.3"])
def test_v413_provider_block_carries_the_same_post_logout_uri_the_okta_app_registers(version):
    settings = IdentityProviderSettings(**{**V4.__dict__, "kubesphere_version": version})
    provider = idp.render_v4_configuration(settings, "0oa1", "s")["provider"]
    assert provider["postLogoutRedirectURI"] == "https://console.example.com"
    assert idp.okta_app_settings(settings)["post_logout_redirect_uris"] == [provider["postLogoutRedirectURI"]]


@pytest.mark.parametrize("version", ["3.2", "3.3", "3.4", "4.1.0", "4.1.1", "4.1.2"])
def test_versions_without_the_key_get_no_post_logout_key_but_the_app_still_registers_the_console(version):
    settings = IdentityProviderSettings(**{**V4.__dict__, "kubesphere_version": version})
    render = idp.render_v3_entry if version.startswith("3") else idp.render_v4_configuration
    assert "postLogoutRedirectURI" not in render(settings, "0oa1", "s")["provider"]
    assert idp.okta_app_settings(settings)["post_logout_redirect_uris"] == ["https://console.example.com"]
