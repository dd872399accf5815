"""Stack config read from Pulumi.yaml and Pulumi.<stack>.yaml as the CLI would pass it."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.stack_files import SECRET_PLACEHOLDER, StackFileError, stack_config

PROJECT = {"name": "kubesphere-okta", "runtime": "python"}


def test_secure_values_become_the_placeholder_and_their_keys_secret():
    config = stack_config(PROJECT, {"config": {"okta:apiToken": {"secure": "v1:abc"}, "okta:orgName": "example"}}, "dev")
    assert config.config["okta:apiToken"] == SECRET_PLACEHOLDER
    assert config.secret_keys == ("okta:apiToken",)


def test_keys_without_namespace_belong_to_the_project():
    config = stack_config(PROJECT, {"config": {"consoleUrl": "https://console.example.com"}}, "dev")
    assert config.config == {"kubesphere-okta:consoleUrl": "https://console.example.com"}


def test_structured_values_are_passed_as_json_and_scalars_as_text():
    config = stack_config(PROJECT, {"config": {"groupNames": ["A", "B"], "requireMfa": True, "n": 3}}, "dev")
    assert json.loads(config.config["kubesphere-okta:groupNames"]) == ["A", "B"]
    assert config.config["kubesphere-okta:requireMfa"] == "true"
    assert config.config["kubesphere-okta:n"] == "3"


def test_a_secure_value_inside_a_structure_makes_the_whole_key_secret():
    config = stack_config(PROJECT, {"config": {"creds": {"user": "u", "password": {"secure": "v1:x"}}}}, "dev")
    assert json.loads(config.config["kubesphere-okta:creds"]) == {"user": "u", "password": SECRET_PLACEHOLDER}
    assert config.secret_keys == ("kubesphere-okta:creds",)


def test_project_defaults_apply_and_the_stack_file_overrides_them():
    project = {**PROJECT, "config": {"providerName": {"default": "Okta"}, "mappingMethod": "auto", "okta:baseUrl": {"value": "okta.com"}}}
    config = stack_config(project, {"config": {"providerName": "Corp"}}, "dev")
    assert config.config == {"kubesphere-okta:providerName": "Corp", "kubesphere-okta:mappingMethod": "auto", "okta:baseUrl": "okta.com"}


def test_an_empty_stack_file_has_no_config():
    assert stack_config(PROJECT, None, "dev").config == {}


@pytest.mark.parametrize("project, stack_doc", [({"runtime": "python"}, {}), (PROJECT, ["not", "a", "mapping"]), (PROJECT, {"config": "x"})])
def test_malformed_files_are_refused(project, stack_doc):
    with pytest.raises(StackFileError):
        stack_config(project, stack_doc, "dev")


CIPHER_MARK = "\u00a7"  # plain values never hold it, so any in the output would be leaked ciphertext
_plain = st.text(st.characters(blacklist_characters=CIPHER_MARK), max_size=8)
_leaf = st.one_of(_plain, st.booleans(), st.integers(), st.builds(lambda c: {"secure": CIPHER_MARK + c}, _plain))
_value = st.recursive(_leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_plain.filter(lambda k: k and k != "secure"), inner, max_size=3), max_leaves=6)


def _has_secure(value) -> bool:
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_has_secure(v) for v in value.values())
    return isinstance(value, list) and any(_has_secure(v) for v in value)


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z]{1,6}(:[a-zA-Z]{1,6})?", fullmatch=True), _value, max_size=6))
def test_every_key_is_passed_as_a_string_and_exactly_the_secure_ones_are_secret(given_config):
    config = stack_config(PROJECT, {"config": given_config}, "dev")
    full = {(k if ":" in k else f"kubesphere-okta:{k}"): v for k, v in given_config.items()}
    assert set(config.config) == set(full)
    assert all(isinstance(v, str) for v in config.config.values())
    assert set(config.secret_keys) == {k for k, v in full.items() if _has_secure(v)}
    assert not any(CIPHER_MARK in v or "\\u00a7" in v for v in config.config.values())
