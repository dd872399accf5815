"""The GitHub workflows: valid against GitHub's schema (offline), and covering every stack."""

from __future__ import annotations

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


@pytest.mark.parametrize("name", ["preview.yml", "deploy.yml", "drift.yml"])
def test_pulumi_action_is_pinned_to_a_major_version(name):
    uses = [step["uses"] for _, _, step in pulumi_steps(load_workflow(WORKFLOWS / name))]
    assert uses and all(re.fullmatch(r"pulumi/actions@v\d+", u) for u in uses), uses


@pytest.mark.parametrize("name", ["preview.yml", "deploy.yml", "drift.yml"])
def test_python_and_requirements_are_set_up_before_pulumi_runs(name):
    for job_id, job, pulumi_step in pulumi_steps(load_workflow(WORKFLOWS / name)):
        before = job["steps"][: job["steps"].index(pulumi_step)]
        assert any(s.get("uses") == "./.github/actions/prepare-stack" for s in before), job_id
    action = yaml.safe_load((ACTIONS / "prepare-stack" / "action.yml").read_text())
    steps = action["runs"]["steps"]
    assert str(steps[0].get("uses", "")).startswith("actions/setup-python@")
    assert any("make policy-venv" in s.get("run", "") for s in steps[1:])


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
