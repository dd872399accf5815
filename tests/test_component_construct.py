"""``Construct`` over gRPC: a program in another language gets the same resources a Python program gets.

The provider is started as the engine starts it (``python <repository> <engine address>``, in a
directory outside the repository, reading the port it prints). The test then plays the engine:
it serves a small ResourceMonitor and Engine over gRPC (the SDK's protobuf stubs), sends
``Construct`` with the inputs a TypeScript or YAML program would send (camelCase, a secret
kubeconfig), and compares every resource the provider registers against that monitor with what
the same component registers when a Python program builds it in-process under the same mocks.
"""

import json
import os
import subprocess
import sys
import threading
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, provider_pb2, provider_pb2_grpc
from pulumi.runtime.proto import resource_pb2, resource_pb2_grpc

from kubesphere_okta import KubeSphereOktaIntegration
from kubesphere_okta.integration import TYPE_TOKEN
from tests.pulumi_harness import SECRET_SIG, OktaAndKubernetesMocks, RecordingMonitor, run

ROOT = Path(__file__).resolve().parent.parent
PROJECT, STACK = "kubesphere-okta", "dev"
STACK_URN = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{STACK}"
GROUPS = {"KubeSphere Users": "00g1usersusersusersu", "KubeSphere Admins": "00g1adminsadminsadmi"}
KUBECONFIG = ("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://10.0.0.1:6443'}}]\n"
              "users: [{name: u, user: {token: very-secret}}]\ncontexts: [{name: prod, context: {cluster: c, user: u}}]\n")

CASES = {
    "4.1": {
        "console_url": "https://kubesphere.example.com",
        "issuer": "https://acme.okta.com",
        "kubesphere_version": "4.1",
        "group_names": ["KubeSphere Users", "KubeSphere Admins"],
        "require_mfa": False,
    },
    "3.4": {
        "console_url": "https://kubesphere.example.com",
        "issuer": "https://acme.okta.com/oauth2/default",
        "kubesphere_version": "3.4",
        "group_ids": ["00g1usersusersusersu"],
        "access_token_max_age": "2h",
        "kubeconfig": KUBECONFIG,
        "kube_context": "host",
    },
}


class FixedUrnMonitor(RecordingMonitor):
    """The harness's recording monitor, with URNs that do not depend on this process's settings."""

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        if parent:
            type_ = parent.split("::")[2].split("$")[-1] + "$" + type_
        return f"urn:pulumi:{STACK}::{PROJECT}::{type_}::{name}"


class ResourceMonitorServicer(resource_pb2_grpc.ResourceMonitorServicer):
    """The engine's resource monitor as the provider sees it, answering from the harness's mocks."""

    def __init__(self, monitor: FixedUrnMonitor):
        self.monitor = monitor

    def GetDeploymentInfo(self, request, context):
        return self.monitor.GetDeploymentInfo(request)

    def SupportsFeature(self, request, context):
        return resource_pb2.SupportsFeatureResponse(hasSupport=request.id != "outputValues")

    def RegisterResource(self, request, context):
        return self.monitor.RegisterResource(request)

    def RegisterResourceOutputs(self, request, context):
        return empty_pb2.Empty()

    def Invoke(self, request, context):
        return self.monitor.Invoke(request)

    def RegisterPackage(self, request, context):
        return self.monitor.RegisterPackage(request)

    def SignalAndWaitForShutdown(self, request, context):
        return empty_pb2.Empty()


class EngineServicer(engine_pb2_grpc.EngineServicer):
    def __init__(self):
        self.logs: list[str] = []

    def Log(self, request, context):
        self.logs.append(request.message)
        return empty_pb2.Empty()

    def GetRootResource(self, request, context):
        return engine_pb2.GetRootResourceResponse(urn=STACK_URN)

    def SetRootResource(self, request, context):
        return engine_pb2.SetRootResourceResponse()


@pytest.fixture(scope="module")
def engine():
    """A gRPC server playing the engine: Engine (logs) and ResourceMonitor (registrations)."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    engine = EngineServicer()
    engine_pb2_grpc.add_EngineServicer_to_server(engine, server)
    monitor = ResourceMonitorServicer(FixedUrnMonitor(OktaAndKubernetesMocks(groups=GROUPS)))
    resource_pb2_grpc.add_ResourceMonitorServicer_to_server(monitor, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    engine.address, engine.monitor = f"127.0.0.1:{port}", monitor
    yield engine
    server.stop(grace=None)


@pytest.fixture(scope="module")
def provider(engine, tmp_path_factory):
    """The provider process, started as the engine starts a Python plugin; yields its gRPC stub."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    process = subprocess.Popen(
        [sys.executable, str(ROOT), engine.address], cwd=tmp_path_factory.mktemp("plugin-cwd"), env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    stderr: list[str] = []
    threading.Thread(target=lambda: stderr.extend(process.stderr), daemon=True).start()
    line = process.stdout.readline()
    assert line.strip().isdigit(), f"the provider printed {line!r}, not its port: {''.join(stderr)}"
    channel = grpc.insecure_channel(f"127.0.0.1:{int(line)}")
    yield provider_pb2_grpc.ResourceProviderStub(channel)
    channel.close()
    process.kill()
    process.wait()


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def construct_request(name: str, args: dict, monitor_address: str) -> provider_pb2.ConstructRequest:
    """What the engine sends when a TypeScript/YAML program declares the component: camelCase inputs,
    the kubeconfig secret (the schema marks it so, and the generated SDKs send it so)."""
    inputs = {camel(k): v for k, v in args.items()}
    if "kubeconfig" in inputs:
        inputs["kubeconfig"] = {rpc._special_sig_key: SECRET_SIG, "value": inputs["kubeconfig"]}
    struct = struct_pb2.Struct()
    struct.update(inputs)
    return provider_pb2.ConstructRequest(
        project=PROJECT, stack=STACK, dryRun=False, parallel=4, monitorEndpoint=monitor_address,
        type=TYPE_TOKEN, name=name, parent=STACK_URN, inputs=struct,
    )


def comparable_inputs(inputs: dict) -> str:
    # ``__provider`` too, byte for byte: the pickled providers do not depend on the process
    # (dynamic_registration.stable_pickling), so the engine sees no change between the two.
    return json.dumps(inputs, sort_keys=True)


def parent_of(r) -> str:
    """The parent's URN; the root stack as one name (the in-process harness may keep a root stack
    from an earlier test's run, whatever stack that run named)."""
    return "<root stack>" if "::pulumi:pulumi:Stack::" in r.parent_urn else r.parent_urn


def comparable(recording) -> list[tuple]:
    """Every registration as the engine would store it, in a stable order."""
    return sorted(
        (
            r.type, r.name, parent_of(r), comparable_inputs(r.inputs), sorted(r.secret_inputs),
            sorted(r.dependencies), r.protect, sorted(r.additional_secret_outputs), r.provider_version,
        )
        for r in recording.resources
    )


def in_process(name: str, args: dict):
    mocks = OktaAndKubernetesMocks(groups=GROUPS)
    outputs = {}

    def program():
        component = KubeSphereOktaIntegration(name, args)
        return {"client_id": component.client_id, "redirect_url": component.redirect_url,
                "identity_provider": component.identity_provider}

    recording = run(program, project=PROJECT, stack=STACK, mocks=mocks)
    outputs.update(recording.outputs)
    return recording, outputs


@pytest.mark.parametrize("version", sorted(CASES))
def test_construct_over_grpc_registers_what_a_python_program_registers(engine, provider, version):
    name = f"ks{version.replace('.', '')}"
    args = CASES[version]
    recording = engine.monitor.monitor.recording
    recording.resources.clear()

    response = provider.Construct(construct_request(name, args, engine.address), timeout=120)

    expected, outputs = in_process(name, args)
    assert len(expected.resources) >= 4  # the component, the Okta app, its groups, the KubeSphere half
    assert comparable(recording) == comparable(expected)
    assert response.urn == next(r.urn for r in expected.resources if r.type == TYPE_TOKEN)
    state = rpc.deserialize_properties(response.state)
    assert rpc.is_rpc_secret(state["clientSecret"]), "client_secret must reach other languages as a secret"
    assert rpc.unwrap_rpc_secret(state["clientSecret"]) == "mock-client-secret"
    assert state["clientId"] == outputs["client_id"] and state["redirectUrl"] == outputs["redirect_url"]
    assert state["identityProvider"] == outputs["identity_provider"]


def test_construct_keeps_the_kubeconfig_secret(engine, provider):
    recording = engine.monitor.monitor.recording
    recording.resources.clear()
    provider.Construct(construct_request("secretks", CASES["3.4"], engine.address), timeout=120)
    entry = next(r for r in recording.resources if r.type == "pulumi-python:dynamic:Resource")
    assert "kubeconfig" in entry.secret_inputs and entry.inputs["kubeconfig"] == KUBECONFIG


def test_construct_refuses_bad_arguments_with_the_components_message(engine, provider):
    args = {**CASES["4.1"], "issuer": "https://acme.okta.com/"}
    with pytest.raises(grpc.RpcError) as raised:
        provider.Construct(construct_request("badks", args, engine.address), timeout=120)
    assert "issuer" in raised.value.details() and "invalid argument" in raised.value.details()
