"""The pack as the Pulumi CLI runs it: ``python -m pulumi.policy`` in policy/, spoken to over gRPC.

This is the one test that boots ``policy/__main__.py``: it proves the pack starts from its own
folder (imports of the component's rules resolve) and that the engine's requests reach the policies.
"""

from __future__ import annotations

import select
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from policy import guardrails
from tests.policy_args import wire_inputs
from tests.test_policy_pack import recorded

POLICY_DIR = Path(__file__).resolve().parent.parent / "policy"


@pytest.fixture(scope="module")
def analyzer():
    # The same command line as Pulumi's pulumi-analyzer-policy-python; the engine address is unused here.
    process = subprocess.Popen([sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:0", "."],
                               cwd=POLICY_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        ready, _, _ = select.select([process.stdout], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, "policy pack did not print its port"
        port = int(process.stdout.readline().strip() or 0)
        assert port, process.stderr.read()
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        process.kill()
        process.wait(timeout=10)


def request(resource, inputs=None, secret_paths=None) -> analyzer_pb2.AnalyzeRequest:
    properties = struct_pb2.Struct()
    json_format.ParseDict(wire_inputs(resource.inputs if inputs is None else inputs,
                                      resource.secret_inputs if secret_paths is None else secret_paths), properties)
    return analyzer_pb2.AnalyzeRequest(type=resource.type, urn=resource.urn, name=resource.name, properties=properties,
                                       options=analyzer_pb2.AnalyzerResourceOptions(protect=resource.protect))


def test_served_pack_lists_every_policy(analyzer):
    from policy.kubesphere_okta_policies import POLICIES

    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "kubesphere-okta"
    assert sorted(p.name for p in info.policies) == sorted(p.name for p in POLICIES)


def test_served_pack_blocks_an_app_that_requires_pkce(analyzer):
    app = recorded().one(guardrails.OKTA_APP)
    response = analyzer.Analyze(request(app, {**app.inputs, "pkceRequired": True}))
    assert [(d.policyName, d.enforcementLevel) for d in response.diagnostics] == [
        ("okta-app-kubesphere-compatible", analyzer_pb2.MANDATORY)
    ]


def test_served_pack_makes_a_plain_client_secret_secret(analyzer):
    secret = recorded().one(guardrails.KUBERNETES_SECRET)
    response = analyzer.Remediate(request(secret, secret_paths=set()))
    assert [r.policyName for r in response.remediations] == ["client-secret-reaches-kubesphere-only-as-secret"]
    string_data = json_format.MessageToDict(response.remediations[0].properties)["stringData"]
    assert string_data["4dabf18193072939515e22adb298388d"] == "1b47061264138c4ac30d75fd1eb44270"
