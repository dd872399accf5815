"""The settings that choose the cluster (docs/cluster-binding.md): ``kubeconfig``, ``kube_context``
and ``rebind_cluster``, checked before anything is created."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubesphere_okta import rules
from kubesphere_okta.cluster_binding import kubeconfig_problem

BASE = {"console_url": "https://c.example.com", "issuer": "https://e.okta.com", "kubesphere_version": "4.1",
        "group_ids": ["00g1abcdefghijklmnop"]}

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    server: https://10.0.0.1:6443
users:
- name: admin
  user:
    token: abc
contexts:
- name: prod
  context:
    cluster: prod
    user: admin
current-context: prod
"""


def field_problems(field, value):
    return [p for p in rules.integration_problems({**BASE, field: value}) if p[0] == field]


# --- kubeconfig ----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["~/.kube/config", "/etc/kubernetes/admin.conf", "kubeconfig.yaml",
                                  "/does/not/exist", "  ./kube config  ", "config\n"])
def test_a_kubeconfig_path_is_accepted_as_given_for_the_provider_to_read(path):
    # One line, not starting with "{": a path. Whether the file exists is the provider's question.
    assert rules.check_kubeconfig(path) == path
    assert field_problems("kubeconfig", path) == []


@pytest.mark.parametrize("contents", [
    KUBECONFIG,
    "\n" + KUBECONFIG,
    KUBECONFIG.replace("current-context: prod\n", ""),  # the context may come from kube_context
    json.dumps({"clusters": [{"name": "c", "cluster": {"server": "https://k"}}],
                "contexts": [{"name": "c", "context": {"cluster": "c"}}], "current-context": "c"}),
])
def test_valid_kubeconfig_contents_are_accepted_unchanged(contents):
    assert rules.check_kubeconfig(contents) == contents
    assert field_problems("kubeconfig", contents) == []


@pytest.mark.parametrize("contents", [
    KUBECONFIG.replace("    server: https://10.0.0.1:6443\n", ""),
    KUBECONFIG.replace("current-context: prod", "current-context: staging"),
    KUBECONFIG.replace("    cluster: prod\n    user", "    cluster: other\n    user"),
    "clusters: 5\nusers: []\n",
    "clusters: [\nusers: []\n",
    "- just\n- a list\n",
    '{"clusters": 5}',
    '   {"clusters": {}}',
    "  " + json.dumps({"clusters": [], "contexts": []}),  # no context for any kube_context to name
    '{"clusters": [',
])
def test_broken_kubeconfig_contents_are_refused_with_the_key_at_fault(contents):
    expected = kubeconfig_problem(contents)
    assert expected and "no current-context" not in expected
    with pytest.raises(ValueError) as raised:
        rules.check_kubeconfig(contents)
    assert str(raised.value) == expected
    assert [message for _, message in field_problems("kubeconfig", contents)] == [expected]


def test_kubeconfig_refusals_never_echo_a_credential():
    contents = KUBECONFIG.replace("    cluster: prod\n    user", "    cluster: other\n    user")
    contents = contents.replace("token: abc", "token: s3cr3t-t0ken")
    with pytest.raises(ValueError) as raised:
        rules.check_kubeconfig(contents)
    assert "s3cr3t" not in str(raised.value)


@pytest.mark.parametrize("value", ["", "   ", "\n\n", None, 7, ["~/.kube/config"], {"clusters": []}])
def test_kubeconfig_must_be_a_non_empty_string(value):
    with pytest.raises(ValueError, match="^kubeconfig must be a kubeconfig file's contents or its path"):
        rules.check_kubeconfig(value)


# --- kube_context --------------------------------------------------------------------------------

@given(st.text(min_size=1, max_size=20))
@settings(max_examples=80)
def test_a_kube_context_is_accepted_exactly_when_a_non_empty_name_without_surrounding_space(name):
    plain = bool(name.strip()) and name == name.strip()
    try:
        assert rules.check_kube_context(name) == name
        accepted = True
    except ValueError as error:
        assert str(error) == f"kube_context must be the name of a kubeconfig context, got {name!r}"
        accepted = False
    assert accepted == plain


@pytest.mark.parametrize("value, ok", [
    ("prod", True), ("arn:aws:eks:eu-west-1:1:cluster/prod", True), ("my context", True),
    ("", False), (" ", False), (" prod", False), ("prod\n", False), (None, False), (7, False), (["prod"], False),
])
def test_kube_context_names_one_context(value, ok):
    if ok:
        assert rules.check_kube_context(value) == value
        assert field_problems("kube_context", value) == []
    else:
        with pytest.raises(ValueError, match="^kube_context must be the name of a kubeconfig context"):
            rules.check_kube_context(value)


# --- rebind_cluster ------------------------------------------------------------------------------

@given(st.uuids())
@settings(max_examples=30)
def test_rebind_cluster_accepts_a_kube_system_uid_as_the_api_server_writes_it(uid):
    text = str(uid)
    assert rules.check_cluster_uid(text) == text
    assert field_problems("rebind_cluster", text) == []


UID = uuid.UUID("6f1c2b3a-9d4e-4f5a-8b7c-0d1e2f3a4b5c")


@pytest.mark.parametrize("value", [
    str(UID).upper(), "{" + str(UID) + "}", UID.hex, str(UID) + "\n", " " + str(UID), str(UID)[:-1],
    "kube-system", "", None, 7, UID,
])
def test_rebind_cluster_refuses_anything_but_the_uid_naming_where_to_read_it(value):
    with pytest.raises(ValueError) as raised:
        rules.check_cluster_uid(value)
    message = str(raised.value)
    assert message.startswith("rebind_cluster must be the uid of the new cluster's kube-system Namespace")
    assert "kubectl get namespace kube-system -o jsonpath='{.metadata.uid}'" in message
    assert message.endswith(f"got {value!r}")
    assert [f for f, _ in field_problems("rebind_cluster", value)] == ([] if value is None else ["rebind_cluster"])
