"""The 4.1 identity-provider Secret registers exactly as pulumi-kubernetes' own Secret class would.

kubesphere_v4.Secret stands in for pulumi_kubernetes.core.v1.Secret only to avoid importing the
whole core/v1 module (see its docstring); if the SDK ever registers a Secret differently, this fails.
"""

from __future__ import annotations

from kubesphere_okta import kubesphere_v4
from tests.pulumi_harness import run

METADATA = {"name": "identity-provider-okta", "namespace": "kubesphere-system",
            "labels": {"config.kubesphere.io/type": "identityprovider"}}
STRING_DATA = {"configuration.yaml": "name: Okta\n"}


def _registration(build):
    rec = run(build)
    (secret,) = rec.of_type("kubernetes:core/v1:Secret")
    return secret


def test_registers_like_the_sdk_secret_class():
    import pulumi_kubernetes as k8s

    ours = _registration(lambda: kubesphere_v4.Secret(
        "s", metadata=METADATA, type="config.kubesphere.io/identityprovider", string_data=STRING_DATA))
    sdk = _registration(lambda: k8s.core.v1.Secret(
        "s", metadata=METADATA, type="config.kubesphere.io/identityprovider", string_data=STRING_DATA))
    assert ours.inputs == sdk.inputs
    assert ours.secret_inputs == sdk.secret_inputs == {"stringData"}
    assert sorted(ours.additional_secret_outputs) == sorted(sdk.additional_secret_outputs)
    assert ours.type == sdk.type and ours.name == sdk.name
    assert ours.provider_version == sdk.provider_version != ""


def test_kubesphere_objects_register_like_the_sdk_custom_resource():
    # identities.KubernetesObject exists only because CustomResource takes no top-level fields
    # besides metadata/spec (a GlobalRoleBinding has roleRef and subjects); for a User it must match.
    import pulumi
    import pulumi_kubernetes as k8s

    from kubesphere_okta.identities import KubernetesObject

    body = {"apiVersion": "iam.kubesphere.io/v1beta1", "kind": "User",
            "metadata": {"name": "jane.doe.acme.com"}, "spec": {"email": "jane.doe@acme.com"}}
    ours = run(lambda: KubernetesObject("u", body, pulumi.ResourceOptions())).resources[0]
    sdk = run(lambda: k8s.apiextensions.CustomResource(
        "u", api_version=body["apiVersion"], kind=body["kind"], metadata=body["metadata"], spec=body["spec"])).resources[0]
    assert (ours.type, ours.inputs, ours.provider_version) == (sdk.type, sdk.inputs, sdk.provider_version)
