"""The pure 3.x merge: our entry in, our entry out, everything else of the ClusterConfiguration kept."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubesphere_okta.cluster_configuration import (
    MemberCluster,
    cluster_role,
    member_cluster_problem,
    MalformedClusterConfiguration,
    check,
    find_identity_provider,
    identity_provider_names,
    needs_write,
    oauth_options_of as options_of,
    oauth_options_before,
    remove_identity_provider,
    restore_oauth_options,
    upsert_identity_provider,
    with_oauth_options,
)
from kubesphere_okta.identity_provider import IdentityProviderSettings, render_v3_entry, v3_oauth_options

FIXTURES = Path(__file__).parent / "fixtures" / "kubesphere-v3.4.1"
OURS = "Okta"
PATH_KEYS = {"spec", "authentication", "oauthOptions", "identityProviders"}

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def load(name: str) -> dict:
    return yaml.safe_load((FIXTURES / name).read_text())


def our_entry(client_secret: str = "s3cret", **overrides) -> dict:
    options = {"console_url": "https://console.example.com", "issuer": "https://example.okta.com",
               "kubesphere_version": "3.4", **overrides}
    return render_v3_entry(IdentityProviderSettings(**options), "0oa1client", client_secret)


# --- strategies: JSON-like data as the Kubernetes API returns it ---------------------------------

keys = st.text(min_size=1, max_size=8).filter(lambda k: k not in PATH_KEYS)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
                           max_leaves=8)
other_fields = st.dictionaries(keys.filter(lambda k: k != "name"), json_values, max_size=4)


@st.composite
def other_providers(draw) -> dict:
    """Someone else's entry: any name but ours (or none), arbitrary fields in arbitrary order."""
    fields = draw(other_fields)
    name = draw(st.none() | st.text(max_size=10).filter(lambda n: n != OURS))
    if name is None:
        return fields
    position = draw(st.integers(0, len(fields)))
    items = list(fields.items())
    items.insert(position, ("name", name))
    return dict(items)


def _maybe(draw, strategy, nonempty: bool, required: bool = False):
    """A container's other content; None means the container is absent."""
    present = required or draw(st.booleans())
    if not present:
        return None
    return draw(strategy.filter(bool) if nonempty else strategy)


@st.composite
def cluster_configurations(draw, with_ours: bool | None = None, nonempty_containers: bool = False) -> dict:
    """A whole ClusterConfiguration: unrelated keys everywhere, containers on our path absent or
    present with other content, other providers, and our entry (when ``with_ours``) anywhere."""
    spec = dict(draw(st.dictionaries(keys, json_values, max_size=4)))
    authentication = _maybe(draw, st.dictionaries(keys, json_values, max_size=3), nonempty_containers, bool(with_ours))
    if authentication is not None:
        oauth_options = _maybe(draw, st.dictionaries(keys, json_values, max_size=3), False, bool(with_ours))
        if oauth_options is not None:
            providers = _maybe(draw, st.lists(other_providers(), max_size=4), nonempty_containers)
            ours = draw(st.booleans()) if with_ours is None else with_ours
            if ours:
                providers = list(providers or [])
                providers.insert(draw(st.integers(0, len(providers))), draw(our_entries()))
            if providers is not None:
                oauth_options = _insert(draw, oauth_options, "identityProviders", providers)
            if nonempty_containers and not oauth_options:
                oauth_options = None
        if oauth_options is not None:
            authentication = _insert(draw, authentication, "oauthOptions", oauth_options)
        spec = _insert(draw, spec, "authentication", authentication)
    return {
        "apiVersion": "installer.kubesphere.io/v1alpha1",
        "kind": "ClusterConfiguration",
        "metadata": {"name": "ks-installer", "namespace": "kubesphere-system", "resourceVersion": "1"},
        "spec": spec,
        "status": draw(st.dictionaries(keys, json_values, max_size=3)),
    }


def _insert(draw, mapping: dict, key: str, value) -> dict:
    items = list(mapping.items())
    items.insert(draw(st.integers(0, len(items))), (key, value))
    return dict(items)


@st.composite
def our_entries(draw) -> dict:
    return our_entry(
        client_secret=draw(st.text(min_size=1, max_size=12)),
        mapping_method=draw(st.sampled_from(["auto", "lookup"])),
        login_confirmation=draw(st.booleans()),
    )


def without_our_path(cc: dict) -> dict:
    """The object minus oauthOptions' list and the containers on the way, for comparing the rest."""
    rest = copy.deepcopy(cc)
    authentication = (rest.get("spec") or {}).get("authentication")
    if isinstance(authentication, dict):
        authentication.pop("oauthOptions", None)
    return rest


def other_entries(cc: dict) -> list:
    providers = ((cc["spec"].get("authentication") or {}).get("oauthOptions") or {}).get("identityProviders") or []
    return [p for p in providers if p.get("name") != OURS]


# --- properties ----------------------------------------------------------------------------------

@PROPERTY
@given(cluster_configurations(), our_entries())
def test_upsert_keeps_every_other_entry_and_key_in_order(cc, entry):
    before = copy.deepcopy(cc)
    merged = upsert_identity_provider(cc, entry)
    assert cc == before, "the input was mutated"
    assert other_entries(merged) == other_entries(cc)
    assert list(merged) == list(cc)
    spec_keys = list(cc["spec"]) + ([] if "authentication" in cc["spec"] else ["authentication"])
    assert list(merged["spec"]) == spec_keys
    for key in cc["spec"]:
        if key != "authentication":
            assert merged["spec"][key] == cc["spec"][key]
    auth_before = cc["spec"].get("authentication") or {}
    auth_after = merged["spec"]["authentication"]
    assert [k for k in auth_after if k != "oauthOptions"] == [k for k in auth_before if k != "oauthOptions"]
    options_before = auth_before.get("oauthOptions") or {}
    options_after = auth_after["oauthOptions"]
    assert {k: v for k, v in options_after.items() if k != "identityProviders"} == \
        {k: v for k, v in options_before.items() if k != "identityProviders"}
    assert list(options_after)[: len(options_before)] == list(options_before) or "identityProviders" not in options_before
    for key in ("metadata", "status", "apiVersion", "kind"):
        assert merged[key] == cc[key]


@PROPERTY
@given(cluster_configurations(), our_entries())
def test_upsert_puts_our_entry_once_exactly_as_given(cc, entry):
    merged = upsert_identity_provider(cc, entry)
    names = identity_provider_names(merged)
    assert names.count(OURS) == 1
    assert find_identity_provider(merged, OURS) == entry


@PROPERTY
@given(cluster_configurations(), our_entries())
def test_upsert_is_idempotent_and_the_second_one_needs_no_write(cc, entry):
    once = upsert_identity_provider(cc, entry)
    twice = upsert_identity_provider(once, entry)
    assert twice == once
    assert not needs_write(once, twice)


@PROPERTY
@given(cluster_configurations(with_ours=False, nonempty_containers=True), our_entries())
def test_upsert_then_remove_restores_the_original_when_ours_was_absent(cc, entry):
    restored = remove_identity_provider(upsert_identity_provider(cc, entry), OURS)
    assert restored == cc
    assert in_order(restored) == in_order(cc), "key order changed"


@PROPERTY
@given(cluster_configurations(with_ours=True), our_entries())
def test_upsert_over_our_existing_entry_replaces_it_in_place(cc, entry):
    position = identity_provider_names(cc).index(OURS)
    merged = upsert_identity_provider(cc, entry)
    assert identity_provider_names(merged).index(OURS) == position
    assert find_identity_provider(merged, OURS) == entry
    assert identity_provider_names(merged) == identity_provider_names(cc)


@PROPERTY
@given(cluster_configurations(with_ours=True))
def test_remove_takes_out_only_our_entry(cc):
    before = copy.deepcopy(cc)
    removed = remove_identity_provider(cc, OURS)
    assert cc == before, "the input was mutated"
    assert find_identity_provider(removed, OURS) is None
    assert other_entries(removed) == other_entries(cc)
    assert without_our_path(removed)["metadata"] == cc["metadata"]
    assert {k: v for k, v in removed["spec"].items() if k != "authentication"} == \
        {k: v for k, v in cc["spec"].items() if k != "authentication"}


@PROPERTY
@given(cluster_configurations(with_ours=False))
def test_remove_when_our_entry_is_absent_changes_nothing(cc):
    removed = remove_identity_provider(cc, OURS)
    assert removed == cc
    assert not needs_write(cc, removed)


@PROPERTY
@given(cluster_configurations(with_ours=False, nonempty_containers=True), our_entries(),
       st.fixed_dictionaries({}, optional={"accessTokenMaxAge": st.sampled_from(["1h", "45m"]),
                                           "accessTokenInactivityTimeout": st.sampled_from(["30m", "0"])}))
def test_upsert_with_oauth_options_then_remove_and_restore_gives_back_the_original(cc, entry, options):
    before = oauth_options_before(cc, options)
    merged = upsert_identity_provider(cc, entry, options)
    restored = restore_oauth_options(remove_identity_provider(merged, OURS), options, before)
    assert restored == cc


#: oauthOptions keys a caller sets (token lifetimes), and values that often coincide, so that "the
#: key still holds the value we set" is both true and false across examples. ``[]`` equals an
#: empty identityProviders list: naming that list as an option key must still never touch it.
TOKEN_KEYS = ("accessTokenMaxAge", "accessTokenInactivityTimeout", "maximumClockSkew")
TOKEN_VALUES = st.sampled_from(["1h", "2h", [], ["nested", {"depth": ["two"]}]])
#: Values that are containers holding containers: a shallow copy of one still shares its insides.
NESTED_VALUES = st.lists(st.dictionaries(keys, st.lists(scalars, max_size=2), min_size=1, max_size=2),
                         min_size=1, max_size=2)


def mutable_ids(value) -> dict[int, object]:
    """Every dict and list reachable from ``value``, by id (kept alive by the mapping itself)."""
    found: dict[int, object] = {}
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (dict, list)) and id(item) not in found:
            found[id(item)] = item
            stack.extend(item.values() if isinstance(item, dict) else item)
    return found


def assert_shares_nothing(result, *inputs) -> None:
    shared = mutable_ids(result).keys() & set().union(*(mutable_ids(i).keys() for i in inputs))
    assert not shared, "the result shares a dict or list with an input: editing one would change the other"


def oauth_options_of(cc: dict) -> dict | None:
    return ((cc.get("spec") or {}).get("authentication") or {}).get("oauthOptions")


@st.composite
def restore_cases(draw) -> tuple[dict, dict, dict]:
    """(ClusterConfiguration, what we set, what was there before us): token keys present or not,
    holding our value or one someone else set after us, identityProviders named as a key too."""
    cc = draw(cluster_configurations())
    options = oauth_options_of(cc)
    if options is not None:
        for key in draw(st.lists(st.sampled_from(TOKEN_KEYS), unique=True)):
            items = list(options.items())
            items.insert(draw(st.integers(0, len(items))), (key, draw(TOKEN_VALUES)))
            options = dict(items)
        cc["spec"]["authentication"]["oauthOptions"] = options
    set_by_us = draw(st.dictionaries(st.sampled_from((*TOKEN_KEYS, "identityProviders")), TOKEN_VALUES))
    before = draw(st.dictionaries(st.sampled_from(TOKEN_KEYS), TOKEN_VALUES))
    return cc, set_by_us, before


def restored_as_documented(cc: dict, set_by_us: dict, before: dict) -> dict:
    """restore_oauth_options' contract, spelled out key by key."""
    expected = copy.deepcopy(cc)
    options = oauth_options_of(expected)
    if options is None:
        return expected
    removed_any = False
    for key, ours in set_by_us.items():
        if key == "identityProviders" or key not in options or options[key] != ours:
            continue  # never the providers list; a key someone removed or changed after us is theirs
        if key in before:
            options[key] = before[key]
        else:
            del options[key]
            removed_any = True
    authentication = expected["spec"]["authentication"]
    if removed_any and not options:
        del authentication["oauthOptions"]
        if not authentication:
            del expected["spec"]["authentication"]
    return expected


class _EveryValueInPlace(yaml.SafeDumper):
    """Writes a value shared by two keys out twice instead of as an anchor and alias: the expected
    results these tests build may share one object where the code returns copies (which
    ``assert_shares_nothing`` requires), and only the keys' order is compared here."""

    def ignore_aliases(self, data):
        return True


def in_order(document) -> str:
    """``document`` as YAML in its own key order, for comparing the order of keys."""
    return yaml.dump(document, Dumper=_EveryValueInPlace, sort_keys=False)


@PROPERTY
@given(restore_cases())
def test_restore_returns_exactly_the_keys_still_ours_to_their_before_values(case):
    cc, set_by_us, before = case
    original = copy.deepcopy(cc)
    restored = restore_oauth_options(cc, set_by_us, before)
    assert cc == original, "the input was mutated"
    expected = restored_as_documented(cc, set_by_us, before)
    assert restored == expected
    assert in_order(restored) == in_order(expected), "key order changed"
    assert other_entries(restored) == other_entries(cc)
    assert_shares_nothing(restored, cc, set_by_us, before)


@PROPERTY
@given(cluster_configurations(with_ours=True), st.lists(st.sampled_from((*TOKEN_KEYS, "identityProviders"))))
def test_remove_never_deletes_the_providers_list_even_when_asked_to_as_an_option_key(cc, option_keys):
    removed = remove_identity_provider(cc, OURS, oauth_option_keys=option_keys)
    assert other_entries(removed) == other_entries(cc)
    assert find_identity_provider(removed, OURS) is None


@PROPERTY
@given(cluster_configurations(), our_entries(), st.dictionaries(st.sampled_from(TOKEN_KEYS), NESTED_VALUES),
       st.dictionaries(st.sampled_from(TOKEN_KEYS), NESTED_VALUES))
def test_no_result_shares_a_dict_or_list_with_what_it_was_made_from(cc, entry, options, earlier):
    merged = upsert_identity_provider(cc, entry, options)
    assert_shares_nothing(merged, cc, entry, options)
    assert_shares_nothing(find_identity_provider(merged, OURS), merged)
    assert_shares_nothing(oauth_options_before(merged, TOKEN_KEYS), merged)
    assert_shares_nothing(remove_identity_provider(merged, OURS, oauth_option_keys=options), merged)
    assert_shares_nothing(restore_oauth_options(merged, options, earlier), merged, options, earlier)


# --- examples ------------------------------------------------------------------------------------

def ldap_github_with_our_token_lifetimes() -> dict:
    """LDAP and GitHub entries, then ours, with two token lifetimes we set (none was there before)."""
    cc = load("cluster-configuration-ldap-github.yaml")
    del cc["spec"]["authentication"]["oauthOptions"]["accessTokenMaxAge"]
    return upsert_identity_provider(cc, our_entry(), {"accessTokenMaxAge": "1h", "accessTokenInactivityTimeout": "30m"})


def test_destroy_after_someone_deleted_our_token_lifetime_changes_nothing_and_does_not_fail():
    merged = ldap_github_with_our_token_lifetimes()
    del merged["spec"]["authentication"]["oauthOptions"]["accessTokenMaxAge"]  # another team's edit
    restored = restore_oauth_options(merged, {"accessTokenMaxAge": "1h"}, {})
    assert restored == merged


def test_restore_puts_back_a_later_key_when_an_earlier_one_was_changed_by_someone_else():
    merged = ldap_github_with_our_token_lifetimes()
    merged["spec"]["authentication"]["oauthOptions"]["accessTokenMaxAge"] = "8h"  # theirs now
    restored = restore_oauth_options(merged, {"accessTokenMaxAge": "1h", "accessTokenInactivityTimeout": "30m"},
                                     {"accessTokenInactivityTimeout": "10m"})
    options = restored["spec"]["authentication"]["oauthOptions"]
    assert options["accessTokenMaxAge"] == "8h" and options["accessTokenInactivityTimeout"] == "10m"


def test_restore_with_nothing_of_ours_left_keeps_an_empty_oauth_options_as_it_is():
    cc = load("cluster-configuration.yaml")
    cc["spec"]["authentication"]["oauthOptions"] = {}
    assert restore_oauth_options(cc, {"accessTokenMaxAge": "1h"}, {}) == cc


def test_restore_keeps_an_empty_providers_list_it_did_not_empty():
    cc = load("cluster-configuration.yaml")
    cc["spec"]["authentication"]["oauthOptions"] = {"accessTokenMaxAge": "1h", "identityProviders": []}
    restored = restore_oauth_options(cc, {"accessTokenMaxAge": "1h"}, {})
    assert restored["spec"]["authentication"]["oauthOptions"] == {"identityProviders": []}


def test_ldap_and_github_survive_identity_providers_named_as_an_option_key():
    merged = ldap_github_with_our_token_lifetimes()
    providers = copy.deepcopy(merged["spec"]["authentication"]["oauthOptions"]["identityProviders"])
    removed = remove_identity_provider(merged, OURS, oauth_option_keys=["identityProviders"])
    assert identity_provider_names(removed) == ["LDAP", "github"]
    restored = restore_oauth_options(merged, {"identityProviders": providers}, {})
    assert identity_provider_names(restored) == ["LDAP", "github", "Okta"]


def test_upsert_refuses_identity_providers_among_the_oauth_options():
    cc = load("cluster-configuration-ldap-github.yaml")
    with pytest.raises(ValueError, match="oauth_options must not hold identityProviders"):
        upsert_identity_provider(cc, our_entry(), {"identityProviders": []})


def test_check_passes_a_mergeable_configuration_and_refuses_what_no_operation_could_merge():
    cc = load("cluster-configuration-ldap-github.yaml")
    assert check(cc, OURS) is None
    assert check(upsert_identity_provider(cc, our_entry()), OURS) is None
    duplicated = upsert_identity_provider(cc, our_entry())
    duplicated["spec"]["authentication"]["oauthOptions"]["identityProviders"].append(our_entry())
    with pytest.raises(MalformedClusterConfiguration, match="2 entries named 'Okta'"):
        check(duplicated, OURS)
    with pytest.raises(MalformedClusterConfiguration, match="must be a list"):
        check({"spec": {"authentication": {"oauthOptions": {"identityProviders": "LDAP"}}}}, OURS)



def test_shipped_v341_configuration_gets_the_entry_where_kubesphere_reads_it():
    cc = load("cluster-configuration.yaml")
    merged = upsert_identity_provider(cc, our_entry(), {"accessTokenMaxAge": "1h"})
    authentication = merged["spec"]["authentication"]
    assert authentication["jwtSecret"] == ""
    assert authentication["oauthOptions"] == {"accessTokenMaxAge": "1h", "identityProviders": [our_entry()]}
    entry = authentication["oauthOptions"]["identityProviders"][0]
    assert entry["type"] == "OIDCIdentityProvider" and entry["mappingMethod"] == "auto"
    assert set(entry["provider"]) >= {"clientID", "clientSecret", "issuer", "redirectURL", "scopes"}


def test_ldap_and_github_providers_stay_first_and_ours_is_appended():
    cc = load("cluster-configuration-ldap-github.yaml")
    merged = upsert_identity_provider(cc, our_entry())
    assert identity_provider_names(merged) == ["LDAP", "github", "Okta"]
    assert merged["spec"]["authentication"]["oauthOptions"]["identityProviders"][:2] == \
        cc["spec"]["authentication"]["oauthOptions"]["identityProviders"]
    assert remove_identity_provider(merged, OURS) == cc


def test_v3_oauth_options_from_settings_land_next_to_identity_providers():
    settings = IdentityProviderSettings(console_url="https://c.example.com", issuer="https://e.okta.com",
                                        kubesphere_version="3.4", access_token_max_age="1h",
                                        access_token_inactivity_timeout="30m")
    merged = upsert_identity_provider(load("cluster-configuration.yaml"), our_entry(), v3_oauth_options(settings))
    options = merged["spec"]["authentication"]["oauthOptions"]
    assert options["accessTokenMaxAge"] == "1h" and options["accessTokenInactivityTimeout"] == "30m"


def test_remove_deletes_only_the_oauth_option_keys_it_is_given():
    cc = load("cluster-configuration-ldap-github.yaml")
    removed = remove_identity_provider(cc, OURS, oauth_option_keys=["accessTokenInactivityTimeout"])
    assert removed == cc
    removed = remove_identity_provider(cc, OURS, oauth_option_keys=["accessTokenMaxAge"])
    assert "accessTokenMaxAge" not in removed["spec"]["authentication"]["oauthOptions"]
    assert identity_provider_names(removed) == ["LDAP", "github"]


def test_restore_puts_back_a_token_lifetime_someone_else_had_set():
    cc = load("cluster-configuration-ldap-github.yaml")  # accessTokenMaxAge: 2h, set by someone else
    before = oauth_options_before(cc, ["accessTokenMaxAge"])
    merged = upsert_identity_provider(cc, our_entry(), {"accessTokenMaxAge": "1h"})
    assert merged["spec"]["authentication"]["oauthOptions"]["accessTokenMaxAge"] == "1h"
    restored = restore_oauth_options(remove_identity_provider(merged, OURS), {"accessTokenMaxAge": "1h"}, before)
    assert restored == cc


def test_restore_leaves_a_token_lifetime_changed_after_us_alone():
    merged = upsert_identity_provider(load("cluster-configuration.yaml"), our_entry(), {"accessTokenMaxAge": "1h"})
    merged["spec"]["authentication"]["oauthOptions"]["accessTokenMaxAge"] = "8h"  # another team's edit
    restored = restore_oauth_options(remove_identity_provider(merged, OURS), {"accessTokenMaxAge": "1h"}, {})
    assert restored["spec"]["authentication"]["oauthOptions"] == {"accessTokenMaxAge": "8h"}


def test_an_empty_list_that_held_only_our_entry_is_dropped_not_kept_empty():
    cc = load("cluster-configuration.yaml")
    cc["spec"]["authentication"]["oauthOptions"] = {"identityProviders": []}
    restored = remove_identity_provider(upsert_identity_provider(cc, our_entry()), OURS)
    assert restored["spec"]["authentication"] == {"jwtSecret": ""}


def test_null_containers_count_as_missing():
    cc = load("cluster-configuration.yaml")
    cc["spec"]["authentication"] = None
    merged = upsert_identity_provider(cc, our_entry())
    assert merged["spec"]["authentication"] == {"oauthOptions": {"identityProviders": [our_entry()]}}


def test_an_untouched_empty_list_is_kept_when_only_options_are_removed():
    cc = load("cluster-configuration.yaml")
    cc["spec"]["authentication"]["oauthOptions"] = {"accessTokenMaxAge": "1h", "identityProviders": []}
    removed = remove_identity_provider(cc, OURS, oauth_option_keys=["accessTokenMaxAge"])
    assert removed["spec"]["authentication"]["oauthOptions"] == {"identityProviders": []}


def test_a_missing_spec_is_created_on_upsert():
    merged = upsert_identity_provider({"metadata": {"name": "ks-installer"}}, our_entry())
    assert find_identity_provider(merged, OURS) == our_entry()


@pytest.mark.parametrize(
    "spec, where",
    [
        ({"authentication": {"oauthOptions": {"identityProviders": {"name": "Okta"}}}}, "must be a list"),
        ({"authentication": {"oauthOptions": {"identityProviders": "Okta"}}}, "must be a list"),
        ({"authentication": {"oauthOptions": {"identityProviders": ["LDAP"]}}}, r"identityProviders\[0\]"),
        ({"authentication": {"oauthOptions": []}}, "oauthOptions .* must be a mapping"),
        ({"authentication": "oidc"}, "authentication .* must be a mapping"),
        ({"authentication": {"oauthOptions": {"identityProviders": [{"name": "Okta"}, {"name": "Okta"}]}}},
         "2 entries named 'Okta'"),
    ],
)
def test_malformed_configuration_is_refused_by_every_operation(spec, where):
    cc = {"metadata": {"name": "ks-installer"}, "spec": spec}
    before = copy.deepcopy(cc)
    for operation in (
        lambda: upsert_identity_provider(cc, our_entry()),
        lambda: remove_identity_provider(cc, OURS),
        lambda: find_identity_provider(cc, OURS),
    ):
        with pytest.raises(MalformedClusterConfiguration, match=where):
            operation()
    assert cc == before


def test_malformed_messages_never_show_the_values_they_refuse():
    cc = {"spec": {"authentication": {"oauthOptions": {"identityProviders": {"name": "LDAP", "managerPassword": "hunter22"}}}}}
    with pytest.raises(MalformedClusterConfiguration) as raised:
        upsert_identity_provider(cc, our_entry())
    assert "hunter22" not in str(raised.value) and "it is a mapping" in str(raised.value)


def test_spec_that_is_not_a_mapping_is_refused():
    with pytest.raises(MalformedClusterConfiguration, match="spec .* must be a mapping"):
        upsert_identity_provider({"spec": ["x"]}, our_entry())


#: Each level on our path: how to put a value there, and the kind of value it must hold.
LEVELS = {
    "authentication": (lambda v: {"spec": {"authentication": v}}, dict),
    "oauthOptions": (lambda v: {"spec": {"authentication": {"oauthOptions": v}}}, dict),
    "identityProviders": (lambda v: {"spec": {"authentication": {"oauthOptions": {"identityProviders": v}}}}, list),
    r"identityProviders\[0\]": (lambda v: {"spec": {"authentication": {"oauthOptions": {"identityProviders": [v]}}}},
                                 dict),
}


@pytest.mark.parametrize("value, kind", [
    ({"a": 1}, "mapping"), (["a"], "list"), ("a", "string"), (True, "boolean"), (3, "number"),
    (1.5, "number"), (("a",), "tuple"),
])
def test_refusals_name_the_kind_of_value_found_at_each_level(value, kind):
    for where, (placed, expected) in LEVELS.items():
        if isinstance(value, expected):
            continue
        with pytest.raises(MalformedClusterConfiguration, match=f"^[a-zA-Z.]*{where} .* but it is a {kind};"):
            check(placed(value), OURS)


def test_a_configuration_that_is_not_an_object_is_refused_naming_its_type():
    with pytest.raises(MalformedClusterConfiguration, match="must be an object, got list"):
        upsert_identity_provider(["ks-installer"], our_entry())


def test_an_entry_that_is_not_a_mapping_is_refused_naming_its_kind():
    with pytest.raises(ValueError, match="non-empty name, got a list"):
        upsert_identity_provider(load("cluster-configuration.yaml"), ["Okta"])


def test_entry_without_a_name_is_a_programming_error():
    with pytest.raises(ValueError, match="non-empty name"):
        upsert_identity_provider(load("cluster-configuration.yaml"), {"type": "OIDCIdentityProvider"})


# --- token lifetimes set and removed by key ------------------------------------------------------

ABSENT = object()


def test_with_oauth_options_sets_and_removes_keys_and_keeps_everything_else():
    original = load("cluster-configuration-ldap-github.yaml")
    options = original["spec"]["authentication"]["oauthOptions"]
    changed = with_oauth_options(original, {"accessTokenMaxAge": "1h", "accessTokenInactivityTimeout": ABSENT}, ABSENT)
    assert original["spec"]["authentication"]["oauthOptions"] == options  # input untouched
    new = changed["spec"]["authentication"]["oauthOptions"]
    assert new["accessTokenMaxAge"] == "1h" and "accessTokenInactivityTimeout" not in new
    assert list(new) == [k for k in options if k != "accessTokenInactivityTimeout"]
    assert options_of(changed) == new and options_of(changed) is not new
    assert with_oauth_options(original, {}, ABSENT) == original


def test_with_oauth_options_removing_the_last_key_drops_the_containers_it_emptied():
    obj = {"spec": {"authentication": {"oauthOptions": {"accessTokenMaxAge": "1h"}}, "other": 1}}
    assert with_oauth_options(obj, {"accessTokenMaxAge": ABSENT}, ABSENT) == {"spec": {"other": 1}}
    kept = {"spec": {"authentication": {"jwtSecret": "", "oauthOptions": {"accessTokenMaxAge": "1h"}}}}
    assert with_oauth_options(kept, {"accessTokenMaxAge": ABSENT}, ABSENT) == {"spec": {"authentication": {"jwtSecret": ""}}}
    listed = {"spec": {"authentication": {"oauthOptions": {"accessTokenMaxAge": "1h", "identityProviders": []}}}}
    assert with_oauth_options(listed, {"accessTokenMaxAge": ABSENT}, ABSENT) == {
        "spec": {"authentication": {"oauthOptions": {"identityProviders": []}}}}


def test_with_oauth_options_removing_an_absent_key_changes_nothing_and_setting_creates_containers():
    bare = {"spec": {}}
    assert with_oauth_options(bare, {"accessTokenMaxAge": ABSENT}, ABSENT) == {"spec": {}}
    assert with_oauth_options(bare, {"accessTokenMaxAge": 7200}, ABSENT) == {
        "spec": {"authentication": {"oauthOptions": {"accessTokenMaxAge": 7200}}}}
    assert options_of(bare) == {}


def test_with_oauth_options_refuses_the_provider_list_and_a_malformed_object():
    with pytest.raises(ValueError, match="identityProviders"):
        with_oauth_options({"spec": {}}, {"identityProviders": []}, ABSENT)
    with pytest.raises(MalformedClusterConfiguration):
        with_oauth_options({"spec": {"authentication": []}}, {"accessTokenMaxAge": "1h"}, ABSENT)
    with pytest.raises(MalformedClusterConfiguration):
        options_of({"spec": {"authentication": {"oauthOptions": 3}}})


def test_oauth_options_are_copies_all_the_way_down():
    original = {"spec": {"authentication": {"oauthOptions": {"nested": {"a": [1]}}}}}
    copied = options_of(original)
    copied["nested"]["a"].append(2)
    assert original["spec"]["authentication"]["oauthOptions"] == {"nested": {"a": [1]}}
    value = {"b": [1]}
    changed = with_oauth_options({"spec": {}}, {"nested": value}, ABSENT)
    value["b"].append(2)
    assert changed == {"spec": {"authentication": {"oauthOptions": {"nested": {"b": [1]}}}}}


@pytest.mark.parametrize("obj, role", [
    ({"spec": {"multicluster": {"clusterRole": "member"}}}, "member"),
    ({"spec": {"multicluster": {"clusterRole": "host"}}}, "host"),
    ({"spec": {"multicluster": {}}}, None),
    ({"spec": {"multicluster": "member"}}, None),
    ({"spec": None}, None),
    ("member", None),
])
def test_cluster_role_is_read_where_ks_installer_reads_it(obj, role):
    assert cluster_role(obj) == role


def test_a_member_clusters_configuration_is_refused_with_where_to_point_instead():
    member = {"spec": {"multicluster": {"clusterRole": "member"}, "authentication": {"oauthOptions": {}}}}
    expected = (
        "kubesphere-system/ks-installer has spec.multicluster.clusterRole: member: this cluster is a member of a "
        "multi-cluster KubeSphere, whose logins the host cluster serves. Identity providers belong in the host "
        "cluster's ClusterConfiguration (the one with clusterRole: host); on a member, ks-installer ignores them "
        "(3.2) or renders them next to its own accessTokenMaxAge: 0 (3.3, 3.4). Point the stack's kubeconfig "
        "context at the host cluster (this project changed nothing)")
    assert member_cluster_problem(member) == expected
    with pytest.raises(MemberCluster) as raised:
        check(member, "Okta")
    assert str(raised.value) == expected
    host = {"spec": {"multicluster": {"clusterRole": "host"}, "authentication": {"oauthOptions": {}}}}
    assert member_cluster_problem(host) is None
    check(host, "Okta")

