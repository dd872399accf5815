"""The component's Okta reads: getUsers asked exactly as pulumi-okta's own function asks it.

okta_directory invokes ``okta:user/getUsers:getUsers`` itself and reads the answer as plain values
instead of ``pulumi_okta.user.get_users``'s result objects (see its docstring); if the SDK ever
sends that request differently (token, arguments, plugin version, provider), this fails.
"""

from __future__ import annotations

import pulumi
import pytest
from google.protobuf import json_format

from infra import mock_runtime
from kubesphere_okta import okta_directory
from kubesphere_okta.usernames import OktaMember, members_from_answer
from tests.pulumi_harness import OktaAndKubernetesMocks, run

GROUP = "00g1abcdefghijklmnop"
MEMBERS = [
    {"id": "00ujane", "login": "Jane.Doe@acme.com", "email": "jane.doe@acme.com", "status": "ACTIVE",
     "firstName": "Jane", "customProfileAttributes": "{}"},
    {"id": "00ubob", "login": "bob@acme.com", "status": "DEPROVISIONED"},  # no email
]


def sent_requests(monkeypatch, program) -> list:
    """Every invoke request the program sends to the (mock) engine, as the engine receives it."""
    sent = []
    invoke = mock_runtime.RecordingMonitor.Invoke

    def recording(self, request):
        sent.append(request)
        return invoke(self, request)

    monkeypatch.setattr(mock_runtime.RecordingMonitor, "Invoke", recording)
    run(program, mocks=OktaAndKubernetesMocks(group_members={GROUP: MEMBERS}))
    return sent


def comparable(request) -> dict:
    return {"tok": request.tok, "args": json_format.MessageToDict(request.args), "provider": request.provider,
            "version": request.version, "pluginDownloadURL": request.pluginDownloadURL,
            "acceptResources": request.acceptResources, "packageRef": request.packageRef,
            "dependsOn": list(request.dependsOn)}


@pytest.mark.parametrize("explicit_provider", [False, True])
def test_get_users_is_sent_as_the_sdk_function_sends_it_and_answers_the_same_members(monkeypatch, explicit_provider):
    import pulumi_okta as okta

    found: dict[str, list[OktaMember]] = {}

    def parent() -> pulumi.ComponentResource:
        providers = [okta.Provider("okta", org_name="example", base_url="okta.com")] if explicit_provider else []
        return pulumi.ComponentResource("test:index:Parent", "parent", None, pulumi.ResourceOptions(providers=providers))

    def ours():
        found["ours"] = okta_directory.OktaDirectory(parent()).members(GROUP)

    def sdk():
        result = okta.user.get_users(group_id=GROUP, opts=pulumi.InvokeOptions(parent=parent()))
        found["sdk"] = [OktaMember(u.id, u.login, u.email, u.status) for u in result.users]

    (our_request,) = sent_requests(monkeypatch, ours)
    (sdk_request,) = sent_requests(monkeypatch, sdk)
    assert comparable(our_request) == comparable(sdk_request)
    assert our_request.tok == okta_directory.GET_USERS and sdk_request.version != ""
    assert bool(our_request.provider) == explicit_provider
    assert found["ours"] == found["sdk"] == [OktaMember("00ujane", "Jane.Doe@acme.com", "jane.doe@acme.com", "ACTIVE"),
                                             OktaMember("00ubob", "bob@acme.com", None, "DEPROVISIONED")]


def test_an_answer_without_users_is_a_group_without_members():
    assert members_from_answer({"id": "users"}) == members_from_answer({"users": None}) == members_from_answer(None) == []


def test_only_the_fields_read_are_kept_from_each_member():
    member, = members_from_answer({"users": [{"id": "00u1", "login": "a@b.c", "email": "a@b.c", "status": "ACTIVE",
                                              "lastLogin": "2026-01-01", "groupMemberships": ["00g1"]}]})
    assert member == OktaMember("00u1", "a@b.c", "a@b.c", "ACTIVE")
