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


@pytest.mark.parametrize("version", rules.SUPPORTED_VERSIONS)
def test_built_in_roles_are_checked_against_the_version_that_ships_them(version):
    problems = rules.missing_built_in_role_problems(
        ["platform-admin", "platform-regular", "platform-self-provisioner", "users-manager", "workspaces-manager",
         "my-custom-role"], version)
    if version == "3.2":
        assert len(problems) == 1 and problems[0].startswith(
            "role 'platform-self-provisioner' is built into KubeSphere 3.3, 3.4, 4.1.1, 4.1.2, 4.1.3, not into 3.2")
    else:  # users-manager and workspaces-manager are in 3.2's role templates only
        assert [p.split(",")[0] for p in problems] == [
            "role 'users-manager' is built into KubeSphere 3.2", "role 'workspaces-manager' is built into KubeSphere 3.2"]
        assert all(f"not into {version} " in p for p in problems)
    # custom roles are the user's to create: never refused here


# --- lists must be lists: a bare string would otherwise be read character by character ----------

@pytest.mark.parametrize("check, bare", [
    (rules.check_scopes, "openid"),
    (rules.check_group_ids, "00g1abcdefghijklmnop"),
    (rules.check_group_names, "Admins"),
    (rules.check_reserved_usernames, "ops"),
])
def test_a_bare_string_where_a_list_belongs_is_refused_not_split_into_characters(check, bare):
    with pytest.raises(ValueError, match="must be a list"):
        check(bare)
    with pytest.raises(ValueError, match="must be a list"):
        check(42)
    assert check([bare]) in ([bare], ["openid"])


@pytest.mark.parametrize("check, items, expected", [
    (rules.check_group_ids, ["00g2abcdefghijklmnop", "00g1abcdefghijklmnop", "00g2abcdefghijklmnop"],
     ["00g2abcdefghijklmnop", "00g1abcdefghijklmnop"]),
    (rules.check_group_names, ["Ops", "Admins", "Ops"], ["Ops", "Admins"]),
    (rules.check_reserved_usernames, ["ops", "root.acme.com", "ops"], ["ops", "root.acme.com"]),
    (rules.check_scopes, ("groups", "email", "groups", "openid"), ["openid", "groups", "email"]),
])
def test_list_checks_keep_the_first_of_each_in_the_order_given(check, items, expected):
    assert check(iter(items)) == expected  # any iterable, read once


@pytest.mark.parametrize("name", ["", " ", "Admins ", " Admins", "\tAdmins", 7, None])
def test_an_empty_or_space_padded_group_name_is_refused(name):
    with pytest.raises(ValueError, match="not a group name"):
        rules.check_group_names(["Ops", name])


def test_group_names_may_hold_inner_spaces_and_any_characters():
    assert rules.check_group_names(["KubeSphere Admins", "Ops/EU", "Ünits"]) == ["KubeSphere Admins", "Ops/EU", "Ünits"]


@pytest.mark.parametrize("group_id", ["00g1abcdefghijklmno", "00g1abcdefghijklmnopq", "00u1abcdefghijklmnop",
                                      "00g1abcdefghijklmn-p", 7])
def test_group_ids_are_exactly_20_letters_and_digits_starting_00g(group_id):
    with pytest.raises(ValueError, match="not an Okta group id"):
        rules.check_group_ids([group_id])
    assert rules.is_okta_group_id("00g1abcdefghijklmnop") and not rules.is_okta_group_id("Admins")


@pytest.mark.parametrize("names", [["Ops"], ["ops", ""], ["-ops"], ["a" * 64], [None]])
def test_reserved_usernames_that_can_never_be_a_user_are_refused(names):
    with pytest.raises(ValueError, match="can never be a KubeSphere user name"):
        rules.check_reserved_usernames(names)


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=12))
@settings(max_examples=150)
def test_a_scope_is_accepted_exactly_when_it_is_rfc6749_scope_characters(scope):
    is_scope = bool(scope) and all(c > " " and c not in '"\\' and c < "\x7f" for c in scope)
    try:
        rules.check_scopes([scope])
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == is_scope


@pytest.mark.parametrize("scopes", [[7], [None], ["email", 'a"b']])
def test_a_scope_that_is_not_a_string_or_holds_a_quote_is_refused(scopes):
    with pytest.raises(ValueError, match="not a valid OAuth scope"):
        rules.check_scopes(scopes)


# --- single values -------------------------------------------------------------------------------

@given(st.text(alphabet=st.characters(codec="ascii"), max_size=20))
@settings(max_examples=150)
def test_a_claim_is_accepted_exactly_when_it_is_a_plain_claim_name(claim):
    is_claim = bool(claim) and all(c.isalnum() or c in "_.:-" for c in claim)
    try:
        assert rules.check_claim(claim, field="username_claim") == claim
        accepted = True
    except ValueError as error:
        assert str(error).startswith("username_claim ")
        accepted = False
    assert accepted == is_claim


def test_a_claim_that_is_not_a_string_is_refused_naming_the_field():
    with pytest.raises(ValueError, match="^email_claim must be the name of an ID-token claim"):
        rules.check_claim(["email"], field="email_claim")


@pytest.mark.parametrize("value, ok", [
    (0.001, True), (1, True), (900, True), (86400, True), (86400.0, True),
    (0, False), (-1, False), (86400.001, False), (86401, False), (True, False), ("900", False), (None, False),
])
def test_verify_login_timeout_is_a_positive_number_of_seconds_up_to_a_day(value, ok):
    if ok:
        result = rules.check_verify_login_timeout(value)
        assert result == value and type(result) is float
    else:
        with pytest.raises(ValueError, match="verify_login_timeout must be a positive number of seconds"):
            rules.check_verify_login_timeout(value)


@pytest.mark.parametrize("label, ok", [("KubeSphere", True), ("x" * 100, True), (" Console ", True),
                                       ("x" * 101, False), ("", False), ("   ", False), (None, False), (7, False)])
def test_app_label_is_a_non_empty_name_of_at_most_100_characters(label, ok):
    if ok:
        assert rules.check_app_label(label) == label
    else:
        with pytest.raises(ValueError, match="app_label must be a non-empty display name of at most 100"):
            rules.check_app_label(label)


@pytest.mark.parametrize("name, ok", [("a" * 63, True), ("a" * 64, False), ("", False), (None, False), (63, False)])
def test_provider_name_is_at_most_63_characters_everywhere(name, ok):
    if ok:
        assert rules.check_provider_name(name) == name
    else:
        with pytest.raises(ValueError, match="provider_name"):
            rules.check_provider_name(name)


@pytest.mark.parametrize("version", ["4.1", "4.1.0", "4.1.1", "4.1.2", "4.1.3"])
def test_provider_name_is_at_most_45_characters_on_every_4_1_release(version):
    def problems(name):
        return [f for f, _ in rules.cross_field_problems({"kubesphere_version": version, "provider_name": name,
                                                          "group_ids": ["x"]})]
    assert problems("a" * 45) == []
    assert problems("a" * 46) == ["provider_name"]
    assert problems(None) == [] and problems(46) == []  # not a name: its own check reports it


@pytest.mark.parametrize("value, expected", [
    ("3.4", "3.4"), (" 4.1.3 ", "4.1.3"), (3.4, "3.4"), (4.1, "4.1"), ("3.2", "3.2"),
])
def test_kubesphere_version_accepts_a_supported_release_written_as_text_or_number(value, expected):
    assert rules.check_kubesphere_version(value) == expected


@pytest.mark.parametrize("value", ["3.1", "4.0", "4.2", "v4.1", "", None, ["3.4"], 4])
def test_kubesphere_version_refuses_anything_else_naming_the_supported_ones(value):
    with pytest.raises(ValueError, match=r"kubesphere_version must be one of 3\.2, 3\.3, 3\.4, 4\.1"):
        rules.check_kubesphere_version(value)


def test_versions_are_either_3x_or_4x_never_both():
    for version in rules.SUPPORTED_VERSIONS:
        assert rules.is_v3(version) != rules.is_v4(version)
    assert not rules.is_v3("4.1") and not rules.is_v4("3.4") and not rules.is_v4("5.0")


@pytest.mark.parametrize("url", [
    "https://user@console.example.com", "https://user:pw@console.example.com",
    "https://console.example.com#top", "https://console.example.com/x?y", "https://:@console.example.com",
])
def test_console_url_with_credentials_query_or_fragment_is_refused(url):
    with pytest.raises(ValueError, match="without query, fragment, credentials or wildcard"):
        rules.check_console_url(url)


@pytest.mark.parametrize("url, expected", [
    (" https://console.example.com/ ", "https://console.example.com"),
    ("https://console.example.com/kubesphere/", "https://console.example.com/kubesphere"),
    ("http://[::1]:30880", "http://[::1]:30880"),
])
def test_console_url_is_stripped_of_spaces_and_a_trailing_slash(url, expected):
    assert rules.check_console_url(url) == expected


@pytest.mark.parametrize("url", ["https://", "https:///path", "mailto:ops@example.com", 7])
def test_console_url_without_a_host_is_refused(url):
    with pytest.raises(ValueError, match="console_url"):
        rules.check_console_url(url)


@pytest.mark.parametrize("issuer, words", [
    ("https://user@example.okta.com", "query, fragment or credentials"),
    ("https://user:pw@example.okta.com", "query, fragment or credentials"),
    ("https://example.okta.com?x=1", "query, fragment or credentials"),
    ("https://example.okta.com#x", "query, fragment or credentials"),
    ("https://example.okta.com/oauth2/aus-1", "/oauth2/<server id>"),
    ("https://example.okta.com/oauth2/aus1/x", "/oauth2/<server id>"),
    ("https:///oauth2/default", "https URL"),
    ("", "is required"),
    ("   ", "is required"),
    (None, "is required"),
    ("https://example.okta.com ", "whitespace"),
])
def test_issuer_with_credentials_query_or_another_path_is_refused(issuer, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        rules.check_issuer(issuer)


def test_an_issuer_ending_in_a_slash_is_refused_with_the_value_to_use():
    with pytest.raises(ValueError, match=re.escape("use 'https://example.okta.com/oauth2/default'")):
        rules.check_issuer("https://example.okta.com/oauth2/default//")


@pytest.mark.parametrize("check, good, bad", [
    (rules.check_mapping_method, ["auto", "lookup"], ["manual", "Auto", None]),
    (rules.check_username_format, ["okta-login", "dns-safe"], ["email", "", None]),
    (rules.check_authorization_server_id, ["default", "aus1a2b3c4d5e6f7g8h9"], ["", "aus-1", "aus 1", None, 7]),
    (rules.check_iso8601_duration, ["PT1H30M", "P1W", "P1Y2M3DT4H5M6S", "PT0S"], ["PT1.5H", "P1H", "1D", "", None]),
    (lambda v: rules.check_go_duration(v, field="f"), ["1h30m", "500ms", "1us", "1µs", "2ns"], ["1d", "", "-1h", None]),
])
def test_single_choice_and_format_checks_accept_exactly_their_values(check, good, bad):
    for value in good:
        assert check(value) == value
    for value in bad:
        with pytest.raises(ValueError):
            check(value)


def test_exact_group_id_needs_both_the_exact_name_and_an_id():
    with pytest.raises(ValueError, match="returned only 'Admins'"):
        rules.exact_group_id("Admins", "Admins", None)
    with pytest.raises(ValueError, match="returned only 'admins'"):
        rules.exact_group_id("Admins", "admins", "00g1")


# --- role bindings -------------------------------------------------------------------------------

def test_role_bindings_keep_the_order_given():
    assert rules.check_role_bindings({"Users": "platform-regular", "Admins": "platform-admin"}) == [
        ("Users", "platform-regular"), ("Admins", "platform-admin")]


@pytest.mark.parametrize("value, words", [
    ([("Admins", "platform-admin")], "must map Okta groups"),
    ({"": "platform-admin"}, "not an Okta group name or id"),
    ({" Admins": "platform-admin"}, "not an Okta group name or id"),
    ({7: "platform-admin"}, "not an Okta group name or id"),
    ({"Admins": "Platform-Admin"}, "not a KubeSphere global role name"),
    ({"Admins": None}, "not a KubeSphere global role name"),
    ({"Admins": "a" * 64}, "not a KubeSphere global role name"),
])
def test_role_bindings_refuse_what_kubesphere_could_not_bind(value, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        rules.check_role_bindings(value)


# --- settings that only make sense together ----------------------------------------------------

BASE = {"console_url": "https://c.example.com", "issuer": "https://e.okta.com", "kubesphere_version": "4.1",
        "group_ids": ["00g1abcdefghijklmnop"]}


def fields(values) -> list[str]:
    return [field for field, _ in rules.cross_field_problems(values)]


def test_group_names_alone_are_enough_groups():
    assert fields({"kubesphere_version": "4.1", "group_names": ["Ops"]}) == []
    assert fields({"kubesphere_version": "4.1", "group_ids": [], "group_names": []}) == ["group_ids"]


def test_both_token_lifetimes_are_refused_on_4_1_and_allowed_on_3x():
    lifetimes = {"access_token_max_age": "1h", "access_token_inactivity_timeout": "30m"}
    assert fields({**BASE, **lifetimes}) == ["access_token_max_age", "access_token_inactivity_timeout"]
    assert fields({**BASE, "kubesphere_version": "4.1.2", "access_token_inactivity_timeout": "30m"}) == \
        ["access_token_inactivity_timeout"]
    assert fields({**BASE, "kubesphere_version": "3.4", **lifetimes}) == []
    assert fields({**BASE, "access_token_max_age": None}) == []


def test_reauthentication_needs_the_sign_on_policy():
    assert fields({**BASE, "sign_on_policy": False, "reauthenticate_every": "PT12H"}) == ["reauthenticate_every"]
    assert fields({**BASE, "sign_on_policy": True, "reauthenticate_every": "PT12H"}) == []
    assert fields({**BASE, "reauthenticate_every": "PT12H"}) == []
    assert fields({**BASE, "sign_on_policy": False}) == []


@pytest.mark.parametrize("settings_, expected", [
    ({"login_confirmation": False}, ["login_confirmation"]),
    ({"login_confirmation": False, "username_claim": "preferred_username"}, ["login_confirmation"]),
    ({"login_confirmation": False, "username_format": "dns-safe"}, []),
    ({"login_confirmation": False, "username_claim": "ks_name"}, []),
    ({"login_confirmation": False, "username_claim": "email"}, ["username_claim"]),
    ({"login_confirmation": False, "username_claim": "email", "username_format": "dns-safe"}, ["username_claim"]),
    ({"login_confirmation": True, "username_claim": "email"}, []),
    ({"username_claim": "email"}, []),
    ({"login_confirmation": None}, []),
])
def test_login_without_confirmation_needs_a_claim_kubesphere_accepts_as_a_name(settings_, expected):
    assert fields({**BASE, **settings_}) == expected


def test_role_bindings_need_lookup_and_groups_allowed_to_use_the_app():
    bindings = {"role_bindings": {"00g1abcdefghijklmnop": "platform-admin", "Ops": "platform-regular"}}
    problems = rules.cross_field_problems({**BASE, **bindings, "mapping_method": "auto"})
    assert [f for f, _ in problems] == ["role_bindings", "role_bindings"]
    assert "mapping_method" in problems[0][1] and "'Ops'" in problems[1][1]
    assert "00g1abcdefghijklmnop" not in problems[1][1]
    assert fields({**BASE, **bindings, "mapping_method": "lookup", "group_names": ["Ops"]}) == []
    assert fields({**BASE, "role_bindings": {}, "mapping_method": "auto"}) == []


def test_authorization_server_id_needs_the_issuer_of_that_server():
    custom = {**BASE, "issuer": "https://e.okta.com/oauth2/aus1", "authorization_server_id": "aus1"}
    assert fields(custom) == []
    assert fields({**custom, "authorization_server_id": "default"}) == ["authorization_server_id"]
    assert fields({**custom, "issuer": "https://e.okta.com"}) == ["authorization_server_id"]
    assert fields({**BASE, "authorization_server_id": None}) == []


def test_the_shared_account_warning_on_4_1_3_holds_for_the_default_mapping_method_too():
    risky = {"kubesphere_version": "4.1.3", "username_format": "dns-safe", "login_confirmation": False}
    assert len(rules.integration_warnings(risky)) == 1  # mapping_method absent means auto
    assert len(rules.integration_warnings({**risky, "kubesphere_version": "4.1"})) == 1
    assert rules.integration_warnings({**risky, "username_format": "okta-login"}) == []
    assert rules.integration_warnings({**risky, "login_confirmation": None}) == []
    assert rules.integration_warnings({**risky, "kubesphere_version": "3.4"}) == []


def test_a_complete_valid_configuration_has_no_problem():
    assert rules.integration_problems({**BASE, "require_mfa": True, "scopes": ["openid"], "verify_login": False}) == []


def test_every_required_setting_is_named_when_missing():
    problems = rules.integration_problems({"group_ids": ["00g1abcdefghijklmnop"]})
    assert problems[:3] == [("console_url", "console_url is required"), ("issuer", "issuer is required"),
                            ("kubesphere_version", "kubesphere_version is required")]


@pytest.mark.parametrize("field", ["require_mfa", "sign_on_policy", "login_confirmation", "protect_app",
                                   "prune_users", "verify_login", "strict_identities"])
def test_a_switch_must_be_true_or_false(field):
    assert (field, f"{field} must be true or false, got 'yes'") in rules.integration_problems({**BASE, field: "yes"})
    assert not [f for f, _ in rules.integration_problems({**BASE, field: None}) if f == field]
    assert not [f for f, _ in rules.integration_problems({**BASE, field: True}) if f == field]


def test_each_field_check_reports_under_its_own_field_and_none_means_unset():
    bad = {"provider_name": "-", "group_names": [" x"], "reauthenticate_every": "1h", "mapping_method": "x",
           "scopes": "openid", "username_claim": "a b", "email_claim": "a b", "app_label": "",
           "access_token_max_age": "1d", "access_token_inactivity_timeout": "1d", "username_format": "x",
           "reserved_usernames": ["-"], "verify_login_timeout": 0}
    problems = rules.integration_problems({**BASE, "kubesphere_version": "3.4", **bad})
    assert sorted(f for f, _ in problems) == sorted(bad)
    for field, message in problems:
        assert message.startswith(field), (field, message)
    assert rules.integration_problems({**BASE, **{field: None for field in bad}}) == []


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


def test_ids_with_capital_letters_are_accepted_as_authorization_server_ids_and_in_issuers():
    assert rules.check_authorization_server_id("ausAbC123") == "ausAbC123"
    assert rules.check_issuer("https://e.okta.com/oauth2/ausAbC123") == "https://e.okta.com/oauth2/ausAbC123"


@pytest.mark.parametrize("group", [7, None, "", " ", " A", "A "])
def test_scoped_and_cluster_role_maps_refuse_a_group_that_is_not_a_plain_name(group):
    with pytest.raises(ValueError, match="is not an Okta group name or id"):
        rules.check_cluster_role_bindings({group: "cluster-viewer"})
    with pytest.raises(ValueError, match="is not an Okta group name or id"):
        rules.check_scoped_role_bindings({group: {"team-a": "admin"}}, field="workspace_role_bindings")


def test_a_role_name_is_at_most_253_characters():
    assert rules.check_cluster_role_bindings({"SRE": "a" * 253}) == [("SRE", "a" * 253)]
    with pytest.raises(ValueError, match="not a cluster role name"):
        rules.check_cluster_role_bindings({"SRE": "a" * 254})


def test_a_trailing_slash_is_all_that_is_stripped_from_the_console_url():
    assert rules.check_console_url("https://console.example.com/APPX/") == "https://console.example.com/APPX"


def test_cluster_role_bindings_keep_the_order_given_and_must_be_a_mapping():
    assert rules.check_cluster_role_bindings({"SRE": "cluster-viewer", "Ops": "cluster-admin"}) == [
        ("SRE", "cluster-viewer"), ("Ops", "cluster-admin")]
    with pytest.raises(ValueError, match="cluster_role_bindings must map Okta groups"):
        rules.check_cluster_role_bindings(["SRE"])
    with pytest.raises(ValueError, match="cluster_role_bindings: role 'Cluster Admin' for group 'SRE'"):
        rules.check_cluster_role_bindings({"SRE": "Cluster Admin"})
    with pytest.raises(ValueError, match="^cluster_role_bindings: ' SRE' is not an Okta group"):
        rules.check_cluster_role_bindings({" SRE": "cluster-admin"})


def test_scoped_role_maps_parse_all_three_maps_or_none_when_one_does_not_parse():
    values = {"workspace_role_bindings": {"A": {"team-a": "regular"}},
              "project_role_bindings": {"B": {"team-a-dev": "operator"}},
              "cluster_role_bindings": {"C": "cluster-viewer"}}
    assert rules.scoped_role_maps(values) == {"workspace": [("A", [("team-a", "regular")])],
                                              "project": [("B", [("team-a-dev", "operator")])],
                                              "cluster": [("C", "cluster-viewer")]}
    assert rules.scoped_role_maps({}) == {"workspace": [], "project": [], "cluster": []}
    for field in values:
        assert rules.scoped_role_maps({**values, field: ["not a map"]}) is None


def test_version_limits_of_scoped_roles_are_cross_field_problems():
    long_workspace = {**BASE, "mapping_method": "lookup", "group_names": ["G"],
                      "workspace_role_bindings": {"G": {"w" * 60: "regular"}}}
    assert fields({**long_workspace, "kubesphere_version": "4.1.2"}) == ["workspace_role_bindings"]
    assert fields({**long_workspace, "kubesphere_version": "4.1.3"}) == []
    assert fields({**long_workspace, "kubesphere_version": "9.9"}) == []


def test_a_built_in_role_the_version_lacks_is_a_role_bindings_problem():
    bindings = {**BASE, "mapping_method": "lookup", "group_names": ["G"],
                "role_bindings": {"G": "platform-self-provisioner"}}
    assert fields({**bindings, "kubesphere_version": "3.2"}) == ["role_bindings"]
    assert fields({**bindings, "kubesphere_version": "3.3"}) == []
    assert fields({**bindings, "kubesphere_version": "9.9"}) == []
