"""The 3.x dynamic provider against a local stand-in for the Kubernetes API (127.0.0.1 only)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kubesphere_okta import cluster_configuration as cc
from kubesphere_okta.identity_provider import IdentityProviderSettings, render_v3_entry
from kubesphere_okta.kubesphere_v3 import ClusterConfigurationError, ClusterConfigurationProvider
from tests.kubernetes_api_double import KubernetesApiDouble

FIXTURES = Path(__file__).parent / "fixtures" / "kubesphere-v3.4.1"
SECRET = "okta-client-secret-value"
#: The id create gives the entry, and so the id the engine passes to update, read and delete.
ID = "kubesphere-system/ks-installer/Okta"


def fixture(name: str = "cluster-configuration-ldap-github.yaml") -> dict:
    return yaml.safe_load((FIXTURES / name).read_text())


def entry(client_secret: str = SECRET, **overrides) -> dict:
    settings = IdentityProviderSettings(console_url="https://console.example.com", issuer="https://example.okta.com",
                                        kubesphere_version="3.4", **overrides)
    return render_v3_entry(settings, "0oa1client", client_secret)


def props(double: KubernetesApiDouble, **overrides) -> dict:
    base = {"provider_name": "Okta", "entry": entry(), "oauth_options": {}, "kubeconfig": double.kubeconfig()}
    return {**base, **overrides}


def as_engine_passes(outs: dict) -> dict:
    """What the engine hands back as olds: the outputs, None values dropped (as deserialisation does)."""
    return {k: v for k, v in copy.deepcopy(outs).items() if v is not None}


@pytest.fixture
def provider() -> ClusterConfigurationProvider:
    p = ClusterConfigurationProvider()
    p.retry_delays = (0.0, 0.0, 0.0)
    return p


@pytest.fixture
def ldap_github():
    with KubernetesApiDouble(fixture()) as double:
        yield double


def providers_in(double: KubernetesApiDouble) -> list:
    return double.object["spec"]["authentication"]["oauthOptions"]["identityProviders"]


def everything_but_our_entry(obj: dict) -> str:
    """The spec minus our entry, serialised byte for byte (key order included)."""
    spec = copy.deepcopy(obj["spec"])
    providers = spec["authentication"]["oauthOptions"]["identityProviders"]
    spec["authentication"]["oauthOptions"]["identityProviders"] = [p for p in providers if p.get("name") != "Okta"]
    return json.dumps(spec)


def test_create_appends_our_entry_after_the_other_providers_and_keeps_every_other_byte(provider, ldap_github):
    original = fixture()
    provider.create(props(ldap_github))
    assert [p["name"] for p in providers_in(ldap_github)] == ["LDAP", "github", "Okta"]
    assert providers_in(ldap_github)[2] == entry()
    assert everything_but_our_entry(ldap_github.object) == json.dumps(original["spec"])
    assert len(ldap_github.writes) == 1


def test_every_write_carries_the_resource_version_it_read(provider, ldap_github):
    provider.create(props(ldap_github))
    assert json.loads(ldap_github.writes[0])["metadata"]["resourceVersion"] == "1000"
    assert ldap_github.rejected_writes == []


def test_update_with_nothing_changed_makes_zero_writes(provider, ldap_github):
    outs = provider.create(props(ldap_github)).outs
    provider.update(ID, as_engine_passes(outs), props(ldap_github))
    assert len(ldap_github.writes) == 1


def test_create_when_the_entry_is_already_as_desired_changes_no_spec_and_then_nothing(provider, ldap_github):
    """ks-installer re-runs on a spec write only: the one write records, in our annotation, that
    the entry is ours (entry_ledger); the same create again (a lost checkpoint) writes nothing."""
    import json

    ldap_github.edit(lambda o: providers_in(ldap_github).append(entry()))
    spec = ldap_github.spec_bytes()
    provider.create(props(ldap_github))
    assert len(ldap_github.writes) == 1 and json.dumps(json.loads(ldap_github.writes[0])["spec"]) == spec
    provider.create(props(ldap_github))
    assert len(ldap_github.writes) == 1


def test_update_replaces_only_our_entry_in_place(provider, ldap_github):
    outs = provider.create(props(ldap_github)).outs
    before = everything_but_our_entry(ldap_github.object)
    provider.update(ID, as_engine_passes(outs), props(ldap_github, entry=entry(mapping_method="lookup")))
    assert [p["name"] for p in providers_in(ldap_github)] == ["LDAP", "github", "Okta"]
    assert providers_in(ldap_github)[2]["mappingMethod"] == "lookup"
    assert everything_but_our_entry(ldap_github.object) == before


def test_a_concurrent_writer_between_our_read_and_our_write_loses_nothing(provider, ldap_github):
    def another_team_adds_a_provider(double):
        double.before_write = None
        double.edit(lambda o: providers_in(double).append({"name": "keycloak", "type": "OIDCIdentityProvider"}))

    ldap_github.before_write = another_team_adds_a_provider
    provider.create(props(ldap_github))
    assert ldap_github.rejected_writes == [409]
    assert [p["name"] for p in providers_in(ldap_github)] == ["LDAP", "github", "keycloak", "Okta"]
    assert len(ldap_github.writes) == 1


def test_conflicts_that_never_stop_end_in_a_clear_error(provider, ldap_github):
    ldap_github.before_write = lambda double: double.edit(lambda o: o.setdefault("status", {}).update(tick=double.resource_version))
    with pytest.raises(ClusterConfigurationError, match=r"gave up after 4 attempts.*409 Conflict"):
        provider.create(props(ldap_github))
    assert ldap_github.writes == [] and ldap_github.rejected_writes == [409] * 4
    assert "Okta" not in [p["name"] for p in providers_in(ldap_github)]


def test_lifecycle_create_update_noop_refresh_delete_leaves_the_spec_byte_for_byte(provider, ldap_github):
    original = json.dumps(fixture()["spec"])
    outs = provider.create(props(ldap_github, oauth_options={"accessTokenInactivityTimeout": "30m"})).outs
    news = props(ldap_github, entry=entry(scopes=("openid", "email")), oauth_options={"accessTokenInactivityTimeout": "30m"})
    outs = provider.update(ID, as_engine_passes(outs), news).outs
    outs = provider.update(ID, as_engine_passes(outs), news).outs
    writes_before_refresh = len(ldap_github.writes)
    refreshed = provider.read(ID, as_engine_passes(outs)).outs
    assert not provider.diff(ID, as_engine_passes(refreshed), news).changes
    provider.delete(ID, as_engine_passes(refreshed))
    assert writes_before_refresh == 2 and len(ldap_github.writes) == 3
    assert json.dumps(ldap_github.object["spec"]) == original


def test_delete_removes_only_our_entry(provider, ldap_github):
    outs = provider.create(props(ldap_github)).outs
    provider.delete(ID, as_engine_passes(outs))
    assert [p["name"] for p in providers_in(ldap_github)] == ["LDAP", "github"]
    assert ldap_github.object["spec"] == fixture()["spec"]


def test_delete_when_our_entry_is_already_gone_succeeds_without_writing(provider, ldap_github):
    provider.delete(ID, props(ldap_github))
    assert ldap_github.writes == []


def test_delete_when_the_cluster_configuration_is_gone_succeeds():
    with KubernetesApiDouble(None) as double:
        ClusterConfigurationProvider().delete(ID, props(double))
        assert double.writes == [] and double.rejected_writes == []


def test_missing_cluster_configuration_fails_create_and_suggests_4_1(provider):
    with KubernetesApiDouble(None) as double:
        with pytest.raises(ClusterConfigurationError, match=r'kubesphere_version: "4.1"'):
            provider.create(props(double))
        assert double.writes == []


def test_check_refuses_a_cluster_without_the_cluster_configuration_during_preview(provider):
    with KubernetesApiDouble(None) as double:
        failures = provider.check({}, props(double)).failures
    assert len(failures) == 1 and 'kubesphere_version: "4.1"' in failures[0].reason


def test_check_refuses_a_malformed_cluster_configuration(provider, ldap_github):
    ldap_github.edit(lambda o: o["spec"]["authentication"]["oauthOptions"].update(identityProviders={"name": "LDAP"}))
    failures = provider.check({}, props(ldap_github)).failures
    assert [f.property for f in failures] == ["entry"] and "must be a list" in failures[0].reason


def test_check_with_inputs_unknown_during_preview_passes_without_calling_the_cluster(provider, ldap_github):
    from pulumi.output import Unknown

    news = props(ldap_github, entry=Unknown(), kubeconfig=Unknown())
    assert provider.check({}, news).failures == []
    assert ldap_github.gets == 0


def test_check_refuses_an_entry_named_differently_from_the_provider(provider, ldap_github):
    failures = provider.check({}, props(ldap_github, provider_name="OktaSSO")).failures
    assert [f.property for f in failures] == ["entry"]


def test_check_accepts_a_mergeable_cluster_configuration(provider, ldap_github):
    assert provider.check({}, props(ldap_github)).failures == []


def test_malformed_cluster_configuration_is_refused_and_left_untouched(provider, ldap_github):
    ldap_github.edit(lambda o: o["spec"]["authentication"]["oauthOptions"].update(identityProviders="LDAP"))
    before = json.dumps(ldap_github.object)
    with pytest.raises(ClusterConfigurationError, match="must be a list.*changed nothing"):
        provider.create(props(ldap_github))
    assert ldap_github.writes == [] and json.dumps(ldap_github.object) == before


def test_refresh_reports_an_entry_edited_in_the_cluster_and_diff_shows_it(provider, ldap_github):
    news = props(ldap_github)
    outs = provider.create(news).outs
    ldap_github.edit(lambda o: providers_in(ldap_github)[2].update(mappingMethod="lookup"))
    refreshed = provider.read(ID, as_engine_passes(outs))
    assert refreshed.id == ID
    assert refreshed.outs["entry"]["mappingMethod"] == "lookup"
    assert provider.diff(ID, as_engine_passes(refreshed.outs), news).changes


def test_refresh_reports_a_removed_entry_and_the_next_update_puts_it_back(provider, ldap_github):
    news = props(ldap_github)
    outs = provider.create(news).outs
    ldap_github.edit(lambda o: providers_in(ldap_github).pop())
    refreshed = as_engine_passes(provider.read(ID, as_engine_passes(outs)).outs)
    assert "entry" not in refreshed
    assert provider.diff(ID, refreshed, news).changes
    provider.update(ID, refreshed, news)
    assert providers_in(ldap_github)[2] == entry()


def test_changes_to_other_providers_never_show_in_our_diff(provider, ldap_github):
    news = props(ldap_github)
    outs = provider.create(news).outs
    ldap_github.edit(lambda o: providers_in(ldap_github)[0]["provider"].update(host="10.0.0.1:389"))
    ldap_github.edit(lambda o: o["spec"]["devops"].update(enabled=True))
    refreshed = provider.read(ID, as_engine_passes(outs)).outs
    assert not provider.diff(ID, as_engine_passes(refreshed), news).changes


def test_a_changed_client_secret_is_a_diff(provider, ldap_github):
    outs = provider.create(props(ldap_github)).outs
    assert provider.diff(ID, as_engine_passes(outs), props(ldap_github, entry=entry("rotated-secret"))).changes


def test_an_unknown_entry_during_preview_is_a_diff(provider, ldap_github):
    from pulumi.output import Unknown

    outs = provider.create(props(ldap_github)).outs
    assert provider.diff(ID, as_engine_passes(outs), props(ldap_github, entry=Unknown())).changes


def test_renaming_moves_our_entry_in_one_write(provider, ldap_github):
    outs = provider.create(props(ldap_github)).outs
    provider.update(ID, as_engine_passes(outs), props(ldap_github, provider_name="OktaSSO",
                                                          entry={**entry(), "name": "OktaSSO"}))
    assert [p["name"] for p in providers_in(ldap_github)] == ["LDAP", "github", "OktaSSO"]
    assert len(ldap_github.writes) == 2


def test_a_token_lifetime_someone_else_set_is_put_back_on_delete(provider, ldap_github):
    options = lambda: ldap_github.object["spec"]["authentication"]["oauthOptions"]  # noqa: E731
    assert options()["accessTokenMaxAge"] == "2h"
    outs = provider.create(props(ldap_github, oauth_options={"accessTokenMaxAge": "1h"})).outs
    assert options()["accessTokenMaxAge"] == "1h"
    assert outs["oauth_options_before"] == {"accessTokenMaxAge": "2h"}
    provider.delete(ID, as_engine_passes(outs))
    assert options()["accessTokenMaxAge"] == "2h"
    assert ldap_github.object["spec"] == fixture()["spec"]


def test_a_token_lifetime_dropped_from_the_config_is_put_back_on_update(provider, ldap_github):
    outs = provider.create(props(ldap_github, oauth_options={"accessTokenMaxAge": "1h"})).outs
    provider.update(ID, as_engine_passes(outs), props(ldap_github))
    assert ldap_github.object["spec"]["authentication"]["oauthOptions"]["accessTokenMaxAge"] == "2h"


def test_a_token_lifetime_changed_by_someone_after_us_is_left_alone_on_delete(provider, ldap_github):
    outs = provider.create(props(ldap_github, oauth_options={"accessTokenMaxAge": "1h"})).outs
    ldap_github.edit(lambda o: o["spec"]["authentication"]["oauthOptions"].update(accessTokenMaxAge="8h"))
    provider.delete(ID, as_engine_passes(outs))
    assert ldap_github.object["spec"]["authentication"]["oauthOptions"]["accessTokenMaxAge"] == "8h"


def test_shipped_configuration_gets_the_entry_where_kubesphere_reads_it_and_loses_it_on_delete(provider):
    with KubernetesApiDouble(fixture("cluster-configuration.yaml")) as double:
        outs = provider.create(props(double)).outs
        assert double.object["spec"]["authentication"] == {
            "jwtSecret": "", "oauthOptions": {"identityProviders": [entry()]}}
        provider.delete(ID, as_engine_passes(outs))
        assert json.dumps(double.object["spec"]) == json.dumps(fixture("cluster-configuration.yaml")["spec"])


def test_kubeconfig_path_and_context_are_honoured(provider, ldap_github, tmp_path):
    path = tmp_path / "config"
    path.write_text(ldap_github.kubeconfig(current_context="elsewhere"))
    provider.create(props(ldap_github, kubeconfig=str(path), kube_context="test"))
    assert len(ldap_github.writes) == 1


def test_kubeconfig_that_is_neither_a_file_nor_contents_is_a_clear_error(provider):
    with pytest.raises(ClusterConfigurationError, match="neither the path of an existing file nor kubeconfig contents"):
        provider.create({"provider_name": "Okta", "entry": entry(), "kubeconfig": "/no/such/kubeconfig"})


def test_an_unreachable_cluster_is_a_clear_error(provider, ldap_github):
    with pytest.raises(ClusterConfigurationError, match=r"API server at http://127.0.0.1:9 is unreachable"):
        provider.create(props(ldap_github, kube_context="elsewhere"))


def test_errors_never_show_the_client_secret(provider, ldap_github):
    ldap_github.fail_gets_with = (500, f"etcd said no to clientSecret {SECRET}")
    with pytest.raises(ClusterConfigurationError) as raised:
        provider.create(props(ldap_github))
    assert SECRET not in str(raised.value) and "HTTP 500" in str(raised.value)


@pytest.mark.provider_by_value
def test_pickled_provider_works_in_a_process_that_cannot_import_this_project(ldap_github, tmp_path):
    """State outlives the package: the pickled provider must not need `kubesphere_okta` (or this checkout) to run."""
    from pulumi.dynamic.dynamic import serialize_provider

    from kubesphere_okta.kubesphere_v3 import portable_provider

    (tmp_path / "provider.b64").write_text(serialize_provider(portable_provider()))
    (tmp_path / "props.json").write_text(json.dumps(props(ldap_github)))
    code = (
        "import base64, json, sys, dill\n"
        "provider = dill.loads(base64.b64decode(open('provider.b64').read()))\n"
        "provider.create(json.load(open('props.json')))\n"
        "print(sorted(m for m in sys.modules if m.startswith(('kubesphere_okta', 'components', 'tests', 'infra'))))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert [p["name"] for p in providers_in(ldap_github)] == ["LDAP", "github", "Okta"]


def test_outputs_keep_what_delete_needs(provider, ldap_github):
    outs = provider.create(props(ldap_github, kube_context="test", oauth_options={"accessTokenMaxAge": "1h"})).outs
    assert set(outs) >= {"provider_name", "entry", "oauth_options", "kubeconfig", "kube_context",
                         "oauth_options_before", "oauth_options_written"}
    assert outs["entry"] == entry()
    assert cc.find_identity_provider(ldap_github.object, "Okta") == entry()
