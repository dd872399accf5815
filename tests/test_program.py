"""The Pulumi program: stack config -> one component, under mocks, and what bad config gets."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pytest
import yaml

from infra import program
from infra.plan import read_stack
from tests.pulumi_harness import OktaAndKubernetesMocks, run

ROOT = Path(__file__).resolve().parent.parent
STACK_FILES = sorted(ROOT.glob("Pulumi.*.yaml"))
GROUPS = {"KubeSphere Developers": "00g1devdevdevdevdevd", "KubeSphere Admins": "00g1admadmadmadmadma"}


def stack_config(path: Path) -> dict[str, str]:
    """Pulumi.<stack>.yaml as the engine hands it to the program (infra/pulumi_yaml.py): strings, structured
    values as JSON."""
    return dict(read_stack(path.parent, path.name.split(".")[1]).config)


def run_program(config: dict[str, str], stack: str = "dev"):
    return run(program.main, stack=stack, config=config, mocks=OktaAndKubernetesMocks(groups=GROUPS))


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_every_example_stack_runs_through_the_program(path):
    stack = path.name.split(".")[1]
    config = stack_config(path)
    rec = run_program(config, stack=stack)
    app = rec.one("okta:app/oAuth:OAuth").inputs
    assert app["redirectUris"] == [config["kubesphere-okta:consoleUrl"] + "/oauth/redirect/Okta"]
    assert rec.one("okta:index/appGroupAssignments:AppGroupAssignments").inputs["groups"]


def test_example_stack_files_hold_no_plain_secrets():
    for path in STACK_FILES:
        for key, value in yaml.safe_load(path.read_text())["config"].items():
            name = key.split(":", 1)[1].lower()
            if name in ("apitoken", "clientsecret", "privatekey", "password", "kubeconfig"):
                assert isinstance(value, dict) and "secure" in value, f"{path.name}: {key} must be a secure: value"


def test_issuer_defaults_to_the_org_authorization_server():
    config = stack_config(ROOT / "Pulumi.dev.yaml")
    rec = run_program(config)
    secret = rec.one("kubernetes:core/v1:Secret").inputs["stringData"]["configuration.yaml"]
    assert yaml.safe_load(secret)["provider"]["issuer"] == "https://example-dev.okta.com"


def test_custom_authorization_server_issuer():
    config = {**stack_config(ROOT / "Pulumi.dev.yaml"), "kubesphere-okta:authorizationServerId": "default"}
    rec = run_program(config)
    secret = rec.one("kubernetes:core/v1:Secret").inputs["stringData"]["configuration.yaml"]
    assert yaml.safe_load(secret)["provider"]["issuer"] == "https://example-dev.okta.com/oauth2/default"


def test_prod_stacks_protect_the_okta_app_by_default():
    config = stack_config(ROOT / "Pulumi.dev.yaml")
    assert run_program(config, stack="prod-eu").one("okta:app/oAuth:OAuth").protect is True
    assert run_program(config, stack="dev").one("okta:app/oAuth:OAuth").protect is False


def test_broken_stack_lists_every_problem_with_its_fix_and_registers_nothing():
    config = {
        "okta:orgName": "example",
        "kubesphere-okta:consoleUrl": "http://kubesphere.example.com",
        "kubesphere-okta:kubesphereVersion": "5",
        "kubesphere-okta:issuer": "https://example.okta.com/",
        "kubesphere-okta:consoleURL": "https://typo.example.com",
        "kubesphere-okta:requireMfa": "maybe",
    }
    with pytest.raises(pulumi.RunError) as raised:
        run_program(config)
    message = str(raised.value)
    assert "nothing was created" in message
    for key in ("consoleUrl", "kubesphereVersion", "issuer", "requireMfa", "groupIds"):
        assert f"kubesphere-okta:{key}:" in message, key
    assert "unknown key (did you mean kubesphere-okta:consoleUrl?)" in message
    assert "fix: pulumi config set kubesphere-okta:consoleUrl https://kubesphere.example.com" in message
    assert "fix: pulumi config set kubesphere-okta:issuer https://example.okta.com\n" in message
    assert "fix: pulumi config set --path 'kubesphere-okta:groupNames[0]' '<Okta group>'" in message
    assert message.count("  - ") == 6


def test_bad_config_registers_no_resource():
    registered = []
    config = {"kubesphere-okta:consoleUrl": "https://kubesphere.example.com"}

    def guarded():
        try:
            program.main()
        except pulumi.RunError as error:
            registered.append(error)

    rec = run(guarded, config=config)
    assert registered and rec.resources == []
