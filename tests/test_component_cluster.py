"""One component, one cluster: how the component wires every KubeSphere object to its cluster (mocks)."""

from __future__ import annotations

import pulumi
import pytest

from kubesphere_okta import KubeSphereOktaIntegration, membership_model
from kubesphere_okta.args import IntegrationArgsError
from tests.pulumi_harness import OktaAndKubernetesMocks, run

DYNAMIC = "pulumi-python:dynamic:Resource"
KUBERNETES_PROVIDER = "pulumi:providers:kubernetes"
SECRET = "kubernetes:core/v1:Secret"
KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://10.0.0.1:6443"}}]
users: [{name: u, user: {token: t0ken}}]
contexts: [{name: prod, context: {cluster: c, user: u}}]
current-context: prod
"""
BASE = {"console_url": "https://console.example.com", "issuer": "https://example.okta.com",
        "group_ids": ["00g1abcdefghijklmnop"]}
ADMINS = "00g1admadmadmadmadma"
ROLE_BINDINGS = {"group_ids": [ADMINS], "mapping_method": "lookup", "role_bindings": {ADMINS: "platform-admin"}}


def build(version: str, **args):
    def program():
        KubeSphereOktaIntegration("ks", {**BASE, "kubesphere_version": version, **args})
    return program


def mocks():
    jane = {"id": "00ujane", "login": "jane@acme.com", "email": "jane@acme.com", "status": "ACTIVE"}
    return OktaAndKubernetesMocks(group_members={ADMINS: [jane]})


def test_v4_objects_go_through_one_explicit_provider_built_from_kubeconfig_and_context():
    rec = run(build("4.1", kubeconfig=KUBECONFIG, kube_context="prod", **ROLE_BINDINGS), mocks=mocks())
    provider = rec.one(KUBERNETES_PROVIDER)
    assert provider.inputs["kubeconfig"] == KUBECONFIG and provider.inputs["context"] == "prod"
    assert "kubeconfig" in provider.secret_inputs
    objects = [r for r in rec.resources if r.type.startswith("kubernetes:")]
    assert {r.type for r in objects} == {SECRET}
    assert all(r.provider_ref.startswith(provider.urn + "::") for r in objects)
    # Users and bindings are written by the keyed membership resources, given the same selection.
    keyed = [r for r in rec.resources if r.type in membership_model.KEYED_TYPES]
    assert {r.type for r in keyed} == set(membership_model.KEYED_TYPES)
    assert all(r.inputs["kubeconfig"] == KUBECONFIG and r.inputs["kube_context"] == "prod" for r in keyed)
    assert all("kubeconfig" in r.secret_inputs for r in keyed)


def test_every_kubesphere_object_waits_for_the_guard_and_the_release_guard_waits_for_all_of_them():
    rec = run(build("4.1", kubeconfig=KUBECONFIG, **ROLE_BINDINGS), mocks=mocks())
    guard, release = rec.named("ks-cluster"), rec.named("ks-cluster-release")
    objects = [r for r in rec.resources if r.type.startswith("kubernetes:")]
    assert objects and all(guard.urn in r.dependencies for r in objects)
    assert {r.urn for r in objects} <= set(release.dependencies)
    assert guard.inputs["kubeconfig"] == KUBECONFIG and guard.inputs["secret_name"] == "identity-provider-okta"
    assert "kubeconfig" in guard.secret_inputs


def test_on_3x_the_entry_the_guards_and_the_iam_objects_share_the_same_cluster_selection():
    rec = run(build("3.4", kubeconfig=KUBECONFIG, kube_context="prod", **ROLE_BINDINGS), mocks=mocks())
    dynamic = {r.name: r for r in rec.of_type(DYNAMIC)}
    assert set(dynamic) == {"ks-identity-provider", "ks-cluster", "ks-cluster-release", "ks-role-references"}
    for resource in dynamic.values():
        assert resource.inputs["kubeconfig"] == KUBECONFIG and resource.inputs["kube_context"] == "prod"
    provider = rec.one(KUBERNETES_PROVIDER)
    assert provider.inputs["kubeconfig"] == KUBECONFIG and provider.inputs["context"] == "prod"


def test_without_kubernetes_objects_on_3x_there_is_no_guard_and_no_extra_provider():
    rec = run(build("3.4"), mocks=mocks())
    assert [r.name for r in rec.of_type(DYNAMIC)] == ["ks-identity-provider"]
    assert rec.of_type(KUBERNETES_PROVIDER) == []


def test_adopt_and_rebind_reach_the_entry():
    uid = "0f6a4b2c-1d3e-4f50-8a9b-0c1d2e3f4a5b"
    rec = run(build("3.4", adopt_existing_provider=True, rebind_cluster=uid), mocks=mocks())
    inputs = rec.one(DYNAMIC).inputs
    assert inputs["adopt"] is True and inputs["rebind_cluster"] == uid


@pytest.mark.parametrize("extra", [{}, {"kubeconfig": KUBECONFIG}])
def test_a_kubernetes_provider_in_opts_is_refused_before_anything_is_registered(extra):
    registered = []

    def program():
        from pulumi_kubernetes.provider import Provider

        provider = Provider("elsewhere", kubeconfig=KUBECONFIG)
        registered.append(provider)
        with pytest.raises(IntegrationArgsError) as raised:
            KubeSphereOktaIntegration("ks", {**BASE, "kubesphere_version": "4.1", **extra},
                                      opts=pulumi.ResourceOptions(providers={"kubernetes": provider}))
        assert "Pass kubeconfig= and kube_context=" in str(raised.value)

    rec = run(program, mocks=mocks())
    assert [r.type for r in rec.resources] == [KUBERNETES_PROVIDER]


#: A stack's config for its default kubernetes provider, as the CLI hands it to the program.
STACK_KUBERNETES = {"kubernetes:kubeconfig": KUBECONFIG, "kubernetes:context": "prod"}


@pytest.mark.parametrize("version", ["3.4", "4.1"])
def test_without_kubeconfig_arguments_objects_stay_on_the_default_provider(version):
    """0.1.0 wrote the Secret, Users and GlobalRoleBindings through the stack's default provider;
    moving them to an explicit one would make the engine replace them (docs/cluster-binding.md)."""
    rec = run(build(version, **ROLE_BINDINGS), config=STACK_KUBERNETES, secret_keys=["kubernetes:kubeconfig"],
              mocks=mocks())
    assert rec.of_type(KUBERNETES_PROVIDER) == []
    objects = [r for r in rec.resources if r.type.startswith("kubernetes:")]
    assert all(r.provider_ref == "" for r in objects)
    assert bool(objects) == (version == "4.1")  # 4.1's Secret; Users and bindings are written by the keyed resources
    keyed = [r for r in rec.resources if r.type in membership_model.KEYED_TYPES]
    assert keyed and all(r.inputs["kube_context"] == "prod" and r.provider_ref == "" for r in keyed)


@pytest.mark.parametrize("version", ["3.4", "4.1"])
def test_without_kubeconfig_arguments_the_dynamic_resources_reach_the_default_providers_cluster(version):
    """Guards, the 3.x entry and the role check read kubernetes:kubeconfig (kept secret) and
    kubernetes:context, the config the engine gives the default provider."""
    rec = run(build(version, **ROLE_BINDINGS, workspace_role_bindings={ADMINS: {"team-a": "admin"}}),
              config=STACK_KUBERNETES, secret_keys=["kubernetes:kubeconfig"], mocks=mocks())
    dynamic = rec.of_type(DYNAMIC)
    expected = {"ks-cluster", "ks-cluster-release", "ks-role-references"} | ({"ks-identity-provider"} if version == "3.4" else set())
    assert {r.name for r in dynamic} == expected
    for resource in dynamic:
        assert resource.inputs["kubeconfig"] == KUBECONFIG and resource.inputs["kube_context"] == "prod", resource.name
        assert "kubeconfig" in resource.secret_inputs, resource.name


def test_without_kubeconfig_arguments_or_config_the_dynamic_resources_use_the_ambient_kubeconfig():
    """No kubernetes:* config: like the default provider, KUBECONFIG or ~/.kube/config and its
    current context (cluster_access.api_client with None)."""
    rec = run(build("3.4", **ROLE_BINDINGS), mocks=mocks())
    for resource in rec.of_type(DYNAMIC):
        assert resource.inputs.get("kubeconfig") is None and resource.inputs.get("kube_context") is None, resource.name


def test_kubeconfig_arguments_keep_the_explicit_provider_whatever_the_stack_config():
    rec = run(build("4.1", kube_context="other", **ROLE_BINDINGS), config=STACK_KUBERNETES,
              secret_keys=["kubernetes:kubeconfig"], mocks=mocks())
    provider = rec.one(KUBERNETES_PROVIDER)
    assert provider.name == "ks-kubernetes" and provider.inputs["context"] == "other"
    assert provider.inputs.get("kubeconfig") in (None, "")  # not the stack's kubernetes:kubeconfig
    for resource in rec.of_type(DYNAMIC):
        assert resource.inputs["kube_context"] == "other" and resource.inputs.get("kubeconfig") is None, resource.name


def test_kubernetes_cluster_config_is_warned_about_on_the_default_provider_path():
    """The default provider would follow kubernetes:cluster; the guards cannot, so say so."""
    rec = run(build("4.1"), config={**STACK_KUBERNETES, "kubernetes:cluster": "other"},
              secret_keys=["kubernetes:kubeconfig"], mocks=mocks())
    assert [w for w in rec.warnings if w.startswith("kubernetes:cluster is set ('other')")], rec.warnings
    explicit = run(build("4.1", kube_context="prod"), config={"kubernetes:cluster": "other"}, mocks=mocks())
    assert not [w for w in explicit.warnings if "kubernetes:cluster" in w]
