"""The readiness check's pure decisions: what a ready Okta and KubeSphere look like, and the backoff."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubesphere_okta.rules import check_verify_login_timeout
from kubesphere_okta.readiness_rules import (
    ExpectedLogin,
    Fetched,
    backoff_delays,
    discovery_url,
    issuer_problem,
    login_problem,
    oauth_configuration_url,
    provider_problem,
)

ISSUER = "https://example.okta.com"
EXPECTED = ExpectedLogin("https://console.example.com", ISSUER, "Okta", "4.1", client_id="0oa1client")
DISCOVERY = Fetched(discovery_url(ISSUER), 200, {"issuer": ISSUER})
OAUTH_URL = oauth_configuration_url("https://console.example.com")


def listed(provider=None, name="Okta"):
    provider = {"issuer": ISSUER, "clientID": "0oa1client", "endpoint": {"authURL": f"{ISSUER}/oauth2/v1/authorize"}} if provider is None else provider
    return Fetched(OAUTH_URL, 200, {"identityProviders": [{"name": name, "provider": provider}]})


def test_urls_are_where_ks_apiserver_and_the_login_page_look():
    assert discovery_url(ISSUER + "/") == "https://example.okta.com/.well-known/openid-configuration"
    assert oauth_configuration_url("https://console.example.com/") == (
        "https://console.example.com/kapis/config.kubesphere.io/v1alpha2/configs/oauth"
    )


def test_discovered_and_listed_provider_is_ready():
    assert login_problem(EXPECTED, DISCOVERY, listed()) is None


def test_published_issuer_differing_by_a_slash_is_a_permanent_problem():
    problem = issuer_problem(EXPECTED, Fetched(DISCOVERY.url, 200, {"issuer": ISSUER + "/"}))
    assert problem.permanent
    assert "set issuer to 'https://example.okta.com/'" in problem.message


def test_discovery_404_means_the_issuer_is_not_an_authorization_server():
    problem = issuer_problem(EXPECTED, Fetched(DISCOVERY.url, 404))
    assert problem.permanent and "is not an issuer" in problem.message


def test_unreachable_okta_is_worth_waiting_for():
    problem = issuer_problem(EXPECTED, Fetched(DISCOVERY.url, error="timed out"))
    assert not problem.permanent and "did not answer (timed out)" in problem.message


def test_another_provider_listed_is_not_ours():
    problem = provider_problem(EXPECTED, listed(name="GitHub"))
    assert "does not list identity provider 'Okta'" in problem.message


def test_not_listed_on_4_1_points_at_the_secret_and_ks_apiserver():
    message = provider_problem(EXPECTED, Fetched(OAUTH_URL, 200, {"identityProviders": None})).message
    assert "config.kubesphere.io/type=identityprovider" in message
    assert "failed to create identity provider Okta" in message


def test_listed_without_auth_url_means_ks_apiserver_skipped_it():
    message = provider_problem(EXPECTED, listed({"issuer": ISSUER, "clientID": "0oa1client"})).message
    assert "without provider.endpoint.authURL" in message and "failed to create identity provider Okta" in message


def test_an_older_configuration_still_served_is_not_ready():
    problem = provider_problem(EXPECTED, listed({"issuer": ISSUER, "clientID": "0oaOLD", "endpoint": {"authURL": "x"}}))
    assert "still serves an older configuration" in problem.message and not problem.permanent


def test_okta_problem_is_reported_before_kubesphere_problem():
    problem = login_problem(EXPECTED, Fetched(DISCOVERY.url, error="refused"), Fetched(OAUTH_URL, error="refused"))
    assert problem.message.startswith("Okta's discovery document")


@settings(max_examples=60, deadline=None)
@given(
    timeout=st.floats(min_value=0.01, max_value=3600),
    first=st.floats(min_value=0.01, max_value=10),
    cap=st.floats(min_value=0.01, max_value=60),
)
def test_backoff_grows_to_the_cap_and_never_outlasts_the_timeout(timeout, first, cap):
    delays = list(backoff_delays(timeout, first=first, cap=cap))
    assert delays and all(0 < d <= cap + 1e-9 for d in delays)
    assert sum(delays) <= timeout + 1e-6
    assert all(later >= earlier - 1e-9 for earlier, later in zip(delays[:-2], delays[1:-1]))


@pytest.mark.parametrize("value", [0, -1, True, "900", 10**6])
def test_verify_login_timeout_must_be_a_positive_number_of_seconds(value):
    with pytest.raises(ValueError, match="verify_login_timeout must be a positive number of seconds"):
        check_verify_login_timeout(value)
