"""Every dynamic provider the component stores in state runs without the package installed.

Pulumi stores a dynamic resource's provider in the state, pickled with dill (``__provider``), and
runs it in a separate process, ``python -m pulumi.dynamic``, started by the engine's
``pulumi-resource-pulumi-python`` plugin (pulumi/pulumi sdk/python/dist/pulumi-resource-pulumi-python):
with ``$PULUMI_RUNTIME_VIRTUALENV/bin/python`` when that is set, else with
``${PULUMI_PYTHON_CMD:-python3}``. ``pulumi destroy`` unpickles the provider stored in the state.
So each provider must unpickle and run where ``kubesphere_okta`` cannot be imported: after the
package moved (as it did between 0.1.0 and 0.2.0), was uninstalled, or, for a TypeScript, Go or
YAML program using the component through ``pulumi package add``, in a Python that never had it
(docs/component-package.md).

The test builds such a Python: a virtualenv whose only packages are ``requirements-dynamic.txt``
(pulumi, dill, the kubernetes client, PyYAML) and what they depend on, installed with the commands
docs/component-package.md prints (from links to this repository's installed packages, no index:
the test runs offline). It then starts ``python -m pulumi.dynamic`` with it, outside the
repository, and drives every provider the component registers (the 3.x entry, both cluster
guards, the role check, the keyed membership resources; 3.4 and 4.1) through Check, Create, Diff and Delete against a stand-in
Kubernetes API, as ``pulumi up`` and ``pulumi destroy`` would.
"""

from __future__ import annotations

import base64
import importlib.metadata as metadata
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml
from packaging.markers import Marker
from packaging.requirements import Requirement

from kubesphere_okta import KubeSphereOktaIntegration, membership_model
from tests import doc_examples
from tests.dynamic_engine import DynamicProviderProcess
from tests.kubernetes_api_double import KubernetesApiDouble
from tests.pulumi_harness import OktaAndKubernetesMocks, run

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "component-package.md"
REQUIREMENTS = ROOT / "requirements-dynamic.txt"
DYNAMIC = "pulumi-python:dynamic:Resource"
ADMINS = "00g1admadmadmadmadma"
JANE = {"id": "00ujane", "login": "jane@acme.com", "email": "jane@acme.com", "status": "ACTIVE"}
CLUSTER_CONFIGURATION = ROOT / "tests/fixtures/kubesphere-v3.4.1/cluster-configuration-ldap-github.yaml"


def setup_commands() -> list[str]:
    """The commands docs/component-package.md prints to make the Python dynamic providers run in."""
    blocks = [e for e in doc_examples.examples(DOC) if e.marker == "run by tests/test_dynamic_providers_portable.py"]
    assert len(blocks) == 1, "docs/component-package.md must print exactly one block run by this test"
    return doc_examples.commands(blocks[0])


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def distributions_needed() -> dict[str, metadata.Distribution]:
    """requirements-dynamic.txt and everything it depends on (no extras), from this virtualenv."""
    found: dict[str, metadata.Distribution] = {}
    todo = [Requirement(line) for line in REQUIREMENTS.read_text().splitlines() if line and not line.startswith("#")]
    while todo:
        requirement = todo.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        if _name(requirement.name) in found:
            continue
        dist = metadata.distribution(requirement.name)
        assert dist.version in requirement.specifier, f"{requirement}: this virtualenv has {dist.version}"
        found[_name(requirement.name)] = dist
        todo += [Requirement(r) for r in dist.requires or []]
    return found


def link_distributions(distributions: dict[str, metadata.Distribution], into: Path) -> Path:
    """A directory linking only the top-level files and packages of ``distributions``."""
    site = Path(sysconfig.get_paths()["purelib"])
    into.mkdir()
    for dist in distributions.values():
        for top in {Path(str(f)).parts[0] for f in dist.files or []}:
            if top in ("..", "__pycache__") or not (site / top).exists() or (into / top).exists():
                continue
            (into / top).symlink_to(site / top)
    return into


@pytest.fixture(scope="module")
def dynamic_python(tmp_path_factory) -> str:
    """A Python with only requirements-dynamic.txt, made with the commands the doc prints."""
    home = tmp_path_factory.mktemp("dynamic-python")
    venv_command, install_command, export_command = setup_commands()
    assert venv_command == "python3 -m venv ~/.kubesphere-okta-dynamic", venv_command
    assert export_command == "export PULUMI_PYTHON_CMD=~/.kubesphere-okta-dynamic/bin/python", export_command
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_", "VIRTUAL_ENV"))}
    env.update(HOME=str(home), PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_CACHE_DIR="1")
    venv = home / ".kubesphere-okta-dynamic"
    # --without-pip: ensurepip alone takes ten seconds; pip comes from the links below instead.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, env=env, timeout=60)
    python = venv / "bin" / "python"
    venv_site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, env=env, capture_output=True, text=True).stdout.strip()
    needed = distributions_needed()
    needed["pip"] = metadata.distribution("pip")
    # Named site-packages like a real install's (dill pickles modules found elsewhere by value).
    links = link_distributions(needed, home / "site-packages")
    Path(venv_site, "dependencies.pth").write_text(f"{links}\n")
    argv = doc_examples.split(install_command.replace("<repository>", str(ROOT)))
    assert argv[:4] == ["~/.kubesphere-okta-dynamic/bin/python", "-m", "pip", "install"], install_command
    done = subprocess.run([str(python), *argv[1:]], env=env, cwd=home, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    return str(python)


def test_the_dynamic_python_has_the_requirements_but_not_the_package(dynamic_python):
    script = ("import importlib.util as u; print(' '.join(str(u.find_spec(m) is not None) for m in "
              "('pulumi', 'dill', 'kubernetes', 'yaml', 'kubesphere_okta', 'pulumi_kubernetes', 'pulumi_okta', 'components')))")
    done = subprocess.run([dynamic_python, "-c", script], capture_output=True, text=True, timeout=60,
                          env={"PATH": os.environ["PATH"]}, cwd="/")
    assert done.stdout.split() == ["True"] * 4 + ["False"] * 4, done.stderr


def test_requirements_dynamic_pins_what_requirements_txt_pins():
    runtime = {_name(Requirement(l).name): str(Requirement(l).specifier)
               for l in (ROOT / "requirements.txt").read_text().splitlines() if l and not l.startswith("#")}
    for line in REQUIREMENTS.read_text().splitlines():
        if line and not line.startswith("#"):
            requirement = Requirement(line)
            assert runtime.get(_name(requirement.name), str(requirement.specifier)) == str(requirement.specifier), line


@pytest.fixture(scope="module")
def cluster():
    with KubernetesApiDouble(yaml.safe_load(CLUSTER_CONFIGURATION.read_text())) as double:
        yield double


def stored_providers(version: str, kubeconfig: str) -> dict[str, dict]:
    """Every dynamic resource the component registers on ``version``, name -> inputs (with
    ``__provider``, as the engine stores it)."""
    args = {"console_url": "https://console.example.com", "issuer": "https://example.okta.com",
            "kubesphere_version": version, "group_ids": [ADMINS], "mapping_method": "lookup",
            "role_bindings": {ADMINS: "platform-admin"}, "workspace_role_bindings": {ADMINS: {"team-a": "admin"}}}
    rec = run(lambda: KubeSphereOktaIntegration("ks", args), config={"kubernetes:kubeconfig": kubeconfig},
              secret_keys=["kubernetes:kubeconfig"], mocks=OktaAndKubernetesMocks(group_members={ADMINS: [JANE]}))
    return {r.name: r.inputs for r in rec.resources if r.type == DYNAMIC or r.type in membership_model.KEYED_TYPES}


#: The package modules whose code each stored provider carries (by value): its own module, the
#: shared cluster access and kubeconfig resolution (``dynamic_registration`` copies them under ``__main__``).
CARRIED = {
    "ks-identity-provider": ("kubesphere_v3", "cluster_access", "kubeconfig_loading", "cluster_binding",
                             "cluster_configuration", "entry_ledger", "cluster_check"),
    "ks-cluster": ("cluster_guard", "cluster_access", "kubeconfig_loading", "cluster_binding", "cluster_check"),
    "ks-cluster-release": ("cluster_guard", "cluster_access", "kubeconfig_loading", "cluster_binding", "cluster_check"),
    "ks-role-references": ("kubesphere_role_check", "cluster_access", "kubeconfig_loading", "kubesphere_roles",
                           "cluster_check"),
    **{name: ("membership_resources", "membership_model", "cluster_access", "kubeconfig_loading", "cluster_binding")
       for name in ("ks-users", "ks-global-role-bindings", "ks-workspace-role-bindings")},
}


def test_every_stored_provider_is_carried_by_value(cluster):
    """No pickled reference to a module of this package (``kubesphere_okta.<module>``, as dill
    writes a class or function it pickles by reference): unpickling imports nothing of it. Each
    carries the code of its own module and of the shared modules it uses, by value (the code
    objects' file names, ``.../kubesphere_okta/<module>.py``, show which)."""
    for version in ("3.4", "4.1"):
        for name, inputs in stored_providers(version, cluster.kubeconfig()).items():
            pickled = base64.b64decode(inputs["__provider"])
            assert not re.search(rb"kubesphere_okta\.\w", pickled), f"{version} {name} pickles a reference to the package"
            for module in CARRIED[name]:
                assert f"/kubesphere_okta/{module}.py".encode() in pickled, f"{version} {name} lacks {module}"


@pytest.mark.parametrize("version", ["3.4", "4.1"])
def test_every_stored_provider_runs_up_and_destroy_without_the_package(dynamic_python, cluster, version, tmp_path):
    providers = stored_providers(version, cluster.kubeconfig())
    keyed = {"ks-users", "ks-global-role-bindings", "ks-workspace-role-bindings"}
    expected = {"ks-cluster", "ks-cluster-release", "ks-role-references"} | keyed | (
        {"ks-identity-provider"} if version == "3.4" else set())
    assert set(providers) == expected
    order = [n for n in ("ks-cluster", "ks-identity-provider", "ks-role-references", "ks-users", "ks-global-role-bindings",
                         "ks-workspace-role-bindings", "ks-cluster-release") if n in providers]
    with DynamicProviderProcess(tmp_path, {"HOME": str(tmp_path), "KUBECONFIG": str(tmp_path / "none")},
                                python=dynamic_python) as engine:
        created = {}
        for name in order:
            inputs, failures = engine.check({}, providers[name])
            if name == "ks-role-references":
                # It ran kubesphere_roles' checks: the stand-in cluster has no workspace team-a ...
                assert any("workspace 'team-a' does not exist" in f for f in failures), failures
                # ... and create reads them again (it refuses what check refused): serve them.
                tenant = "v1alpha2" if version == "3.4" else "v1beta1"
                cluster.collections = {
                    f"/apis/tenant.kubesphere.io/{tenant}/workspacetemplates": [{"metadata": {"name": "team-a"}}],
                    f"/apis/iam.kubesphere.io/{tenant}/workspaceroles": [
                        {"metadata": {"name": "team-a-admin", "labels": {"kubesphere.io/workspace": "team-a"}}}]}
                inputs, failures = engine.check({}, providers[name])
                assert failures == [], failures
            else:
                assert failures == [], (name, failures)
            created[name] = (inputs, *engine.create(inputs))
            assert engine.diff(created[name][1], inputs, created[name][2], inputs) == "DIFF_NONE", name
        if version == "3.4":
            assert any(p["name"] == "Okta" for p in
                       cluster.object["spec"]["authentication"]["oauthOptions"]["identityProviders"])
        # The keyed membership providers wrote Jane's User and bindings with server-side apply.
        assert "jane.acme.com" in cluster.store.of_kind("User")
        assert {"jane.acme.com-platform-admin"} == set(cluster.store.of_kind("GlobalRoleBinding"))
        assert len(cluster.store.of_kind("WorkspaceRoleBinding")) == 1
        for name in reversed(order):  # pulumi destroy: dependents first, with the state's outputs
            _inputs, id_, outputs = created[name]
            engine.delete(id_, outputs)
        cluster.collections = {}
        if version == "3.4":
            assert not any(p["name"] == "Okta" for p in
                           cluster.object["spec"]["authentication"]["oauthOptions"]["identityProviders"])
        # Destroy deleted the bindings and kept the User (prune_users is off).
        assert not cluster.store.of_kind("GlobalRoleBinding") and not cluster.store.of_kind("WorkspaceRoleBinding")
        assert "jane.acme.com" in cluster.store.of_kind("User")
        cluster.store.objects.clear()
