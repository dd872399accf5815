"""The dynamic providers as the engine drives them: ``python -m pulumi.dynamic`` over gRPC.

Each test starts Pulumi's dynamic-provider server from the program's directory (``main`` of
Pulumi.yaml), sends the engine's Check/Diff/Create/Read/Update/Delete requests with the secret
inputs wrapped as the engine wraps them, and watches local Kubernetes API servers on 127.0.0.1
(``tests/kubernetes_api_double.py``) to see what was written where. The scenarios are those of
the cluster-binding guarantees (docs/cluster-binding.md): two clusters and a switched kubeconfig,
a foreign entry with our name, a rename onto another provider, a write whose answer is lost, and a
server that accepts connections and never answers.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import select
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Optional

import grpc
import pytest
import yaml
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from kubesphere_okta import cluster_configuration as cc
from kubesphere_okta.identity_provider import IdentityProviderSettings, render_v3_entry
from kubesphere_okta.cluster_guard import portable_guard_provider
from kubesphere_okta.kubesphere_v3 import portable_provider
from tests.dynamic_engine import skip_under_mutation
from tests.kubernetes_api_double import TOKEN, KubernetesApiDouble

ROOT = Path(__file__).resolve().parent.parent
PROGRAM_DIR = ROOT / yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["main"]
FIXTURES = Path(__file__).parent / "fixtures" / "kubesphere-v3.4.1"
SECRET = "okta-client-secret-value"


# --- the engine's side --------------------------------------------------------------------------


def secret(value: Any) -> dict:
    """A value as the engine sends a secret to a provider."""
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


def wire(props: dict) -> Any:
    """Properties as the engine sends them: entry, adopted entry and kubeconfig marked secret."""
    marked = {k: (secret(v) if k in ("entry", "kubeconfig", "adopted_entry") and v is not None else v)
              for k, v in props.items()}
    loop = asyncio.new_event_loop()  # not asyncio.run: it would unset the loop the mock-runtime tests use
    try:
        return loop.run_until_complete(rpc.serialize_properties(marked, {}))
    finally:
        loop.close()


def plain(struct: Any) -> dict:
    from kubesphere_okta.cluster_access import _plain

    return _plain(rpc.deserialize_properties(struct))


class Engine:
    """One dynamic-provider process; ``stderr`` collects what the engine would show as diagnostics."""

    def __init__(self, env: Optional[dict[str, str]] = None):
        skip_under_mutation()
        full_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KUBECONFIG")}
        full_env["HOME"] = str(PROGRAM_DIR)  # no ~/.kube/config of the machine running the tests
        full_env.update(env or {})
        self.process = subprocess.Popen([sys.executable, "-u", "-m", "pulumi.dynamic"], cwd=PROGRAM_DIR,
                                        env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready, _, _ = select.select([self.process.stdout], [], [], 60)
        assert ready, "python -m pulumi.dynamic did not print its port"
        port = self.process.stdout.readline().strip()
        assert port.isdigit(), self.process.stderr.read()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)

    def close(self) -> str:
        self.channel.close()
        self.process.kill()
        _, err = self.process.communicate(timeout=10)
        return err

    def check(self, olds: dict, news: dict, timeout: float = 60) -> tuple[dict, list[str]]:
        answer = self.stub.Check(provider_pb2.CheckRequest(olds=wire(olds), news=wire(news)), timeout=timeout)
        return plain(answer.inputs), [f"{f.property}: {f.reason}" for f in answer.failures]

    def create(self, inputs: dict, timeout: float = 60) -> tuple[str, dict]:
        answer = self.stub.Create(provider_pb2.CreateRequest(properties=wire(inputs)), timeout=timeout)
        return answer.id, plain(answer.properties)

    def diff(self, id_: str, outputs: dict, inputs: dict) -> int:
        return self.stub.Diff(provider_pb2.DiffRequest(id=id_, olds=wire(outputs), news=wire(inputs)), timeout=60).changes

    def update(self, id_: str, outputs: dict, inputs: dict, timeout: float = 60) -> dict:
        answer = self.stub.Update(provider_pb2.UpdateRequest(id=id_, olds=wire(outputs), news=wire(inputs)), timeout=timeout)
        return plain(answer.properties)

    def read(self, id_: str, outputs: dict) -> dict:
        return plain(self.stub.Read(provider_pb2.ReadRequest(id=id_, properties=wire(outputs)), timeout=60).properties)

    def delete(self, id_: str, outputs: dict, timeout: float = 60) -> None:
        self.stub.Delete(provider_pb2.DeleteRequest(id=id_, properties=wire(outputs)), timeout=timeout)

    def up(self, inputs: dict) -> tuple[str, dict, dict]:
        """A first ``pulumi up``: Check, then Create with the checked inputs (state: id, inputs, outputs)."""
        checked, failures = self.check({}, inputs)
        assert failures == [], failures
        id_, outputs = self.create(checked)
        return id_, checked, outputs

    def up_again(self, id_: str, old_inputs: dict, outputs: dict, inputs: dict) -> tuple[dict, dict]:
        checked, failures = self.check(old_inputs, inputs)
        assert failures == [], failures
        if self.diff(id_, outputs, checked) == provider_pb2.DiffResponse.DIFF_SOME:
            outputs = self.update(id_, outputs, checked)
        return checked, outputs


@pytest.fixture
def engines():
    started: list[Engine] = []

    def start(env: Optional[dict[str, str]] = None) -> Engine:
        started.append(Engine(env))
        return started[-1]

    yield start
    for engine in started:
        engine.close()


# --- clusters and inputs ------------------------------------------------------------------------


def fixture() -> dict:
    return yaml.safe_load((FIXTURES / "cluster-configuration-ldap-github.yaml").read_text())


def entry(name: str = "Okta", issuer: str = "https://example.okta.com", client_id: str = "0oa1client") -> dict:
    settings = IdentityProviderSettings(console_url="https://console.example.com", issuer=issuer,
                                        kubesphere_version="3.4", provider_name=name)
    return render_v3_entry(settings, client_id, SECRET)


def entry_inputs(kubeconfig: Optional[str], **overrides) -> dict:
    name = overrides.get("provider_name", "Okta")
    return {"__provider": PROVIDER, "provider_name": name, "entry": entry(name), "oauth_options": {},
            "kubeconfig": kubeconfig, "kube_context": None, "adopt": False, "rebind_cluster": None,
            "request_timeout": 5.0, **overrides}


def guard_inputs(kubeconfig: Optional[str], **overrides) -> dict:
    return {"__provider": GUARD, "role": "after", "provider_name": "Okta", "kubeconfig": kubeconfig,
            "kube_context": None, "secret_name": None, "namespace": None, "rebind_cluster": None,
            "request_timeout": 5.0, **overrides}


# Serializing the providers by value fails under `make mutation` (mutmut's trampolines), which
# selects this file with cluster_binding's tests: every test here is skipped there anyway.
skip_under_mutation(module=True)
PROVIDER = serialize_provider(portable_provider())
GUARD = serialize_provider(portable_guard_provider())


def two_context_kubeconfig(a: KubernetesApiDouble, b: KubernetesApiDouble, current: str = "dev") -> str:
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": current,
        "clusters": [{"name": "dev", "cluster": {"server": a.url}}, {"name": "prod", "cluster": {"server": b.url}}],
        "users": [{"name": "me", "user": {"token": TOKEN}}],
        "contexts": [{"name": "dev", "context": {"cluster": "dev", "user": "me"}},
                     {"name": "prod", "context": {"cluster": "prod", "user": "me"}}],
    })


def providers_in(double: KubernetesApiDouble) -> list[dict]:
    return double.object["spec"]["authentication"]["oauthOptions"]["identityProviders"]


def options(double: KubernetesApiDouble) -> dict:
    return double.object["spec"]["authentication"]["oauthOptions"]


@pytest.fixture
def dev_and_prod():
    """Two clusters whose ks-installer both hold an ``Okta`` entry: dev's is ours-to-be, prod's is prod's."""
    prod_config = fixture()
    prod_config["spec"]["authentication"]["oauthOptions"]["identityProviders"].append(entry(client_id="0oa1prod"))
    with KubernetesApiDouble(fixture()) as dev, KubernetesApiDouble(prod_config) as prod:
        yield dev, prod


def write_kubeconfig(tmp_path: Path, double: KubernetesApiDouble, name: str) -> str:
    path = tmp_path / name
    path.write_text(double.kubeconfig())
    return str(path)


# --- two clusters and a switched kubeconfig ----------------------------------------------------


def test_destroy_with_the_ambient_kubeconfig_switched_to_another_cluster_deletes_nothing(engines, dev_and_prod, tmp_path):
    dev, prod = dev_and_prod
    prod_before = copy.deepcopy(prod.object)
    on_dev = engines({"KUBECONFIG": write_kubeconfig(tmp_path, dev, "dev")})
    id_, _, outputs = on_dev.up(entry_inputs(None))
    assert [p["name"] for p in providers_in(dev)] == ["LDAP", "github", "Okta"]

    on_prod = engines({"KUBECONFIG": write_kubeconfig(tmp_path, prod, "prod")})  # kubectl context left on prod
    with pytest.raises(grpc.RpcError) as refused:
        on_prod.delete(id_, outputs)
    message = refused.value.details()
    assert dev.url in message and prod.url in message and dev.cluster_uid in message and prod.cluster_uid in message
    assert "kubeconfig" in message and "rebindCluster" in message
    assert prod.writes == [] and prod.object == prod_before
    assert [p["name"] for p in providers_in(dev)] == ["LDAP", "github", "Okta"]


def test_update_pointed_at_another_context_is_refused_at_preview_and_writes_nothing(engines, dev_and_prod):
    dev, prod = dev_and_prod
    engine = engines()
    id_, inputs, outputs = engine.up(entry_inputs(two_context_kubeconfig(dev, prod), kube_context="dev"))
    prod_before = copy.deepcopy(prod.object)

    switched = entry_inputs(two_context_kubeconfig(dev, prod), kube_context="prod", entry={**entry(), "mappingMethod": "lookup"})
    _, failures = engine.check(inputs, switched)
    assert len(failures) == 1 and dev.cluster_uid in failures[0] and prod.cluster_uid in failures[0]
    # Had the engine gone on (it does not after a check failure), the update refuses too.
    with pytest.raises(grpc.RpcError, match="refusing to update"):
        engine.update(id_, outputs, {**switched, "cluster": inputs["cluster"]})
    assert prod.writes == [] and prod.object == prod_before
    assert len(dev.writes) == 1


def test_refresh_against_another_cluster_is_refused(engines, dev_and_prod, tmp_path):
    dev, prod = dev_and_prod
    id_, _, outputs = engines({"KUBECONFIG": write_kubeconfig(tmp_path, dev, "dev")}).up(entry_inputs(None))
    with pytest.raises(grpc.RpcError, match="refusing to refresh"):
        engines({"KUBECONFIG": write_kubeconfig(tmp_path, prod, "prod")}).read(id_, outputs)


def test_a_rebuilt_cluster_is_accepted_once_with_its_uid_and_then_bound(engines, dev_and_prod, tmp_path):
    dev, prod = dev_and_prod
    prod.object["spec"]["authentication"]["oauthOptions"]["identityProviders"].pop()  # a fresh cluster
    id_, inputs, outputs = engines({"KUBECONFIG": write_kubeconfig(tmp_path, dev, "dev")}).up(entry_inputs(None))
    rebuilt = engines({"KUBECONFIG": write_kubeconfig(tmp_path, prod, "rebuilt")})
    inputs, outputs = rebuilt.up_again(id_, inputs, outputs, entry_inputs(None, rebind_cluster=prod.cluster_uid))
    assert outputs["cluster"]["kube_system_uid"] == prod.cluster_uid
    assert [p["name"] for p in providers_in(prod)] == ["LDAP", "github", "Okta"]
    rebuilt.delete(id_, outputs)
    assert prod.object["spec"] == fixture()["spec"]


def test_the_cluster_guard_refuses_a_destroy_on_another_cluster(engines, dev_and_prod, tmp_path):
    """4.1 Secret, Users, GlobalRoleBindings: destroy deletes the release guard first; it refuses."""
    dev, prod = dev_and_prod
    on_dev = engines({"KUBECONFIG": write_kubeconfig(tmp_path, dev, "dev")})
    id_, _, outputs = on_dev.up(guard_inputs(None))
    assert outputs["cluster"]["kube_system_uid"] == dev.cluster_uid
    on_prod = engines({"KUBECONFIG": write_kubeconfig(tmp_path, prod, "prod")})
    with pytest.raises(grpc.RpcError) as refused:
        on_prod.delete(id_, outputs)
    assert dev.cluster_uid in refused.value.details() and prod.cluster_uid in refused.value.details()
    _, failures = on_prod.check(outputs, guard_inputs(None))
    assert len(failures) == 1 and "refusing to update" in failures[0]
    on_dev.delete(id_, outputs)  # the right cluster: allowed


def test_the_guard_reports_another_secret_defining_our_provider_name_at_preview(engines, tmp_path):
    import base64

    with KubernetesApiDouble(None) as cluster:
        configuration = base64.b64encode(yaml.safe_dump({"name": "Okta", "type": "OIDCIdentityProvider"}).encode()).decode()
        cluster.add_secret("hand-made-okta", {"type": "config.kubesphere.io/identityprovider",
                                              "metadata": {"labels": {"config.kubesphere.io/type": "identityprovider"}},
                                              "data": {"configuration.yaml": configuration}})
        engine = engines()
        _, failures = engine.check({}, guard_inputs(cluster.kubeconfig(), role="before", secret_name="identity-provider-okta",
                                                    namespace="kubesphere-system"))
    assert len(failures) == 1 and "kubesphere-system/hand-made-okta" in failures[0]


# --- ownership ---------------------------------------------------------------------------------


def test_a_foreign_entry_with_our_name_is_refused_at_preview(engines):
    config = fixture()
    config["spec"]["authentication"]["oauthOptions"]["identityProviders"].append(
        entry(issuer="https://other.okta.com", client_id="0oa1handmade"))
    with KubernetesApiDouble(config) as cluster:
        _, failures = engines().check({}, entry_inputs(cluster.kubeconfig()))
        assert len(failures) == 1
        assert "'Okta'" in failures[0] and "https://other.okta.com" in failures[0] and "adoptExistingProvider" in failures[0]
        assert cluster.writes == []


def test_an_adopted_entry_is_kept_in_state_and_put_back_on_destroy(engines):
    config = fixture()
    handmade = entry(issuer="https://other.okta.com", client_id="0oa1handmade")
    config["spec"]["authentication"]["oauthOptions"]["identityProviders"].append(handmade)
    with KubernetesApiDouble(config) as cluster:
        engine = engines()
        id_, _, outputs = engine.up(entry_inputs(cluster.kubeconfig(), adopt=True))
        assert cc.find_identity_provider(cluster.object, "Okta") == entry()
        assert json.loads(outputs["adopted_entry"]) == handmade  # as read, in JSON text (see entry_ledger)
        engine.delete(id_, outputs)
        assert json.dumps(cluster.object["spec"]) == json.dumps(config["spec"])


def test_renaming_onto_another_existing_provider_is_refused(engines):
    with KubernetesApiDouble(fixture()) as cluster:
        engine = engines()
        id_, inputs, outputs = engine.up(entry_inputs(cluster.kubeconfig()))
        github_before = copy.deepcopy(providers_in(cluster)[1])
        renamed = entry_inputs(cluster.kubeconfig(), provider_name="github")
        _, failures = engine.check(inputs, renamed)
        assert len(failures) == 1 and "cannot rename" in failures[0] and "'github'" in failures[0]
        with pytest.raises(grpc.RpcError, match="cannot rename"):
            engine.update(id_, outputs, {**renamed, "cluster": inputs["cluster"]})
        assert providers_in(cluster)[1] == github_before and len(cluster.writes) == 1


# --- lost answers and retries ------------------------------------------------------------------


def test_a_put_applied_whose_answer_is_lost_still_restores_the_original_token_lifetime(engines):
    with KubernetesApiDouble(fixture()) as cluster:
        assert options(cluster)["accessTokenMaxAge"] == "2h"
        engine = engines()
        inputs, _ = engine.check({}, entry_inputs(cluster.kubeconfig(), oauth_options={"accessTokenMaxAge": "1h"}))
        cluster.drop_put_responses = 1
        try:
            id_, outputs = engine.create(inputs)  # a client that retries on its own gets here
        except grpc.RpcError as error:
            assert "may or may not have been applied" in error.details()
            assert options(cluster)["accessTokenMaxAge"] == "1h"  # it was applied
            id_, outputs = engine.create(inputs)  # the next `pulumi up` creates again
        assert outputs["oauth_options_before"] == {"accessTokenMaxAge": "2h"}
        engine.delete(id_, outputs)
        assert options(cluster)["accessTokenMaxAge"] == "2h"
        assert cluster.object["spec"] == fixture()["spec"]


def test_a_create_run_again_after_a_lost_checkpoint_keeps_the_first_before_value(engines):
    with KubernetesApiDouble(fixture()) as cluster:
        engine = engines()
        inputs, _ = engine.check({}, entry_inputs(cluster.kubeconfig(), oauth_options={"accessTokenMaxAge": "1h"}))
        engine.create(inputs)  # its outputs never reach the state
        id_, outputs = engine.create(inputs)
        assert outputs["oauth_options_before"] == {"accessTokenMaxAge": "2h"}
        engine.delete(id_, outputs)
        assert cluster.object["spec"] == fixture()["spec"]
        assert "annotations" not in cluster.object["metadata"] or not cluster.object["metadata"]["annotations"]


def test_writes_carry_the_projects_field_manager(engines):
    with KubernetesApiDouble(fixture()) as cluster:
        engines().up(entry_inputs(cluster.kubeconfig()))
        assert cluster.field_managers == ["kubesphere-okta"]


def test_a_server_that_never_answers_fails_up_in_time_and_preview_warns_by_name(engines):
    with KubernetesApiDouble(fixture()) as cluster:
        cluster.black_hole = True
        engine = engines()
        inputs = entry_inputs(cluster.kubeconfig(), request_timeout=1.0)
        started = time.monotonic()
        _, failures = engine.check({}, inputs, timeout=20)
        assert failures == []  # preview goes on, but not silently:
        started = time.monotonic()
        with pytest.raises(grpc.RpcError) as failed:
            engine.create(inputs, timeout=20)
        assert time.monotonic() - started < 6
        assert cluster.url in failed.value.details() and "did not answer within 1 s" in failed.value.details()
        stderr = engine.close()
    assert f"warning: KubeSphere identity provider 'Okta'" in stderr and cluster.url in stderr
