"""The policy pack: each policy lets the component's real resources through and catches a bad one.

Resources come from a mock run of ``KubeSphereOktaIntegration`` (tests/pulumi_harness.py), so the
policies track the shapes the component really registers; failing examples change one input.
"""

from __future__ import annotations

import base64
import copy

import pytest
import yaml
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Secret, StackValidationPolicy
from pulumi_policy.deserialize import serialize_properties
from pulumi_policy.proxy import UnknownValueError

from kubesphere_okta import KubeSphereOktaIntegration
from kubesphere_okta.identity_provider import IdentityProviderSettings, render_v3_entry
from policy import guardrails
from policy import kubesphere_okta_policies as pack
from tests.policy_args import resource_args, stack_args, violations
from tests.pulumi_harness import Registered, run

from tests.test_component import BASE_ARGS, GROUP_ID  # noqa: E402  (one definition of a valid integration)

EVERYONE_ID = "00g0everyoneeveryone"


def recorded(**args):
    return run(lambda: KubeSphereOktaIntegration("ks", {**BASE_ARGS, **args}), stack="dev")


@pytest.fixture(scope="module")
def rec():
    return recorded()


@pytest.fixture
def prod_stack(monkeypatch):
    monkeypatch.setenv("PULUMI_STACK", "prod")


@pytest.fixture
def dev_stack(monkeypatch):
    monkeypatch.setenv("PULUMI_STACK", "dev")


def app_with(rec, **changes):
    app = rec.one(guardrails.OKTA_APP)
    return resource_args(app, {**app.inputs, **changes})


def secret_configuration(rec) -> dict:
    return yaml.safe_load(rec.one(guardrails.KUBERNETES_SECRET).inputs["stringData"]["configuration.yaml"])


def secret_with_configuration(rec, configuration: dict, **changes):
    secret = rec.one(guardrails.KUBERNETES_SECRET)
    inputs = {**secret.inputs, "stringData": {"configuration.yaml": yaml.safe_dump(configuration)}, **changes}
    return secret, inputs


def v3_entry_resource(**provider_extra) -> Registered:
    """The KubeSphere 3.x entry resource as the component will register it (issue 3): a Python
    dynamic resource whose input ``entry`` is ``render_v3_entry``'s output."""
    settings = IdentityProviderSettings(console_url="https://console.example.com", issuer="https://example.okta.com",
                                        kubesphere_version="3.4")
    entry = render_v3_entry(settings, "0oa1", "s3cr3t")
    entry["provider"].update(provider_extra)  # a key planted by hand, as an edit in the cluster would
    return Registered(
        type=guardrails.DYNAMIC_RESOURCE, name="ks-identity-provider",
        urn="urn:pulumi:dev::kubesphere-okta::pulumi-python:dynamic:Resource::ks-identity-provider",
        parent_urn="", dependencies=[], protect=False, additional_secret_outputs=[],
        inputs={"__provider": "serialized", "entry": entry},
        secret_inputs={"entry"},
    )


# --- every policy -------------------------------------------------------------------------------

def test_every_policy_has_a_unique_name_a_one_line_description_and_an_enforcement_level():
    names = [p.name for p in pack.POLICIES]
    assert len(names) == len(set(names)) >= 9
    for policy in pack.POLICIES:
        assert policy.description and "\n" not in policy.description and len(policy.description) <= 160
        assert isinstance(policy.enforcement_level, EnforcementLevel)


def test_the_component_s_own_prod_resources_pass_every_policy(prod_stack):
    rec = recorded(protect_app=True)
    config = {"everyoneGroupIds": [EVERYONE_ID]}
    found = []
    for policy in pack.POLICIES:
        if isinstance(policy, ResourceValidationPolicy):
            for resource in rec.resources:
                found += violations(policy, resource_args(resource, config=config))
        else:
            assert isinstance(policy, StackValidationPolicy)
            found += violations(policy, stack_args(rec.resources, config=config))
    assert found == []


# --- okta-app-kubesphere-compatible --------------------------------------------------------------

def test_compatible_app_passes(rec):
    assert violations(pack.okta_app_kubesphere_compatible, app_with(rec)) == []


def test_pkce_requirement_is_caught(rec):
    found = violations(pack.okta_app_kubesphere_compatible, app_with(rec, pkceRequired=True))
    assert len(found) == 1 and "pkceRequired" in found[0][0]


def test_implicit_grant_is_caught(rec):
    found = violations(pack.okta_app_kubesphere_compatible, app_with(rec, grantTypes=["authorization_code", "implicit"]))
    assert any("implicit" in message for message, _ in found)


def test_response_type_other_than_code_is_caught(rec):
    found = violations(pack.okta_app_kubesphere_compatible, app_with(rec, responseTypes=["code", "id_token"]))
    assert len(found) == 1 and "responseTypes" in found[0][0]


# --- okta-app-redirect-uris-kubesphere-shaped ------------------------------------------------------

def test_kubesphere_redirect_uri_passes(rec):
    assert violations(pack.okta_app_redirect_uris, app_with(rec)) == []


def test_wildcard_redirect_is_caught(rec):
    found = violations(pack.okta_app_redirect_uris, app_with(rec, wildcardRedirect="SUBDOMAIN"))
    assert len(found) == 1 and "wildcardRedirect" in found[0][0]


def test_wildcard_in_redirect_uri_is_caught(rec):
    found = violations(pack.okta_app_redirect_uris, app_with(rec, redirectUris=["https://*.example.com/oauth/redirect/Okta"]))
    assert len(found) == 1


def test_plain_http_redirect_uri_is_caught(rec):
    found = violations(pack.okta_app_redirect_uris, app_with(rec, redirectUris=["http://console.example.com/oauth/redirect/Okta"]))
    assert len(found) == 1 and "https" in found[0][0]


def test_redirect_uri_outside_the_kubesphere_callback_is_caught(rec):
    found = violations(pack.okta_app_redirect_uris, app_with(rec, redirectUris=["https://console.example.com/oauth/callback/Okta"]))
    assert len(found) == 1 and "/oauth/redirect/" in found[0][0]


# --- okta-redirect-uri-matches-kubesphere-entry ---------------------------------------------------

def test_redirect_uri_matching_the_kubesphere_entry_passes(rec):
    assert violations(pack.okta_redirect_matches_kubesphere_entry, stack_args(rec.resources)) == []


def test_okta_redirect_uri_for_another_provider_name_is_caught(rec):
    app = rec.one(guardrails.OKTA_APP)
    args = stack_args(rec.resources, change=lambda r: {**r.inputs, "redirectUris": ["https://console.example.com/oauth/redirect/OktaSSO"]} if r is app else None)
    found = violations(pack.okta_redirect_matches_kubesphere_entry, args)
    assert len(found) == 1 and found[0][1] == rec.one(guardrails.KUBERNETES_SECRET).urn


def test_kubesphere_entry_whose_redirect_url_does_not_end_with_its_name_is_caught(rec):
    configuration = secret_configuration(rec)
    configuration["name"] = "Corporate"
    secret, inputs = secret_with_configuration(rec, configuration)
    found = violations(pack.okta_redirect_matches_kubesphere_entry, stack_args(rec.resources, change=lambda r: inputs if r is secret else None))
    assert len(found) == 1 and "/oauth/redirect/Corporate" in found[0][0]


# --- okta-app-not-open-to-whole-org -----------------------------------------------------------------

def test_app_assigned_to_groups_only_passes(rec):
    assert violations(pack.okta_app_not_open_to_whole_org, app_with(rec)) == []


def test_implicit_assignment_is_caught(rec):
    found = violations(pack.okta_app_not_open_to_whole_org, app_with(rec, implicitAssignment=True))
    assert len(found) == 1 and "implicitAssignment" in found[0][0]


# --- okta-app-group-assignments -------------------------------------------------------------------------

def test_one_group_assignments_resource_with_groups_passes(rec):
    assert violations(pack.okta_app_group_assignments, stack_args(rec.resources, {"everyoneGroupIds": [EVERYONE_ID]})) == []


def test_app_without_group_assignments_is_caught(rec):
    without = [r for r in rec.resources if r.type != guardrails.OKTA_APP_GROUP_ASSIGNMENTS]
    found = violations(pack.okta_app_group_assignments, stack_args(without))
    assert len(found) == 1 and found[0][1] == rec.one(guardrails.OKTA_APP).urn


def test_everyone_group_assignment_is_caught():
    rec = recorded(group_ids=[GROUP_ID, EVERYONE_ID])
    found = violations(pack.okta_app_group_assignments, stack_args(rec.resources, {"everyoneGroupIds": [EVERYONE_ID]}))
    assert len(found) == 1 and "Everyone" in found[0][0]


def test_second_owner_of_the_app_s_assignments_is_caught(rec):
    app = rec.one(guardrails.OKTA_APP)
    single = Registered(type=guardrails.OKTA_APP_GROUP_ASSIGNMENT, name="extra", urn="urn:extra", parent_urn="",
                        dependencies=[app.urn], inputs={"appId": "ks-app-id", "groupId": GROUP_ID},
                        secret_inputs=set(), protect=False, additional_secret_outputs=[])
    found = violations(pack.okta_app_group_assignments, stack_args(rec.resources + [single]))
    assert len(found) == 1 and found[0][1] == "urn:extra"


# --- prod-stacks-require-mfa ------------------------------------------------------------------------------

def test_prod_stack_with_two_factor_rule_passes(prod_stack, rec):
    assert violations(pack.prod_stacks_require_mfa, stack_args(rec.resources)) == []


def test_prod_stack_with_one_factor_rule_is_caught(prod_stack):
    rec = recorded(require_mfa=False)
    found = violations(pack.prod_stacks_require_mfa, stack_args(rec.resources))
    assert len(found) == 1 and "2FA" in found[0][0]


def test_prod_stack_without_a_sign_on_policy_is_caught(prod_stack):
    rec = recorded(sign_on_policy=False)
    found = violations(pack.prod_stacks_require_mfa, stack_args(rec.resources))
    assert len(found) == 1 and "no sign-on policy" in found[0][0]


def test_dev_stack_may_use_one_factor(dev_stack):
    rec = recorded(require_mfa=False)
    assert violations(pack.prod_stacks_require_mfa, stack_args(rec.resources)) == []


# --- prod-stacks-protect-okta-app -----------------------------------------------------------------------

def test_protected_app_on_prod_passes(prod_stack):
    rec = recorded(protect_app=True)
    assert violations(pack.prod_stacks_protect_okta_app, resource_args(rec.one(guardrails.OKTA_APP))) == []


def test_unprotected_app_on_prod_is_caught(prod_stack, rec):
    found = violations(pack.prod_stacks_protect_okta_app, resource_args(rec.one(guardrails.OKTA_APP)))
    assert len(found) == 1 and "protect" in found[0][0]


def test_unprotected_app_on_dev_passes(dev_stack, rec):
    assert violations(pack.prod_stacks_protect_okta_app, resource_args(rec.one(guardrails.OKTA_APP))) == []


# --- kubesphere-entry-verifies-tls ----------------------------------------------------------------------

def test_v41_entry_without_insecure_skip_verify_passes(rec):
    assert violations(pack.kubesphere_entry_verifies_tls, resource_args(rec.one(guardrails.KUBERNETES_SECRET))) == []


def test_v41_entry_with_insecure_skip_verify_is_caught(rec):
    configuration = secret_configuration(rec)
    configuration["provider"]["insecureSkipVerify"] = True
    secret, inputs = secret_with_configuration(rec, configuration)
    found = violations(pack.kubesphere_entry_verifies_tls, resource_args(secret, inputs))
    assert len(found) == 1 and "provider.insecureSkipVerify" in found[0][0]


def test_v41_entry_in_base64_data_with_differently_cased_key_is_caught(rec):
    configuration = secret_configuration(rec)
    configuration["provider"]["InsecureSkipVerify"] = "true"
    secret = rec.one(guardrails.KUBERNETES_SECRET)
    encoded = base64.b64encode(yaml.safe_dump(configuration).encode()).decode()
    inputs = {k: v for k, v in secret.inputs.items() if k != "stringData"} | {"data": {"configuration.yaml": encoded}}
    assert len(violations(pack.kubesphere_entry_verifies_tls, resource_args(secret, inputs, secret_paths={"data"}))) == 1


def test_v3_entry_without_insecure_skip_verify_passes():
    assert violations(pack.kubesphere_entry_verifies_tls, resource_args(v3_entry_resource())) == []


def test_v3_entry_with_insecure_skip_verify_is_caught():
    found = violations(pack.kubesphere_entry_verifies_tls, resource_args(v3_entry_resource(insecureSkipVerify=True)))
    assert len(found) == 1 and "provider.insecureSkipVerify" in found[0][0]


# --- client-secret-reaches-kubesphere-only-as-secret ---------------------------------------------------

def test_v41_secret_from_the_component_needs_no_remediation(rec):
    secret = rec.one(guardrails.KUBERNETES_SECRET)
    assert pack.client_secret_only_as_secret.remediate(resource_args(secret, remediation=True)) is None


def test_v41_secret_with_plain_string_data_is_made_secret(rec):
    secret = rec.one(guardrails.KUBERNETES_SECRET)
    fixed = pack.client_secret_only_as_secret.remediate(resource_args(secret, secret_paths=set(), remediation=True))
    assert isinstance(fixed["stringData"], Secret)
    assert fixed["metadata"] == secret.inputs["metadata"] and fixed["type"] == secret.inputs["type"]
    wire = serialize_properties(fixed)["stringData"]
    assert wire["value"] == secret.inputs["stringData"] and "4dabf18193072939515e22adb298388d" in wire


def test_v3_entry_given_as_a_secret_needs_no_remediation():
    resource = v3_entry_resource()
    assert pack.client_secret_only_as_secret.remediate(resource_args(resource, remediation=True)) is None


def test_v3_entry_with_a_plain_client_secret_is_made_secret():
    resource = v3_entry_resource()
    fixed = pack.client_secret_only_as_secret.remediate(resource_args(resource, secret_paths=set(), remediation=True))
    assert isinstance(fixed["entry"], Secret) and fixed["entry"].value["provider"]["clientSecret"] == "s3cr3t"


def test_v3_entry_whose_client_secret_alone_is_secret_needs_no_remediation():
    resource = v3_entry_resource()
    args = resource_args(resource, secret_paths={"entry.provider.clientSecret"}, remediation=True)
    assert pack.client_secret_only_as_secret.remediate(args) is None


def test_kubesphere_secret_passes_placement_check(rec):
    assert violations(pack.client_secret_only_as_secret, resource_args(rec.one(guardrails.KUBERNETES_SECRET))) == []


def test_client_secret_in_a_config_map_is_caught(rec):
    secret = rec.one(guardrails.KUBERNETES_SECRET)
    config_map = copy.deepcopy(secret)
    config_map.type = "kubernetes:core/v1:ConfigMap"
    config_map.inputs = {"metadata": {"name": "kubesphere-config"}, "data": secret.inputs["stringData"]}
    found = violations(pack.client_secret_only_as_secret, resource_args(config_map, secret_paths=set()))
    assert len(found) == 1 and "ConfigMap" in found[0][0]


def test_client_secret_copied_into_an_annotation_is_caught(rec):
    secret = rec.one(guardrails.KUBERNETES_SECRET)
    metadata = {**secret.inputs["metadata"], "annotations": {"note": "secret is mock-client-secret"}}
    found = violations(pack.client_secret_only_as_secret, resource_args(secret, {**secret.inputs, "metadata": metadata}))
    assert len(found) == 1 and "annotations" in found[0][0]


def test_unknown_configuration_during_preview_is_left_to_the_sdk(rec):
    secret = rec.one(guardrails.KUBERNETES_SECRET)
    inputs = {**secret.inputs, "stringData": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"}
    with pytest.raises(UnknownValueError):
        violations(pack.kubesphere_entry_verifies_tls, resource_args(secret, inputs))


# --- the repository's own stacks --------------------------------------------------------------------

def _stack_param(path):
    return pytest.param(path, id=path.name)


def _stack_files():
    from tests.test_program import STACK_FILES

    return STACK_FILES


@pytest.mark.parametrize("path", [_stack_param(p) for p in _stack_files()])
def test_every_example_stack_passes_every_policy(path, monkeypatch):
    from tests.test_program import run_program, stack_config

    stack = path.name.split(".")[1]
    monkeypatch.setenv("PULUMI_STACK", stack)
    rec = run_program(stack_config(path), stack=stack)
    found = []
    for policy in pack.POLICIES:
        if isinstance(policy, ResourceValidationPolicy):
            for resource in rec.resources:
                found += violations(policy, resource_args(resource))
        else:
            found += violations(policy, stack_args(rec.resources))
    assert found == []


# --- global roles that exist on the stack's KubeSphere ------------------------------------------------

SELF_PROVISIONERS = "00gselfprovisioners1"


@pytest.fixture(scope="module")
def v33_self_provisioners():
    from tests.pulumi_harness import OktaAndKubernetesMocks

    members = {SELF_PROVISIONERS: [{"id": "00ujo", "login": "jo@acme.com", "email": "jo@acme.com", "status": "ACTIVE"}]}
    args = {**BASE_ARGS, "kubesphere_version": "3.3", "group_ids": [SELF_PROVISIONERS], "mapping_method": "lookup",
            "role_bindings": {SELF_PROVISIONERS: "platform-self-provisioner"}}
    return run(lambda: KubeSphereOktaIntegration("ks", args), stack="dev",
               mocks=OktaAndKubernetesMocks(group_members=members))


def test_binding_to_a_role_the_version_ships_passes(v33_self_provisioners):
    resources = v33_self_provisioners.resources
    assert violations(pack.global_role_bindings_name_shipped_roles, stack_args(resources, {"kubesphereVersion": "3.3"})) == []
    # Without the version configured, a v1alpha2 binding is judged against 3.4, which ships it too.
    assert violations(pack.global_role_bindings_name_shipped_roles, stack_args(resources, {})) == []


def one_object(recording, typ: str):
    """The one object of type ``typ`` declared (by the keyed membership resource that writes it)."""
    found = recording.objects(typ)
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def test_platform_self_provisioner_on_3_2_is_caught_at_the_binding(v33_self_provisioners):
    resources = v33_self_provisioners.resources
    found = violations(pack.global_role_bindings_name_shipped_roles, stack_args(resources, {"kubesphereVersion": "3.2"}))
    binding = one_object(v33_self_provisioners, "kubernetes:iam.kubesphere.io/v1alpha2:GlobalRoleBinding")
    assert [urn for _, urn in found] == [binding.urn]
    assert "'platform-self-provisioner' is built into KubeSphere 3.3, 3.4, 4.1.1, 4.1.2, 4.1.3, not into 3.2 " in found[0][0]


def test_a_global_role_the_stack_declares_may_be_bound_on_any_version(v33_self_provisioners):
    import dataclasses

    binding = one_object(v33_self_provisioners, "kubernetes:iam.kubesphere.io/v1alpha2:GlobalRoleBinding")
    role = dataclasses.replace(binding, type="kubernetes:iam.kubesphere.io/v1alpha2:GlobalRole", name="role",
                               urn=binding.urn + "-role", inputs={"metadata": {"name": "platform-self-provisioner"}})
    resources = [*v33_self_provisioners.resources, role]
    assert violations(pack.global_role_bindings_name_shipped_roles, stack_args(resources, {"kubesphereVersion": "3.2"})) == []
