"""Every example the README and docs/ show is run here, as printed (see tests/doc_examples.py)."""

from __future__ import annotations

import contextlib
import re
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infra import plan
from infra.mock_runtime import run
from tests import doc_examples
from tests.doc_examples import ROOT, Example

EXAMPLES = [e for path in doc_examples.documents() for e in doc_examples.examples(path)]
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["name"]


def run_command(command: str, project_dir: Path = ROOT) -> tuple[int, str]:
    """Run one documented command from the repository root; (exit status, stdout + stderr)."""
    argv = doc_examples.split(command)
    if argv[:1] == ["make"]:
        assert len(argv) == 2 and argv[1] in doc_examples.make_targets(), f"no Makefile target: {command}"
        if argv[1] != "plan":  # `make test` is this suite; the others install or write files
            return 0, ""
        status, output = 0, ""
        for line in doc_examples.make_recipe("plan"):
            status, out = run_command(line, project_dir)
            output += out
        return status, output
    if argv[:3] == [".venv/bin/python", "-m", "infra.plan"]:
        out, err = io.StringIO(), io.StringIO()
        extra = [] if project_dir == ROOT else ["--project-dir", str(project_dir)]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = plan.main(argv[3:] + extra)
            except SystemExit as exit_:
                status = exit_.code
        return status, out.getvalue() + err.getvalue()
    if argv[:1] == [".venv/bin/python"]:
        done = subprocess.run([sys.executable, *argv[1:]], cwd=ROOT, capture_output=True, text=True, timeout=120)
        return done.returncode, done.stdout + done.stderr
    raise AssertionError(f"the doc test does not know how to run: {command}")


def run_console(example: Example, tmp_path: Path) -> None:
    stack = example.marker[len("stack "):] if example.marker.startswith("stack ") else None
    config: dict | None = None
    for command in doc_examples.commands(example):
        argv = doc_examples.split(command)
        if argv[0] != "pulumi":
            status, output = run_command(command)
            assert status == 0, f"{example.where}: `{command}` exited {status}:\n{output}"
            continue
        words = doc_examples.pulumi_command(argv)
        if words == ("stack", "init"):
            stack = argv[3]
        for flag in ("-s", "--stack"):
            if flag in argv:
                stack = argv[argv.index(flag) + 1]
        if words == ("config", "set"):
            if config is None:
                stack = stack or "dev"
                config = dict(yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text()).get("config") or {})
            doc_examples.set_config(config, argv, PROJECT)
    if config is not None:
        shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
        (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))
        status, output = run_command(f".venv/bin/python -m infra.plan --stack {stack}", tmp_path)
        assert status == 0, f"{example.where}: the stack these commands leave does not plan:\n{output}"


def run_python(example: Example) -> None:
    recording = run(lambda: exec(compile(example.text, example.where, "exec"), {"__name__": "__main__"}),
                    mocks=plan.PlanMocks())
    assert recording.resources, f"{example.where}: the example registered nothing"


def run_output(example: Example) -> None:
    command = example.marker[len("output of "):]
    _, output = run_command(command)
    mismatch = doc_examples.output_matches(example.text, output)
    assert mismatch is None, f"{example.where}: `{command}`: {mismatch}\n--- output ---\n{output}"


def check_file(example: Example) -> None:
    path = example.marker[len("file "):]
    assert (ROOT / path).read_text().rstrip("\n") == example.text, f"{example.where}: differs from {path}"
    runners = [t for t in (ROOT / "tests").glob("test_*.py") if path in t.read_text()]
    assert runners, f"{example.where}: no test under tests/ runs {path}"


def check_run_by(example: Example) -> None:
    test = ROOT / example.marker[len("run by "):]
    assert test.is_file(), f"{example.where}: no such test {test.relative_to(ROOT)}"
    assert example.path.name in test.read_text(), f"{example.where}: {test.name} does not read {example.path.name}"


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.where for e in EXAMPLES])
def test_documented_example_runs_as_printed(example: Example, tmp_path):
    if example.marker.startswith("file "):
        check_file(example)
    elif example.marker.startswith("run by "):
        check_run_by(example)
    elif example.marker.startswith("output of "):
        run_output(example)
    elif example.marker == "layout":
        missing = [p for p in doc_examples.layout_paths(example.text) if not (ROOT / p).exists()]
        assert doc_examples.layout_paths(example.text) and not missing, f"{example.where}: no such path: {missing}"
    elif example.language == "console":
        run_console(example, tmp_path)
    elif example.language == "python":
        run_python(example)
    else:
        pytest.fail(f"{example.where}: a ```{example.language} block with no way to run it: mark it "
                    "<!-- example: output of COMMAND --> or <!-- example: layout -->, or drop it")


def test_the_output_check_fails_on_a_line_the_command_does_not_print():
    assert doc_examples.output_matches("a\n...\nc", "a\nb\nc") is None
    assert doc_examples.output_matches("a\nc", "a\nb\nc") is not None
    assert doc_examples.output_matches("b\nc", "a\nb\nc") is None
    assert doc_examples.output_matches("a\n...\nz", "a\nb\nc") is not None


def test_config_set_is_applied_as_the_cli_applies_it():
    config: dict = {}
    doc_examples.set_config(config, doc_examples.split("pulumi config set --path 'p:groupNames[0]' 'A B'"), "p")
    doc_examples.set_config(config, doc_examples.split("pulumi config set --path 'p:roleBindings[\"A B\"]' admin"), "p")
    doc_examples.set_config(config, doc_examples.split("pulumi config set --secret okta:apiToken t"), "p")
    doc_examples.set_config(config, doc_examples.split("pulumi config set issuer https://x"), "p")
    assert config["p:groupNames"] == ["A B"] and config["p:roleBindings"] == {"A B": "admin"}
    assert set(config["okta:apiToken"]) == {"secure"} and config["p:issuer"] == "https://x"


def test_an_unknown_pulumi_command_is_refused():
    with pytest.raises(AssertionError):
        doc_examples.pulumi_command(["pulumi", "stack", "rm-everything"])


#: The developers' folder beside the repository, spelled so that this file does not name it either.
OUTSIDE_MATERIAL = "/".join(("..", "shared"))


def test_every_document_is_reached_and_none_refers_outside_the_repository():
    for path in doc_examples.documents():
        text = path.read_text()
        assert OUTSIDE_MATERIAL not in text and "/work/" not in text, path
    assert any(e.path.name == "README.md" for e in EXAMPLES)


def test_the_readme_is_short_and_shows_both_commands_on_its_first_screen():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.split()) < 2000
    first_screen = "\n".join(readme.splitlines()[:40])
    for command in ("$ make plan", "$ make test", "$ pulumi up"):
        assert command in first_screen, command


def test_nothing_in_the_repository_refers_outside_it():
    """No file points at material next to the repository (``OUTSIDE_MATERIAL``) or cites it as "facts N":
    facts the code relies on are in docs/kubesphere-okta-facts.md, with their upstream sources."""
    skip = {".git", ".venv", "node_modules", "__pycache__", ".pytest_cache", ".hypothesis", ".mutation"}
    outside = re.compile(r"\.\./shared|shared/design|\(facts(,| section| \d)|facts \d\b")
    offenders = []
    for path in ROOT.rglob("*"):
        if path.is_dir() or skip & set(path.relative_to(ROOT).parts) or path == Path(__file__):
            continue
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        offenders += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in outside.finditer(text)]
    assert offenders == []
