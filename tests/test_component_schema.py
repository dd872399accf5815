"""The component's schema for other languages: inferred from the annotations, served over gRPC.

The provider is started as the engine starts it (``python <repository> <engine address>``, the
port read from its first line of output) and asked for its schema with ``GetSchema``.
"""

import inspect
import json
import os
import subprocess
import sys
import typing
from pathlib import Path

import grpc
import pytest
from pulumi.provider.experimental.analyzer import Analyzer
from pulumi.provider.experimental.util import camel_case
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc
from google.protobuf import empty_pb2

import kubesphere_okta
from kubesphere_okta import KubeSphereOktaIntegration, KubeSphereOktaIntegrationArgs
from kubesphere_okta.args import _STRUCTURAL, SECRET_ARGUMENTS
from kubesphere_okta.integration import SECRET_OUTPUTS, TYPE_TOKEN
from kubesphere_okta.provider import KubeSphereOktaProvider

ROOT = Path(__file__).resolve().parent.parent
ARGS = KubeSphereOktaIntegrationArgs
INPUTS = list(ARGS.__annotations__)
OUTPUTS = [k for k in inspect.get_annotations(KubeSphereOktaIntegration) if not k.startswith("_")]


def attribute_docstrings(cls: type) -> dict[str, str]:
    """Each annotated attribute's docstring, read from the source as the analyzer reads it."""
    analyzer = Analyzer("kubesphere-okta")
    return {name: analyzer.get_docstring(cls, name) for name in cls.__annotations__}


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads(KubeSphereOktaProvider().schema)


@pytest.fixture(scope="module")
def resource(schema) -> dict:
    return schema["resources"][TYPE_TOKEN]


@pytest.mark.parametrize("name", INPUTS)
def test_every_argument_annotation_can_be_put_in_the_schema(name):
    """Fails, naming the argument, when a new argument's annotation cannot be inferred."""
    annotation = ARGS.__annotations__[name]
    assert not isinstance(annotation, (str, typing.ForwardRef)), (
        f"args.py: {name}'s annotation is the string {annotation!r}: the schema needs real types "
        "(no `from __future__ import annotations` in args.py)"
    )
    try:
        prop = Analyzer("kubesphere-okta").analyze_property(
            annotation, ARGS, name, can_be_plain=True, is_component_output=False
        )
    except Exception as error:  # noqa: BLE001 - the analyzer raises plain Exceptions
        pytest.fail(
            f"args.py: {name}: {annotation!r} cannot be put in the component schema ({error}). Use str, bool, "
            "float, Sequence[str], Mapping[str, str] (plain: the value shapes the graph) or pulumi.Input[...] "
            "of those; no Union but Optional."
        )
    assert prop.type or prop.ref, f"args.py: {name}: {annotation!r} gives the schema no type"
    assert prop.ref != "pulumi.json#/Any", f"args.py: {name}: {annotation!r} is untyped (Any) in the schema"


@pytest.mark.parametrize("name", INPUTS)
def test_every_argument_has_its_type_and_description(resource, name):
    prop = resource["inputProperties"][camel_case(name)]
    assert prop.get("type") or prop.get("$ref")
    assert prop["description"] == attribute_docstrings(ARGS)[name], f"{name} lacks its docstring in the schema"


def test_exactly_the_three_required_arguments_are_required(resource):
    assert sorted(resource["requiredInputs"]) == ["consoleUrl", "issuer", "kubesphereVersion"]
    assert set(resource["inputProperties"]) == {camel_case(n) for n in INPUTS}


def test_arguments_that_shape_the_graph_are_plain_and_the_others_take_outputs(resource):
    """The schema says what the code does: the component refuses an Output for a structural argument."""
    plain = {name for name in INPUTS if resource["inputProperties"][camel_case(name)].get("plain")}
    assert plain == set(_STRUCTURAL), (
        "args.py: annotate an argument in _STRUCTURAL with a plain type (str, bool, Sequence[str], ...) and "
        "any other with pulumi.Input[...]"
    )


def test_argument_types_match_what_the_component_accepts(resource):
    props = resource["inputProperties"]
    assert props["groupIds"]["type"] == "array" and props["groupIds"]["items"]["type"] == "string"
    assert props["roleBindings"]["type"] == "object"
    assert props["roleBindings"]["additionalProperties"]["type"] == "string"
    assert props["requireMfa"]["type"] == "boolean"
    assert props["verifyLoginTimeout"]["type"] == "number"
    assert props["kubeconfig"]["type"] == "string"


def test_only_the_kubeconfig_argument_is_secret(resource):
    secret = sorted(k for k, p in resource["inputProperties"].items() if p.get("secret"))
    assert secret == ["kubeconfig"] == [camel_case(n) for n in SECRET_ARGUMENTS]


def test_outputs_are_typed_and_documented_and_the_client_secret_is_secret(resource):
    props = resource["properties"]
    assert set(props) == {camel_case(n) for n in OUTPUTS} and sorted(resource["required"]) == sorted(props)
    docs = attribute_docstrings(KubeSphereOktaIntegration)
    for name in OUTPUTS:
        prop = props[camel_case(name)]
        assert prop.get("type") and prop["description"] == docs[name], name
    assert props["identityProvider"]["type"] == "object"
    assert sorted(k for k, p in props.items() if p.get("secret")) == ["clientSecret"]
    assert [camel_case(n) for n in SECRET_OUTPUTS] == ["clientSecret"]


def test_schema_names_the_package_and_its_version(schema, resource):
    assert schema["name"] == "kubesphere-okta" == TYPE_TOKEN.split(":")[0]
    assert schema["version"] == kubesphere_okta.__version__
    assert resource["isComponent"] is True
    assert resource["description"] == KubeSphereOktaIntegration.__doc__.strip()


def test_plugin_manifest_runs_the_entry_point_with_the_python_runtime():
    import yaml

    manifest = yaml.safe_load((ROOT / "PulumiPlugin.yaml").read_text())
    assert manifest["runtime"]["name"] == "python"
    assert "serve()" in (ROOT / "__main__.py").read_text()


def start_provider(engine_address: str, cwd: Path) -> tuple[subprocess.Popen, int]:
    """``python <repository> <engine>`` in a directory outside the repository, as the engine runs a
    Python plugin; returns the process and the port it printed."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    process = subprocess.Popen(
        [sys.executable, str(ROOT), engine_address], cwd=cwd, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    line = process.stdout.readline()
    if not line.strip().isdigit():
        process.kill()
        raise AssertionError(f"the provider printed {line!r} instead of its port: {process.stderr.read()}")
    return process, int(line)


def test_provider_started_as_the_engine_does_serves_the_schema_over_grpc(schema, tmp_path):
    process, port = start_provider("127.0.0.1:1", tmp_path)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            served = json.loads(stub.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=60).schema)
            info = stub.GetPluginInfo(empty_pb2.Empty(), timeout=60)
    finally:
        process.kill()
        process.wait()
    assert served == schema
    assert info.version == kubesphere_okta.__version__
