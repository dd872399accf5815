"""The pure 3.x merge: our entry in, our entry out, everything else of the ClusterConfiguration kept."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubesphere_okta.cluster_configuration import (
    MalformedClusterConfiguration,
    find_identity_provider,
    identity_provider_names,
    needs_write,
    oauth_options_before,
    remove_identity_provider,
    restore_oauth_options,
    upsert_identity_provider,
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
    assert yaml.safe_dump(restored, sort_keys=False) == yaml.safe_dump(cc, sort_keys=False), "key order changed"


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


# --- examples ------------------------------------------------------------------------------------

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


def test_entry_without_a_name_is_a_programming_error():
    with pytest.raises(ValueError, match="non-empty name"):
        upsert_identity_provider(load("cluster-configuration.yaml"), {"type": "OIDCIdentityProvider"})
