"""The stack-config model, tested directly (no Pulumi)."""

from __future__ import annotations

import pytest

from infra.config import ConfigError, load

MINIMAL = {"consoleUrl": "https://console.example.com", "kubesphereVersion": "4.1", "groupNames": '["Ops"]'}


def test_minimal_config_takes_defaults():
    model, issuer = load(MINIMAL, stack="dev", okta={"orgName": "acme", "baseUrl": "oktapreview.com"})
    assert issuer == "https://acme.oktapreview.com"
    args = model.component_args(stack="dev")
    assert args["provider_name"] == "Okta" and args["require_mfa"] is True and args["sign_on_policy"] is True
    assert args["group_names"] == ["Ops"] and args["protect_app"] is False
    assert args["app_label"] == "KubeSphere (dev)"


def test_strings_from_pulumi_config_are_parsed():
    model, _ = load({**MINIMAL, "requireMfa": "false", "scopes": '["email"]', "kubesphereVersion": "3.4"},
                    stack="dev", okta={"orgName": "acme"})
    assert model.require_mfa is False and model.scopes == ["openid", "email"] and model.kubesphere_version == "3.4"


def test_explicit_issuer_wins_over_okta_org():
    _, issuer = load({**MINIMAL, "issuer": "https://login.acme.com/oauth2/default"}, stack="dev", okta={"orgName": "acme"})
    assert issuer == "https://login.acme.com/oauth2/default"


def test_missing_issuer_and_org_is_one_of_the_problems():
    with pytest.raises(ConfigError) as raised:
        load({"kubesphereVersion": "4.1"}, stack="dev")
    keys = [key for key, _, _ in raised.value.problems]
    assert keys == ["kubesphere-okta:consoleUrl", "kubesphere-okta:groupIds", "kubesphere-okta:issuer"]


def test_every_problem_has_a_fix_command():
    with pytest.raises(ConfigError) as raised:
        load({"consoleUrl": "nope", "kubesphereVersion": "9", "mappingMethod": "magic", "loginConfirmation": "false"},
             stack="prod")
    for key, message, fix in raised.value.problems:
        assert fix.startswith("pulumi config "), (key, fix)
        assert message


def test_unknown_key_suggests_the_close_one():
    with pytest.raises(ConfigError, match=r"did you mean kubesphere-okta:groupNames\?"):
        load({**MINIMAL, "groupName": '["x"]'}, stack="dev", okta={"orgName": "acme"})
