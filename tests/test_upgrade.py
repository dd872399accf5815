"""Upgrading from release 0.1.0: its state is updated in place and destroyed by this release.

``tests/fixtures/upgrade-0.1.0`` holds what 0.1.0 (commit f51c2c6, when the code still lived at
``components.kubesphere_okta``) left in a stack: every registration, the 3.x entry's outputs, and
its dynamic provider pickled by 0.1.0's code exactly as Pulumi stores it (``generate.py`` says
how it was made). This release's program runs over the same arguments under the same mocks, and
the engine's side of the update and the destroy is played by Pulumi's own dynamic-provider
process (``python -m pulumi.dynamic``, driven by ``tests/dynamic_engine.py``): Check/Diff/Update unpickle the NEW
provider from the new inputs, Delete the provider stored in the state.

As pulumi-eks's upgrade tests do, every test here fails when the upgrade would REPLACE something
(replacing the Okta app rotates the client id and secret and logs every user out) or delete a
resource the previous release created. That includes a change of provider: the engine replaces a
resource whose provider goes between the default and an explicit one, or to another explicit one
(pulumi/pulumi pkg/resource/deploy/step_generator.go, ``providerChanged``), so every resource's
provider reference is compared, for a consumer's program and for this repository's program
(``program-*``: stack config with ``kubernetes:context``/``kubernetes:kubeconfig``), and for a
stack of the untagged 0.2.0 code given ``kubeconfig``/``kube_context`` (``upgrade-0.2.0``).
"""

import copy
import json
from pathlib import Path

import pytest

from infra import program
from kubesphere_okta import KubeSphereOktaIntegration
from kubesphere_okta import cluster_configuration as cc
from kubesphere_okta import membership_model
from tests.dynamic_engine import DynamicProviderProcess
from tests.kubernetes_api_double import KubernetesApiDouble
from tests.pulumi_harness import OktaAndKubernetesMocks, run

FIXTURE = Path(__file__).parent / "fixtures" / "upgrade-0.1.0"
STATE = json.loads((FIXTURE / "state.json").read_text())
OLD_PROVIDER = (FIXTURE / "provider.b64").read_text().strip()
DYNAMIC = "pulumi-python:dynamic:Resource"
APP = "okta:app/oAuth:OAuth"
SECRET = "kubernetes:core/v1:Secret"


class FixedCredentialMocks(OktaAndKubernetesMocks):
    """The credentials and Okta groups 0.1.0's run was given (fixture generation used the same)."""

    def __init__(self):
        super().__init__(groups=STATE["groups"], group_members=STATE["members"])

    def app_credentials(self, args):
        return {"clientId": "0oa1upgradeclient000", "clientSecret": "upgrade-client-secret"}


def with_provider(props: dict) -> dict:
    return {k: (OLD_PROVIDER if v == "<provider.b64>" else v) for k, v in props.items()}


def old_registrations(version: str) -> dict[str, dict]:
    return {r["urn"]: r for r in STATE["resources"][version]}


#: What a user changes in the same ``pulumi up`` that brings the upgrade (entry and token lifetime).
CHANGED_3X = {**STATE["args"]["3.4"], "scopes": ["openid", "email"], "access_token_max_age": "3h"}


#: Step 1 of the upgrade (docs/usernames-and-roles.md): the per-member resources again, retained.
STEP_1_ARGS = {"per_member_resources": True}
STEP_1_CONFIG = {"kubesphere-okta:perMemberResources": "true"}


def registered(args: dict, step: int = 1) -> dict:
    recording = run(lambda: KubeSphereOktaIntegration("ks", {**args, **(STEP_1_ARGS if step == 1 else {})}),
                    mocks=FixedCredentialMocks())
    return {r.urn: r for r in recording.resources}


def registered_by_program(stack: dict, step: int = 1) -> dict:
    config = {**stack["config"], **(STEP_1_CONFIG if step == 1 else {})}
    recording = run(program.main, stack="dev", config=config, secret_keys=stack["secret_keys"],
                    mocks=FixedCredentialMocks())
    return {r.urn: r for r in recording.resources}


def is_member_object(type_: str) -> bool:
    """A per-member User or binding resource of releases up to 0.2."""
    return type_.startswith("kubernetes:") and type_.rsplit(":", 1)[-1] in membership_model.KINDS


#: Every program 0.1.0's state was written by: a consumer's component per KubeSphere version
#: ("3.4", "4.1") and this repository's program over stack config ("program-3.4", "program-4.1").
PROGRAMS = sorted(STATE["resources"])


@pytest.fixture(scope="module")
def new_registrations() -> dict[str, dict[str, object]]:
    """Step 1 of this release over 0.1.0's arguments and stack config, per program of ``PROGRAMS``
    (and over changed 3.x arguments, as "3.4-changed"): urn -> registration."""
    found = {version: registered(args) for version, args in STATE["args"].items()}
    found.update({key: registered_by_program(stack) for key, stack in STATE["program"].items()})
    found["3.4-changed"] = registered(CHANGED_3X)
    return found


def okta_app_replacement(old: dict, new: dict) -> list[str]:
    """The okta_app_oauth inputs whose change makes the provider replace the app: ``type`` and
    ``client_id`` are ForceNew, ``omit_secret`` going from true to false forces a new app
    (okta/terraform-provider-okta: okta/resource_okta_app_oauth.go, resourceAppOAuth)."""
    replaced = [k for k in ("type", "clientId") if old.get(k) != new.get(k)]
    if old.get("omitSecret") and not new.get("omitSecret"):
        replaced.append("omitSecret")
    return replaced


@pytest.mark.parametrize("version", PROGRAMS)
def test_upgrade_keeps_every_resource_the_previous_release_created(new_registrations, version):
    """A URN that disappears is a delete (and, recreated under another URN, a replacement)."""
    missing = sorted(set(old_registrations(version)) - set(new_registrations[version]))
    assert not missing, f"this release no longer registers {missing}: give them aliases"


def provider_urn(reference: str) -> str:
    """The provider's URN in a provider reference (``<urn>::<id>``); empty for the default provider."""
    return reference.rsplit("::", 1)[0] if reference else ""


@pytest.mark.parametrize("version", PROGRAMS)
def test_upgrade_keeps_every_resource_on_the_provider_that_wrote_it(new_registrations, version):
    """The engine REPLACES a resource whose provider goes from a default provider to an explicit
    one or back, or to another explicit provider (pulumi/pulumi
    pkg/resource/deploy/step_generator.go, ``providerChanged``: "change in default provider
    status"). Replacing a KubeSphere User makes KubeSphere's user controller delete every
    membership anyone granted it, so each resource 0.1.0 wrote must keep its provider."""
    moved = []
    for urn, old in old_registrations(version).items():
        new = new_registrations[version].get(urn)
        if new is not None and provider_urn(new.provider_ref) != provider_urn(old["provider"]):
            moved.append(f"{old['name']}: {provider_urn(old['provider']) or 'default provider'} -> "
                         f"{provider_urn(new.provider_ref) or 'default provider'}")
    assert not moved, "these would be replaced (provider changed): " + "; ".join(moved)


V020 = json.loads((Path(__file__).parent / "fixtures" / "upgrade-0.2.0" / "state.json").read_text())


@pytest.mark.parametrize("version", sorted(V020["args"]))
def test_a_0_2_0_stack_given_kubeconfig_keeps_its_explicit_provider(version):
    """0.2.0 wrote through ``<name>-kubernetes`` when given kubeconfig/kube_context; this release
    keeps that provider, with the same URN and inputs, under every object it wrote."""
    recording = run(lambda: KubeSphereOktaIntegration("ks", {**V020["args"][version], **STEP_1_ARGS}),
                    mocks=OktaAndKubernetesMocks(groups=V020["groups"], group_members=V020["members"]))
    new = {r.urn: r for r in recording.resources}
    assert any(old["provider"] for old in V020["resources"][version])  # explicit references are compared
    for old in V020["resources"][version]:
        assert old["urn"] in new, f"{old['name']} is no longer registered"
        assert provider_urn(new[old["urn"]].provider_ref) == provider_urn(old["provider"]), old["name"]
        if "inputs" in old:
            assert new[old["urn"]].inputs == old["inputs"], old["name"]


@pytest.mark.parametrize("version", PROGRAMS)
def test_step_1_retains_every_per_member_resource_and_keeps_the_others_options(new_registrations, version):
    for urn, old in old_registrations(version).items():
        new = new_registrations[version][urn]
        expected = True if is_member_object(old["type"]) else old["retain_on_delete"]
        assert new.retain_on_delete == expected, old["name"]
        if is_member_object(old["type"]):
            assert new.inputs["metadata"]["labels"][membership_model.HANDOVER_LABEL] == "Okta"


@pytest.mark.parametrize("version", PROGRAMS)
def test_step_2_drops_exactly_the_per_member_resources_step_1_retained(new_registrations, version):
    """What the keyed release no longer registers the engine removes; each of those was retained by
    step 1, so the engine only forgets it (the objects are adopted by the keyed resources)."""
    step_2 = (registered(STATE["args"][version], step=2) if version in STATE["args"]
              else registered_by_program(STATE["program"][version], step=2))
    dropped = set(old_registrations(version)) - set(step_2)
    assert dropped == {urn for urn, old in old_registrations(version).items() if is_member_object(old["type"])}
    assert all(new_registrations[version][urn].retain_on_delete for urn in dropped)
    if dropped:
        keyed = [r for r in step_2.values() if r.type in membership_model.KEYED_TYPES]
        assert {r.type for r in keyed} == set(membership_model.KEYED_TYPES)


@pytest.mark.parametrize("version", [p for p in PROGRAMS if "3.4" in p])
def test_upgrade_keeps_how_the_3x_entry_reaches_its_cluster(new_registrations, version):
    """The entry's kubeconfig and context inputs are what 0.1.0 stored (from ``kubernetes:*`` config
    in the program's case), so the upgrade reaches the cluster 0.1.0 wrote to."""
    old = next(r for r in STATE["resources"][version] if r["type"] == DYNAMIC)
    new = new_registrations[version][old["urn"]]
    for key in ("kubeconfig", "kube_context"):
        assert new.inputs.get(key) == old["inputs"].get(key), key
    assert ("kubeconfig" in new.secret_inputs) == ("kubeconfig" in old["secret_inputs"])


@pytest.mark.parametrize("version", PROGRAMS)
def test_upgrade_does_not_replace_the_okta_app(new_registrations, version):
    old = next(r for r in STATE["resources"][version] if r["type"] == APP)
    new = new_registrations[version][old["urn"]]
    assert okta_app_replacement(old["inputs"], new.inputs) == []
    assert new.protect == old["protect"]


@pytest.mark.parametrize("version", [p for p in PROGRAMS if "4.1" in p])
def test_upgrade_does_not_replace_the_4_1_identity_provider_secret(new_registrations, version):
    old = next(r for r in STATE["resources"][version] if r["type"] == SECRET)
    new = new_registrations[version][old["urn"]]
    # pulumi-kubernetes replaces an object whose name or namespace changes.
    for key in ("name", "namespace"):
        assert new.inputs["metadata"][key] == old["inputs"]["metadata"][key]


def test_the_previous_release_pickled_its_provider_by_value():
    """The state must not need the package, which has moved (components.kubesphere_okta -> kubesphere_okta)."""
    import base64

    pickled = base64.b64decode(OLD_PROVIDER)
    assert b"components.kubesphere_okta" not in pickled and b"kubesphere_okta." not in pickled


@pytest.fixture(scope="module")
def cluster_api(tmp_path_factory):
    """A stand-in Kubernetes API and one dynamic-provider process reaching it (started once: each
    start costs seconds)."""
    home = tmp_path_factory.mktemp("upgrade")
    with KubernetesApiDouble(STATE["cluster_configuration"]["after"]) as double:
        kubeconfig = home / "kubeconfig"
        kubeconfig.write_text(double.kubeconfig())
        # 0.1.0's stack used the ambient kubeconfig, so the provider process gets it from KUBECONFIG.
        with DynamicProviderProcess(home, {"KUBECONFIG": str(kubeconfig)}) as provider:
            double.provider = provider
            yield double


@pytest.fixture
def cluster(cluster_api):
    """The cluster as 0.1.0 left it: its entry merged into ks-installer's ClusterConfiguration."""
    cluster_api.object = copy.deepcopy(STATE["cluster_configuration"]["after"])
    cluster_api.object["metadata"]["resourceVersion"] = str(cluster_api.resource_version)
    return cluster_api


def spec_without_our_entry(obj: dict) -> dict:
    """The spec minus what the component owns: its entry and the token lifetime it sets."""
    spec = copy.deepcopy(obj["spec"])
    options = spec["authentication"]["oauthOptions"]
    options.pop("accessTokenMaxAge", None)
    options["identityProviders"] = [p for p in options["identityProviders"] if p["name"] != "Okta"]
    return spec


def old_entry() -> dict:
    return next(r for r in STATE["resources"]["3.4"] if r["type"] == DYNAMIC)


def upgrade(new_registrations, cluster, program: str = "3.4") -> dict:
    old = old_entry()
    new = new_registrations[program][old["urn"]]
    return cluster.provider.update(
        STATE["entry"]["id"], with_provider(old["inputs"]), with_provider(STATE["entry"]["outputs"]), new.inputs
    )


@pytest.mark.parametrize("program", ["3.4", "3.4-changed"])
def test_upgrade_updates_the_3x_entry_in_place_without_replacing_it(new_registrations, cluster, program):
    answer = upgrade(new_registrations, cluster, program)
    assert answer["check_failures"] == []
    assert answer["replaces"] == [] and answer["delete_before_replace"] is False
    entry = new_registrations[program][old_entry()["urn"]]
    assert cc.find_identity_provider(cluster.object, "Okta") == entry.inputs["entry"]
    if program == "3.4-changed":
        assert answer["changes"] == "DIFF_SOME" and answer["outputs"]["entry"] == entry.inputs["entry"]
        assert cluster.object["spec"]["authentication"]["oauthOptions"]["accessTokenMaxAge"] == "3h"
    # Everything that is not ours is as 0.1.0 left it.
    assert spec_without_our_entry(cluster.object) == spec_without_our_entry(STATE["cluster_configuration"]["after"])


def test_upgraded_state_is_destroyed_by_the_new_provider_and_restores_the_cluster(new_registrations, cluster):
    """The update wrote this release's provider and outputs to the state; Delete then runs it, and
    still knows, from 0.1.0's outputs, what the token lifetime was before 0.1.0 changed it."""
    answer = upgrade(new_registrations, cluster, "3.4-changed")
    assert answer["outputs"]["__provider"] != OLD_PROVIDER
    cluster.provider.delete(STATE["entry"]["id"], answer["outputs"])
    before = STATE["cluster_configuration"]["before"]
    assert cluster.object["spec"] == before["spec"]  # our entry gone, accessTokenMaxAge back to 0.1.0's "before"


def test_state_written_by_the_previous_release_is_destroyed_after_the_upgrade(cluster):
    """``pulumi destroy`` right after installing this release: Delete runs 0.1.0's pickled provider."""
    cluster.provider.delete(STATE["entry"]["id"], with_provider(STATE["entry"]["outputs"]))
    assert cluster.object["spec"] == STATE["cluster_configuration"]["before"]["spec"]
