"""A Python program outside this repository installs the component with pip and runs as documented.

From an empty directory outside the repository the test writes the README's example program
(``examples/python``), creates a virtualenv, ``pip install``s a checkout of this repository with
the commands docs/component-package.md prints, and runs the program under Pulumi's mocks with
nothing but that virtualenv (no PYTHONPATH, not this checkout, not the editable install).

What it proves: the distribution builds from the checkout (pyproject, package dir, py.typed,
version), installs as ``kubesphere-okta`` and imports as ``kubesphere_okta`` with only what pip
installed, its declared dependencies are satisfied by the versions this repository pins, and the
printed program registers the Okta app, its groups and the KubeSphere Secret and exports the
client id. What it does not: downloading the dependencies from PyPI (it must run offline and
fast on CI), or the ``git+https://...@<tag>`` form (pip's VCS front end for the same build).

How it stays fast (a few seconds, not the minute a real install takes): the virtualenv is made
``--without-pip`` (``ensurepip`` alone takes ten seconds here) and a ``.pth`` file adds a
directory of links to this repository's own installed packages (pulumi, pulumi-okta,
pulumi-kubernetes, pip, setuptools, ...), leaving out every trace of ``kubesphere_okta``. pip
then finds every dependency already satisfied and builds the wheel from the checkout with no
index (``PIP_NO_INDEX``) and no build isolation (``PIP_NO_BUILD_ISOLATION``), using the pinned
setuptools. Only the repository itself is installed by pip, into the new virtualenv.
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import kubesphere_okta
from tests import doc_examples

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "component-package.md"
EXAMPLE_PROGRAM = ROOT / "examples/python/__main__.py"
EXAMPLE = EXAMPLE_PROGRAM.parent
RUNNER = Path(__file__).parent / "run_example_under_mocks.py"
NOT_THE_CHECKOUT = shutil.ignore_patterns(
    ".git", ".venv", "node_modules", "build", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis"
)


def install_commands() -> list[str]:
    """The install commands docs/component-package.md prints for a Python program."""
    blocks = [e for e in doc_examples.examples(DOC) if e.marker == "run by tests/test_python_consumer.py"]
    assert len(blocks) == 1, "docs/component-package.md must print exactly one block run by this test"
    return doc_examples.commands(blocks[0])


def dependencies_without_this_package(into: Path) -> Path:
    """A directory linking every package of this repository's virtualenv but kubesphere_okta."""
    site = Path(sysconfig.get_paths()["purelib"])
    into.mkdir()
    for entry in site.iterdir():
        if "kubesphere_okta" in entry.name or entry.name.startswith("__editable__") or entry.suffix == ".pth":
            continue
        (into / entry.name).symlink_to(entry)
    return into


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_readme_example_is_the_example_program():
    readme_blocks = [e.text for e in doc_examples.examples(ROOT / "README.md") if e.language == "python"]
    assert EXAMPLE_PROGRAM.read_text().rstrip("\n") in readme_blocks


def test_a_program_outside_the_repository_pip_installs_the_component_and_runs(tmp_path):
    checkout = tmp_path / "kubesphere-okta"
    shutil.copytree(ROOT, checkout, ignore=NOT_THE_CHECKOUT)
    program = tmp_path / "my-program"
    program.mkdir()
    for name in ("__main__.py", "Pulumi.yaml"):
        shutil.copy(EXAMPLE / name, program / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_", "VIRTUAL_ENV"))}
    env.update(PIP_NO_INDEX="1", PIP_NO_BUILD_ISOLATION="0", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_CACHE_DIR="1")

    venv_command, install_command = install_commands()
    assert venv_command == "python3 -m venv .venv"
    run([sys.executable, "-m", "venv", "--without-pip", ".venv"], program, env)
    venv_python = program / ".venv" / "bin" / "python"
    venv_site = Path(run([str(venv_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         program, env).strip())
    (venv_site / "kubesphere-okta-test-dependencies.pth").write_text(
        f"{dependencies_without_this_package(tmp_path / 'dependencies')}\n"
    )
    argv = doc_examples.split(install_command.replace("<repository>", str(checkout)))
    assert argv[:4] == [".venv/bin/python", "-m", "pip", "install"], install_command
    run([str(venv_python), *argv[1:]], program, env)

    where = json.loads(run([str(venv_python), "-c", (
        "import json, importlib.metadata as m, pathlib, kubesphere_okta as k;"
        "p = pathlib.Path(k.__file__).parent;"
        "print(json.dumps([str(p), m.version('kubesphere-okta'), (p / 'py.typed').exists()]))"
    )], program, env))
    assert where[0] == str(venv_site / "kubesphere_okta"), "kubesphere_okta must come from what pip installed"
    assert where[1:] == [kubesphere_okta.__version__, True]

    shutil.copy(RUNNER, program / RUNNER.name)
    result = json.loads(run([str(venv_python), RUNNER.name], program, env))
    assert {"kubesphere-okta:index:KubeSphereOktaIntegration", "okta:app/oAuth:OAuth",
            "okta:index/appGroupAssignments:AppGroupAssignments", "kubernetes:core/v1:Secret"} <= set(result["registered"])
    assert result["exports"] == {"clientId": "0oa1exampleclient000",
                                 "redirectUrl": "https://kubesphere.example.com/oauth/redirect/Okta"}
