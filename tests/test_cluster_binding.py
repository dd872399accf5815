"""``cluster_binding``, tested directly: which cluster a stack is bound to, which other 4.1
identity-provider Secrets define our provider name, which cluster selectors are refused, and why a
kubeconfig cannot be used (docs/cluster-binding.md).

The providers run a by-value copy of this module in another process, so only tests that call
``kubesphere_okta.cluster_binding`` here hold it (``make mutation MODULES=cluster_binding``).
Messages users act on are asserted whole, fix lines included.
"""

from __future__ import annotations

import base64
import re
from types import MappingProxyType

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kubesphere_okta import cluster_binding as binding
from kubesphere_okta.identity_provider import dump_v4_configuration
from tests.test_rules_cluster_binding import KUBECONFIG as RULES_KUBECONFIG

PROPERTY = settings(max_examples=60, deadline=None)

A = {"server": "https://10.0.0.1:6443", "kube_system_uid": "uid-a", "cluster_configuration_uid": "cc-a"}
B = {"server": "https://10.0.0.2:6443", "kube_system_uid": "uid-b", "cluster_configuration_uid": "cc-b"}

UIDS = st.sampled_from(["uid-a", "uid-b", "4f0c6e4e-1b2a-4c1d-9e55-0d3b8f3f9a11"])
#: What state may hold where a binding belongs: bindings, junk, and nothing.
RECORDED = st.one_of(
    st.none(), st.just({}), st.just("uid-a"), st.just([("kube_system_uid", "uid-a")]),
    st.fixed_dictionaries({"kube_system_uid": st.one_of(UIDS, st.just(""), st.none(), st.integers(0, 3))},
                          optional={"server": st.sampled_from(["https://a", "https://b", ""])}),
)
LIVE = st.fixed_dictionaries({}, optional={"kube_system_uid": st.one_of(UIDS, st.just("")),
                                           "server": st.sampled_from(["https://a", "https://b"]),
                                           "cluster_configuration_uid": st.sampled_from(["cc-1", "", None])})
REBIND = st.one_of(st.none(), st.just(""), UIDS, st.integers(0, 3))
#: KubeSphere 4.1 provider names are Kubernetes label values (rules.check_provider_name).
LABEL_VALUE = st.from_regex(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,20}[A-Za-z0-9])?", fullmatch=True)


def uid_of(value):
    return value.get("kube_system_uid") if isinstance(value, dict) else None


# --- naming a cluster ----------------------------------------------------------------------------


def test_a_cluster_is_named_by_its_api_server_and_kube_system_uid():
    assert binding.describe(A) == "https://10.0.0.1:6443 (kube-system uid uid-a)"
    assert binding.describe({"kube_system_uid": "uid-a"}) == "? (kube-system uid uid-a)"
    assert binding.describe({"server": "https://k", "kube_system_uid": ""}) == "https://k (kube-system uid ?)"


@pytest.mark.parametrize("nothing", [None, {}])
def test_no_binding_is_an_unknown_cluster(nothing):
    assert binding.describe(nothing) == "an unknown cluster"


# --- what counts as a binding --------------------------------------------------------------------


def test_a_binding_is_a_mapping_with_a_non_empty_kube_system_uid():
    assert binding.is_identity({"kube_system_uid": "uid-a"})
    assert binding.is_identity(MappingProxyType({"kube_system_uid": "uid-a"}))  # any Mapping, as state gives it
    for junk in (None, {}, "uid-a", [("kube_system_uid", "uid-a")], {"kube_system_uid": ""},
                 {"kube_system_uid": None}, {"kube_system_uid": 7}, {"server": "https://a"}):
        assert not binding.is_identity(junk), junk


# --- decide / check / binding_changed ------------------------------------------------------------


def test_nothing_recorded_is_a_first_write_whatever_the_cluster():
    for recorded in (None, {}, {"server": "https://a"}, {"kube_system_uid": ""}, "uid-a"):
        assert binding.decide(recorded, B) == "first"
        assert binding.decide(recorded, {}) == "first"


def test_the_same_kube_system_uid_at_a_new_address_is_the_same_cluster():
    assert binding.decide(A, {**A, "server": "https://lb.example.com", "cluster_configuration_uid": "cc-new"}) == "same"
    assert binding.decide(A, A, rebind="uid-b") == "same"  # a leftover rebind never moves a bound stack


def test_another_cluster_is_a_mismatch_unless_its_uid_was_accepted():
    assert binding.decide(A, B) == "mismatch"
    assert binding.decide(A, B, rebind="uid-b") == "rebind"
    assert binding.decide(A, B, rebind="uid-a") == "mismatch"  # accepting the old uid accepts nothing new
    assert binding.decide(A, B, rebind="") == "mismatch"
    assert binding.decide(A, {"server": "https://b"}, rebind="uid-b") == "mismatch"
    # A live identity without a uid is never accepted, even by an empty rebind value.
    assert binding.decide(A, {"server": "https://b", "kube_system_uid": ""}, rebind="") == "mismatch"


def test_only_a_string_rebind_value_accepts_a_cluster():
    # State and config carry strings; a value of another type equal to the live uid accepts nothing.
    assert binding.decide(A, {"kube_system_uid": 5}, rebind=5) == "mismatch"


@PROPERTY
@given(recorded=RECORDED, live=LIVE, rebind=REBIND)
def test_decide_follows_the_documented_rules(recorded, live, rebind):
    decision = binding.decide(recorded, live, rebind)
    if not binding.is_identity(recorded):
        assert decision == "first"
    elif recorded["kube_system_uid"] == live.get("kube_system_uid"):
        assert decision == "same"
    elif isinstance(rebind, str) and rebind and rebind == live.get("kube_system_uid"):
        assert decision == "rebind"
    else:
        assert decision == "mismatch"


@PROPERTY
@given(recorded=RECORDED, live=LIVE, rebind=REBIND)
def test_check_raises_the_mismatch_message_and_returns_every_other_decision(recorded, live, rebind):
    decision = binding.decide(recorded, live, rebind)
    if decision == "mismatch":
        with pytest.raises(binding.ClusterMismatch) as raised:
            binding.check("the entry", "delete", recorded, live, rebind)
        assert str(raised.value) == binding.mismatch_message("the entry", "delete", recorded, live)
    else:
        assert binding.check("the entry", "delete", recorded, live, rebind) == decision


def test_check_passes_the_rebind_value_on():
    assert binding.check("x", "write", A, B, "uid-b") == "rebind"
    with pytest.raises(binding.ClusterMismatch):
        binding.check("x", "write", A, B)


@PROPERTY
@given(recorded=RECORDED, planned=st.one_of(RECORDED, LIVE))
def test_a_binding_changes_exactly_when_the_planned_cluster_is_not_the_recorded_one(recorded, planned):
    # diff reports a change when update must record a new binding: a first binding or a rebind,
    # never the same cluster at a new address, never a planned value that is no binding.
    expected = binding.is_identity(planned) and binding.decide(recorded, planned) != "same"
    assert binding.binding_changed(recorded, planned) == expected


# --- the mismatch message and its fix line -------------------------------------------------------


def test_the_mismatch_message_names_both_clusters_the_cause_and_the_ways_out():
    assert binding.mismatch_message("the identity provider entry", "delete", A, B) == (
        "refusing to delete the identity provider entry: this stack wrote it to the cluster at "
        "https://10.0.0.1:6443 (kube-system uid uid-a), but the kubeconfig now reaches "
        "https://10.0.0.2:6443 (kube-system uid uid-b). Nothing was written or deleted. Most likely the "
        "kubeconfig or its context points at another cluster: check `kubectl config current-context`, "
        "KUBECONFIG, and this stack's kubernetes:kubeconfig / kubernetes:context. If the old cluster was "
        "really rebuilt and this one replaces it, accept it once with `pulumi config set "
        "kubesphere-okta:rebindCluster uid-b` and run `pulumi up`; if it is gone for good and you only want "
        "to forget it, see docs/cluster-binding.md (pulumi state delete)."
    )


def test_without_a_live_uid_the_fix_line_shows_where_the_uid_goes():
    message = binding.mismatch_message("x", "write", A, {"server": "https://b"})
    assert "but the kubeconfig now reaches https://b (kube-system uid ?). " in message
    assert "`pulumi config set kubesphere-okta:rebindCluster <kube-system uid>` and run `pulumi up`" in message


@PROPERTY
@given(recorded_uid=UIDS, live_uid=UIDS)
def test_applying_the_rebind_fix_line_literally_accepts_the_cluster_it_names(recorded_uid, live_uid):
    recorded, live = {"server": "https://a", "kube_system_uid": recorded_uid}, {"server": "https://b", "kube_system_uid": live_uid}
    if binding.decide(recorded, live) != "mismatch":
        return
    message = binding.mismatch_message("x", "write", recorded, live)
    key, value = re.search(r"`pulumi config set (\S+) (\S+)` and run `pulumi up`", message).groups()
    assert key == binding.REBIND_CONFIG_KEY == "kubesphere-okta:rebindCluster"
    assert binding.check("x", "write", recorded, live, rebind=value) == "rebind"


# --- what a write records ------------------------------------------------------------------------


def test_a_write_records_the_live_address_uid_and_object_uid():
    assert binding.updated(A, {**B, "other": "x"}) == B
    assert binding.updated(None, {"server": "https://b", "kube_system_uid": "uid-b"}) == \
        {"server": "https://b", "kube_system_uid": "uid-b"}


def test_a_write_records_no_empty_field():
    assert binding.updated(A, {"server": "", "kube_system_uid": "uid-a", "cluster_configuration_uid": None}) == \
        {"kube_system_uid": "uid-a"}
    assert binding.updated(A, {}) == {}


def test_recording_never_changes_what_it_was_given():
    live = dict(B)
    binding.updated(A, live)["server"] = "changed"
    assert live == B


# --- a 3.x entry that is not ours ----------------------------------------------------------------


def test_a_foreign_entry_is_refused_with_the_adopt_fix_line():
    assert binding.foreign_entry_message("Okta", ["issuer 'https://other.okta.com'", "client id '0oa2'"]) == (
        "the ClusterConfiguration already holds an identity provider named 'Okta' that this stack did not "
        "create (issuer 'https://other.okta.com', client id '0oa2'). Nothing was written. Choose another "
        "provider_name, or take it over with `pulumi config set kubesphere-okta:adoptExistingProvider true` "
        "(argument adopt_existing_provider): the entry is then replaced by ours, kept in state, and put back "
        "as it was on `pulumi destroy` (docs/cluster-binding.md)."
    )
    assert binding.ADOPT_CONFIG_KEY == "kubesphere-okta:adoptExistingProvider"


def test_renaming_onto_a_foreign_entry_is_refused_without_offering_adoption():
    message = binding.foreign_entry_message("Okta2", iter(["type 'LDAPIdentityProvider'"]), renaming_from="Okta")
    assert message == (
        "cannot rename identity provider 'Okta' to 'Okta2': the ClusterConfiguration already holds another "
        "provider named 'Okta2' (type 'LDAPIdentityProvider'), which this stack did not create and would "
        "otherwise overwrite and later delete. Choose another provider_name, or remove that entry first."
    )
    assert binding.foreign_entry_message("Okta", ["type 'x'"], renaming_from="") == \
        binding.foreign_entry_message("Okta", ["type 'x'"])


# --- 4.1: which Secret defines which provider name -----------------------------------------------


def data_secret(name: str, text: str, key: str = "configuration.yaml", type_: str = "config.kubesphere.io/identityprovider") -> dict:
    return {"metadata": {"name": name}, "type": type_, "data": {key: base64.b64encode(text.encode()).decode()}}


def test_a_secret_as_the_api_lists_it_defines_the_name_in_its_base64_configuration():
    text = "name: Okta\ntype: OIDCIdentityProvider\nprovider:\n  issuer: https://e.okta.com\n"
    assert binding.secret_provider_name(data_secret("s", text)) == "Okta"


def test_string_data_is_read_before_data_as_the_api_server_merges_them():
    secret = {"stringData": {"configuration.yaml": "name: New\n"}, **data_secret("s", "name: Old\n")}
    assert binding.secret_provider_name(secret) == "New"
    # stringData without our key (or not text) leaves data to decide
    assert binding.secret_provider_name({"stringData": {"other": "name: X\n"}, **data_secret("s", "name: Old\n")}) == "Old"
    assert binding.secret_provider_name({"stringData": {"configuration.yaml": 5}, **data_secret("s", "name: Old\n")}) == "Old"
    assert binding.secret_provider_name({"stringData": "name: X", **data_secret("s", "name: Old\n")}) == "Old"


def test_the_key_read_is_the_one_asked_for():
    secret = data_secret("s", "name: Okta\n", key="other.yaml")
    assert binding.secret_provider_name(secret) is None
    assert binding.secret_provider_name(secret, key="other.yaml") == "Okta"
    assert binding.secret_provider_name({"stringData": {"other.yaml": "name: Okta\n"}}, key="other.yaml") == "Okta"


@pytest.mark.parametrize("secret", [
    {},
    {"data": None},
    {"data": "bmFtZTogT2t0YQo="},
    {"data": {"configuration.yaml": None}},
    {"data": {"configuration.yaml": "not base64 !"}},
    {"data": {"configuration.yaml": "bmFtZTogT2t0YQo"}},  # missing padding: Go's decoder refuses it too
    {"data": {"configuration.yaml": "bmFt!ZTogT2t0YQo="}},  # a character outside the alphabet, ditto
    {"data": {"configuration.yaml": base64.b64encode(b"name: \xff\xfe\n").decode()}},  # not UTF-8
    {"stringData": {"configuration.yaml": "name: [Okta\n"}},  # not YAML
    {"stringData": {"configuration.yaml": "- name: Okta\n"}},  # not a mapping
    {"stringData": {"configuration.yaml": ""}},
    {"stringData": {"configuration.yaml": "type: OIDCIdentityProvider\n"}},  # no name
    {"stringData": {"configuration.yaml": "name: {first: Okta}\n"}},  # a name that is no text
    {"stringData": {"configuration.yaml": "name: [Okta]\n"}},
    {"stringData": {"configuration.yaml": "name:\n"}},  # null: KubeSphere reads the empty name
    {"stringData": {"configuration.yaml": "name: ~\n"}},
    {"stringData": {"configuration.yaml": "name: ''\n"}},
])
def test_a_secret_that_defines_no_readable_name_defines_none(secret):
    assert binding.secret_provider_name(secret) is None


@PROPERTY
@given(name=LABEL_VALUE, where=st.sampled_from(["data", "stringData"]))
def test_the_secret_this_project_writes_defines_its_provider_name(name, where):
    text = dump_v4_configuration({"name": name, "type": "OIDCIdentityProvider", "mappingMethod": "auto",
                                  "provider": {"issuer": "https://e.okta.com", "clientID": "0oa1"}})
    secret = data_secret("s", text) if where == "data" else {"stringData": {"configuration.yaml": text}}
    assert binding.secret_provider_name(secret) == name


@PROPERTY
@given(name=LABEL_VALUE)
def test_an_unquoted_name_is_read_as_kubesphere_reads_it_the_scalar_text(name):
    # KubeSphere 4.1 unmarshals configuration.yaml with gopkg.in/yaml.v3 into a struct whose Name is a
    # string (kubesphere/kubesphere@v4.1.3:pkg/apiserver/authentication/identityprovider/configuration.go,
    # UnmarshalFrom): any scalar is taken as its text (`name: 123` is provider "123", `name: on` is
    # "on"), and only a null is the empty name. PyYAML's YAML 1.1 types must not hide such a name.
    expected = None if name in ("null", "Null", "NULL") else name
    assert binding.secret_provider_name(data_secret("s", f"name: {name}\ntype: OIDCIdentityProvider\n")) == expected


@pytest.mark.parametrize("text, name", [
    ("name: 123\n", "123"), ("name: On\n", "On"), ("name: 1_000\n", "1_000"), ("name: 2024-01-01\n", "2024-01-01"),
    ("name: 1.50\n", "1.50"), ("name: '007'\n", "007"), ('name: "Okta"\n', "Okta"), ("name: !!str 12\n", "12"),
    # yaml.v3's Unmarshal reads the first document only
    ("name: Okta\n---\nname: Other\n", "Okta"), ("---\nname: Okta\n...\n--- [unclosed\n", "Okta"),
])
def test_a_name_kubesphere_reads_as_text_is_that_text(text, name):
    assert binding.secret_provider_name({"stringData": {"configuration.yaml": text}}) == name


@pytest.mark.parametrize("text", [
    "name: A\nname: B\n",
    "name: Okta\ntype: x\ntype: y\n",
    "name: Okta\nextra: 1\nextra: 2\n",  # every key of the document counts, known or not
    "name: Okta\nprovider:\n  issuer: https://a\n  issuer: https://b\n",
    "name: Okta\nprovider: {scopes: [{a: 1, a: 2}]}\n",
    "name: Okta\nprovider: {c: {d: 1, d: 2}, a: &p {k: 1}, b: *p}\n",  # a mapping met twice ends no search
])
def test_a_configuration_with_a_key_given_twice_defines_none(text):
    # gopkg.in/yaml.v3 decodes with unique keys ("mapping key ... already defined"), so Unmarshal fails
    # and KubeSphere's ListConfigurations skips the Secret: it defines no provider.
    assert binding.secret_provider_name({"stringData": {"configuration.yaml": text}}) is None


@pytest.mark.parametrize("text", [
    "name: Okta\n? [a]\n: 1\n",  # a key that is no text
    "? [name]\n: Okta\n",
    "name: Okta\nprovider: {? [a] : 1}\n",
    "name: Okta\nprovider: {x: {? {a: 1} : 1}}\n",
    "name: Okta\nprovider: &p {self: *p}\n",  # "anchor 'p' value contains itself"
    "name: Okta\nprovider: {x: [&l [*l]]}\n",
    "name: Okta\nprovider: https://e.okta.com\n",  # a map field given a scalar or a list
    "name: Okta\nprovider: [issuer]\n",
    "name: Okta\ntype: [OIDCIdentityProvider]\n",  # a string field given a list or a mapping
    "name: Okta\nmappingMethod: {auto: 1}\n",
    "name: Okta\ndisplayName: [Okta]\n",
    "name: Okta\nhidden: maybe\n",  # a bool field given what yaml.v3 cannot make a bool
    "name: Okta\nhidden: 1\n",
    "name: Okta\ndisabled: 'true'\n",
    "name: Okta\ndisabled: !!str false\n",
    "name: Okta\nhidden: [true]\n",
    "name: Okta\nhidden: ~\ntype: [x]\n",  # a null field before a bad one: every field is looked at
])
def test_a_configuration_yaml_v3_cannot_unmarshal_defines_none(text):
    assert binding.secret_provider_name({"stringData": {"configuration.yaml": text}}) is None


@pytest.mark.parametrize("text", [
    "name: Okta\nhidden: true\ndisabled: False\n", "name: Okta\nhidden: TRUE\n", "name: Okta\nhidden: yes\n",
    "name: Okta\nhidden: 'on'\n", "name: Okta\nhidden: y\ndisabled: N\n", "name: Okta\nhidden: ~\ndisabled:\n",
    "name: Okta\ndisabled: !!bool true\n", "name: Okta\nprovider: ~\n", "name: Okta\nprovider: {}\n",
    "name: Okta\ntype: 5\nmappingMethod: auto\ndisplayName: null\n",
    "name: &n Okta\ndisplayName: *n\n",
    "name: Okta\nprovider: &p {a: 1}\nx: *p\n",
    "name: Okta\nprovider: {a: &s {k: 1}, b: *s, c: [*s, *s]}\n",  # one mapping met again, not inside itself
    "name: Okta\nprovider: {1: a, true: b, x: [1, [2, {y: z}]]}\n",
    # keys yaml.v3 does not decode: nothing under them matters
    "name: Okta\nx: {a: 1, a: 2}\n", "name: Okta\nx: &a [*a]\n", "name: Okta\nx: {? [a] : 1}\n",
])
def test_a_configuration_yaml_v3_unmarshals_defines_its_name(text):
    assert binding.secret_provider_name({"stringData": {"configuration.yaml": text}}) == "Okta"


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8)
OPTIONS = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), TEXT),
                       lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
                       max_leaves=8)


@PROPERTY
@given(name=LABEL_VALUE, hidden=st.one_of(st.none(), st.booleans()), disabled=st.one_of(st.none(), st.booleans()),
       display=st.one_of(st.none(), TEXT), provider=st.one_of(st.none(), st.dictionaries(TEXT, OPTIONS, max_size=4)))
def test_any_configuration_a_yaml_writer_emits_defines_its_name(name, hidden, disabled, display, provider):
    configuration = {"name": name, "type": "OIDCIdentityProvider", "mappingMethod": "auto", "hidden": hidden,
                     "disabled": disabled, "displayName": display, "provider": provider}
    assert binding.secret_provider_name({"stringData": {"configuration.yaml": yaml.safe_dump(configuration)}}) == name


def test_a_mapping_shared_through_aliases_is_checked_once_never_expanded():
    # 30 levels, each a list of the level below twice: 2**30 nodes once expanded. A Secret anyone
    # may write must not stall the guard's check. (yaml.v3 refuses such "excessive aliasing", so
    # KubeSphere would skip it; it is read here as a name with a strange provider, never a hang.)
    levels = ["l0: &l0 {k: v}"] + [f"l{i}: &l{i} [*l{i - 1}, *l{i - 1}]" for i in range(1, 31)]
    text = "name: Okta\nprovider: {" + ", ".join(levels) + "}\n"
    assert binding.secret_provider_name({"stringData": {"configuration.yaml": text}}) == "Okta"


def test_a_deeply_nested_configuration_is_read_and_never_crashes():
    def nested(depth: int) -> str:
        return "name: Okta\nprovider: {x: " + "[" * depth + "]" * depth + "}\n"

    assert binding.secret_provider_name({"stringData": {"configuration.yaml": nested(400)}}) == "Okta"
    # Deeper than PyYAML can compose (yaml.v3 reads up to 10000 levels): unreadable here, no crash.
    assert binding.secret_provider_name({"stringData": {"configuration.yaml": nested(1000)}}) is None


@PROPERTY
@given(text=st.text(max_size=200), encoded=st.text(max_size=60))
def test_whatever_a_secret_holds_reading_it_never_raises(text, encoded):
    # Secrets in the cluster are anyone's: the guard's check must give an answer, never a traceback.
    for secret in ({"stringData": {"configuration.yaml": text}}, {"data": {"configuration.yaml": encoded}},
                   {"data": {"configuration.yaml": base64.b64encode(text.encode()).decode()}}):
        name = binding.secret_provider_name(secret)
        assert name is None or (isinstance(name, str) and name)


def test_only_other_secrets_with_our_provider_name_conflict_sorted_by_name():
    secrets = [
        data_secret("zz-okta", "name: Okta\n"),
        data_secret("identity-provider-okta", "name: Okta\n"),  # ours
        data_secret("aa-okta", "name: Okta\n"),
        data_secret("ldap", "name: LDAP\n"),
        data_secret("junk", "name: [\n"),
        {**data_secret("x", "name: Other\n"), "metadata": None},
        {"type": "config.kubesphere.io/identityprovider",
         "data": {"configuration.yaml": base64.b64encode(b"name: Other\n").decode()}},
    ]
    assert binding.conflicting_secrets(secrets, "Okta", "identity-provider-okta") == ["aa-okta", "zz-okta"]
    assert binding.conflicting_secrets(iter(secrets), "LDAP", "identity-provider-okta") == ["ldap"]
    assert binding.conflicting_secrets(secrets, "okta", "identity-provider-okta") == []  # names are case-sensitive
    assert binding.conflicting_secrets([], "Okta", "identity-provider-okta") == []


def test_only_secrets_of_kubesphere_s_identity_provider_type_define_a_provider():
    # KubeSphere's ListConfigurations skips a Secret of another type, even one with the label.
    secrets = [data_secret("opaque-okta", "name: Okta\n", type_="Opaque"),
               {k: v for k, v in data_secret("untyped-okta", "name: Okta\n").items() if k != "type"},
               data_secret("okta", "name: Okta\n")]
    assert binding.IDENTITY_PROVIDER_SECRET_TYPE == "config.kubesphere.io/identityprovider"
    assert binding.conflicting_secrets(secrets, "Okta", "identity-provider-okta") == ["okta"]
    assert binding.conflicting_secrets(secrets[:2], "Okta", "identity-provider-okta") == []


def test_a_conflicting_secret_is_refused_naming_every_secret_and_what_to_do():
    assert binding.conflicting_secret_message("Okta", "identity-provider-okta", ["a", "b"], "kubesphere-system") == (
        "KubeSphere already has an identity provider named 'Okta', defined by Secret kubesphere-system/a, "
        "kubesphere-system/b. Its webhook refuses a second Secret (kubesphere-system/identity-provider-okta) "
        "with the same provider name, so `pulumi up` would fail there. Choose another provider_name, or delete "
        "that Secret (or import it into this stack) first."
    )


def test_a_rename_inside_one_secret_is_refused_with_what_name_to_choose():
    assert binding.rename_in_place_message("Okta", "okta", "identity-provider-okta", "kubesphere-system") == (
        "cannot rename identity provider 'Okta' to 'okta': both live in Secret "
        "kubesphere-system/identity-provider-okta, and KubeSphere's webhook refuses to change the provider "
        "name inside an existing Secret (\"the provider name is immutable\"). Choose a name that differs by "
        "more than upper/lower case, '_' or '.', so the rename becomes a new Secret (a replace)."
    )


# --- selecting the cluster -----------------------------------------------------------------------

FIX = ("Pass kubeconfig= and kube_context= (the values you would give the kubernetes provider) and no kubernetes "
       "provider: the component builds its one provider from them, so every KubeSphere object reaches the same cluster.")


@pytest.mark.parametrize("kubeconfig, context, detail", [
    (False, False, "alone: the ks-installer entry and the cluster guards are written by this component's own "
                   "client, which cannot read which cluster a provider object reaches"),
    (True, False, "and kubeconfig: two selectors that may name different clusters"),
    (False, True, "and kube_context: two selectors that may name different clusters"),
    (True, True, "and kubeconfig and kube_context: two selectors that may name different clusters"),
])
def test_a_kubernetes_provider_in_opts_is_refused_with_what_to_pass_instead(kubeconfig, context, detail):
    assert binding.selection_problems(has_kubernetes_provider=True, kubeconfig_given=kubeconfig,
                                      kube_context_given=context) == [("opts", f"a kubernetes provider in opts {detail}. {FIX}")]


@pytest.mark.parametrize("kubeconfig, context", [(False, False), (True, False), (False, True), (True, True)])
def test_without_a_kubernetes_provider_in_opts_any_selector_is_fine(kubeconfig, context):
    assert binding.selection_problems(has_kubernetes_provider=False, kubeconfig_given=kubeconfig,
                                      kube_context_given=context) == []


def test_kubernetes_cluster_on_the_default_provider_is_warned_about_with_what_to_set_instead():
    assert binding.default_provider_warnings(explicit=False, cluster_override="blue") == [
        "kubernetes:cluster is set ('blue'): the default kubernetes provider writes the KubeSphere objects to "
        "that kubeconfig cluster, but the cluster guards, the 3.x entry and the role check reach the cluster of "
        "the context. Unset kubernetes:cluster and point kubernetes:context at a context for that cluster instead."
    ]


@pytest.mark.parametrize("explicit, override", [(True, "blue"), (False, None), (False, ""), (True, None)])
def test_no_warning_when_the_component_builds_its_provider_or_no_cluster_is_set(explicit, override):
    assert binding.default_provider_warnings(explicit=explicit, cluster_override=override) == []


# --- kubeconfig contents -------------------------------------------------------------------------

#: The rules tests' kubeconfig, without its current-context and with a token to look for.
KUBECONFIG = RULES_KUBECONFIG.replace("current-context: prod\n", "").replace("token: abc", "token: s3cr3t-token")


def test_usable_kubeconfig_contents_have_no_problem():
    assert binding.kubeconfig_problem(KUBECONFIG + "current-context: prod\n") is None
    assert binding.kubeconfig_problem(KUBECONFIG, "prod") is None


@pytest.mark.parametrize("contents", [None, "", "  \n\t", 5, b"apiVersion: v1\n"])
def test_no_contents_is_refused_asking_for_the_contents_or_the_path(contents):
    assert binding.kubeconfig_problem(contents) == "kubeconfig is empty: give the file's contents or its path"


def test_the_context_given_is_the_one_checked_and_the_fix_names_the_contexts_there_are():
    assert binding.kubeconfig_problem(KUBECONFIG, "staging") == (
        "the kubeconfig contents given (kubeconfig / kubernetes:kubeconfig): context 'staging' (kube_context / "
        "kubernetes:context) does not exist (contexts: 'prod'); set kube_context (kubernetes:context) to one of those")
    problem = binding.kubeconfig_problem(KUBECONFIG)
    assert problem == (
        "the kubeconfig contents given (kubeconfig / kubernetes:kubeconfig) has no current-context and no context "
        "was given: set kube_context (kubernetes:context) to one of its contexts ('prod')")
    named = re.search(r"one of its contexts \('([^']+)'\)", problem).group(1)
    assert binding.kubeconfig_problem(KUBECONFIG, named) is None  # the fix, applied, removes the problem


def test_a_problem_names_the_key_at_fault_and_never_a_credential():
    problem = binding.kubeconfig_problem(KUBECONFIG.replace("- name: prod\n  cluster:", "- name: prod\n  cluster: 5\n  x:", 1), "prod")
    assert problem is not None and "s3cr3t-token" not in problem
    assert binding.kubeconfig_problem("clusters: 5\n") == (
        "the kubeconfig contents given (kubeconfig / kubernetes:kubeconfig): clusters must be a list of {name, cluster} entries")


@pytest.mark.parametrize("text", ["~", "~/.kube/config"])
def test_contents_are_never_taken_for_a_path_even_one_in_the_home_folder(text, tmp_path):
    assert binding.kubeconfig_problem(text) == (
        f"the kubeconfig setting (kubeconfig / kubernetes:kubeconfig) {text!r} is neither the path of an existing "
        "file nor kubeconfig contents: give the path of an existing kubeconfig file, or its contents.")


def test_the_path_of_a_real_kubeconfig_file_is_not_its_contents(tmp_path):
    # kubeconfig_problem checks contents (rules.check_kubeconfig tells paths apart): a file on disk is
    # never read, so the check never depends on the machine it runs on.
    path = tmp_path / "config"
    path.write_text(KUBECONFIG + "current-context: prod\n")
    assert binding.kubeconfig_problem(str(path)) == (
        f"the kubeconfig setting (kubeconfig / kubernetes:kubeconfig) {str(path)!r} is neither the path of an "
        "existing file nor kubeconfig contents: give the path of an existing kubeconfig file, or its contents.")
