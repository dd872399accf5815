"""Which stacks the GitHub workflows run, and which stacks the repository has (for the tests).

A stack is a ``Pulumi.<stack>.yaml`` in the repository root. A workflow runs a stack when one of
its ``pulumi/actions`` steps names it in ``stack-name``, literally or as ``${{ matrix.stack }}``
(then every entry of the job's ``strategy.matrix.stack``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import yaml

PULUMI_ACTION = re.compile(r"^pulumi/actions@")
MATRIX_STACK = re.compile(r"^\$\{\{\s*matrix\.stack\s*\}\}$")


def repository_stacks(root: Path) -> set[str]:
    return {path.name[len("Pulumi."):-len(".yaml")] for path in root.glob("Pulumi.*.yaml")}


def load_workflow(path: Path) -> dict[str, Any]:
    # PyYAML reads the key `on` as True (YAML 1.1); keep it a string.
    workflow = yaml.safe_load(path.read_text())
    if True in workflow:
        workflow["on"] = workflow.pop(True)
    return workflow


def pulumi_steps(workflow: dict[str, Any]) -> Iterator[tuple[str, dict, dict]]:
    """(job id, job, step) for every pulumi/actions step."""
    for job_id, job in (workflow.get("jobs") or {}).items():
        for step in job.get("steps") or []:
            if PULUMI_ACTION.match(str(step.get("uses", ""))):
                yield job_id, job, step


def stacks_run(workflow: dict[str, Any], command: str) -> set[str]:
    """The stacks on which the workflow runs ``pulumi <command>``."""
    stacks: set[str] = set()
    for _, job, step in pulumi_steps(workflow):
        inputs = step.get("with") or {}
        if inputs.get("command") != command:
            continue
        name = str(inputs.get("stack-name", ""))
        if MATRIX_STACK.match(name):
            stacks |= {str(s) for s in ((job.get("strategy") or {}).get("matrix") or {}).get("stack") or []}
        elif name:
            stacks.add(name)
    return stacks


#: What each workflow must do to every stack.
WORKFLOW_COMMANDS = {"preview.yml": "preview", "deploy.yml": "up", "drift.yml": "preview"}


def uncovered_stacks(root: Path) -> dict[str, dict[str, set[str]]]:
    """Per workflow, the stacks it misses and the stacks it names that the repository lacks."""
    stacks = repository_stacks(root)
    report: dict[str, dict[str, set[str]]] = {}
    for name, command in WORKFLOW_COMMANDS.items():
        run = stacks_run(load_workflow(root / ".github" / "workflows" / name), command)
        if run != stacks:
            report[name] = {"missing": stacks - run, "unknown": run - stacks}
    return report
