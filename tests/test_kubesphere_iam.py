"""The KubeSphere User and GlobalRoleBinding bodies per version, and the identity rules in rules.py."""

from __future__ import annotations

import pytest

from kubesphere_okta import rules
from kubesphere_okta.identity_provider import IdentityProviderSettings, okta_app_settings
from kubesphere_okta.kubesphere_iam import (
    render_global_role_binding,
    render_user,
)
from kubesphere_okta.usernames import PlannedUser, okta_username_expression

JANE = PlannedUser(username="jane.acme.com", okta_id="00u1abcdefghijklmno", email="jane@acme.com",
                   role="platform-admin", login="jane@acme.com")


@pytest.mark.parametrize("version", ["3.2", "3.3", "3.4"])
def test_v3_user_is_v1alpha2_bound_by_the_two_labels(version):
    assert render_user(version, "Okta", JANE) == {
        "apiVersion": "iam.kubesphere.io/v1alpha2",
        "kind": "User",
        "metadata": {"name": "jane.acme.com", "labels": {
            "iam.kubesphere.io/identify-provider": "Okta",
            "iam.kubesphere.io/origin-uid": "00u1abcdefghijklmno",
        }},
        "spec": {"email": "jane@acme.com"},
    }


@pytest.mark.parametrize("version", ["4.1.0", "4.1.1", "4.1.2"])
def test_v41_up_to_412_user_is_v1beta1_bound_by_the_two_labels(version):
    user = render_user(version, "Okta", JANE)
    assert user["apiVersion"] == "iam.kubesphere.io/v1beta1"
    assert user["metadata"] == {"name": "jane.acme.com", "labels": {
        "iam.kubesphere.io/identify-provider": "Okta", "iam.kubesphere.io/origin-uid": "00u1abcdefghijklmno"}}


@pytest.mark.parametrize("version", ["4.1.3", "4.1"])
def test_v413_and_plain_41_user_is_bound_by_the_annotation(version):
    user = render_user(version, "Okta", JANE)
    assert user["metadata"] == {"name": "jane.acme.com", "annotations": {
        "iam.kubesphere.io/identity-provider.Okta": "00u1abcdefghijklmno"}}


def test_user_has_no_password():
    for version in rules.SUPPORTED_VERSIONS:
        assert render_user(version, "Okta", JANE)["spec"] == {"email": "jane@acme.com"}


def test_v3_global_role_binding_is_named_and_labelled_as_kubesphere_does():
    assert render_global_role_binding("3.4", "jane.acme.com", "platform-admin") == {
        "apiVersion": "iam.kubesphere.io/v1alpha2",
        "kind": "GlobalRoleBinding",
        "metadata": {"name": "jane.acme.com-platform-admin", "labels": {"iam.kubesphere.io/user-ref": "jane.acme.com"}},
        "roleRef": {"apiGroup": "iam.kubesphere.io", "kind": "GlobalRole", "name": "platform-admin"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "jane.acme.com"}],
    }


@pytest.mark.parametrize("version", ["4.1.2", "4.1.3", "4.1"])
def test_v41_global_role_binding_adds_role_ref_label_and_iam_subject(version):
    binding = render_global_role_binding(version, "jane.acme.com", "platform-regular")
    assert binding["apiVersion"] == "iam.kubesphere.io/v1beta1"
    assert binding["metadata"]["labels"] == {"iam.kubesphere.io/user-ref": "jane.acme.com",
                                             "iam.kubesphere.io/role-ref": "platform-regular"}
    assert binding["subjects"] == [{"apiGroup": "iam.kubesphere.io", "kind": "User", "name": "jane.acme.com"}]


# --- rules ------------------------------------------------------------------------------------------

BASE = {"console_url": "https://c.example.com", "issuer": "https://x.okta.com", "kubesphere_version": "4.1",
        "group_ids": ["00g1abcdefghijklmnop"]}


def problems(**values):
    return dict(rules.integration_problems({**BASE, **values}))


@pytest.mark.parametrize("version", ["4.1.0", "4.1.1", "4.1.2", "4.1.3"])
def test_41_patch_levels_are_accepted(version):
    assert problems(kubesphere_version=version) == {}


def test_unknown_patch_level_is_refused():
    assert "kubesphere_version" in problems(kubesphere_version="4.1.9")


def test_41_patch_level_keeps_41_rules():
    assert "access_token_max_age" in problems(kubesphere_version="4.1.2", access_token_max_age="1h")


def test_login_confirmation_off_is_allowed_with_dns_safe_usernames():
    assert "login_confirmation" in problems(login_confirmation=False)
    assert problems(login_confirmation=False, username_format="dns-safe") == {}


def test_unknown_username_format_is_refused():
    assert "username_format" in problems(username_format="email")


def test_role_bindings_need_lookup_mapping():
    found = problems(role_bindings={"00g1abcdefghijklmnop": "platform-admin"})
    assert "mapping_method: lookup" in found["role_bindings"]
    assert problems(role_bindings={"00g1abcdefghijklmnop": "platform-admin"}, mapping_method="lookup") == {}


def test_role_bindings_group_must_be_allowed_to_use_the_app():
    found = problems(role_bindings={"Admins": "platform-admin"}, mapping_method="lookup")
    assert "'Admins' are not allowed to use the app" in found["role_bindings"]


def test_role_bindings_role_must_be_a_global_role_name():
    found = problems(role_bindings={"00g1abcdefghijklmnop": "Platform Admin"}, mapping_method="lookup")
    assert "not a KubeSphere global role name" in found["role_bindings"]


def test_role_bindings_keep_their_order():
    pairs = rules.check_role_bindings({"b": "platform-regular", "a": "platform-admin"})
    assert pairs == [("b", "platform-regular"), ("a", "platform-admin")]


def test_reserved_username_that_can_never_match_is_refused():
    assert "reserved_usernames" in problems(reserved_usernames=["Admin"])


def test_prune_users_must_be_boolean():
    assert "prune_users" in problems(prune_users="yes")


def test_authorization_server_needs_its_own_issuer():
    assert "authorization_server_id" in problems(authorization_server_id="default")
    assert problems(authorization_server_id="default", issuer="https://x.okta.com/oauth2/default") == {}


def test_dns_safe_sets_the_custom_okta_username_template():
    settings = IdentityProviderSettings(console_url="https://c", issuer="https://x.okta.com", kubesphere_version="4.1",
                                        username_format="dns-safe")
    app = okta_app_settings(settings)
    assert app["user_name_template"] == okta_username_expression()
    assert app["user_name_template_type"] == "CUSTOM"


def test_okta_login_format_leaves_okta_default_username():
    settings = IdentityProviderSettings(console_url="https://c", issuer="https://x.okta.com", kubesphere_version="4.1")
    assert "user_name_template" not in okta_app_settings(settings)


def test_each_release_ships_the_global_roles_of_its_role_templates():
    # kubesphere/ks-installer@v3.2.1|v3.3.2|v3.4.1:roles/ks-core/prepare/files/ks-init/role-templates.yaml,
    # kubesphere/kubesphere@v4.1.1|v4.1.2|v4.1.3:config/ks-core/templates/globalroles.yaml (kind GlobalRole).
    from kubesphere_okta.kubesphere_iam import built_in_global_roles

    assert built_in_global_roles("3.2") == ("platform-admin", "platform-regular", "users-manager", "workspaces-manager")
    for version in ("3.3", "3.4", "4.1", "4.1.0", "4.1.1", "4.1.2", "4.1.3"):
        assert built_in_global_roles(version) == ("platform-admin", "platform-regular", "platform-self-provisioner"), version
