"""The 3.x entry's ledger: what it holds on a cluster, what goes back, and junk that never crashes."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubesphere_okta import entry_ledger as L
from kubesphere_okta.cluster_configuration import oauth_options_of, with_oauth_options

PROPERTY = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
A, B, C = L.owner_for("Okta"), L.owner_for("Okta2"), L.owner_for("Okta3")
KEY = "accessTokenMaxAge"


def entry(name="Okta", issuer="https://example.okta.com", client_id="0oa1client", type_="OIDCIdentityProvider", **more):
    return {"name": name, "type": type_, "mappingMethod": "auto",
            "provider": {"issuer": issuer, "clientID": client_id, "clientSecret": "s"}, **more}


def cluster(options=None, annotation=None) -> dict:
    obj = {"apiVersion": "installer.kubesphere.io/v1alpha1", "kind": "ClusterConfiguration",
           "metadata": {"name": "ks-installer", "namespace": "kubesphere-system"},
           "spec": {"authentication": {"jwtSecret": "", "oauthOptions": dict(options or {})}}}
    if annotation is not None:
        obj["metadata"]["annotations"] = {L.ANNOTATION: annotation}
    return obj


def apply(obj: dict, ledger: dict, changes: dict) -> dict:
    """What the provider writes in one PUT: the changed token lifetimes and the ledger."""
    return L.with_ledger(with_oauth_options(obj, changes, L.ABSENT), ledger)


def set_(obj: dict, owner: str, wanted: dict) -> dict:
    ledger = L.read(obj, owner=owner, name="unused")
    ledger, changes = L.set_options(ledger, owner, oauth_options_of(obj), wanted)
    return apply(obj, ledger, changes)


def leave(obj: dict, owner: str) -> dict:
    ledger = L.read(obj, owner=owner, name="unused")
    ledger, changes = L.leave_options(ledger, owner, oauth_options_of(obj))
    return apply(obj, ledger, changes)


# --- token lifetimes ----------------------------------------------------------------------------


@pytest.mark.parametrize("order", [(A, B), (B, A)])
def test_two_integrations_destroyed_in_either_order_leave_the_clusters_own_value(order):
    obj = set_(set_(cluster({KEY: "2h"}), A, {KEY: "1h"}), B, {KEY: "30m"})
    assert oauth_options_of(obj)[KEY] == "30m"
    first, last = order
    obj = leave(obj, first)
    assert oauth_options_of(obj)[KEY] == ("30m" if first == A else "1h")
    obj = leave(obj, last)
    assert oauth_options_of(obj) == {KEY: "2h"}
    assert "annotations" not in obj["metadata"]


def test_a_key_that_was_absent_is_absent_again_and_empty_containers_go():
    obj = {"metadata": {"name": "ks-installer"}, "spec": {"authentication": {"jwtSecret": ""}}}
    obj = set_(obj, A, {KEY: "1h"})
    assert obj["spec"]["authentication"]["oauthOptions"] == {KEY: "1h"}
    assert leave(obj, A) == {"metadata": {"name": "ks-installer"}, "spec": {"authentication": {"jwtSecret": ""}}}


def test_a_value_someone_else_set_after_us_is_theirs_and_stays():
    obj = set_(cluster({KEY: "2h"}), A, {KEY: "1h"})
    obj["spec"]["authentication"]["oauthOptions"][KEY] = "3h"  # kubectl edit
    obj = leave(obj, A)
    assert oauth_options_of(obj) == {KEY: "3h"} and "annotations" not in obj["metadata"]


def test_a_value_someone_set_between_two_integrations_comes_back_when_the_upper_one_leaves():
    obj = set_(cluster({KEY: "2h"}), A, {KEY: "1h"})
    obj["spec"]["authentication"]["oauthOptions"][KEY] = "3h"
    obj = set_(obj, B, {KEY: "30m"})
    obj = leave(obj, B)
    assert oauth_options_of(obj) == {KEY: "3h"}
    assert L.restore_values(L.read(obj, owner=A, name="x"), KEY) == ["2h", "1h", "3h"]
    assert oauth_options_of(leave(obj, A)) == {KEY: "3h"}


def test_a_key_removed_by_someone_else_stays_removed():
    obj = set_(cluster({KEY: "2h"}), A, {KEY: "1h"})
    del obj["spec"]["authentication"]["oauthOptions"][KEY]
    assert KEY not in oauth_options_of(leave(obj, A))


def test_an_integration_that_stops_setting_a_key_gives_it_back():
    obj = set_(cluster({KEY: "2h", "accessTokenInactivityTimeout": "10m"}), A,
               {KEY: "1h", "accessTokenInactivityTimeout": "5m"})
    obj = set_(obj, A, {KEY: "1h"})
    assert oauth_options_of(obj) == {KEY: "1h", "accessTokenInactivityTimeout": "10m"}
    assert L.held_keys(L.read(obj, owner=A, name="x"), A) == [KEY]


def test_setting_again_what_is_in_force_changes_nothing():
    obj = set_(cluster({KEY: "2h"}), A, {KEY: "1h"})
    ledger = L.read(obj, owner=A, name="x")
    again, changes = L.set_options(ledger, A, oauth_options_of(obj), {KEY: "1h"})
    assert changes == {} and again == ledger


def test_the_last_writer_is_in_force_and_its_leaving_gives_back_the_one_below():
    obj = set_(set_(cluster({KEY: "2h"}), A, {KEY: "1h"}), B, {KEY: "30m"})
    obj = set_(obj, A, {KEY: "45m"})  # A writes again: on top now
    assert oauth_options_of(obj)[KEY] == "45m"
    assert oauth_options_of(leave(obj, A))[KEY] == "30m"


def test_identity_providers_is_never_a_token_lifetime():
    with pytest.raises(ValueError):
        L.set_options(L.empty(), A, {}, {"identityProviders": []})


@pytest.mark.parametrize("meanwhile", ["sets another key", "leaves"])
def test_what_another_integration_does_meanwhile_never_touches_a_key_it_does_not_hold(meanwhile):
    """Someone edits a token lifetime we hold and puts it back; meanwhile another integration, which
    never set that key, sets a different key or leaves. The edit undone is no one's change: when we
    leave, the cluster's own value comes back."""
    obj = set_(cluster({KEY: "2h"}), B, {KEY: "1h"})
    obj["spec"]["authentication"]["oauthOptions"][KEY] = "3h"  # kubectl edit...
    obj = set_(obj, A, {"accessTokenInactivityTimeout": "5m"}) if meanwhile == "sets another key" else leave(obj, A)
    obj["spec"]["authentication"]["oauthOptions"][KEY] = "1h"  # ... undone
    assert oauth_options_of(leave(leave(obj, B), A)) == {KEY: "2h"}


@pytest.mark.parametrize("in_force", ["1h", None])
def test_a_value_an_earlier_release_set_comes_back_when_a_later_integration_leaves(in_force):
    """A record of the format before the ledger does not say which value its integration set: the
    value found on the cluster when a newer integration first writes over it is taken as that one,
    and comes back (or stays absent) when the newer one leaves; the value before both comes back
    when the older one leaves too."""
    old = json.dumps({"Okta": {"keys": [KEY], "before": {KEY: "2h"}}})
    obj = cluster({} if in_force is None else {KEY: in_force}, annotation=old)
    obj = set_(obj, B, {KEY: "30m"})
    assert oauth_options_of(obj) == {KEY: "30m"}
    obj = leave(obj, B)
    assert oauth_options_of(obj) == ({} if in_force is None else {KEY: in_force})
    assert oauth_options_of(leave(obj, A)) == {KEY: "2h"} and "annotations" not in leave(obj, A)["metadata"]


values = st.sampled_from(["1h", "2h", "30m", "45m", 3600, 7200]) | st.none()
owners = st.sampled_from([A, B, C])
operations = st.lists(
    st.tuples(st.sampled_from(["set", "leave", "foreign", "retry"]), owners, values), max_size=12)


@PROPERTY
@given(initial=st.none() | values, operations=operations)
def test_what_the_cluster_had_before_the_first_integration_is_what_it_has_after_the_last(initial, operations):
    """Any interleaving of integrations setting, re-setting and leaving, with each PUT possibly
    applied twice (a lost answer, run again): while some hold the key, the last writer's value is
    in force; when the last leaves, the cluster's own value (or the last change made by someone
    else while we held it) is back, and the ledger holds nothing."""
    obj = cluster({} if initial is None else {KEY: initial})
    expected_after = initial  # None: absent
    holding: list[tuple[str, object]] = []  # (owner, value), last writer last
    last = None
    for kind, owner, value in operations:
        if kind == "retry" and last is not None:
            again = last[0](obj, *last[1:])
            assert again == obj  # the same operation run again changes nothing
            continue
        if kind == "foreign":  # kubectl edit, with a value no integration uses
            live = oauth_options_of(obj)
            value = None if value is None else f"other-{value}"
            if (KEY in live and live[KEY] == value) or (value is None and KEY not in live):
                continue  # writing what is there already changes nothing
            options = obj["spec"].setdefault("authentication", {}).setdefault("oauthOptions", {})
            if value is None:
                options.pop(KEY, None)
            else:
                options[KEY] = value
            expected_after = value
            if holding:
                holding.append((None, value))
            last = None
            continue
        if kind == "set" and value is not None:
            obj = set_(obj, owner, {KEY: value})
            holding = [h for h in holding if h[0] != owner] + [(owner, value)]
            last = (set_, owner, {KEY: value})
        else:
            obj = leave(obj, owner)
            if holding and holding[-1][0] == owner:
                holding.pop()
                holding = [h for h in holding if h[0] != owner]
            else:
                holding = [h for h in holding if h[0] != owner]
            if not any(h[0] is not None for h in holding):
                holding = []
            last = (leave, owner)
        in_force = holding[-1][1] if holding else expected_after
        assert oauth_options_of(obj).get(KEY) == in_force
    for owner in (A, B, C):
        obj = leave(obj, owner)
    assert oauth_options_of(obj).get(KEY) == expected_after
    assert "annotations" not in obj["metadata"]


@PROPERTY
@given(steps=operations, current=st.dictionaries(st.sampled_from([KEY, "accessTokenInactivityTimeout"]),
                                                values | st.lists(st.integers(), max_size=2), max_size=2),
       wanted=st.dictionaries(st.sampled_from([KEY, "accessTokenInactivityTimeout"]),
                              st.sampled_from(["1h", "5m"]) | st.lists(st.integers(), max_size=2), max_size=2),
       owner=owners)
def test_no_function_changes_the_ledger_or_the_values_it_is_given(steps, current, wanted, owner):
    """The provider decides from one ledger read per write, in several steps: no step may change
    what it was given (the ledger, the cluster's values, the values wanted)."""
    obj = cluster()
    for kind, who, value in steps:
        obj = set_(obj, who, {KEY: value}) if kind == "set" and value is not None else leave(obj, who)
    ledger = L.record_entry(L.read(obj, owner=owner, name="unused"), owner, entry(), adopting=entry(client_id="x"))
    given_ = copy.deepcopy((ledger, current, wanted))
    L.set_options(ledger, owner, current, wanted)
    L.leave_options(ledger, owner, current)
    L.seed(ledger, owner, current, wanted, {KEY: "2h"})
    L.seed(L.empty(), owner, current, current, {KEY: "2h"})
    L.record_entry(ledger, owner, entry(name="Okta9"), keep_adopted=False)
    L.forget_entry(ledger, owner)
    assert (ledger, current, wanted) == given_


# --- the annotation -----------------------------------------------------------------------------


def test_the_ledger_survives_its_own_annotation_and_is_removed_when_empty():
    ledger = L.record_entry(L.empty(), A, entry(), adopting=entry(client_id="theirs", extra=None))
    ledger, _ = L.set_options(ledger, A, {KEY: "2h"}, {KEY: "1h"})
    obj = L.with_ledger(cluster(), ledger)
    assert L.read(obj, owner=A, name="Okta") == ledger
    assert json.loads(obj["metadata"]["annotations"][L.ANNOTATION])["version"] == 2
    assert "annotations" not in L.with_ledger(obj, L.empty())["metadata"]
    other = cluster()
    other["metadata"]["annotations"] = {"keep": "me", L.ANNOTATION: obj["metadata"]["annotations"][L.ANNOTATION]}
    assert L.with_ledger(other, L.empty())["metadata"]["annotations"] == {"keep": "me"}


def test_equal_ledgers_render_one_text_whatever_order_they_were_built_in():
    """The annotation is compared as text before a write (a write that changes nothing is not made:
    ks-installer re-runs on every write), so a ledger equal to the one on the cluster must render
    the very same text, however its records came to be."""
    def build(first, second):
        ledger = L.empty()
        for owner, name, key in (first, second):
            ledger = L.record_entry(ledger, owner, entry(name=name), adopting=entry(name=name, client_id="theirs"))
            ledger = L.set_options(ledger, owner, {}, {key: "1h"})[0]
        return ledger

    a, b = (A, "Okta", KEY), (B, "Okta2", "accessTokenInactivityTimeout")
    one, other = build(a, b), build(b, a)
    assert one == other and list(one["entries"]) != list(other["entries"])
    assert L.render(one) == L.render(other)
    assert L.render(one) == json.dumps(json.loads(L.render(other)), sort_keys=True)


ledgers = st.sampled_from([L.empty(), L.record_entry(L.empty(), A, entry(), adopting=entry(client_id="theirs")),
                           L.set_options(L.empty(), A, {KEY: "2h"}, {KEY: "1h"})[0]])
objects = st.fixed_dictionaries({"spec": st.just({})}, optional={
    "metadata": st.fixed_dictionaries({"name": st.just("ks-installer")}, optional={
        "annotations": st.dictionaries(st.sampled_from(["keep", "me", L.ANNOTATION]), st.just("{}"), max_size=2)})})


@PROPERTY
@given(obj=objects, ledger=ledgers)
def test_a_ledger_written_into_any_object_is_read_back_and_nothing_else_changes(obj, ledger):
    """With or without metadata or annotations (the reader accepts objects without them), the
    ledger written is the ledger read, and every other annotation and field is kept."""
    before = copy.deepcopy(obj)
    written = L.with_ledger(obj, ledger)
    assert obj == before
    assert L.read(written, owner=A, name="Okta") == ledger
    others = {k: v for k, v in (obj.get("metadata") or {}).get("annotations", {}).items() if k != L.ANNOTATION}
    assert {k: v for k, v in L.annotations_of(written).items() if k != L.ANNOTATION} == others
    assert {k: v for k, v in written.items() if k != "metadata"} == {k: v for k, v in obj.items() if k != "metadata"}
    assert {k: v for k, v in written["metadata"].items() if k != "annotations"} == {
        k: v for k, v in obj.get("metadata", {}).items() if k != "annotations"}


def test_an_adopted_entry_comes_back_byte_for_byte():
    theirs = json.loads('{"name": "Okta", "type": "LDAPIdentityProvider", "mappingMethod": null, '
                        '"provider": {"port": 389, "ratio": 1.0, "z": [], "a": {"b": null}}}')
    ledger = L.record_entry(L.empty(), A, entry(), adopting=theirs)
    back = L.adopted(L.read(L.with_ledger(cluster(), ledger), owner=A, name="Okta"), A)
    assert json.dumps(back) == json.dumps(theirs)
    assert list(back) == ["name", "type", "mappingMethod", "provider"] and back["mappingMethod"] is None
    assert type(back["provider"]["port"]) is int and type(back["provider"]["ratio"]) is float


def test_recording_again_keeps_the_adopted_entry_unless_told_not_to():
    ledger = L.record_entry(L.empty(), A, entry(), adopting=entry(client_id="theirs"))
    assert L.adopted(L.record_entry(ledger, A, entry(client_id="new")), A)["provider"]["clientID"] == "theirs"
    assert L.adopted(L.record_entry(ledger, A, entry(name="Okta9"), keep_adopted=False), A) is None
    assert L.record_entry(ledger, A, entry(name="Okta9"))["entries"][A]["name"] == "Okta9"
    assert L.adopted(L.empty(), A) is None and L.adopted_text(L.empty(), A) is None
    assert L.adopted_text(ledger, A) == json.dumps(entry(client_id="theirs"))
    assert L.forget_entry(ledger, A) == L.empty() and ledger["entries"][A]  # never mutates its input


def test_forgetting_an_integration_that_recorded_no_entry_changes_nothing():
    """A stack of a release before the ledger has no record on the cluster: its destroy forgets it all the same."""
    ledger = L.record_entry(L.empty(), B, entry(name="Okta2"))
    assert L.forget_entry(ledger, A) == ledger and L.forget_entry(L.empty(), A) == L.empty()


def test_the_format_of_earlier_releases_is_read_and_its_values_come_back():
    old = json.dumps({"Okta": {"keys": [KEY, "accessTokenInactivityTimeout"], "before": {KEY: "2h"}}})
    obj = cluster({KEY: "1h", "accessTokenInactivityTimeout": "5m"}, annotation=old)
    ledger = L.read(obj, owner="kubesphere-system/ks-installer/Renamed", name="Okta")
    assert L.held_keys(ledger, "kubesphere-system/ks-installer/Renamed") == ["accessTokenInactivityTimeout", KEY]
    obj = leave(L.with_ledger(obj, ledger), "kubesphere-system/ks-installer/Renamed")
    assert oauth_options_of(obj) == {KEY: "2h"} and "annotations" not in obj["metadata"]


def test_a_record_of_an_earlier_release_under_another_name_belongs_to_that_name():
    old = json.dumps({"Okta2": {"keys": [KEY], "before": {}}})
    ledger = L.read(cluster({KEY: "1h"}, annotation=old), owner=A, name="Okta")
    assert L.held_keys(ledger, A) == [] and L.held_keys(ledger, B) == [KEY]
    assert L.restore_values(ledger, KEY) == [L.ABSENT, L.ABSENT]
    after, changes = L.leave_options(ledger, B, {KEY: "1h"})
    assert changes == {KEY: L.ABSENT} and after["options"] == {}


def test_no_annotation_is_an_empty_ledger():
    assert L.read(cluster(), owner=A, name="Okta") == L.empty()
    assert L.read({"spec": {}}, owner=A, name="Okta") == L.empty()
    assert L.read({"metadata": {"annotations": None}}, owner=A, name="Okta") == L.empty()
    assert L.render(L.empty()) is None


JUNK = [
    ('{"Okta": "2h"}', "['Okta'] must be an object with keys and before"),
    ('{"Okta": {"keys": 1}}', "['Okta'].keys must be a list of oauthOptions keys"),
    ('{"Okta": {"keys": ["identityProviders"]}}', "['Okta'].keys must be a list of oauthOptions keys"),
    ('{"Okta": {"keys": [], "before": []}}', "['Okta'].before must be an object"),
    ('{"Okta": {"before": {}}}', "['Okta'].keys must be a list of oauthOptions keys"),  # releases wrote both
    ('{"Okta": {"keys": ["accessTokenMaxAge"]}}', "['Okta'].before must be an object"),
    ("not json", "the value is not valid JSON"),
    ("[1]", "the value must be a JSON object"),
    ('{"version": 3}', "version is 3; this release reads version 2"),
    ('{"version": 2, "entries": []}', "entries must be an object"),
    ('{"version": 2, "options": 1}', "options must be an object"),
    ('{"version": 2, "entries": {"x": 1}}', "entries['x'] must be an object"),
    ('{"version": 2, "entries": {"x": {"name": ""}}}', "entries['x'].name must be a non-empty string"),
    ('{"version": 2, "entries": {"x": {"name": "a", "identity": {"type": 1}}}}', "entries['x'].identity must be an object of strings"),
    ('{"version": 2, "entries": {"x": {"name": "a", "identity": []}}}', "entries['x'].identity must be an object of strings"),
    ('{"version": 2, "entries": {"x": {"name": "a", "identity": {}, "adopted": {}}}}', "entries['x'].adopted must be the adopted entry as a string of JSON"),
    ('{"version": 2, "entries": {"x": {"name": "a", "identity": {}, "adopted": "{"}}}', "entries['x'].adopted is not valid JSON"),
    ('{"version": 2, "entries": {"x": {"name": "a", "identity": {}, "adopted": "{}"}}}', "entries['x'].adopted must be an entry with a name"),
    ('{"version": 2, "options": {"identityProviders": {"layers": [{"owner": null}]}}}', "options['identityProviders'] names the identity-provider list"),
    ('{"version": 2, "options": {"k": {"layers": []}}}', "options['k'].layers must be a non-empty list"),
    ('{"version": 2, "options": {"k": []}}', "options['k'].layers must be a non-empty list"),
    ('{"version": 2, "options": {"k": {"layers": [{"owner": 1}]}}}', "options['k'].layers[0] must be an object with an owner"),
    ('{"version": 2, "options": {"k": {"layers": [{"owner": null}, 2]}}}', "options['k'].layers[1] must be an object with an owner"),
    ('{"version": 2, "options": {"k": {"layers": [{"owner": "x"}]}}}', "options['k'].layers[0] must be the cluster's own value"),
]


def test_a_ledger_error_says_exactly_how_to_remove_the_annotation_and_what_that_costs():
    with pytest.raises(L.LedgerError) as refused:
        L.read(cluster(annotation="not json"), owner=A, name="Okta")
    assert str(refused.value) == (
        "ClusterConfiguration kubesphere-system/ks-installer: annotation kubesphere-okta.io/oauth-options-before, "
        "the value is not valid JSON. It was not written by kubesphere-okta, or was edited by hand. Correct it, or "
        "remove it with `kubectl -n kubesphere-system annotate clusterconfiguration ks-installer "
        "kubesphere-okta.io/oauth-options-before-` (what it records is then not put back on destroy). "
        "Nothing was written.")


@pytest.mark.parametrize("text, field", JUNK)
def test_junk_in_the_annotation_is_one_message_naming_the_object_annotation_and_field(text, field):
    with pytest.raises(L.LedgerError) as refused:
        L.read(cluster(annotation=text), owner=A, name="Okta")
    message = str(refused.value)
    assert message.startswith(f"ClusterConfiguration kubesphere-system/ks-installer: annotation {L.ANNOTATION}, ")
    assert field in message and f"annotate clusterconfiguration ks-installer {L.ANNOTATION}-" in message
    assert "Nothing was written" in message


@pytest.mark.parametrize("obj, field", [
    ([], "must be an object, got list"),
    ({"metadata": []}, "metadata must be a mapping"),
    ({"metadata": {"annotations": ["a"]}}, "metadata.annotations must be a mapping"),
    ({"metadata": {"annotations": {L.ANNOTATION: 3}}}, "the value must be a string of JSON"),
])
def test_a_malformed_object_is_one_message_naming_the_field(obj, field):
    with pytest.raises(L.LedgerError) as refused:
        L.read(obj, owner=A, name="Okta")
    assert field in str(refused.value) and "ClusterConfiguration kubesphere-system/ks-installer" in str(refused.value)


json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=6)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.sampled_from(["version", "entries", "options", "layers", "owner",
                                                              "value", "name", "identity", "adopted", "keys",
                                                              "before", KEY, "Okta", A]), inner, max_size=4),
                           max_leaves=10)


@PROPERTY
@given(document=json_values, current=st.dictionaries(st.sampled_from([KEY, "accessTokenInactivityTimeout"]),
                                                     json_scalars, max_size=2))
def test_any_annotation_is_a_ledger_or_one_ledger_error_and_a_ledger_always_works(document, current):
    obj = cluster(current, annotation=json.dumps(document))
    try:
        ledger = L.read(obj, owner=A, name="Okta")
    except L.LedgerError:
        return
    for owner in (A, B):
        ledger, changes = L.set_options(ledger, owner, current, {KEY: "1h"})
        ledger = L.record_entry(ledger, owner, entry())
        L.adopted(ledger, owner)
        L.whose(ledger, owner, entry(client_id="x"), entry())
        ledger, changes = L.leave_options(ledger, owner, current)
    assert L.read(L.with_ledger(cluster(current), ledger), owner=A, name="Okta") == ledger


# --- whose is an entry --------------------------------------------------------------------------


def test_whose_an_entry_is():
    ours = entry()
    assert L.whose(L.empty(), A, None, ours) == "none"
    assert L.whose(L.empty(), A, entry(mappingMethod="lookup"), ours) == "ours"  # settings are ours to set
    assert L.whose(L.empty(), A, entry(client_id="theirs"), ours) == "foreign"
    assert L.whose(L.empty(), A, entry(issuer="https://other"), ours) == "foreign"
    assert L.whose(L.empty(), A, entry(type_="LDAPIdentityProvider"), ours) == "foreign"
    # Unknown client id (a preview before the Okta app exists): type and issuer decide.
    assert L.whose(L.empty(), A, entry(client_id="theirs"), ours, client_id_known=False) == "ours"
    # What we last wrote under that name (the ledger) is ours even after our client id changed...
    written = L.record_entry(L.empty(), A, entry(client_id="old"))
    assert L.whose(written, A, entry(client_id="old"), ours) == "ours"
    # ... but not an entry that only another owner's record, or another name, describes.
    assert L.whose(written, B, entry(client_id="old"), ours) == "foreign"
    renamed = L.record_entry(L.empty(), A, entry(name="Okta9", client_id="old"))
    assert L.whose(renamed, A, entry(client_id="old"), ours) == "foreign"
    # Without a ledger record: the state's record of what we wrote, when the caller trusts it.
    trusted = L.identity(entry(client_id="old"))
    assert L.whose(L.empty(), A, entry(client_id="old"), ours, trusted_identity=trusted) == "ours"
    assert L.whose(L.empty(), A, entry(client_id="other"), ours, trusted_identity=trusted) == "foreign"
    # The ledger wins over the state.
    assert L.whose(written, A, entry(client_id="state"), ours,
                   trusted_identity=L.identity(entry(client_id="state"))) == "foreign"


def test_identity_and_differences():
    assert L.identity(None) == {"type": None, "issuer": None, "clientID": None}
    assert L.identity({"type": 1, "provider": "x"}) == {"type": None, "issuer": None, "clientID": None}
    assert L.identity(entry()) == {"type": "OIDCIdentityProvider", "issuer": "https://example.okta.com",
                                   "clientID": "0oa1client"}
    assert L.differences(entry(client_id="x", issuer="i"), entry()) == ["issuer 'i'", "client id 'x'"]
    assert L.differences(entry(client_id="x", type_="T"), entry(), client_id_known=False) == ["type 'T'"]
    assert L.same_identity(entry(client_id="x"), entry(), client_id_known=False)
    assert not L.same_identity(entry(client_id="x"), entry())


def test_which_name_an_owner_holds():
    ledger = L.record_entry(L.empty(), A, entry(name="OktaX"))
    assert L.owned_name(ledger, A, "Okta") == "OktaX"
    assert L.owned_name(ledger, B, "Okta2") == "Okta2"
    assert L.owner_named(ledger, "OktaX") == A and L.owner_named(ledger, "Okta") is None
    both = L.record_entry(ledger, B, entry(name="OktaX"))
    assert L.owner_named(both, "OktaX") is None


def test_adopted_entries_of_earlier_state():
    assert L.adopted_from_state(None) is None and L.adopted_from_state({"x": 1}) is None
    assert L.adopted_from_state('{"name": "a"}') == '{"name": "a"}'
    assert L.adopted_from_state({"name": "a", "b": 1}) == '{"name": "a", "b": 1}'


def test_state_of_a_release_before_the_ledger_seeds_the_keys_it_still_holds():
    current = {KEY: "1h", "accessTokenInactivityTimeout": "changed-by-someone"}
    ledger = L.seed(L.empty(), A, current, {KEY: "1h", "accessTokenInactivityTimeout": "5m", "identityProviders": []},
                    {KEY: "2h"})
    assert L.held_keys(ledger, A) == [KEY] and L.restore_values(ledger, KEY) == ["2h", "1h"]
    absent_before = L.seed(L.empty(), A, current, {KEY: "1h"}, {})
    assert L.restore_values(absent_before, KEY) == [L.ABSENT, "1h"]
    # Each key is judged on its own: one someone changed since does not stop the next being seeded.
    in_order = L.seed(L.empty(), A, current, {"accessTokenInactivityTimeout": "5m", KEY: "1h"}, {KEY: "2h"})
    assert L.held_keys(in_order, A) == [KEY]
    recorded = L.set_options(L.empty(), B, current, {KEY: "1h"})[0]
    assert L.seed(recorded, A, current, {KEY: "1h"}, {KEY: "2h"}) == recorded  # a record wins


def test_an_entry_is_never_ours_by_matching_nothing():
    assert L.whose(L.empty(), A, {"name": "Okta"}, None) == "foreign"
    assert L.whose(L.empty(), A, {"name": "Okta"}, None, trusted_identity=L.identity({})) == "foreign"
    assert L.whose(L.empty(), A, {"name": "Okta", "type": "T"}, None, trusted_identity={"type": "T"}) == "ours"
    assert L.whose(L.empty(), A, {"name": "Okta", "type": "T"}, None, trusted_identity="T") == "foreign"
