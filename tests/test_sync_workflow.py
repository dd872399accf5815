"""The membership sync workflow (.github/workflows/sync.yml): one test per safety rule, offline.

The workflow as a whole is validated against GitHub's schema with the others (test_workflows.py).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.pulumi_plans import Plan, members
from tests.workflow_stacks import load_workflow, repository_stacks

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
SYNC = load_workflow(WORKFLOWS / "sync.yml")
DEPLOY = load_workflow(WORKFLOWS / "deploy.yml")
SYNC_JOB = SYNC["jobs"]["sync"]
DEFAULT_BRANCH_ONLY = ("github.event_name == 'schedule' || "
                       "github.ref == format('refs/heads/{0}', github.event.repository.default_branch)")


def for_stack(value: object, stack: str) -> object:
    """A workflow value as GitHub evaluates it for one matrix stack (secret names are case-insensitive)."""
    text = json.dumps(value)
    text = re.sub(r"secrets\[format\('([A-Z_]+)\{0\}', matrix\.stack\)\]",
                  lambda m: f"secrets.{m.group(1)}{stack.upper()}", text)
    return json.loads(text.replace("${{ matrix.stack }}", stack))


def deploy_job(stack: str) -> dict:
    jobs = [job for job in DEPLOY["jobs"].values()
            if any(s.get("with", {}).get("stack-name") == stack for s in job.get("steps", []))]
    assert len(jobs) == 1, f"deploy.yml has no single job for stack {stack}"
    return jobs[0]


def concurrency_groups(workflow: dict, job: dict) -> set[str]:
    """Every concurrency group a job runs in: its own and its workflow's."""
    groups = set()
    for holder in (workflow, job):
        value = holder.get("concurrency")
        if value:
            groups.add(value if isinstance(value, str) else value["group"])
    return groups


def step(name_part: str) -> dict:
    found = [s for s in SYNC_JOB["steps"] if name_part in s.get("name", "")]
    assert len(found) == 1, name_part
    return found[0]


def test_the_sync_covers_every_stack():
    assert set(SYNC_JOB["strategy"]["matrix"]["stack"]) == repository_stacks(ROOT)


@pytest.mark.parametrize("stack", sorted(repository_stacks(ROOT)))
def test_the_sync_shares_the_deploy_concurrency_group_of_each_stack(stack):
    assert for_stack(sorted(concurrency_groups(SYNC, SYNC_JOB)), stack) == [f"pulumi-{stack}"]
    assert f"pulumi-{stack}" in concurrency_groups(DEPLOY, deploy_job(stack))
    assert SYNC_JOB["concurrency"]["cancel-in-progress"] is False  # never cancels a running deploy or sync


def test_the_sync_does_not_queue_behind_an_unfinished_deploy():
    gate = SYNC["jobs"]["deploy-idle"]
    assert "concurrency" not in gate and "concurrency" not in SYNC  # the gate itself never queues in the group
    assert SYNC_JOB["needs"] == "deploy-idle" and "needs.deploy-idle.outputs.idle == 'true'" in SYNC_JOB["if"]
    check = next(s for s in gate["steps"] if s.get("id") == "deploys")
    # The one check the preview and drift workflows share, answering at once (the next schedule retries).
    assert check["run"] == "bash .github/scripts/deploy-idle.sh" and check["env"]["WAIT_SECONDS"] == "0"
    assert "gh run list --workflow deploy.yml" in (ROOT / ".github" / "scripts" / "deploy-idle.sh").read_text()
    assert SYNC["permissions"]["actions"] == "read"


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash, as the GitHub runner has")
def test_a_stack_without_secrets_is_skipped_cleanly(tmp_path):
    # A new repository has not set them yet: no failed run every 15 minutes, no issue.
    check = step("Are this stack's secrets set?")
    assert check["env"]["MODE"] == "sync" and check["run"] == "bash .github/scripts/stack-secrets-available.sh"
    output = tmp_path / "github_output"
    output.write_text("")
    done = subprocess.run(["bash", str(ROOT / ".github" / "scripts" / "stack-secrets-available.sh")],
                          env={"PATH": "/usr/bin:/bin", "GITHUB_OUTPUT": str(output), "STACK": "prod", "MODE": "sync"},
                          capture_output=True, text=True, timeout=30)
    assert (done.returncode, output.read_text()) == (0, "available=false\n")
    assert done.stdout.startswith("::notice title=Membership sync of prod skipped::") and "KUBECONFIG_PROD" in done.stdout
    steps = SYNC_JOB["steps"]
    for later in steps[steps.index(check) + 1:]:
        condition = later.get("if", "")
        assert condition == "steps.secrets.outputs.available == 'true'" or condition.startswith("steps.classify.") \
            or condition == "failure()", later.get("name")


def test_every_sync_job_has_a_timeout():
    for job_id, job in SYNC["jobs"].items():
        assert isinstance(job.get("timeout-minutes"), int) and 0 < job["timeout-minutes"] <= 60, job_id


def test_the_sync_runs_only_from_the_default_branch():
    assert set(SYNC["on"]) == {"schedule", "workflow_dispatch"}  # no push or pull_request: no branch code runs
    assert SYNC["on"]["workflow_dispatch"] is None  # no inputs: a dispatch cannot pick another ref's plan
    for job_id, job in SYNC["jobs"].items():
        assert DEFAULT_BRANCH_ONLY in job["if"], job_id
    cron = SYNC["on"]["schedule"][0]["cron"]
    assert cron == "*/15 * * * *"  # the documented default (docs/membership-sync.md)
    assert cron in (ROOT / "docs" / "membership-sync.md").read_text()


@pytest.mark.parametrize("stack", sorted(repository_stacks(ROOT)))
def test_the_sync_uses_the_deploy_jobs_protected_environment_and_credentials(stack):
    deploy = deploy_job(stack)
    assert for_stack(SYNC_JOB["environment"], stack) == deploy["environment"] == stack
    assert for_stack(SYNC_JOB["env"]["OKTA_API_TOKEN"], stack) == deploy["env"]["OKTA_API_TOKEN"]
    prepare = [s for s in SYNC_JOB["steps"] if s.get("uses") == "./.github/actions/prepare-stack"]
    deploy_prepare = [s for s in deploy["steps"] if s.get("uses") == "./.github/actions/prepare-stack"]
    assert for_stack(prepare[0]["with"], stack) == deploy_prepare[0]["with"]
    for key in ("PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE"):
        assert SYNC["env"][key] == DEPLOY["env"][key]


def test_the_apply_is_constrained_to_the_classified_plan():
    preview = step("pulumi preview --save-plan")["run"]
    assert '--save-plan "$RUNNER_TEMP/plan.json"' in preview and "--json" in preview and "--show-sames" in preview
    apply = step("pulumi up --plan")
    assert apply["if"] == "steps.classify.outputs.outcome == 'apply'"
    assert '--plan "$RUNNER_TEMP/plan.json"' in apply["run"]
    assert "--refresh" not in apply["run"] and "--skip-preview" not in apply["run"]
    steps = SYNC_JOB["steps"]
    assert steps.index(step("pulumi preview")) < steps.index(step("Membership changes only?")) < steps.index(apply)


def test_the_pinned_cli_version_is_the_deploys_when_the_deploy_pins_one():
    installs = [s for s in SYNC_JOB["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@")]
    assert len(installs) == 1 and "command" not in installs[0]["with"]
    version = str(installs[0]["with"]["pulumi-version"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    pinned = {str(s["with"]["pulumi-version"]) for job in DEPLOY["jobs"].values() for s in job["steps"]
              if "pulumi-version" in s.get("with", {})}
    assert pinned <= {version}


def test_every_outcome_is_reported_in_the_stacks_one_issue():
    reports = {s["name"]: s for s in SYNC_JOB["steps"] if "sync-issue.sh" in s.get("run", "")}
    conditions = {s["if"]: s["run"] for s in reports.values()}
    assert conditions == {
        "steps.classify.outputs.outcome == 'refused' || steps.classify.outputs.outcome == 'held'":
            'bash .github/scripts/sync-issue.sh open "$RUNNER_TEMP/report.md"',
        "steps.classify.outputs.outcome == 'apply' || steps.classify.outputs.outcome == 'none'":
            "bash .github/scripts/sync-issue.sh close",
        "failure()": conditions.get("failure()"),
    }
    assert 'sync-issue.sh open "$RUNNER_TEMP/failure.md"' in conditions["failure()"]
    steps = SYNC_JOB["steps"]
    # The issue is closed only after the apply succeeded (a step's `if` implies success() of those before).
    assert steps.index(step("Close the stack's sync issue")) > steps.index(step("pulumi up --plan"))


def run_classify_step(tmp_path: Path, plan: Plan, percent: str = "10") -> tuple[int, str]:
    """The classify step's own script, run as the runner would (bash, its env, $GITHUB_OUTPUT)."""
    (tmp_path / "preview.json").write_text(json.dumps(plan.preview()))
    (tmp_path / "plan.json").write_text(json.dumps(plan.plan()))
    output, summary = tmp_path / "github_output", tmp_path / "summary.md"
    output.write_text("")
    script = step("Membership changes only?")["run"].replace(".venv/bin/python", sys.executable)
    done = subprocess.run(["bash", "-e", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "STACK": "prod", "RUNNER_TEMP": str(tmp_path),
                               "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary),
                               "MAX_LEAVERS_PERCENT": percent})
    return done.returncode, output.read_text()


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash, as the GitHub runner has")
def test_a_burst_of_leavers_is_held_not_applied(tmp_path):
    assert SYNC_JOB["env"]["MAX_LEAVERS_PERCENT"] == "${{ vars.SYNC_MAX_LEAVERS_PERCENT || '10' }}"
    before = members(40)
    plan = Plan()
    plan.guards()
    plan.users(before, dict(list(before.items())[5:]))  # 5 of 40 leave: over 10% (4)
    status, output = run_classify_step(tmp_path, plan)
    assert (status, output) == (0, "outcome=held\n")  # reported, not a failed run; the up step is skipped
    assert "5 of 40 members leave at once" in (tmp_path / "report.md").read_text()
    status, output = run_classify_step(tmp_path, plan, percent="15")  # SYNC_MAX_LEAVERS_PERCENT=15
    assert (status, output) == (0, "outcome=apply\n")


FAKE_GH = textwrap.dedent('''\
    #!/usr/bin/env python3
    """A stand-in for the gh CLI's issue and label commands, over a JSON file of issues."""
    import json, os, re, sys
    path = os.environ["FAKE_GH_STATE"]
    state = json.load(open(path))
    args = sys.argv[1:]
    state["calls"].append(args)
    def opt(name):
        return args[args.index(name) + 1] if name in args else None
    if args[:2] == ["issue", "list"]:
        found = [i for i in state["issues"] if i["state"] == "open" and opt("--label") in i["labels"]]
        title = re.fullmatch(r'\\.\\[\\] \\| select\\(\\.title == "(.*)"\\) \\| \\.number', opt("--jq")).group(1)
        print("\\n".join(str(i["number"]) for i in found if i["title"] == title))
    elif args[:2] == ["issue", "create"]:
        state["issues"].append({"number": len(state["issues"]) + 1, "title": opt("--title"), "body": opt("--body"),
                                "labels": [opt("--label")], "state": "open"})
    elif args[:2] == ["issue", "edit"]:
        next(i for i in state["issues"] if i["number"] == int(args[2]))["body"] = opt("--body")
    elif args[:2] == ["issue", "close"]:
        next(i for i in state["issues"] if i["number"] == int(args[2]))["state"] = "closed"
    elif args[:2] != ["label", "create"]:
        sys.exit(f"unexpected gh call {args}")
    json.dump(state, open(path, "w"))
''')


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash, as the GitHub runner has")
def test_one_issue_per_stack_is_kept_up_to_date_then_closed(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(FAKE_GH.replace("#!/usr/bin/env python3", f"#!{sys.executable}"))
    (bin_dir / "gh").chmod(0o755)
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"issues": [], "calls": []}))

    def sync_issue(stack: str, *args: str, run: int = 1) -> None:
        done = subprocess.run(["bash", str(ROOT / ".github" / "scripts" / "sync-issue.sh"), *args],
                              capture_output=True, text=True, timeout=30,
                              env={"PATH": f"{bin_dir}:/usr/bin:/bin", "FAKE_GH_STATE": str(state), "STACK": stack,
                                   "RUN_URL": f"https://github.example/runs/{run}"})
        assert done.returncode == 0, done.stderr

    for run, text in enumerate(["first refused step: A", "first refused step: B", "held: 5 of 40"], 1):
        (tmp_path / "report.md").write_text(text)
        sync_issue("prod", "open", str(tmp_path / "report.md"), run=run)
    sync_issue("dev", "open", str(tmp_path / "report.md"), run=4)
    issues = json.loads(state.read_text())["issues"]
    assert [(i["title"], i["state"]) for i in issues] == [
        ("Membership sync of stack prod needs review", "open"), ("Membership sync of stack dev needs review", "open")]
    assert issues[0]["body"].startswith("held: 5 of 40") and "runs/3" in issues[0]["body"]
    sync_issue("prod", "close", run=5)
    sync_issue("prod", "close", run=6)  # nothing open: no call but the lookup
    issues = json.loads(state.read_text())["issues"]
    assert [i["state"] for i in issues] == ["closed", "open"]
    (tmp_path / "report.md").write_text("refused again")
    sync_issue("prod", "open", str(tmp_path / "report.md"), run=7)  # a new episode: a new issue
    assert len(json.loads(state.read_text())["issues"]) == 3
