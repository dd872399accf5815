"""The component under Pulumi mocks: what it registers, with which inputs, parents and secrets."""

from __future__ import annotations

import pytest

from kubesphere_okta import IntegrationArgsError, KubeSphereOktaIntegration
from tests.pulumi_harness import OktaAndKubernetesMocks, run

GROUP_ID = "00g1abcdefghijklmnop"
BASE_ARGS = {
    "console_url": "https://console.example.com",
    "issuer": "https://example.okta.com",
    "kubesphere_version": "4.1",
    "group_ids": [GROUP_ID],
}

APP = "okta:app/oAuth:OAuth"
ASSIGNMENTS = "okta:index/appGroupAssignments:AppGroupAssignments"
POLICY = "okta:index/appSignonPolicy:AppSignonPolicy"
RULE = "okta:index/appSignonPolicyRule:AppSignonPolicyRule"
SECRET = "kubernetes:core/v1:Secret"


def build(args=None, name="ks"):
    def program():
        integration = KubeSphereOktaIntegration(name, {**BASE_ARGS, **(args or {})})
        return {
            "client_id": integration.client_id,
            "client_secret": integration.client_secret,
            "redirect_url": integration.redirect_url,
            "identity_provider": integration.identity_provider,
        }
    return program


def test_app_is_a_web_app_kubesphere_can_log_in_with():
    rec = run(build())
    app = rec.one(APP).inputs
    assert app["type"] == "web"
    assert app["grantTypes"] == ["authorization_code"]
    assert app["responseTypes"] == ["code"]
    assert app["redirectUris"] == ["https://console.example.com/oauth/redirect/Okta"]
    assert app["pkceRequired"] is False
    assert app["implicitAssignment"] is False
    assert app["wildcardRedirect"] == "DISABLED"
    assert app["tokenEndpointAuthMethod"] == "client_secret_basic"


def test_every_child_is_parented_to_the_component():
    rec = run(build())
    component = rec.one("kubesphere-okta:index:KubeSphereOktaIntegration")
    for typ in (APP, ASSIGNMENTS, POLICY, SECRET):
        assert rec.one(typ).parent_urn == component.urn, typ
    assert rec.one(RULE).parent_urn == rec.one(POLICY).urn


def test_child_names_derive_from_the_component_name():
    rec = run(build(name="corp"))
    assert {r.name for r in rec.resources} >= {"corp-app", "corp-groups", "corp-signon-policy", "corp-signon-rule", "corp-identity-provider"}


def test_group_assignments_are_authoritative_for_the_allowed_groups():
    rec = run(build({"group_names": ["KubeSphere Users"]}), mocks=OktaAndKubernetesMocks(groups={"KubeSphere Users": "00g2abcdefghijklmnop"}))
    groups = rec.one(ASSIGNMENTS).inputs["groups"]
    assert [g["id"] for g in groups] == [GROUP_ID, "00g2abcdefghijklmnop"]
    assert all(g["profile"] == "{}" for g in groups)
    assert rec.urn_of("ks-app") in rec.one(ASSIGNMENTS).dependencies


def test_group_name_that_only_prefix_matches_fails_the_run():
    mocks = OktaAndKubernetesMocks(groups={"KubeSphere Users (legacy)": "00g3abcdefghijklmnop"})
    with pytest.raises(Exception, match="not found by its exact name"):
        run(build({"group_ids": [], "group_names": ["KubeSphere Users"]}), mocks=mocks)


def test_sign_on_policy_denies_by_default_and_allows_groups_with_mfa():
    rec = run(build({"reauthenticate_every": "PT12H"}))
    policy = rec.one(POLICY).inputs
    assert policy["catchAll"] is False and policy["description"] and policy["name"]
    rule = rec.one(RULE).inputs
    assert rule["access"] == "ALLOW"
    assert rule["groupsIncluded"] == [GROUP_ID]
    assert rule["factorMode"] == "2FA"
    assert rule["reAuthenticationFrequency"] == "PT12H"
    assert rec.urn_of("ks-signon-policy") in rec.one(APP).dependencies


def test_mfa_can_be_relaxed_to_one_factor():
    rec = run(build({"require_mfa": False}))
    assert rec.one(RULE).inputs["factorMode"] == "1FA"


def test_classic_orgs_get_no_sign_on_policy():
    rec = run(build({"sign_on_policy": False}))
    assert not rec.of_type(POLICY) and not rec.of_type(RULE)
    assert "authenticationPolicy" not in rec.one(APP).inputs


def test_v41_secret_is_labelled_typed_and_secret():
    rec = run(build())
    secret = rec.one(SECRET)
    assert secret.inputs["type"] == "config.kubesphere.io/identityprovider"
    assert secret.inputs["metadata"] == {
        "name": "identity-provider-okta",
        "namespace": "kubesphere-system",
        "labels": {"config.kubesphere.io/type": "identityprovider"},
    }
    assert "stringData" in secret.secret_inputs
    import yaml

    configuration = yaml.safe_load(secret.inputs["stringData"]["configuration.yaml"])
    assert configuration["mappingMethod"] == "manual"
    assert configuration["provider"]["clientSecret"] == "mock-client-secret"
    assert configuration["provider"]["redirectURL"] == "https://console.example.com/oauth/redirect/Okta"


def test_client_secret_output_is_secret_and_identity_provider_output_is_redacted():
    rec = run(build())
    assert rec.outputs["identity_provider"]["provider"]["clientSecret"] == "[secret]"
    assert "clientSecret" in rec.one(APP).additional_secret_outputs


def test_bad_arguments_register_nothing_and_list_every_problem():
    recorded = []

    def program():
        try:
            KubeSphereOktaIntegration("ks", {"console_url": "http://console.example.com", "issuer": "https://x.okta.com/",
                                             "kubesphere_version": "5.0"})
        except IntegrationArgsError as error:
            recorded.append(error)

    rec = run(program)
    assert rec.resources == []
    message = str(recorded[0])
    for field in ("console_url", "issuer", "kubesphere_version", "group_ids"):
        assert f"- {field}:" in message


def test_protect_app_protects_only_the_app():
    rec = run(build({"protect_app": True}))
    assert rec.one(APP).protect is True
    assert rec.one(ASSIGNMENTS).protect is False


@pytest.mark.parametrize("variant", [{}, {"sign_on_policy": False}, {"kubesphere_version": "4.1", "provider_name": "okta-sso"},
                                     {"require_mfa": False, "scopes": ["openid", "groups"]}])
def test_no_setting_changes_an_input_that_would_replace_the_okta_app(variant):
    # pulumi-okta replaces the app (new client id and secret: every user logged out) when `type`
    # changes or omit_secret goes true -> false: those inputs must never depend on settings.
    app = run(build(variant)).one(APP).inputs
    assert app["type"] == "web"
    assert "omitSecret" not in app
