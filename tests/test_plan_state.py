"""``--state``: the offline plan warns when a cluster guard is gone from the state while objects remain."""

from __future__ import annotations

import json

import pytest

from infra import plan, plan_document

STACK_URN = "urn:pulumi:dev::kubesphere-okta::pulumi:pulumi:Stack::kubesphere-okta-dev"
COMPONENT = "urn:pulumi:dev::kubesphere-okta::kubesphere-okta:index:KubeSphereOktaIntegration::kubesphere-okta"


def child(kind: str, name: str) -> dict:
    return {"urn": f"urn:pulumi:dev::kubesphere-okta::kubesphere-okta:index:KubeSphereOktaIntegration${kind}::{name}",
            "type": kind, "parent": COMPONENT}


def export(*children: dict) -> dict:
    return {"version": 3, "deployment": {"manifest": {}, "resources": [
        {"urn": STACK_URN, "type": "pulumi:pulumi:Stack"},
        {"urn": COMPONENT, "type": "kubesphere-okta:index:KubeSphereOktaIntegration", "parent": STACK_URN},
        *children]}}


SECRET = child("kubernetes:core/v1:Secret", "kubesphere-okta-identity-provider")
USER = child("kubernetes:iam.kubesphere.io/v1beta1:User", "kubesphere-okta-user-jane")
BEFORE = child("pulumi-python:dynamic:Resource", "kubesphere-okta-cluster")
AFTER = child("pulumi-python:dynamic:Resource", "kubesphere-okta-cluster-release")


def warnings(document: dict) -> list[str]:
    return plan_document.missing_guard_warnings(plan_document.state_resources(document))


def test_a_state_with_both_guards_or_without_objects_gives_no_warning():
    assert warnings(export(BEFORE, SECRET, USER, AFTER)) == []
    assert warnings(export()) == []
    assert warnings(export(child("okta:app/oAuth:OAuth", "kubesphere-okta-app"))) == []
    assert warnings({"version": 3, "deployment": {"manifest": {}}}) == []


@pytest.mark.parametrize("kept, missing", [((BEFORE,), "'kubesphere-okta-cluster-release'"),
                                           ((AFTER,), "'kubesphere-okta-cluster'"),
                                           ((), "'kubesphere-okta-cluster' or 'kubesphere-okta-cluster-release'")])
def test_a_guard_missing_while_objects_remain_is_named_with_what_to_do(kept, missing):
    found = warnings(export(*kept, SECRET, USER))
    assert len(found) == 1
    assert found[0].startswith(f"the state of 'kubesphere-okta' holds 2 KubeSphere object(s) written by "
                               f"pulumi-kubernetes but no cluster guard {missing} ")
    assert "kubectl config current-context" in found[0] and "pulumi stack import" in found[0]


def test_objects_of_another_component_do_not_count():
    other = {**SECRET, "parent": "urn:pulumi:dev::p::kubesphere-okta:index:KubeSphereOktaIntegration::other"}
    assert warnings(export(BEFORE, AFTER, other)) == []


@pytest.mark.parametrize("document", [[], {"deployment": {"resources": {}}}, {"deployment": {"resources": [{"urn": 1}]}},
                                      {"deployment": []}])
def test_anything_but_a_stack_export_is_refused(document):
    with pytest.raises(ValueError, match="is not the output of `pulumi stack export`"):
        plan_document.state_resources(document)


def test_the_plan_prints_the_warning_from_a_state_file(capsys, tmp_path):
    state = tmp_path / "state.json"
    state.write_text(json.dumps(export(SECRET, AFTER)))
    assert plan.main(["--stack", "dev", "--state", str(state)]) == 0
    out = capsys.readouterr().out
    assert "no cluster guard 'kubesphere-okta-cluster' (removed with `pulumi state delete`?)" in out


def test_a_state_file_that_is_not_an_export_is_a_usage_error(capsys, tmp_path):
    state = tmp_path / "state.json"
    state.write_text("{not json")
    with pytest.raises(SystemExit) as exited:
        plan.main(["--stack", "dev", "--state", str(state)])
    assert exited.value.code == 2
    assert "--state: state.json is not JSON" in capsys.readouterr().err
