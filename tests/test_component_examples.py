"""The other-language examples (examples/yaml/Pulumi.yaml, the TypeScript snippet in
docs/component-package.md) checked against the schema the component provider serves.

No Pulumi CLI or Node.js SDK runs here, so the check is what the CLI's type checker would do
with the schema: every property is an input of the component, the required ones are there, each
value has the schema's type, a plain input gets a literal (not an interpolation), and every
output read exists. The YAML example's properties are then mapped to Python arguments by the
provider's own input mapping and the component is built from them under mocks.
"""

import json
import re
from pathlib import Path

import pytest
import yaml

from kubesphere_okta import KubeSphereOktaIntegration
from kubesphere_okta.integration import TYPE_TOKEN
from kubesphere_okta.provider import KubeSphereOktaProvider
from tests import doc_examples
from tests.pulumi_harness import OktaAndKubernetesMocks, run

ROOT = Path(__file__).resolve().parent.parent
YAML_EXAMPLE = ROOT / "examples/yaml/Pulumi.yaml"
DOC = ROOT / "docs" / "component-package.md"
JSON_TYPES = {"string": str, "boolean": bool, "number": (int, float), "array": list, "object": dict}
INTERPOLATION = re.compile(r"\$\{([^}.]+)\.([^}]+)\}")


@pytest.fixture(scope="module")
def provider() -> KubeSphereOktaProvider:
    return KubeSphereOktaProvider()


@pytest.fixture(scope="module")
def resource(provider) -> dict:
    return json.loads(provider.schema)["resources"][TYPE_TOKEN]


def type_problems(properties: dict, resource: dict) -> list[str]:
    """What the schema refuses in a component's properties (as YAML gives them)."""
    inputs = resource["inputProperties"]
    problems = [f"unknown input {k!r}" for k in properties if k not in inputs]
    problems += [f"required input {k!r} missing" for k in resource["requiredInputs"] if k not in properties]
    for key, value in properties.items():
        spec = inputs.get(key)
        if spec is None:
            continue
        if isinstance(value, str) and INTERPOLATION.search(value):
            if spec.get("plain"):
                problems.append(f"{key} is plain: it takes a literal, not {value!r}")
            continue
        if not isinstance(value, JSON_TYPES[spec["type"]]) or (spec["type"] == "number" and isinstance(value, bool)):
            problems.append(f"{key} must be a {spec['type']}, got {value!r}")
        elif spec["type"] == "array":
            item = JSON_TYPES[spec["items"]["type"]]
            problems += [f"{key}[{i}] must be a {spec['items']['type']}" for i, v in enumerate(value) if not isinstance(v, item)]
    return problems


def yaml_program() -> dict:
    return yaml.safe_load(YAML_EXAMPLE.read_text())


def test_yaml_example_adds_this_repository_as_the_package():
    packages = yaml_program()["packages"]
    source = (YAML_EXAMPLE.parent / packages["kubesphere-okta"]).resolve()
    assert source == ROOT and (source / "PulumiPlugin.yaml").is_file()


def test_yaml_example_properties_and_outputs_match_the_schema(resource):
    program = yaml_program()
    components = {n: r for n, r in program["resources"].items() if r["type"] == TYPE_TOKEN}
    assert components, f"the YAML example declares no {TYPE_TOKEN}"
    for name, declared in components.items():
        assert type_problems(declared["properties"], resource) == [], name
    for output, expression in program["outputs"].items():
        for name, prop in INTERPOLATION.findall(expression):
            assert name in components and prop in resource["properties"], f"{output}: {expression}"


def test_yaml_example_builds_the_component_the_provider_would_build(provider):
    """The provider maps the YAML properties to Python arguments (its own map_inputs) and the
    component accepts them: the same arguments a Construct call would hand it."""
    definition = provider._component_defs["KubeSphereOktaIntegration"]
    for name, declared in yaml_program()["resources"].items():
        args = provider.map_inputs(declared["properties"], definition)
        mocks = OktaAndKubernetesMocks(groups={"KubeSphere Users": "00g1usersusersusersu"})
        recording = run(lambda: KubeSphereOktaIntegration(name, args), mocks=mocks)
        assert recording.one("okta:app/oAuth:OAuth").parent_name == name


def typescript_example() -> str:
    blocks = [e.text for e in doc_examples.examples(DOC) if e.language == "typescript"]
    assert len(blocks) == 1
    return blocks[0]


def test_typescript_example_uses_the_schemas_inputs_and_outputs(resource):
    text = typescript_example()
    call = re.search(r"new (\w+)\.KubeSphereOktaIntegration\(\"[^\"]+\", \{(.*?)\n\}\);", text, re.S)
    assert call, "the snippet constructs no KubeSphereOktaIntegration"
    properties = {}
    for key, literal in re.findall(r"^\s+(\w+): (.*?),?$", call.group(2), re.M):
        properties[key] = json.loads(literal)  # the snippet uses JSON-compatible literals only
    assert type_problems(properties, resource) == []
    variable = re.search(r"const (\w+) = new ", text).group(1)
    for read in re.findall(rf"\b{variable}\.(\w+)", text):
        assert read in resource["properties"], read


def test_the_schema_check_refuses_what_the_cli_would_refuse(resource):
    base = {"consoleUrl": "https://k.example.com", "issuer": "https://acme.okta.com", "kubesphereVersion": "4.1"}
    assert type_problems(base, resource) == []
    assert type_problems({**base, "groupName": ["x"]}, resource) == ["unknown input 'groupName'"]
    assert type_problems({"consoleUrl": "https://k.example.com", "issuer": "https://acme.okta.com"}, resource) == [
        "required input 'kubesphereVersion' missing"]
    assert type_problems({**base, "requireMfa": "yes"}, resource) == ["requireMfa must be a boolean, got 'yes'"]
    assert type_problems({**base, "issuer": "${okta.issuer}"}, resource) == [
        "issuer is plain: it takes a literal, not '${okta.issuer}'"]
    assert type_problems({**base, "kubeconfig": "${cluster.kubeconfig}"}, resource) == []
