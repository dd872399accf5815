"""The plan as a reader sees it: secrets hidden, the KubeSphere object before/after, stable order."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from infra import plan_document

from kubesphere_okta.identity_provider import (
    IdentityProviderSettings,
    dump_v4_configuration,
    render_v3_entry,
    render_v4_configuration,
)
from infra.plan_document import (
    PlannedResource,
    hide_credentials,
    hide_credentials_in_documents,
    registered_inputs,
    to_yaml,
    tree_order,
    unified_diff,
    v3_change,
    v4_change,
)

FIXTURES = Path(__file__).parent / "fixtures" / "kubesphere-v3.4.1"
SECRET = "the-client-secret"
SETTINGS = IdentityProviderSettings(console_url="https://console.example.com", issuer="https://example.okta.com",
                                    kubesphere_version="3.4", access_token_max_age="1h")


def providers(cluster_configuration: dict) -> list[dict]:
    return cluster_configuration["spec"]["authentication"]["oauthOptions"]["identityProviders"]


def test_known_secret_values_are_hidden_even_inside_longer_strings():
    shown = hide_credentials({"a": [f"x{SECRET}y"], "b": SECRET}, [SECRET])
    assert shown == {"a": ["x[secret]y"], "b": "[secret]"}


def test_credential_keys_are_hidden_but_empty_ones_are_left_as_they_are():
    shown = hide_credentials({"clientSecret": "s", "managerPassword": "p", "jwtSecret": "", "clientID": "id"})
    assert shown == {"clientSecret": "[secret]", "managerPassword": "[secret]", "jwtSecret": "", "clientID": "id"}


def test_configuration_yaml_stays_valid_yaml_with_the_secret_hidden():
    text = dump_v4_configuration(render_v4_configuration(SETTINGS, "0oa1", SECRET))
    shown = hide_credentials_in_documents({"configuration.yaml": text}, [SECRET])["configuration.yaml"]
    assert SECRET not in shown
    assert yaml.safe_load(shown)["provider"]["clientSecret"] == "[secret]"
    assert yaml.safe_load(shown)["provider"]["clientID"] == "0oa1"


def test_registered_inputs_are_sorted_without_internal_keys_and_with_whole_numbers():
    assert list(registered_inputs({"b": {"z": 1.0, "a": 0.5}, "__provider": "x", "a": [2.0]}).items()) == [
        ("a", [2]), ("b", {"a": 0.5, "z": 1})]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**60, 2**60) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8) | st.sampled_from([SECRET, f"x{SECRET}", 'q"\\\n']),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.text(max_size=6) | st.sampled_from(sorted(plan_document.CREDENTIAL_KEYS) + ["__provider"]), inner, max_size=4),
    max_leaves=25)


def walked(value, secrets):
    """hide_credentials by its definition: every value under a credential key, every secret in a string."""
    if isinstance(value, dict):
        return {k: "[secret]" if k in plan_document.CREDENTIAL_KEYS and isinstance(v, str) and v else walked(v, secrets)
                for k, v in value.items()}
    if isinstance(value, list):
        return [walked(v, secrets) for v in value]
    if isinstance(value, str):
        for secret in filter(None, secrets):  # an empty secret value hides nothing
            value = value.replace(secret, "[secret]")
    return value


def stable(value):
    if isinstance(value, dict):
        return {k: stable(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [stable(v) for v in value]
    return int(value) if isinstance(value, float) and value.is_integer() else value


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), json_values, max_size=5), st.sampled_from([[], [SECRET], ["", "q"]]))
def test_hiding_and_stable_inputs_are_their_definitions_whatever_path_they_take(inputs, secrets):
    assert hide_credentials(inputs, secrets) == walked(inputs, secrets)
    expected = stable({k: v for k, v in inputs.items() if not k.startswith("__")})
    assert registered_inputs(inputs) == expected
    assert [type(v) for v in registered_inputs(inputs).values()] == [type(v) for v in expected.values()]
    assert list(registered_inputs(inputs)) == list(expected)


def test_v3_up_adds_our_entry_after_the_others_and_keeps_them():
    live = yaml.safe_load((FIXTURES / "cluster-configuration-ldap-github.yaml").read_text())
    change = v3_change(live, render_v3_entry(SETTINGS, "0oa1", SECRET), {"accessTokenMaxAge": "1h"}, destroy=False)
    assert change.before == live
    assert [p["name"] for p in providers(change.after)] == ["LDAP", "github", "Okta"]
    assert providers(change.after)[:2] == providers(live)


def test_v3_destroy_removes_only_our_entry_and_restores_the_token_lifetime():
    live = yaml.safe_load((FIXTURES / "cluster-configuration-ldap-github.yaml").read_text())
    change = v3_change(live, render_v3_entry(SETTINGS, "0oa1", SECRET), {"accessTokenMaxAge": "1h"}, destroy=True)
    assert [p["name"] for p in providers(change.before)] == ["LDAP", "github", "Okta"]
    assert change.after == live


def test_v4_destroy_shows_the_secret_gone():
    secret = {"kind": "Secret"}
    assert (v4_change(secret, destroy=False).before, v4_change(secret, destroy=False).after) == (None, secret)
    assert (v4_change(secret, destroy=True).before, v4_change(secret, destroy=True).after) == (secret, None)


def test_diff_shows_only_the_changed_lines_as_changes():
    diff = unified_diff({"a": 1, "b": 2}, {"a": 1, "b": 3}, "Secret")
    assert "-b: 2\n+b: 3\n" in diff and "\n a: 1\n" in diff


def test_multi_line_strings_are_literal_blocks():
    assert to_yaml({"configuration.yaml": "name: Okta\ntype: OIDC\n"}) == "configuration.yaml: |\n  name: Okta\n  type: OIDC\n"


def test_tree_order_puts_parents_first_and_siblings_by_name():
    resources = [PlannedResource("t", "rule", "policy", {}), PlannedResource("t", "policy", "ks", {}),
                 PlannedResource("t", "app", "ks", {}), PlannedResource("c", "ks", None, {})]
    assert [(depth, r.name) for depth, r in tree_order(resources)] == [(0, "ks"), (1, "app"), (1, "policy"), (2, "rule")]


def test_the_ks_installer_object_is_found_alone_in_a_list_or_among_documents():
    cc = {"apiVersion": "installer.kubesphere.io/v1alpha1", "kind": "ClusterConfiguration",
          "metadata": {"name": "ks-installer", "namespace": "kubesphere-system"}, "spec": {}}
    other = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "y"}}
    assert plan_document.live_cluster_configuration([cc]) == cc
    assert plan_document.live_cluster_configuration([{"apiVersion": "v1", "kind": "List", "items": [other, cc]}]) == cc
    assert plan_document.live_cluster_configuration([None, cc]) == cc
    for bad in ([other], [], [cc, cc], [{**cc, "spec": None}], ["text"]):
        with pytest.raises(ValueError):
            plan_document.live_cluster_configuration(bad)


def test_destroy_warnings_name_protected_and_retained_resources_with_the_way_out():
    resources = [
        plan_document.PlannedResource("okta:app/oAuth:OAuth", "app", None, {}, protect=True, urn="urn:a"),
        plan_document.PlannedResource("kubernetes:x:User", "user", None, {}, retain_on_delete=True, urn="urn:u"),
        plan_document.PlannedResource("okta:index/x:Y", "plain", None, {}, urn="urn:p"),
    ]
    warnings = plan_document.destroy_warnings(resources, "prod", {"okta:app/oAuth:OAuth": "pulumi config set p:protectApp false"})
    assert len(warnings) == 2
    assert "app" in warnings[0] and "pulumi config set p:protectApp false" in warnings[0] and "'urn:a'" in warnings[0]
    assert "keeps user" in warnings[1] and "the cluster" in warnings[1]
    assert plan_document.destroy_warnings(resources[:1], "prod", {})[0].count("pulumi state unprotect 'urn:a'") == 1


# --- URNs as the engine assigns them (sdk/go/common/resource/urn/urn.go New) ---------------------

def test_urns_carry_the_whole_parent_type_chain_and_never_the_root_stack_type():
    from infra.plan_document import engine_urn

    stack = "urn:pulumi:prod::proj::pulumi:pulumi:Stack::proj-prod"
    component = engine_urn("prod", "proj", stack, "kubesphere-okta:index:KubeSphereOktaIntegration", "ks")
    assert component == "urn:pulumi:prod::proj::kubesphere-okta:index:KubeSphereOktaIntegration::ks"
    child = engine_urn("prod", "proj", component, "okta:app/oAuth:OAuth", "ks-app")
    assert child == "urn:pulumi:prod::proj::kubesphere-okta:index:KubeSphereOktaIntegration$okta:app/oAuth:OAuth::ks-app"
    grandchild = engine_urn("prod", "proj", child, "a:b:C", "x")
    assert grandchild.split("::")[2] == "kubesphere-okta:index:KubeSphereOktaIntegration$okta:app/oAuth:OAuth$a:b:C"
    assert engine_urn("prod", "proj", "", "pulumi:pulumi:Stack", "proj-prod") == stack


def test_the_plans_json_carries_the_urns_the_engine_assigns(capsys):
    import json

    from infra import plan

    assert plan.main(["--stack", "prod", "--format", "json"]) == 0
    resources = json.loads(capsys.readouterr().out)["resources"]
    urns = {r["name"]: r["urn"] for r in resources}
    assert urns["kubesphere-okta"] == "urn:pulumi:prod::kubesphere-okta::kubesphere-okta:index:KubeSphereOktaIntegration::kubesphere-okta"
    assert urns["kubesphere-okta-app"] == ("urn:pulumi:prod::kubesphere-okta::kubesphere-okta:index:"
                                           "KubeSphereOktaIntegration$okta:app/oAuth:OAuth::kubesphere-okta-app")
    assert not any("pulumi:pulumi:Stack" in urn for urn in urns.values())
