"""The validation rules, tested directly (no Pulumi)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubesphere_okta import rules

LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")  # Kubernetes' own regex


@pytest.mark.parametrize("url, expected", [
    ("https://console.example.com", "https://console.example.com"),
    ("https://console.example.com/", "https://console.example.com"),
    ("https://console.example.com:30880", "https://console.example.com:30880"),
    ("http://localhost:30880", "http://localhost:30880"),
    ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
])
def test_console_url_accepted_and_normalised(url, expected):
    assert rules.check_console_url(url) == expected


@pytest.mark.parametrize("url, words", [
    ("http://console.example.com", "must use https"),
    ("console.example.com", "absolute https URL"),
    ("ftp://console.example.com", "absolute https URL"),
    ("https://console.example.com/?x=1", "without query"),
    ("https://*.example.com", "wildcard"),
    ("", "is required"),
    (None, "is required"),
])
def test_console_url_refused_with_reason(url, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        rules.check_console_url(url)


@pytest.mark.parametrize("issuer", [
    "https://example.okta.com",
    "https://example.oktapreview.com/oauth2/default",
    "https://login.example.com/oauth2/aus1a2b3c4d5e6f7g8h9",
])
def test_issuer_accepted(issuer):
    assert rules.check_issuer(issuer) == issuer


@pytest.mark.parametrize("issuer, words", [
    ("https://example.okta.com/", "must not end with a slash"),
    ("https://example.okta.com/oauth2/default/", "must not end with a slash"),
    ("http://example.okta.com", "https URL"),
    ("https://example.okta.com/oauth2", "/oauth2/<server id>"),
    ("https://example.okta.com/app/x", "/oauth2/<server id>"),
    (" https://example.okta.com", "whitespace"),
])
def test_issuer_refused_with_reason(issuer, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        rules.check_issuer(issuer)


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=70))
@settings(max_examples=300)
def test_provider_name_accepted_exactly_when_a_label_value(name):
    is_label = bool(name) and len(name) <= 63 and bool(LABEL_VALUE.fullmatch(name))
    try:
        rules.check_provider_name(name)
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == is_label


def test_provider_name_limited_to_45_characters_on_4_1():
    name = "a" * 46
    problems = rules.cross_field_problems({"kubesphere_version": "4.1", "provider_name": name, "group_ids": ["x"]})
    assert [field for field, _ in problems] == ["provider_name"]
    assert not rules.cross_field_problems({"kubesphere_version": "3.4", "provider_name": name, "group_ids": ["x"]})


@given(st.lists(st.sampled_from(["openid", "email", "profile", "groups", "offline_access"]), max_size=8))
def test_scopes_always_start_with_openid_once(scopes):
    result = rules.check_scopes(scopes)
    assert result[0] == "openid" and result.count("openid") == 1
    assert len(result) == len(set(result))
    assert set(result) == set(scopes) | {"openid"}


def test_scope_with_space_refused():
    with pytest.raises(ValueError, match="not a valid OAuth scope"):
        rules.check_scopes(["openid email"])


@pytest.mark.parametrize("value, ok", [("PT12H", True), ("P1D", True), ("PT0S", True), ("PT43800H", True),
                                       ("P", False), ("PT", False), ("12h", False), ("P1DT", False)])
def test_iso8601_duration(value, ok):
    if ok:
        assert rules.check_iso8601_duration(value) == value
    else:
        with pytest.raises(ValueError, match="ISO-8601"):
            rules.check_iso8601_duration(value)


@pytest.mark.parametrize("value, ok", [("1h", True), ("30m", True), ("2h45m", True), ("0", True), ("1.5h", True),
                                       ("PT1H", False), ("1 h", False), ("h", False)])
def test_go_duration(value, ok):
    if ok:
        assert rules.check_go_duration(value, field="f") == value
    else:
        with pytest.raises(ValueError):
            rules.check_go_duration(value, field="f")


def test_group_ids_must_be_okta_group_ids():
    assert rules.check_group_ids(["00g1abcdefghijklmnop", "00g1abcdefghijklmnop"]) == ["00g1abcdefghijklmnop"]
    with pytest.raises(ValueError, match="not an Okta group id"):
        rules.check_group_ids(["00u1abcdefghijklmnop"])


def test_exact_group_id_refuses_a_prefix_match():
    assert rules.exact_group_id("Admins", "Admins", "00g1") == "00g1"
    with pytest.raises(ValueError, match="not found by its exact name"):
        rules.exact_group_id("Admins", "Admins-legacy", "00g2")
    with pytest.raises(ValueError, match="returned nothing"):
        rules.exact_group_id("Admins", None, None)


def test_no_group_at_all_is_a_problem():
    problems = rules.cross_field_problems({"kubesphere_version": "4.1"})
    assert any("at least one Okta group" in message for _, message in problems)


def test_login_without_confirmation_needs_a_username_claim():
    base = {"kubesphere_version": "4.1", "group_ids": ["x"], "login_confirmation": False}
    assert [f for f, _ in rules.cross_field_problems(base)] == ["login_confirmation"]
    assert rules.cross_field_problems({**base, "username_claim": "ks_username"}) == []


def test_token_lifetimes_are_3x_only():
    problems = rules.cross_field_problems({"kubesphere_version": "4.1", "group_ids": ["x"], "access_token_max_age": "1h"})
    assert [f for f, _ in problems] == ["access_token_max_age"]


def test_integration_problems_lists_every_problem_at_once():
    problems = rules.integration_problems({"console_url": "http://x.example.com", "issuer": "https://x.okta.com/",
                                           "kubesphere_version": "2.1", "require_mfa": "yes"})
    assert {field for field, _ in problems} == {"console_url", "issuer", "kubesphere_version", "require_mfa", "group_ids"}


def test_org_and_custom_issuers():
    org = rules.org_issuer("acme", "okta.com")
    assert org == "https://acme.okta.com"
    assert rules.custom_issuer(org, "default") == "https://acme.okta.com/oauth2/default"
    assert rules.check_issuer(rules.custom_issuer(org, "default"))


@pytest.mark.parametrize("check, value", [
    (rules.check_iso8601_duration, "PT12H\n"),
    (lambda v: rules.check_go_duration(v, field="f"), "1h\n"),
    (lambda v: rules.check_group_ids([v]), "00g1abcdefghijklmnop\n"),
    (lambda v: rules.check_scopes([v]), "email\n"),
    (rules.check_provider_name, "Okta\n"),
])
def test_a_trailing_newline_never_passes_a_check(check, value):
    # `re.match` with `$` lets one trailing newline through; every check must use fullmatch.
    with pytest.raises(ValueError):
        check(value)


def test_email_as_username_without_confirmation_is_refused():
    # ks-apiserver would answer every first login with 'User.iam.kubesphere.io "..." is invalid'.
    problems = rules.cross_field_problems({"kubesphere_version": "4.1", "group_ids": ["x"],
                                           "login_confirmation": False, "username_claim": "email"})
    assert [field for field, _ in problems] == ["username_claim"]


def test_auto_linking_dns_safe_names_without_confirmation_on_4_1_3_is_warned():
    risky = {"kubesphere_version": "4.1.3", "username_format": "dns-safe", "mapping_method": "auto",
             "login_confirmation": False}
    assert "share one KubeSphere account" in rules.integration_warnings(risky)[0]
    assert rules.integration_warnings({**risky, "mapping_method": "lookup"}) == []
    assert rules.integration_warnings({**risky, "login_confirmation": True}) == []
    assert rules.integration_warnings({**risky, "kubesphere_version": "4.1.2"}) == []


@pytest.mark.parametrize("check, url", [
    (rules.check_console_url, "https://console.example.com/?"),
    (rules.check_console_url, "https://console.example.com#"),
    (rules.check_console_url, "https://@console.example.com"),
    (rules.check_issuer, "https://example.okta.com?"),
    (rules.check_issuer, "https://example.okta.com#"),
    (rules.check_issuer, "https://@example.okta.com"),
])
def test_an_empty_query_fragment_or_user_info_is_refused_too(check, url):
    # urlsplit reports each as "", yet the redirect URL would be built after "?" or "#".
    with pytest.raises(ValueError, match="query, fragment"):
        check(url)
