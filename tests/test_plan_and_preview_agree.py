"""`make plan` and `pulumi preview` read every stack file to the same values.

The plan reads Pulumi.<stack>.yaml itself (infra/pulumi_yaml.py, infra/stack_files.py) and hands the
values to the program through the mock runtime. Under `pulumi preview` the program finds them in the
``PULUMI_CONFIG`` environment variable, a JSON object of strings, and the secret keys in
``PULUMI_CONFIG_SECRET_KEYS`` (pulumi/pulumi@v3.259.0: sdk/python/lib/pulumi/runtime/config.py
``get_config_env``; the language host sets both from the decrypted stack config). The preview-equivalent
read below gives the program exactly that environment and runs its own config parsing, so the two
agree on every value, or refuse the same stack with the same message.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra import plan, program
from infra.config import NAMESPACE, ConfigError, load

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "stack-files"
STACKS = [(ROOT, s) for s in plan.available_stacks(ROOT)] + [(FIXTURES, s) for s in plan.available_stacks(FIXTURES)]


def program_config_parsing(stack: str):
    """What the program makes of the config it can see: its settings, or its refusal."""
    everything = program.full_config()
    secret_keys = {k for k in everything if program.runtime_config.is_config_secret(k)}
    try:
        settings, issuer = load(program.namespace_config(NAMESPACE), stack=stack,
                                okta=program.namespace_config("okta"), full_config=everything, secret_keys=secret_keys)
    except ConfigError as error:
        return "refused", str(error)
    return settings.model_dump(), issuer


def plan_read(project_dir: Path, stack: str, monkeypatch):
    """The plan's read: its stack config, given to the program under the mock runtime."""
    config = plan.read_stack(project_dir, stack)
    seen = {}

    def capture():
        seen["raw"] = dict(program.full_config())
        seen["parsed"] = program_config_parsing(stack)

    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    plan.run_program(config, capture)
    return seen


def preview_read(project_dir: Path, stack: str, monkeypatch):
    """The preview-equivalent read: the values as the Python SDK receives them from the CLI."""
    config = plan.read_stack(project_dir, stack)
    from pulumi.runtime import config as runtime_config

    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(config.config))
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps(list(config.secret_keys)))
    token = runtime_config.CONFIG.set({})
    secrets = runtime_config._SECRET_KEYS.set(set(runtime_config.get_config_secret_keys_env()))
    try:
        return {"raw": dict(program.full_config()), "parsed": program_config_parsing(stack)}
    finally:
        runtime_config.CONFIG.reset(token)
        runtime_config._SECRET_KEYS.reset(secrets)


@pytest.mark.parametrize("project_dir, stack", STACKS, ids=[f"{d.name}/{s}" for d, s in STACKS])
def test_the_plan_and_a_preview_read_every_stack_file_to_the_same_values(project_dir, stack, monkeypatch):
    planned = plan_read(project_dir, stack, monkeypatch)
    previewed = preview_read(project_dir, stack, monkeypatch)
    assert planned["raw"] == previewed["raw"]
    assert all(isinstance(v, str) for v in previewed["raw"].values())
    assert planned["parsed"] == previewed["parsed"]


def test_yaml_1_1_spellings_mean_what_pulumi_makes_of_them():
    """`requireMfa: no` is the text no for Pulumi, which the program refuses, as it refuses --config ...=no."""
    config = plan.read_stack(FIXTURES, "yaml11")
    assert config.config["kubesphere-okta:requireMfa"] == "no"
    assert config.config["kubesphere-okta:kubesphereVersion"] == "4.1"
    assert json.loads(config.config["kubesphere-okta:groupNames"]) == ["KubeSphere Users", "on", 31]


def test_structured_values_reach_the_program_as_go_json_with_sorted_keys():
    config = plan.read_stack(FIXTURES, "structured")
    assert config.config["kubesphere-okta:workspaceRoleBindings"] == \
        '{"KS Team A":{"team-a":"regular","team-b":"viewer"}}'
    assert config.config["kubesphere-okta:verifyLoginTimeout"] == "1500"
    assert config.config["kubesphere-okta:consoleUrl"] == "https://ks.acme.io"
