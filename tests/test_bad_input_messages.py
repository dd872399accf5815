"""Every bad input of issue 10 gets the message (config problem or argument error), never a traceback."""

from __future__ import annotations

import pytest

from infra.config import ConfigError, load
from infra.config_set import apply_commands
from kubesphere_okta import cluster_binding
from kubesphere_okta.args import IntegrationArgsError, resolve_args
from kubesphere_okta.cluster_access import ClusterAccessError as ClusterConfigurationError, api_client

BASE_CONFIG = {"consoleUrl": "https://console.example.com", "kubesphereVersion": "3.4",
               "issuer": "https://example.okta.com", "groupIds": '["00g1abcdefghijklmnop"]'}
BASE_ARGS = {"console_url": "https://console.example.com", "issuer": "https://example.okta.com",
             "kubesphere_version": "3.4", "group_ids": ["00g1abcdefghijklmnop"]}
GOOD_KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://10.0.0.1:6443", certificate-authority-data: "aGVsbG8="}}]
users: [{name: u, user: {token: s3cr3t-token}}]
contexts: [{name: ctx, context: {cluster: c, user: u}}]
current-context: ctx
"""


def config_problems(**raw) -> list[tuple[str, str, str]]:
    with pytest.raises(ConfigError) as raised:
        load({**BASE_CONFIG, **raw}, stack="dev")
    return raised.value.problems


@pytest.mark.parametrize("key, value", [
    ("accessTokenMaxAge", "1hour"),
    ("accessTokenInactivityTimeout", "30 minutes"),
    ("usernameClaim", "preferred username"),
    ("emailClaim", ""),
    ("appLabel", " "),
    ("rebindCluster", "prod"),
])
def test_a_bad_config_value_is_a_config_problem_with_its_fix(key, value):
    problems = config_problems(**{key: value})
    assert [p[0] for p in problems] == [f"kubesphere-okta:{key}"]
    # Applied as `pulumi config` would, the fix removes the problem (an optional key: its default applies).
    raw = {f"kubesphere-okta:{k}": v for k, v in {**BASE_CONFIG, key: value}.items()}
    fixed = apply_commands(raw, problems[0][2], project="kubesphere-okta")
    load({k.split(":", 1)[1]: v for k, v in fixed.items()}, stack="dev")


def test_group_ids_of_the_wrong_json_type_with_role_bindings_is_a_config_problem():
    problems = config_problems(groupIds="123", mappingMethod="lookup", roleBindings='{"Admins": "platform-admin"}')
    assert "kubesphere-okta:groupIds" in [p[0] for p in problems]


@pytest.mark.parametrize("key", ["consoleUrl", "issuer"])
@pytest.mark.parametrize("character", ["\n", "\t", "\r", " ", "\x00", "\u2028"])
def test_urls_with_whitespace_or_control_characters_are_refused(key, character):
    url = BASE_CONFIG[key].replace("example.", f"exa{character}mple.")
    problems = config_problems(**{key: url})
    assert [p[0] for p in problems] == [f"kubesphere-okta:{key}"] and "control characters" in problems[0][1]


@pytest.mark.parametrize("value", [["3.4"], {"v": "3.4"}, True, None])
def test_a_kubesphere_version_of_the_wrong_type_is_an_argument_error(value):
    with pytest.raises(IntegrationArgsError) as raised:
        resolve_args({**BASE_ARGS, "kubesphere_version": value})
    assert "kubesphere_version" in str(raised.value)


def test_argument_type_errors_are_listed_together():
    with pytest.raises(IntegrationArgsError) as raised:
        resolve_args({**BASE_ARGS, "kubesphere_version": ["3.4"], "group_ids": 123, "kube_context": 7,
                      "role_bindings": {"Admins": "platform-admin"}, "mapping_method": "lookup"})
    fields = [field for field, _ in raised.value.problems]
    assert {"kubesphere_version", "group_ids", "kube_context"} <= set(fields)


MALFORMED = {
    "not YAML": "clusters: [\n  - name: a\n  cluster: {",
    "a list": "- a\n- b\n",
    "clusters not a list": "clusters: {a: b}\ncontexts: []\nusers: []\ncurrent-context: x\n",
    "cluster without server": GOOD_KUBECONFIG.replace('server: "https://10.0.0.1:6443", ', ""),
    "bad base64 CA": GOOD_KUBECONFIG.replace("aGVsbG8=", "aGVsbG8"),
    "unknown current context": GOOD_KUBECONFIG.replace("current-context: ctx", "current-context: nope"),
    "context naming a missing cluster": GOOD_KUBECONFIG.replace("{cluster: c, user: u}", "{cluster: gone, user: u}"),
    "user that is a string": GOOD_KUBECONFIG.replace("{token: s3cr3t-token}", "s3cr3t-token"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_kubeconfig_is_one_clear_error_naming_the_key_never_its_secrets(case):
    text = MALFORMED[case]
    with pytest.raises(ClusterConfigurationError) as raised:
        api_client(text, None)
    message = str(raised.value)
    assert "kubeconfig" in message and "s3cr3t-token" not in message and "Traceback" not in message
    assert cluster_binding.kubeconfig_problem(text) is not None


def test_a_malformed_kubeconfig_argument_is_refused_before_anything_is_registered():
    with pytest.raises(IntegrationArgsError) as raised:
        resolve_args({**BASE_ARGS, "kubeconfig": MALFORMED["bad base64 CA"]})
    assert "certificate-authority-data is not valid base64" in str(raised.value)
    assert "aGVsbG8" not in str(raised.value)


def test_a_good_kubeconfig_passes_every_check():
    assert cluster_binding.kubeconfig_problem(GOOD_KUBECONFIG) is None
    resolve_args({**BASE_ARGS, "kubeconfig": GOOD_KUBECONFIG, "kube_context": "ctx"})


def test_a_kubernetes_provider_in_opts_is_refused_with_what_to_pass():
    problems = cluster_binding.selection_problems(has_kubernetes_provider=True, kubeconfig_given=False,
                                                  kube_context_given=False)
    assert problems and "Pass kubeconfig= and kube_context=" in problems[0][1]
    both = cluster_binding.selection_problems(has_kubernetes_provider=True, kubeconfig_given=True, kube_context_given=True)
    assert "kubeconfig and kube_context" in both[0][1]
    assert cluster_binding.selection_problems(has_kubernetes_provider=False, kubeconfig_given=True,
                                              kube_context_given=True) == []
