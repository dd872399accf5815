"""The GitHub workflows: valid against GitHub's schema (offline), and covering every stack."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.workflow_stacks import load_workflow, pulumi_steps, repository_stacks, uncovered_stacks

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONS = ROOT / ".github" / "actions"


def check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess:
    """check-jsonschema with a schema vendored in the package: no network."""
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)],
        capture_output=True, text=True, timeout=120,
    )


def workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))


def test_workflows_are_valid_github_workflows():
    result = check_jsonschema("vendor.github-workflows", *workflow_files())
    assert result.returncode == 0, result.stdout + result.stderr


def test_local_actions_are_valid_github_actions():
    result = check_jsonschema("vendor.github-actions", *sorted(ACTIONS.glob("*/action.yml")))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_job_without_runs_on(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("name: broken\non: push\njobs:\n  build:\n    steps:\n      - run: 'true'\n")
    result = check_jsonschema("vendor.github-workflows", broken)
    assert result.returncode != 0 and "runs-on" in result.stdout


def test_every_stack_file_is_previewed_deployed_and_drift_checked():
    assert repository_stacks(ROOT), "no Pulumi.<stack>.yaml in the repository root"
    assert uncovered_stacks(ROOT) == {}


def test_a_new_stack_file_alone_fails_the_coverage_check(tmp_path):
    shutil.copytree(ROOT / ".github", tmp_path / ".github")
    for stack_file in ROOT.glob("Pulumi.*.yaml"):
        shutil.copy(stack_file, tmp_path / stack_file.name)
    (tmp_path / "Pulumi.qa.yaml").write_text("config: {}\n")
    report = uncovered_stacks(tmp_path)
    assert set(report) == {"preview.yml", "deploy.yml", "drift.yml"}
    assert all(entry["missing"] == {"qa"} for entry in report.values())


def test_a_matrix_stack_without_a_stack_file_fails_the_coverage_check(tmp_path):
    shutil.copytree(ROOT / ".github", tmp_path / ".github")
    for stack_file in ROOT.glob("Pulumi.*.yaml"):
        if stack_file.name != "Pulumi.staging.yaml":
            shutil.copy(stack_file, tmp_path / stack_file.name)
    assert uncovered_stacks(tmp_path)["preview.yml"]["unknown"] == {"staging"}


USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$")
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"^\s+#\s*v\d+(\.\d+)*\b")


def uses_lines(path: Path) -> list[tuple[int, str, str]]:
    """(line number, action reference, rest of the line) of every ``uses:`` in a workflow or action."""
    found = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        match = USES.match(line)
        if match:
            found.append((number, match.group(1).strip("'\""), match.group(2)))
    return found


def pinning_problems(path: Path) -> list[str]:
    """Every external action must be pinned to a full commit SHA with its version as a comment."""
    problems = []
    for number, ref, rest in uses_lines(path):
        if ref.startswith("./"):
            continue  # an action of this repository, at the same commit
        if not PINNED.match(ref):
            problems.append(f"{path.name}:{number}: {ref} is not pinned to a full 40-hex commit SHA")
        elif not VERSION_COMMENT.match(rest):
            problems.append(f"{path.name}:{number}: {ref} has no '# vX.Y.Z' version comment")
    return problems


def all_workflow_files() -> list[Path]:
    return workflow_files() + sorted(ACTIONS.glob("*/action.yml"))


def test_every_action_is_pinned_to_a_commit_sha_with_its_version():
    files = all_workflow_files()
    assert sum(len(uses_lines(f)) for f in files) > 0
    problems = [p for f in files for p in pinning_problems(f)]
    assert problems == []


def test_one_action_is_pinned_to_one_sha_everywhere():
    pins: dict[str, set[str]] = {}
    for path in all_workflow_files():
        for _, ref, rest in uses_lines(path):
            if not ref.startswith("./"):
                name, _, sha = ref.partition("@")
                pins.setdefault(name, set()).add(f"{sha}{rest}")
    assert {name for name, shas in pins.items() if len(shas) > 1} == set()
    assert {"actions/checkout", "actions/setup-python", "pulumi/actions"} <= set(pins)


@pytest.mark.parametrize("line, problem", [
    ("      - uses: pulumi/actions@v7", "not pinned"),
    ("      - uses: actions/checkout@main", "not pinned"),
    ("      - uses: actions/checkout@9c091bb", "not pinned"),
    ("      - uses: actions/checkout@9c091bb21b7c1c1d1991bb908d89e4e9dddfe3e0", "no '# vX.Y.Z'"),
])
def test_the_pinning_check_catches_tags_branches_short_shas_and_missing_versions(tmp_path, line, problem):
    workflow = tmp_path / "w.yml"
    workflow.write_text(f"jobs:\n  a:\n    steps:\n{line}\n      - uses: ./.github/actions/prepare-stack\n")
    found = pinning_problems(workflow)
    assert len(found) == 1 and problem in found[0]


def test_every_pull_request_runs_make_test():
    workflows = {path.name: load_workflow(path) for path in workflow_files()}
    running = []
    for name, workflow in workflows.items():
        trigger = workflow["on"].get("pull_request", "absent") if isinstance(workflow["on"], dict) else "absent"
        if trigger == "absent":
            continue
        # No branch or path filter: every pull request, whatever it targets or touches.
        if trigger is None or not ({"branches", "paths", "branches-ignore", "paths-ignore"} & set(trigger)):
            for job in workflow["jobs"].values():
                if any(step.get("run", "").strip() in (".ci/run", "make test") for step in job.get("steps", [])):
                    running.append(name)
    assert running, "no workflow runs `make test` (.ci/run) on every pull request"
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("make test")


def _secrets_check(tmp_path: Path, **env: str) -> tuple[int, str, str]:
    output = tmp_path / "github_output"
    output.write_text("")
    done = subprocess.run(
        ["bash", str(ROOT / ".github" / "scripts" / "stack-secrets-available.sh")],
        env={"PATH": "/usr/bin:/bin", "GITHUB_OUTPUT": str(output), "STACK": "prod", **env},
        capture_output=True, text=True, timeout=30,
    )
    return done.returncode, output.read_text(), done.stdout


EVERYTHING = {"KUBECONFIG_CONTENT": "apiVersion: v1", "OKTA_API_TOKEN": "token-value",
              "PULUMI_CONFIG_PASSPHRASE": "passphrase-value"}
needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash, as the GitHub runner has")


@needs_bash
@pytest.mark.parametrize("mode", ["preview", "drift"])
def test_a_run_with_the_stacks_secrets_goes_ahead(tmp_path, mode):
    assert _secrets_check(tmp_path, MODE=mode, **EVERYTHING) == (0, "available=true\n", "")


@needs_bash
@pytest.mark.parametrize("env", [{}, {"FORK": "true"}, {"SKIP_FORKS": "true"}, {"FORK": "false", "SKIP_FORKS": "true"}])
def test_a_required_preview_that_could_not_preview_fails(tmp_path, env):
    code, output, stdout = _secrets_check(tmp_path, MODE="preview", **env)
    assert code == 1 and output == "available=false\n"
    assert stdout.startswith("::error title=Preview of prod not run::")
    assert "KUBECONFIG_PROD" in stdout and "OKTA_API_TOKEN_PROD" in stdout and "PREVIEW_SKIP_FORKS" in stdout
    code, _, stdout = _secrets_check(tmp_path, MODE="preview", **{**EVERYTHING, "KUBECONFIG_CONTENT": ""}, **env)
    assert code == 1 and "KUBECONFIG_PROD" in stdout and "OKTA_API_TOKEN" not in stdout
    assert "token-value" not in stdout and "passphrase-value" not in stdout


@needs_bash
def test_a_fork_is_skipped_with_a_notice_only_where_the_repository_opted_in(tmp_path):
    code, output, stdout = _secrets_check(tmp_path, MODE="preview", FORK="true", SKIP_FORKS="true")
    assert code == 0 and output == "available=false\n"
    assert stdout.startswith("::notice title=Preview of prod skipped (fork)::") and "WITHOUT a preview" in stdout
    docs = (ROOT / "docs" / "review-loop.md").read_text()
    assert "PREVIEW_SKIP_FORKS" in docs


@needs_bash
def test_drift_without_secrets_skips_cleanly(tmp_path):
    code, output, stdout = _secrets_check(tmp_path, MODE="drift")
    assert code == 0 and output == "available=false\n"
    assert stdout.startswith("::notice title=Drift check of prod skipped::") and "no issue is opened" in stdout
    workflow = load_workflow(WORKFLOWS / "drift.yml")
    for job_id, job, _ in pulumi_steps(workflow):
        steps = job["steps"]
        check = next(i for i, s in enumerate(steps) if s.get("id") == "secrets")
        assert steps[check]["env"]["MODE"] == "drift"
        for step in steps[check + 1:]:  # skipped without secrets; the issue step only after a failure
            assert step.get("if") in ("steps.secrets.outputs.available == 'true'", "failure()"), (job_id, step)


def test_preview_steps_that_need_secrets_run_only_when_they_are_available():
    workflow = load_workflow(WORKFLOWS / "preview.yml")
    for job_id, job, _ in pulumi_steps(workflow):
        steps = job["steps"]
        check = next(i for i, s in enumerate(steps) if s.get("id") == "secrets")
        assert "stack-secrets-available.sh" in steps[check]["run"]
        for step in steps[check + 1:]:
            assert step.get("if") == "steps.secrets.outputs.available == 'true'", (job_id, step)


def test_the_policy_pack_gets_its_configuration_where_the_docs_say():
    action = yaml.safe_load((ACTIONS / "prepare-stack" / "action.yml").read_text())
    writes = [s for s in action["runs"]["steps"] if "policy.pack_config" in s.get("run", "")]
    assert len(writes) == 1 and "$RUNNER_TEMP/policy-config.json" in writes[0]["run"]
    assert writes[0]["env"]["OKTA_EVERYONE_GROUP_IDS"] == "${{ inputs.everyone-group-ids }}"
    for name in ("preview.yml", "deploy.yml", "drift.yml"):
        workflow = load_workflow(WORKFLOWS / name)
        for job_id, job, step in pulumi_steps(workflow):
            assert step["with"]["policyPackConfigs"] == "${{ runner.temp }}/policy-config.json", job_id
            prepare = next(s for s in job["steps"] if s.get("uses") == "./.github/actions/prepare-stack")
            assert prepare["with"]["everyone-group-ids"] == "${{ vars.OKTA_EVERYONE_GROUP_IDS }}", job_id
    docs = (ROOT / "docs" / "review-loop.md").read_text()
    assert "OKTA_EVERYONE_GROUP_IDS" in docs and "policyPackConfigs" in docs


def test_the_written_policy_configuration_is_what_the_policy_reads(tmp_path, monkeypatch):
    from policy import pack_config
    from policy.kubesphere_okta_policies import okta_app_group_assignments

    monkeypatch.setenv(pack_config.ENV, "00g1everyone0000000a, 00g1everyone0000000b")
    assert pack_config.main([str(tmp_path / "config.json")]) == 0
    config = json.loads((tmp_path / "config.json").read_text())
    schema = okta_app_group_assignments.config_schema.properties
    assert set(config) == {okta_app_group_assignments.name}
    assert set(config[okta_app_group_assignments.name]) == set(schema)
    assert config[okta_app_group_assignments.name]["everyoneGroupIds"] == ["00g1everyone0000000a", "00g1everyone0000000b"]
    monkeypatch.setenv(pack_config.ENV, "Everyone")
    assert pack_config.main([str(tmp_path / "bad.json")]) == 1


@pytest.mark.parametrize("name", ["preview.yml", "deploy.yml", "drift.yml"])
def test_python_and_requirements_are_set_up_before_pulumi_runs(name):
    for job_id, job, pulumi_step in pulumi_steps(load_workflow(WORKFLOWS / name)):
        before = job["steps"][: job["steps"].index(pulumi_step)]
        assert any(s.get("uses") == "./.github/actions/prepare-stack" for s in before), job_id
    action = yaml.safe_load((ACTIONS / "prepare-stack" / "action.yml").read_text())
    steps = action["runs"]["steps"]
    assert str(steps[0].get("uses", "")).startswith("actions/setup-python@")
    assert any("make policy-venv" in s.get("run", "") for s in steps[1:])
    assert not any("make test" in s.get("run", "") or "make venv" == s.get("run", "").strip() for s in steps)


@pytest.mark.parametrize("name", ["preview.yml", "deploy.yml", "drift.yml"])
def test_every_pulumi_run_uses_the_policy_pack_and_the_configured_backend(name):
    for job_id, _, step in pulumi_steps(load_workflow(WORKFLOWS / name)):
        assert step["with"].get("policyPacks") == "policy", job_id
        assert step["with"].get("cloud-url") == "${{ vars.PULUMI_BACKEND_URL }}", job_id
    assert (ROOT / "policy" / "PulumiPolicy.yaml").is_file()


def test_pull_request_previews_refresh_and_comment_on_the_pull_request():
    workflow = load_workflow(WORKFLOWS / "preview.yml")
    assert "pull_request" in workflow["on"]
    assert workflow["permissions"]["pull-requests"] == "write"
    for _, _, step in pulumi_steps(workflow):
        assert step["with"]["command"] == "preview"
        assert step["with"]["refresh"] is True and step["with"]["comment-on-pr"] is True


def test_merge_to_main_deploys_dev_then_staging_then_prod_behind_environments():
    workflow = load_workflow(WORKFLOWS / "deploy.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    jobs = workflow["jobs"]
    assert "needs" not in jobs["dev"]
    assert jobs["staging"]["needs"] == "dev" and jobs["prod"]["needs"] == "staging"
    assert jobs["staging"]["environment"] == "staging" and jobs["prod"]["environment"] == "prod"
    assert workflow["concurrency"]["cancel-in-progress"] is False


def test_nightly_drift_check_expects_no_changes_and_reports_failures():
    workflow = load_workflow(WORKFLOWS / "drift.yml")
    assert workflow["on"]["schedule"][0]["cron"]
    for job_id, job, step in pulumi_steps(workflow):
        assert step["with"]["refresh"] is True and step["with"]["expect-no-changes"] is True, job_id
        assert job["strategy"]["fail-fast"] is False
        after = job["steps"][job["steps"].index(step) + 1:]
        assert any(s.get("if") == "failure()" and "gh issue" in s.get("run", "") for s in after)


def all_jobs():
    for path in workflow_files():
        for job_id, job in load_workflow(path)["jobs"].items():
            yield path.name, job_id, job


def test_every_job_has_a_timeout():
    missing = [f"{name}:{job_id}" for name, job_id, job in all_jobs()
               if not isinstance(job.get("timeout-minutes"), int) or not 0 < job["timeout-minutes"] <= 60]
    assert missing == []


#: The jobs that touch a stack: each joins the stack's one concurrency group.
STACK_WORKFLOWS = ("preview.yml", "deploy.yml", "drift.yml", "sync.yml")


def stack_jobs():
    for name in STACK_WORKFLOWS:
        workflow = load_workflow(WORKFLOWS / name)
        for job_id, job in workflow["jobs"].items():
            steps = job.get("steps") or []
            if any(PULUMI_ACTION_REF.match(str(s.get("uses", ""))) for s in steps):
                yield name, job_id, job


PULUMI_ACTION_REF = re.compile(r"^pulumi/actions@")


def test_preview_deploy_drift_and_sync_share_one_concurrency_group_per_stack():
    groups = {}
    for name, job_id, job in stack_jobs():
        concurrency = job.get("concurrency") or {}
        stacks = (job.get("strategy") or {}).get("matrix", {}).get("stack") or [job_id]
        expected = "pulumi-${{ matrix.stack }}" if "strategy" in job else f"pulumi-{job_id}"
        assert concurrency.get("group") == expected, (name, job_id)
        assert concurrency.get("cancel-in-progress") is False, (name, job_id)
        for stack in stacks:
            groups.setdefault(stack, set()).add(name)
    assert all(set(STACK_WORKFLOWS) - {"sync.yml"} <= workflows for workflows in groups.values()), groups
    docs = (ROOT / "docs" / "review-loop.md").read_text()
    assert "pulumi-<stack>" in docs and "sync.yml" in docs


def test_jobs_that_join_a_deploys_group_first_make_sure_no_deploy_is_waiting():
    for name in ("preview.yml", "drift.yml"):
        workflow = load_workflow(WORKFLOWS / name)
        gate = workflow["jobs"]["deploy-idle"]
        assert any("deploy-idle.sh" in s.get("run", "") for s in gate["steps"])
        for job_id, job in workflow["jobs"].items():
            if job_id != "deploy-idle":
                assert job["needs"] == "deploy-idle", (name, job_id)


def test_the_pulumi_cli_version_is_pinned_once_and_documented():
    versions = set()
    for path in workflow_files():
        for job_id, _, step in pulumi_steps(load_workflow(path)):
            version = str((step.get("with") or {}).get("pulumi-version", ""))
            assert re.fullmatch(r"\d+\.\d+\.\d+", version), (path.name, job_id, version)
            versions.add(version)
    assert len(versions) == 1
    assert f"pulumi-version: {versions.pop()}" in (ROOT / "docs" / "review-loop.md").read_text()


def test_previews_and_drift_checks_run_with_read_only_credentials_of_their_own_environment():
    deploy_environments = {job["environment"] for job in load_workflow(WORKFLOWS / "deploy.yml")["jobs"].values()}
    for name, environment in (("preview.yml", "preview"), ("drift.yml", "drift")):
        for job_id, job, _ in pulumi_steps(load_workflow(WORKFLOWS / name)):
            assert job.get("environment") == environment, (name, job_id)
            assert environment not in deploy_environments
    docs = (ROOT / "docs" / "review-loop.md").read_text()
    assert "environment `preview`" in docs and "environment `drift`" in docs and "**both are required**" in docs
    assert "read-only credentials" in docs


def test_a_preview_that_waited_in_vain_for_a_deploy_fails():
    workflow = load_workflow(WORKFLOWS / "preview.yml")
    for job_id, job, _ in pulumi_steps(workflow):
        first = job["steps"][0]
        assert first["if"] == "needs.deploy-idle.outputs.idle != 'true'" and "exit 1" in first["run"], job_id
