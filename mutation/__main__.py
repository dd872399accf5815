"""``make mutation``: mutation testing of the pure decision modules with mutmut 3.

For each module (all of ``TARGETS``, or those named on the command line):

1. lay out a scratch project in ``.mutation/<module>/`` (the package under ``src/``, the tests),
   with a mutmut configuration that mutates only that module and runs only its tests;
2. ``mutmut run`` there, forking one child per mutant, ``--jobs`` at a time, every test under the
   ``mutation`` hypothesis profile (tests/conftest.py: derandomized, no example database);
3. re-run every surviving mutant in a fresh ``python -m pytest`` process (after checking, with
   mutmut's forced-failure switch, that such a process really runs the mutated code), so that a
   verdict never depends on state the forked run inherited;
4. sort the mutants (mutation/report.py), print the score, and show only the survivors that need
   a look: not message wording, not listed in mutation/equivalent.toml.

Exits 1 when a module's score is below its minimum. See docs/mutation-testing.md.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import difflib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from mutation.report import (
    SURVIVED_EXIT_CODE,
    Mutant,
    build_report,
    exception_classes,
    function_of,
    is_message_only,
    load_equivalents,
    mutated_lines,
    passes,
    render,
)

REPOSITORY = Path(__file__).resolve().parent.parent
PACKAGE = REPOSITORY / "components" / "kubesphere_okta"
SCRATCH = REPOSITORY / ".mutation"
EQUIVALENTS = Path(__file__).resolve().parent / "equivalent.toml"
#: Files beside the package and tests that some tests read (the program the gRPC scenarios run, its stacks).
PROGRAM_FILES = ("Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml", "infra")
#: The env var tests/conftest.py reads to select a hypothesis profile.
PROFILE_VARIABLE = "KUBESPHERE_OKTA_HYPOTHESIS_PROFILE"


@dataclass(frozen=True)
class Target:
    tests: tuple[str, ...]
    #: Minimum share (percent) of the behaviour-changing mutants the tests must catch.
    minimum_score: float


TARGETS: dict[str, Target] = {
    "cluster_configuration": Target(("tests/test_cluster_configuration.py",), 100.0),
    "usernames": Target(("tests/test_usernames.py",), 100.0),
    # The 3.x entry's ledger: what it holds on a cluster and what goes back (docs/cluster-binding.md).
    "entry_ledger": Target(("tests/test_entry_ledger.py",), 100.0),
    # Which cluster a stack is bound to, who owns an entry or Secret with our name, which cluster
    # selectors are ambiguous (docs/cluster-binding.md).
    # Only tests that call it here count: the providers run a by-value copy of it in another process
    # (tests/test_cluster_binding_served.py skips itself under mutation; it is listed as a
    # test_cluster_binding*.py file, which every module's run must select).
    "cluster_binding": Target(("tests/test_cluster_binding.py", "tests/test_cluster_binding_changed.py",
                               "tests/test_cluster_binding_served.py", "tests/test_rules_cluster_binding.py",
                               "tests/test_bad_input_messages.py"), 100.0),
    # What a check does when it cannot read the cluster (docs/cluster-binding.md).
    "cluster_check": Target(("tests/test_cluster_check.py",), 100.0),
    # client-go's kubeconfig loading rules, held to kubectl (the oracle tests need kubectl), and the
    # credential answers it reads (exec plugins, OIDC id-tokens).
    "kubeconfig_loading": Target(("tests/test_kubeconfig_loading.py", "tests/test_cluster_access_deadlines.py"), 100.0),
    # rules.py's tests are split by subject (tests/test_rules_*.py); its identity and scoped-role
    # rules are also tested beside the modules they serve.
    "rules": Target(("tests/test_rules.py", "tests/test_rules_cluster_binding.py", "tests/test_rules_fixes.py",
                     "tests/test_rules_role_maps.py", "tests/test_rules_urls.py", "tests/test_kubesphere_iam.py",
                     "tests/test_kubesphere_roles.py"), 90.0),
}


def _toml_list(values) -> str:
    return "[" + ", ".join(json.dumps(str(v)) for v in values) + "]"


def prepare(module: str, target: Target) -> Path:
    """A fresh scratch project for one module; mutmut writes its mutants/ inside it."""
    work = SCRATCH / module
    shutil.rmtree(work, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__", "node_modules", ".hypothesis", "*.pyc")
    shutil.copytree(PACKAGE, work / "src" / "kubesphere_okta", ignore=ignore)
    shutil.copytree(REPOSITORY / "tests", work / "tests", ignore=ignore)
    # Tests that drive the dynamic providers over gRPC find the program through Pulumi.yaml
    # (tests/test_fail_closed.py), so a scratch project whose tests import them needs both.
    for extra in PROGRAM_FILES:
        if (REPOSITORY / extra).is_dir():
            shutil.copytree(REPOSITORY / extra, work / extra, ignore=ignore)
        else:
            shutil.copy2(REPOSITORY / extra, work / extra)
    (work / "pyproject.toml").write_text(
        "[tool.pytest.ini_options]\n"
        'pythonpath = ["."]\n'
        'addopts = "-q -p no:cacheprovider"\n\n'
        "[tool.mutmut]\n"
        'source_paths = ["src"]\n'
        f"only_mutate = {_toml_list([f'src/kubesphere_okta/{module}.py'])}\n"
        f"pytest_add_cli_args_test_selection = {_toml_list(target.tests)}\n"
        "use_git_change_detection = false\n"
        f"also_copy = {_toml_list(PROGRAM_FILES)}\n"
    )
    return work


def environment(work: Path) -> dict[str, str]:
    env = dict(os.environ)
    env[PROFILE_VARIABLE] = "mutation"
    env["PYTHONHASHSEED"] = "0"
    env["PYTHONPATH"] = str(work / "mutants" / "src")
    env.pop("MUTANT_UNDER_TEST", None)
    return env


def run_mutmut(work: Path, jobs: int) -> None:
    command = [sys.executable, "-c", "from mutmut.__main__ import cli; cli()", "run", "--max-children", str(jobs)]
    env = environment(work)
    env.pop("PYTHONPATH")  # mutmut puts mutants/src first itself
    with open(work / "mutmut.log", "w") as log:
        finished = subprocess.run(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    if finished.returncode != 0:
        tail = (work / "mutmut.log").read_text(errors="replace")[-3000:]
        raise SystemExit(f"mutmut failed in {work} (exit {finished.returncode}); end of mutmut.log:\n{tail}")


def fresh_pytest(work: Path, tests: tuple[str, ...] | list[str], mutant: str) -> int:
    """Exit code of ``tests`` in a new process with ``mutant`` active."""
    env = environment(work)
    env["MUTANT_UNDER_TEST"] = mutant
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *tests]
    return subprocess.run(command, cwd=work / "mutants", env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode


@contextlib.contextmanager
def _inside(path: Path):
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def read_mutants(work: Path, module: str) -> list[Mutant]:
    """Every mutant of the module with its verdict, the lines it changes and whether only message text."""
    import libcst  # mutmut's own dependencies, installed with it
    from mutmut.configuration import reset_config
    from mutmut.mutation.diff_apply import read_functions_from_index

    relative = f"src/kubesphere_okta/{module}.py"
    meta = json.loads((work / "mutants" / f"{relative}.meta").read_text())
    exceptions = exception_classes((work / relative).read_text())
    mutants = []
    with _inside(work):
        reset_config()
        for name, exit_code in sorted(meta["exit_code_by_key"].items()):
            functions = read_functions_from_index(name, relative)
            if functions is None:
                raise SystemExit(f"cannot read mutant {name} back from {work / 'mutants' / relative}")
            original, mutated = (libcst.Module([f]).code.strip("\n") for f in functions)
            function = function_of(name)
            in_exception_class = "." in function and function.split(".")[0] in exceptions
            diff = "\n".join(difflib.unified_diff(original.splitlines(), mutated.splitlines(), lineterm=""))
            mutants.append(Mutant(
                name=name,
                exit_code=exit_code,
                lines=mutated_lines(module, function, original, mutated),
                message_only=is_message_only(original, mutated, exceptions, in_exception_class),
                diff=diff,
            ))
    return mutants


def covering_tests(work: Path, mutant: str) -> list[str]:
    """The tests that call the mutated function, as mutmut's stats run recorded them."""
    stats = json.loads((work / "mutants" / "mutmut-stats.json").read_text())
    node_ids = stats["tests_by_mangled_function_name"].get(mutant.partition("__mutmut_")[0], [])
    return sorted({node_id.partition("[")[0] for node_id in node_ids})  # all parameters of each test


def recheck_survivors(work: Path, target: Target, mutants: list[Mutant], jobs: int) -> None:
    """Re-run each behaviour-changing survivor, with the tests that call its function, in a fresh
    process; the verdicts are kept in rechecks.json so that ``--report-only`` shows them again."""
    survivors = [m for m in mutants if m.exit_code == SURVIVED_EXIT_CODE and not m.message_only]
    if not survivors:
        (work / "rechecks.json").write_text("{}")
        return
    # A fresh process must run the mutated code: with mutmut's "fail" switch every trampoline raises.
    if fresh_pytest(work, target.tests, "fail") == 0:
        raise SystemExit(f"the fresh-process re-check in {work / 'mutants'} does not run the mutated module")
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        codes = pool.map(lambda m: fresh_pytest(work, covering_tests(work, m.name) or target.tests, m.name),
                         survivors)
        for mutant, code in zip(survivors, codes):
            mutant.fresh_exit_code = code
    (work / "rechecks.json").write_text(json.dumps({m.name: m.fresh_exit_code for m in survivors}, indent=1))


def load_rechecks(work: Path, mutants: list[Mutant]) -> None:
    path = work / "rechecks.json"
    codes = json.loads(path.read_text()) if path.exists() else {}
    for mutant in mutants:
        mutant.fresh_exit_code = codes.get(mutant.name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mutation", description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE",
                        help=f"modules to mutate, of {', '.join(TARGETS)} (default: all of them)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--report-only", action="store_true",
                        help="mutate and test nothing: show the last run's results again (after editing "
                             "equivalent.toml or the classification)")
    arguments = parser.parse_args(argv)
    modules = arguments.modules or list(TARGETS)
    unknown = [m for m in modules if m not in TARGETS]
    if unknown:
        parser.error(f"no mutation target {', '.join(unknown)}; choose from {', '.join(TARGETS)}")
    equivalents = load_equivalents(EQUIVALENTS)
    SCRATCH.mkdir(exist_ok=True)
    all_pass = True
    summary = []
    started = time.monotonic()
    for module in modules:
        target = TARGETS[module]
        begun = time.monotonic()
        if not arguments.report_only:
            print(f"mutating kubesphere_okta/{module}.py against {', '.join(target.tests)} ...", flush=True)
        if arguments.report_only:
            work = SCRATCH / module
            mutants = read_mutants(work, module)
            load_rechecks(work, mutants)
        else:
            work = prepare(module, target)
            run_mutmut(work, arguments.jobs)
            mutants = read_mutants(work, module)
            recheck_survivors(work, target, mutants, arguments.jobs)
        report = build_report(module, mutants, equivalents)
        text = render(report, target.minimum_score)
        (work / "report.txt").write_text(text + "\n")
        print(text)
        seconds = time.monotonic() - begun
        print(f"   ({seconds:.0f} s; report in {work.relative_to(REPOSITORY)}/report.txt)\n", flush=True)
        ok = passes(report, target.minimum_score)
        all_pass &= ok
        summary.append(f"{module}: {report.score:.1f}% ({report.caught}/{report.behaviour_mutants}), "
                       f"{len(report.needs_a_look)} to look at, {len(report.message)} message, "
                       f"{len(report.equivalent)} equivalent, {seconds:.0f} s {'ok' if ok else 'BELOW MINIMUM'}")
    print("summary:")
    for line in summary:
        print(f"  {line}")
    print(f"  total {time.monotonic() - started:.0f} s with {arguments.jobs} jobs")
    return 0 if all_pass else 1


if __name__ == "__main__":
    sys.exit(main())
