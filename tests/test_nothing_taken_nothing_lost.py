"""Nothing taken, nothing lost: the 3.x entry driven over gRPC as the engine drives it.

``python -m pulumi.dynamic`` runs the stored provider; each test plays the engine's calls for
``pulumi up`` (Check, then Create, or Diff and Update), ``pulumi refresh`` (Read) and
``pulumi destroy`` (Delete with the state's outputs) against a stand-in API server
(``tests/kubernetes_api_double.py``), including writes applied whose answer is lost
(``drop_put_responses``: the next run works from the state the engine kept, the one before).
What the cluster had before is compared as JSON text: key order, ``null`` and integer types too.
Junk where our entry, the token lifetimes and our annotation go is tried twice: against the
provider in this process, and over gRPC through ``tests/dynamic_engine.py``'s ``Stack`` (one
long-lived provider process), where every failure must be one of the provider's own errors.
"""

from __future__ import annotations

import copy
import json

import grpc
import pytest
from pulumi.runtime.proto import provider_pb2
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kubesphere_okta import cluster_configuration as cc
from kubesphere_okta.kubesphere_v3 import ClusterConfigurationError, ClusterConfigurationProvider
from tests.dynamic_engine import EngineProcess, Resource, Stack, StepFailed
from tests.kubernetes_api_double import KubernetesApiDouble
from tests.test_cluster_binding_served import PROGRAM_DIR, engines, entry, entry_inputs, fixture, options, providers_in  # noqa: F401

#: Our annotation on the ClusterConfiguration (kubesphere_okta.entry_ledger.ANNOTATION).
ANNOTATION = "kubesphere-okta.io/oauth-options-before"


def text(double: KubernetesApiDouble) -> str:
    return json.dumps(double.object["spec"])


def annotations(double: KubernetesApiDouble) -> dict:
    return double.object["metadata"].get("annotations") or {}


def theirs() -> dict:
    """Another team's entry with our name, as JSON gives it: nulls, integers, their own key order."""
    return json.loads('{"name": "Okta", "type": "OIDCIdentityProvider", "mappingMethod": null, '
                      '"provider": {"clientSecret": "their-secret", "issuer": "https://other.okta.com", '
                      '"clientID": "0oa1theirs", "timeout": 3600, "scopes": ["openid"], "insecureSkipVerify": null}}')


def with_theirs() -> dict:
    config = fixture()
    config["spec"]["authentication"]["oauthOptions"]["identityProviders"].append(theirs())
    return config


def planned_update(engine, id_: str, inputs: dict, outputs: dict, new: dict) -> dict:
    """`pulumi up` over a state: Check with the state's inputs, then Diff, which must report a
    change; the checked inputs the engine sends to Update."""
    checked, failures = engine.check(inputs, new)
    assert failures == [], failures
    assert engine.diff(id_, outputs, checked) == provider_pb2.DiffResponse.DIFF_SOME
    return checked


def lost_answer(engine, call, *args):
    """A write the API server applied but whose answer never came back: the engine keeps the state
    it had."""
    with pytest.raises(grpc.RpcError) as lost:
        call(*args)
    assert "may or may not have been applied" in lost.value.details()


# --- state from before bindings (0.1.0, 0.2.x) ------------------------------------------------


def test_upgrading_a_stack_without_a_binding_onto_another_teams_entry_is_refused_and_writes_nothing(engines):
    """The first `up` of a 0.1.0/0.2.x 3.x stack runs the ownership check like a fresh stack."""
    with KubernetesApiDouble(with_theirs()) as prod:
        before = text(prod)
        inputs = entry_inputs(prod.kubeconfig())
        old_inputs = {k: v for k, v in inputs.items() if k not in ("rebind_cluster", "request_timeout", "adopt")}
        old_outputs = {**old_inputs, "oauth_options_before": {}}  # 0.1.0 kept no cluster
        engine = engines()
        _, failures = engine.check(old_inputs, inputs)
        assert len(failures) == 1 and "'Okta'" in failures[0] and "0oa1theirs" in failures[0]
        assert "adoptExistingProvider" in failures[0]
        with pytest.raises(grpc.RpcError, match="did not create"):  # had the engine gone on
            engine.update("kubesphere-system/ks-installer/Okta", old_outputs, inputs)
        assert prod.writes == [] and text(prod) == before
        engine.delete("kubesphere-system/ks-installer/Okta", old_outputs)  # `pulumi destroy` there instead
        assert prod.writes == [] and text(prod) == before  # their entry is not ours to remove


# --- adopted entries ------------------------------------------------------------------------------


def test_an_adopted_entry_comes_back_byte_for_byte_after_a_rename_and_destroy(engines):
    with KubernetesApiDouble(with_theirs()) as cluster:
        original = text(cluster)
        engine = engines()
        id_, inputs, outputs = engine.up(entry_inputs(cluster.kubeconfig(), adopt=True))
        assert cc.find_identity_provider(cluster.object, "Okta") == entry()
        assert json.loads(outputs["adopted_entry"]) == theirs()
        renamed = entry_inputs(cluster.kubeconfig(), adopt=True, provider_name="Okta2")
        inputs, outputs = engine.up_again(id_, inputs, outputs, renamed)
        # The name is theirs again from the rename on, exactly as it was.
        assert json.dumps(cc.find_identity_provider(cluster.object, "Okta")) == json.dumps(theirs())
        engine.delete(id_, outputs)
        assert text(cluster) == original and ANNOTATION not in annotations(cluster)


def test_an_adoption_whose_answer_was_lost_is_still_put_back_on_destroy(engines):
    with KubernetesApiDouble(with_theirs()) as cluster:
        original = text(cluster)
        engine = engines()
        inputs, failures = engine.check({}, entry_inputs(cluster.kubeconfig(), adopt=True))
        assert failures == []
        cluster.drop_put_responses = 1
        lost_answer(engine, engine.create, inputs)
        assert cc.find_identity_provider(cluster.object, "Okta") == entry()  # it was applied
        # The next `pulumi up`: the state holds nothing, so Check again, then Create.
        id_, _, outputs = engine.up(entry_inputs(cluster.kubeconfig(), adopt=True))
        assert json.loads(outputs["adopted_entry"]) == theirs()
        engine.delete(id_, outputs)
        assert text(cluster) == original and ANNOTATION not in annotations(cluster)


def test_a_destroy_whose_answer_was_lost_run_again_leaves_the_adopted_entry_and_the_token_lifetime(engines):
    """The Delete was applied (their entry and the cluster's 2h are back) but its answer lost: the
    engine keeps the resource, and the next `pulumi destroy` sends the same Delete again."""
    with KubernetesApiDouble(with_theirs()) as cluster:
        original = text(cluster)
        engine = engines()
        id_, _, outputs = engine.up(entry_inputs(cluster.kubeconfig(), adopt=True,
                                                 oauth_options={"accessTokenMaxAge": "1h"}))
        cluster.drop_put_responses = 1
        lost_answer(engine, engine.delete, id_, outputs)
        assert text(cluster) == original and ANNOTATION not in annotations(cluster)  # it was applied
        engine.delete(id_, outputs)
        assert text(cluster) == original and ANNOTATION not in annotations(cluster)


def test_an_object_re_created_by_ks_installer_without_our_annotation_is_restored_from_the_state(engines):
    """ks-installer may delete and re-create the ClusterConfiguration on an upgrade, carrying the
    spec over and losing the annotations: destroy then restores from what the state kept."""
    with KubernetesApiDouble(with_theirs()) as cluster:
        original = text(cluster)
        engine = engines()
        id_, _, outputs = engine.up(entry_inputs(cluster.kubeconfig(), adopt=True,
                                                 oauth_options={"accessTokenMaxAge": "1h"}))
        upgraded = copy.deepcopy(cluster.object)
        upgraded["metadata"] = {k: v for k, v in upgraded["metadata"].items() if k in ("name", "namespace")}
        cluster.replace(upgraded)
        engine.delete(id_, outputs)
        assert text(cluster) == original and ANNOTATION not in annotations(cluster)


def test_two_integrations_whose_annotation_was_lost_still_end_at_the_clusters_own_value(engines):
    engine = engines()
    for first, second in (("Okta", "Okta2"), ("Okta2", "Okta")):
        with KubernetesApiDouble(fixture()) as cluster:
            original = text(cluster)
            made = {}
            for name, lifetime in (("Okta", "1h"), ("Okta2", "30m")):
                id_, _, outputs = engine.up(entry_inputs(cluster.kubeconfig(), provider_name=name,
                                                         oauth_options={"accessTokenMaxAge": lifetime}))
                made[name] = (id_, outputs)
            cluster.edit(lambda obj: obj["metadata"].pop("annotations"))
            engine.delete(*made[first])
            engine.delete(*made[second])
            assert text(cluster) == original, (first, second)


# --- token lifetimes --------------------------------------------------------------------------


def test_a_token_lifetime_update_whose_answer_was_lost_still_restores_the_clusters_own_value(engines):
    with KubernetesApiDouble(fixture()) as cluster:
        original = text(cluster)
        assert options(cluster)["accessTokenMaxAge"] == "2h"
        engine = engines()
        id_, inputs, outputs = engine.up(entry_inputs(cluster.kubeconfig(), oauth_options={"accessTokenMaxAge": "1h"}))
        new = entry_inputs(cluster.kubeconfig(), oauth_options={"accessTokenMaxAge": "45m"})
        checked = planned_update(engine, id_, inputs, outputs, new)
        cluster.drop_put_responses = 1
        lost_answer(engine, engine.update, id_, outputs, checked)
        assert options(cluster)["accessTokenMaxAge"] == "45m"
        engine.delete(id_, outputs)  # the state still says 1h
        assert text(cluster) == original and ANNOTATION not in annotations(cluster)


@pytest.mark.parametrize("first", ["Okta", "Okta2"])
def test_two_integrations_on_one_cluster_leave_its_own_token_lifetime_in_either_order(engines, first):
    with KubernetesApiDouble(fixture()) as cluster:
        original = text(cluster)
        engine = engines()
        made = {}
        for name, lifetime in (("Okta", "1h"), ("Okta2", "30m")):
            id_, _, outputs = engine.up(entry_inputs(cluster.kubeconfig(), provider_name=name,
                                                     oauth_options={"accessTokenMaxAge": lifetime}))
            made[name] = (id_, outputs)
        assert options(cluster)["accessTokenMaxAge"] == "30m"
        second = "Okta2" if first == "Okta" else "Okta"
        engine.delete(*made[first])
        assert options(cluster)["accessTokenMaxAge"] == {"Okta": "30m", "Okta2": "1h"}[first]
        engine.delete(*made[second])
        assert text(cluster) == original and ANNOTATION not in annotations(cluster)


# --- renames ----------------------------------------------------------------------------------


def test_a_rename_whose_answer_was_lost_leaves_nothing_behind_after_destroy(engines):
    with KubernetesApiDouble(fixture()) as cluster:
        original = text(cluster)
        engine = engines()
        id_, inputs, outputs = engine.up(entry_inputs(cluster.kubeconfig(), oauth_options={"accessTokenMaxAge": "1h"}))
        renamed = planned_update(engine, id_, inputs, outputs, entry_inputs(
            cluster.kubeconfig(), provider_name="OktaX", oauth_options={"accessTokenMaxAge": "1h"}))
        cluster.drop_put_responses = 1
        lost_answer(engine, engine.update, id_, outputs, renamed)
        assert [p["name"] for p in providers_in(cluster)] == ["LDAP", "github", "OktaX"]
        engine.delete(id_, outputs)  # the state still says Okta
        assert text(cluster) == original and ANNOTATION not in annotations(cluster)
        assert "okta-client-secret-value" not in json.dumps(cluster.object)


# --- a foreign entry that appears later --------------------------------------------------------


def test_a_foreign_entry_that_appears_under_our_name_after_a_refresh_is_refused_and_kept(engines):
    with KubernetesApiDouble(fixture()) as cluster:
        engine = engines()
        id_, inputs, outputs = engine.up(entry_inputs(cluster.kubeconfig()))

        def swap(obj: dict) -> None:  # an admin removes ours; another team adds its own Okta
            listed = obj["spec"]["authentication"]["oauthOptions"]["identityProviders"]
            listed[:] = [p for p in listed if p["name"] != "Okta"] + [theirs()]
        cluster.edit(swap)
        after_swap = text(cluster)
        refreshed = engine.read(id_, outputs)
        assert refreshed["entry"]["provider"]["clientID"] == "0oa1theirs"
        checked, failures = engine.check(inputs, entry_inputs(cluster.kubeconfig()))
        assert len(failures) == 1 and "did not create" in failures[0] and "0oa1theirs" in failures[0]
        with pytest.raises(grpc.RpcError, match="did not create"):  # had the engine gone on
            engine.update(id_, refreshed, checked)
        engine.delete(id_, refreshed)
        assert text(cluster) == after_swap  # theirs: neither overwritten nor deleted


# --- bad state never crashes --------------------------------------------------------------------


@pytest.mark.parametrize("junk, field", [('{"Okta": "2h"}', "['Okta'] must be an object"),
                                         ('{"Okta": {"keys": 1}}', "['Okta'].keys must be a list")])
def test_junk_in_our_annotation_is_one_message_at_check_create_and_delete(engines, junk, field):
    with KubernetesApiDouble(fixture()) as cluster:
        engine = engines()
        id_, inputs, outputs = engine.up(entry_inputs(cluster.kubeconfig(), oauth_options={"accessTokenMaxAge": "1h"}))
        cluster.edit(lambda obj: obj["metadata"].setdefault("annotations", {}).update({ANNOTATION: junk}))
        before = text(cluster)
        _, failures = engine.check(inputs, entry_inputs(cluster.kubeconfig()))
        assert len(failures) == 1 and field in failures[0] and ANNOTATION in failures[0]
        for call in (lambda: engine.create(inputs), lambda: engine.delete(id_, outputs)):
            with pytest.raises(grpc.RpcError) as refused:
                call()
            last = refused.value.details().strip().splitlines()[-1]
            assert last.startswith("ClusterConfigurationMalformed: ClusterConfiguration kubesphere-system/ks-installer")
            assert field in last and "Nothing was written" in last
        assert text(cluster) == before


json_scalars = st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=4)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["name", "type", "provider", "keys", "before", "version", "entries", "options", "layers",
                     "owner", "value", "accessTokenMaxAge", "Okta", "identityProviders", "x"]), inner, max_size=3),
    max_leaves=8)


#: Our annotation's two formats (releases up to 0.3: per name; now: version 2) with anything inside.
ledger_shaped = (st.dictionaries(st.sampled_from(["Okta", "Okta2"]), json_values, min_size=1, max_size=2)
                 | st.fixed_dictionaries({"version": st.just(2)}, optional={"entries": json_values, "options": json_values}))


@st.composite
def cluster_configurations(draw) -> dict:
    """A ks-installer object with anything where our entry, the token lifetimes and our annotation go."""
    obj = fixture()
    authentication = obj["spec"]["authentication"]
    choice = draw(st.sampled_from(["providers", "options", "authentication", "annotation", "entry", "fine"]))
    if choice == "providers":
        authentication["oauthOptions"]["identityProviders"] = draw(json_values)
    elif choice == "options":
        authentication["oauthOptions"] = draw(json_values)
    elif choice == "authentication":
        obj["spec"]["authentication"] = draw(json_values)
    elif choice == "entry":
        authentication["oauthOptions"]["identityProviders"].append(draw(json_values))
    annotation = draw(st.none() | json_values.map(json.dumps) | st.text(max_size=12) | ledger_shaped.map(json.dumps))
    if annotation is not None:
        obj["metadata"]["annotations"] = {ANNOTATION: annotation}
    if draw(st.booleans()):
        obj["metadata"]["annotations"] = draw(json_values)
    return obj


@pytest.fixture(scope="module")
def one_cluster():
    with KubernetesApiDouble(None) as double:
        yield double


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(obj=cluster_configurations(), lifetime=st.sampled_from(["1h", "30m"]))
def test_any_cluster_configuration_or_annotation_gives_a_clear_message_never_a_python_exception(one_cluster, obj, lifetime):
    """create, update and delete of the real provider (in this process, over HTTP to the stand-in)."""
    provider = ClusterConfigurationProvider()
    provider.retry_delays = ()
    one_cluster.replace(obj)
    inputs = {k: v for k, v in entry_inputs(one_cluster.kubeconfig(), oauth_options={"accessTokenMaxAge": lifetime}).items()
              if k != "__provider"}
    outputs = None
    for step in ("create", "update", "delete"):
        try:
            if step == "create":
                outputs = provider.create(copy.deepcopy(inputs)).outs
            elif step == "update" and outputs is not None:
                outputs = provider.update("kubesphere-system/ks-installer/Okta", outputs,
                                          {**inputs, "oauth_options": {"accessTokenMaxAge": "45m"}}).outs
            elif outputs is not None:
                provider.delete("kubesphere-system/ks-installer/Okta", outputs)
        except ClusterConfigurationError as error:
            # One message naming the object (and the field), never a raw Python exception.
            assert "kubesphere-system/ks-installer" in str(error) or "identity provider" in str(error), str(error)


# --- the same, over gRPC in the engine's order ----------------------------------------------------

#: The provider's own errors (``kubesphere_v3``, ``cluster_access``): what a clean failure ends with.
CLEAN_ERRORS = ("ClusterConfigurationError", "ClusterConfigurationMalformed", "ClusterConfigurationNotFound",
                "ClusterAccessError", "ClusterUnreachable")
#: When the junk appears: before the first `up`, between an `up`'s check and its write (another
#: writer), before the second `up`, before `refresh`, before `destroy`.
MOMENTS = ["before up", "after check", "before update", "before refresh", "before destroy"]


def assert_clean(failure: StepFailed) -> None:
    """A failed step as the engine reports it: a check failure, or one of the provider's own errors
    naming the object, never a raw Python exception (``python -m pulumi.dynamic`` sends the
    traceback of whatever the provider raised; its last exception is what the user reads)."""
    text = str(failure)
    if "Check failures:" in text:
        assert "Traceback" not in text, text
        return
    assert text.count("Traceback (most recent call last)") == 1, text  # no exception chained to it
    lines = text.splitlines()
    last_frame = max(i for i, line in enumerate(lines) if line.startswith("  File "))
    raised = next(line for line in lines[last_frame + 1:] if not line.startswith(" "))
    assert raised.split(":", 1)[0] in CLEAN_ERRORS, text
    assert "kubesphere-system/ks-installer" in text or "identity provider" in text, text


@pytest.fixture(scope="module")
def served_cluster(tmp_path_factory):
    """One stand-in API server and one long-lived ``python -m pulumi.dynamic`` reaching it."""
    with KubernetesApiDouble(fixture()) as double:
        path = tmp_path_factory.mktemp("grpc-junk") / "kubeconfig"
        path.write_text(double.kubeconfig())
        process = EngineProcess(PROGRAM_DIR, {"KUBECONFIG": str(path)})
        try:
            yield double, process
        finally:
            process.close()


def annotated(text: str) -> dict:
    obj = fixture()
    obj["metadata"]["annotations"] = {ANNOTATION: text}
    return obj


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(obj=cluster_configurations(), moment=st.sampled_from(MOMENTS), lifetime=st.sampled_from(["1h", "30m"]))
@example(obj=annotated('{"Okta": "2h"}'), moment="before up", lifetime="1h")  # the issue's: create crashed
@example(obj=annotated('{"Okta": {"keys": 1}}'), moment="before destroy", lifetime="1h")  # delete crashed
def test_any_cluster_configuration_or_annotation_over_grpc_is_a_clean_provider_error(served_cluster, obj, moment, lifetime):
    """`pulumi up`, `up` again with another token lifetime, `refresh` and `destroy`, each played in
    the engine's call order against the provider stored in the state; the ClusterConfiguration is
    replaced by a random one at ``moment``. Every step either succeeds or fails with a clean error."""
    double, process = served_cluster
    double.replace(obj if moment == "before up" else fixture())
    stack = Stack()

    def program(lifetime: str) -> list:
        return [Resource("entry", process, entry_inputs(None, oauth_options={"accessTokenMaxAge": lifetime}))]

    def junk_now() -> None:
        double.replace(obj)

    stack.after_check = lambda _name: junk_now() if moment == "after check" else None
    runs = [("before up", lambda: stack.up(program(lifetime))),
            ("before update", lambda: stack.up(program("45m"))),
            ("before refresh", lambda: stack.refresh(program("45m"))),
            ("before destroy", lambda: stack.destroy(program("45m")))]
    for when, run in runs:
        if when == moment and when != "before up":
            junk_now()
        try:
            run()
        except StepFailed as failure:
            assert_clean(failure)
        stack.after_check = None
