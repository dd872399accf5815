"""The component on KubeSphere 3.x, under Pulumi mocks: the ClusterConfiguration entry resource it registers."""

from __future__ import annotations

import base64

import dill
import pulumi.dynamic
import pytest

from kubesphere_okta import KubeSphereOktaIntegration
from kubesphere_okta.kubesphere_v3 import ClusterConfigurationProvider
from tests.pulumi_harness import run

DYNAMIC = "pulumi-python:dynamic:Resource"
COMPONENT = "kubesphere-okta:index:KubeSphereOktaIntegration"
KUBECONFIG = ("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://10.0.0.1:6443'}}]\n"
              "users: [{name: u, user: {token: t}}]\ncontexts: [{name: prod, context: {cluster: c, user: u}}]\n")
BASE_ARGS = {
    "console_url": "https://console.example.com",
    "issuer": "https://example.okta.com",
    "kubesphere_version": "3.4",
    "group_ids": ["00g1abcdefghijklmnop"],
}


def build(args=None, name="ks"):
    def program():
        integration = KubeSphereOktaIntegration(name, {**BASE_ARGS, **(args or {})})
        return {"identity_provider": integration.identity_provider}
    return program


def test_v3_registers_one_cluster_configuration_entry_parented_to_the_component():
    rec = run(build())
    entry = rec.one(DYNAMIC)
    assert entry.name == "ks-identity-provider"
    assert entry.parent_urn == rec.one(COMPONENT).urn
    assert not rec.of_type("kubernetes:core/v1:Secret")


def test_v3_entry_is_rendered_as_kubesphere_reads_it_with_the_apps_credentials():
    rec = run(build({"mapping_method": "lookup", "scopes": ["openid", "email"]}))
    inputs = rec.one(DYNAMIC).inputs
    assert inputs["provider_name"] == "Okta"
    entry = inputs["entry"]
    assert entry["name"] == "Okta" and entry["type"] == "OIDCIdentityProvider"
    assert entry["mappingMethod"] == "lookup" and entry["disableLoginConfirmation"] is False
    assert entry["provider"]["clientID"].startswith("0oa")
    assert entry["provider"]["clientSecret"] == "mock-client-secret"
    assert entry["provider"]["redirectURL"] == "https://console.example.com/oauth/redirect/Okta"
    assert entry["provider"]["scopes"] == ["openid", "email"]


def test_v3_entry_waits_for_the_okta_app():
    rec = run(build())
    assert rec.urn_of("ks-app") in rec.one(DYNAMIC).dependencies


def test_v3_entry_and_kubeconfig_are_secret_inputs_and_outputs():
    rec = run(build({"kubeconfig": KUBECONFIG, "kube_context": "prod"}))
    entry = rec.one(DYNAMIC)
    assert {"entry", "kubeconfig"} <= entry.secret_inputs
    assert {"entry", "kubeconfig"} <= set(entry.additional_secret_outputs)
    assert entry.inputs["kubeconfig"] == KUBECONFIG and entry.inputs["kube_context"] == "prod"


def test_v3_without_kubeconfig_uses_the_ambient_one():
    inputs = run(build()).one(DYNAMIC).inputs
    assert inputs.get("kubeconfig") is None and inputs.get("kube_context") is None


def test_v3_token_lifetimes_go_to_oauth_options():
    rec = run(build({"access_token_max_age": "1h", "access_token_inactivity_timeout": "30m"}))
    assert rec.one(DYNAMIC).inputs["oauth_options"] == {"accessTokenMaxAge": "1h", "accessTokenInactivityTimeout": "30m"}


def test_v3_identity_provider_output_is_redacted():
    rec = run(build())
    assert rec.outputs["identity_provider"]["provider"]["clientSecret"] == "[secret]"


@pytest.mark.provider_by_value
def test_v3_serialized_provider_is_our_provider_carried_by_value():
    serialized = run(build()).one(DYNAMIC).inputs["__provider"]
    # No reference to the package's modules (dill names them dotted): the code travels by value.
    assert b"kubesphere_okta." not in base64.b64decode(serialized)
    provider = dill.loads(base64.b64decode(serialized))
    assert type(provider).__name__ == ClusterConfigurationProvider.__name__
    assert isinstance(provider, pulumi.dynamic.ResourceProvider)


def test_v3_example_stack_reaches_the_cluster_of_its_kubernetes_context():
    from pathlib import Path

    import yaml

    from infra import program
    from tests.pulumi_harness import OktaAndKubernetesMocks

    raw = yaml.safe_load((Path(__file__).resolve().parent.parent / "Pulumi.staging.yaml").read_text())["config"]
    config = {k: v if isinstance(v, str) else __import__("json").dumps(v) for k, v in raw.items()}
    groups = {"KubeSphere Developers": "00g1devdevdevdevdevd", "KubeSphere Admins": "00g1admadmadmadmadma"}
    rec = run(program.main, stack="staging", config=config, mocks=OktaAndKubernetesMocks(groups=groups))
    inputs = rec.one(DYNAMIC).inputs
    assert inputs["kube_context"] == "staging"
    assert inputs["oauth_options"] == {"accessTokenMaxAge": "2h"}
    assert inputs["entry"]["provider"]["redirectURL"] == "https://kubesphere.staging.example.com/oauth/redirect/Okta"


@pytest.mark.provider_by_value
def test_dynamic_resources_register_as_the_sdk_class_does_with_the_provider_serialized_once(monkeypatch):
    """The provider is pickled once per process (dynamic_registration.register_dynamic); what is
    registered is exactly what pulumi.dynamic.Resource.__init__ registers."""
    from kubesphere_okta import dynamic_registration

    def registrations():
        def rows(recording):
            # By name: the order in which the runtime gets to each registration is not what is compared.
            return sorted(((r.type, r.name, r.parent_urn, sorted(r.dependencies), r.inputs, r.secret_inputs,
                            sorted(r.additional_secret_outputs), r.provider_version) for r in recording.resources),
                          key=lambda row: (row[0], row[1]))

        # 3.x: the ClusterConfiguration entry; 4.1: the two cluster guards (another provider class).
        return (rows(run(build())) + rows(run(build({"kubeconfig": KUBECONFIG, "kube_context": "prod"})))
                + rows(run(build({"kubesphere_version": "4.1", "kubeconfig": KUBECONFIG}))))

    ours = registrations()
    assert dynamic_registration.serialized_provider.cache_info().currsize >= 2
    dynamic = [row for row in ours if row[0] == DYNAMIC]
    assert {row[1] for row in dynamic} == {"ks-identity-provider", "ks-cluster", "ks-cluster-release"}
    assert len(dynamic) == 4 and all("__provider" in row[5] for row in dynamic)  # secret, as the SDK makes it
    monkeypatch.setattr(dynamic_registration, "register_dynamic", dynamic_registration.sdk_register_dynamic)
    assert registrations() == ours
