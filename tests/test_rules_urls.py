"""The console URL and the issuer: what is refused, the corrected value offered, and that a refusal
shows the value it refused with any credentials redacted (docs/reference.md, docs/login-checks.md)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubesphere_okta import rules


def refusal(check, value):
    with pytest.raises(ValueError) as raised:
        check(value)
    return raised.value


# --- console_url ---------------------------------------------------------------------------------

@pytest.mark.parametrize("url, suggestion", [
    ("http://console.example.com", "https://console.example.com"),
    ("http://console.example.com/", "https://console.example.com"),
    (" http://console.example.com:30880/ks// ", "https://console.example.com:30880/ks"),
    ("http://CONSOLE.EXAMPLE.BOX/", "https://CONSOLE.EXAMPLE.BOX"),
])
def test_a_plain_http_console_url_is_refused_with_its_https_form(url, suggestion):
    error = refusal(rules.check_console_url, url)
    assert str(error).startswith(f"console_url must use https (got {url!r})")
    assert error.suggestion == suggestion
    assert rules.check_console_url(suggestion) == suggestion


@pytest.mark.parametrize("url, suggestion", [
    ("https://console.example.com/?x=1", "https://console.example.com"),
    ("https://console.example.com:8443/ks/?x=1", "https://console.example.com:8443/ks"),
    ("https://console.example.com/APPX/#top", "https://console.example.com/APPX"),
    ("https://Console.Example.com/ks#", "https://console.example.com/ks"),
    ("https://ops:hunter2@console.example.com:30880/", "https://console.example.com:30880"),
    ("https://ops@console.example.com", "https://console.example.com"),
])
def test_a_console_url_with_extras_is_refused_with_the_plain_base_url(url, suggestion):
    error = refusal(rules.check_console_url, url)
    assert "without query, fragment, credentials or wildcard" in str(error)
    assert error.suggestion == suggestion
    assert rules.check_console_url(suggestion) == suggestion


@pytest.mark.parametrize("url", ["https://*.example.com/?x", "https://console.example.com/*", "https://*.example.com"])
def test_a_wildcard_console_url_gets_no_suggestion(url):
    error = refusal(rules.check_console_url, url)
    assert "wildcard" in str(error) and error.suggestion is None


@pytest.mark.parametrize("url", ["https://ops:hunter2@console.example.com/", "http://ops:hunter2@console.example.com"])
def test_a_refused_console_url_is_shown_without_its_credentials(url):
    message = str(refusal(rules.check_console_url, url))
    assert "hunter2" not in message and "ops" not in message
    assert f"(got {rules.redact(repr(url))})" in message


@pytest.mark.parametrize("url", ["ftp://console.example.com", "console.example.com", "https://"])
def test_a_console_url_that_is_not_an_absolute_https_url_is_shown_in_the_refusal(url):
    message = str(refusal(rules.check_console_url, url))
    assert message == f"console_url must be an absolute https URL such as https://console.example.com (got {url!r})"


@pytest.mark.parametrize("character", ["\t", "\n", "\r", "\x00", "\x7f", "\u00a0", "\u2028", "\u3000", "\ufeff", " "])
def test_control_and_space_characters_inside_a_url_are_refused_naming_the_field(character):
    # urlsplit drops some of them silently: the URL checked would not be the URL used.
    url = f"https://console.example.com/k{character}s"
    message = str(refusal(rules.check_console_url, url))
    assert message.startswith(f"console_url must not contain whitespace or control characters (found {character!r} "
                              f"at position {url.index(character)}")
    issuer = f"https://example.okta.com/oauth2/a{character}b"
    message = str(refusal(rules.check_issuer, issuer))
    assert message.startswith(f"issuer must not contain whitespace or control characters (found {character!r}")


@given(st.characters(categories=["Cc", "Zs", "Zl", "Zp"]) | st.characters().filter(str.isspace))
@settings(max_examples=100)
def test_every_unicode_space_or_control_character_inside_a_url_is_refused(character):
    with pytest.raises(ValueError, match="^console_url must not contain whitespace or control characters"):
        rules.check_console_url(f"https://console.example.com/a{character}b")
    with pytest.raises(ValueError, match="^issuer must not contain whitespace or control characters"):
        rules.check_issuer(f"https://example.okta.com/oauth2/a{character}b")


# --- issuer --------------------------------------------------------------------------------------

@pytest.mark.parametrize("issuer, suggestion", [
    (" https://example.okta.com", "https://example.okta.com"),
    ("https://example.okta.com/oauth2/default\n", "https://example.okta.com/oauth2/default"),
])
def test_an_issuer_with_surrounding_whitespace_is_refused_with_the_trimmed_issuer(issuer, suggestion):
    error = refusal(rules.check_issuer, issuer)
    assert str(error) == f"issuer must not have surrounding whitespace (got {issuer!r})"
    assert error.suggestion == suggestion


@pytest.mark.parametrize("issuer, suggestion", [
    ("https://example.okta.com/", "https://example.okta.com"),
    ("https://example.okta.com/oauth2/default/", "https://example.okta.com/oauth2/default"),
    ("https://example.okta.com/oauth2/default///", "https://example.okta.com/oauth2/default"),
    ("https://SSO.ACME.BOX/", "https://SSO.ACME.BOX"),
])
def test_an_issuer_ending_in_a_slash_is_refused_with_the_issuer_to_use(issuer, suggestion):
    error = refusal(rules.check_issuer, issuer)
    assert str(error).startswith(f"issuer must not end with a slash (got {issuer!r}, use {suggestion!r})")
    assert error.suggestion == suggestion
    assert rules.check_issuer(suggestion) == suggestion


@pytest.mark.parametrize("issuer", ["https://ops:hunter2@example.okta.com/", "https://ops@example.okta.com/oauth2/x/"])
def test_an_issuer_with_credentials_is_never_echoed_nor_suggested(issuer):
    error = refusal(rules.check_issuer, issuer)
    assert "hunter2" not in str(error) and "ops" not in str(error)
    assert f"(got {rules.redact(repr(issuer))}" in str(error)
    assert error.suggestion is None


@pytest.mark.parametrize("issuer, words", [
    ("http://example.okta.com", "issuer must be an https URL such as https://example.okta.com"),
    ("https://example.okta.com?x=1", "issuer must not carry a query, fragment or credentials"),
    ("https://ops:hunter2@example.okta.com", "issuer must not carry a query, fragment or credentials"),
])
def test_a_refused_issuer_is_shown_redacted(issuer, words):
    message = str(refusal(rules.check_issuer, issuer))
    assert message == f"{words} (got {rules.redact(repr(issuer))})"
    assert "hunter2" not in message


# --- redaction and the caller's terms --------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("see https://u:p@e.okta.com/x", "see https://***@e.okta.com/x"),
    ("'HTTP://u@h' and ssh+git://a:b@c/d", "'HTTP://***@h' and ssh+git://***@c/d"),
    ("mail ops@example.com, https://e.okta.com/x@y", "mail ops@example.com, https://e.okta.com/x@y"),
])
def test_redact_hides_exactly_the_user_information_of_urls(text, expected):
    assert rules.redact(text) == expected


@given(st.text(alphabet="abc:/@.", max_size=30))
@settings(max_examples=60)
def test_redacted_text_has_no_url_credentials_left(text):
    redacted = rules.redact(text)
    assert rules.redact(redacted) == redacted
    assert redacted == text or "***@" in redacted


def test_messages_are_said_in_the_callers_terms_and_redacted():
    text = "set mapping_method for https://u:p@e.okta.com"
    assert rules.in_terms(text) == "set mapping_method for https://***@e.okta.com"
    token = rules.message_terms.set(lambda t: t.replace("mapping_method", "mappingMethod"))
    try:
        assert rules.in_terms(text) == "set mappingMethod for https://***@e.okta.com"
    finally:
        rules.message_terms.reset(token)
    assert rules.in_terms("mapping_method") == "mapping_method"


# --- booleans and versions -------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    (True, True), (False, False), ("true", True), ("True", True), ("false", False), ("False", False),
])
def test_parse_bool_reads_a_bool_or_the_text_pulumi_config_stores(value, expected):
    assert rules.parse_bool(value) is expected


@pytest.mark.parametrize("value", ["yes", "TRUE", "1", "", " true", 1, 0, None, [], ["true"]])
def test_parse_bool_refuses_anything_else_naming_the_setting_and_the_value(value):
    with pytest.raises(rules.RuleError) as raised:
        rules.parse_bool(value, field="pruneUsers")
    assert str(raised.value) == f"pruneUsers must be true or false, got {value!r}"
    with pytest.raises(ValueError, match=r"^value must be true or false, got "):
        rules.parse_bool(value)


def test_parse_bool_never_echoes_url_credentials():
    with pytest.raises(ValueError) as raised:
        rules.parse_bool("https://u:hunter2@x", field="verifyLogin")
    assert "hunter2" not in str(raised.value)


class _PrintsAsAVersion:
    def __str__(self) -> str:
        return "4.1"


@pytest.mark.parametrize("value", [_PrintsAsAVersion(), True, False])
def test_kubesphere_version_is_only_read_from_text_or_a_number(value):
    # An object that merely prints as a release (an unresolved value, a bool) is not a version.
    with pytest.raises(ValueError, match=r"^kubesphere_version must be one of "):
        rules.check_kubesphere_version(value)
