"""Issue 13's "done when": one odd account never blocks the rest, on every version that binds differently.

A lookup-mode stack with three Okta groups, whose members include an accented login, a member
without an email and a bot whose login has no '@', runs through this repository's program under
Pulumi mocks on 3.4 (labels, v1alpha2), 4.1.2 (labels, v1beta1) and 4.1.3 (annotation): every
member who can be provisioned gets a User and exactly one GlobalRoleBinding, the others are named
in one warning and in the skipped-members output.
"""

from __future__ import annotations

import json

import pytest

from infra import program
from infra.config import NAMESPACE
from kubesphere_okta.integration import TYPE_TOKEN
from tests.pulumi_harness import OktaAndKubernetesMocks, run

GROUPS = {"KubeSphere Admins": "00g1admins0000000000", "KubeSphere Developers": "00g1devs000000000000",
          "KubeSphere Viewers": "00g1viewers000000000"}
ANN = {"id": "00u1ann0000000000000", "login": "ann@acme.com", "email": "ann@acme.com"}
ZOE = {"id": "00u1zoe0000000000000", "login": "Zoë.Ünicode@acme.com", "email": "zoe@acme.com"}
DAN = {"id": "00u1dan0000000000000", "login": "Dan_Dev@acme.com", "email": "dan@acme.com"}
NO_EMAIL = {"id": "00u1nem0000000000000", "login": "no.email@acme.com", "email": None}
BOT = {"id": "00u1Bot0000000000000", "login": "deploy-bot", "email": "deploy-bot@acme.com"}
MEMBERS = {
    GROUPS["KubeSphere Admins"]: [ANN, ZOE],
    GROUPS["KubeSphere Developers"]: [ZOE, DAN, NO_EMAIL],
    GROUPS["KubeSphere Viewers"]: [DAN, BOT, NO_EMAIL],
}
#: Who gets which name and role: the first roleBindings group a member is in decides the role.
EXPECTED = {
    "ann.acme.com": ("00u1ann0000000000000", "platform-admin"),
    "zoe.unicode.acme.com": ("00u1zoe0000000000000", "platform-admin"),
    "dan-dev.acme.com": ("00u1dan0000000000000", "platform-regular"),
    "okta.00u1bot0000000000000": ("00u1Bot0000000000000", "platform-self-provisioner"),
}


def config(version: str) -> dict[str, str]:
    settings = {
        "consoleUrl": "https://console.acme.com",
        "issuer": "https://acme.okta.com",
        "kubesphereVersion": version,
        "mappingMethod": "lookup",
        "groupNames": json.dumps(list(GROUPS)),
        "roleBindings": json.dumps({"KubeSphere Admins": "platform-admin", "KubeSphere Developers": "platform-regular",
                                    "KubeSphere Viewers": "platform-self-provisioner"}),
    }
    return {f"{NAMESPACE}:{key}": value for key, value in settings.items()}


@pytest.mark.parametrize("version, api, bound_by", [
    ("3.4", "v1alpha2", "labels"), ("4.1.2", "v1beta1", "labels"), ("4.1.3", "v1beta1", "annotations"),
])
def test_lookup_stack_provisions_every_provisionable_member_and_warns_about_the_rest(version, api, bound_by):
    rec = run(program.main, stack="dev", config=config(version),
              mocks=OktaAndKubernetesMocks(groups=GROUPS, group_members=MEMBERS))

    users = {r.inputs["metadata"]["name"]: r.inputs for r in rec.objects(f"kubernetes:iam.kubesphere.io/{api}:User")}
    assert set(users) == set(EXPECTED)
    for name, (okta_id, _role) in EXPECTED.items():
        assert okta_id in users[name]["metadata"][bound_by].values()

    bindings = [r.inputs for r in rec.objects(f"kubernetes:iam.kubesphere.io/{api}:GlobalRoleBinding")]
    assert sorted((b["subjects"][0]["name"], b["roleRef"]["name"]) for b in bindings) == sorted(
        (name, role) for name, (_id, role) in EXPECTED.items())

    warnings = [w for w in rec.warnings if "get no KubeSphere User" in w]
    assert len(warnings) == 1
    assert "Okta user 'no.email@acme.com' (00u1nem0000000000000): has no email" in warnings[0]
    component = next(urn for urn in rec.registered_outputs if f"{TYPE_TOKEN}::" in urn)
    assert [m["oktaId"] for m in rec.registered_outputs[component]["skipped_members"]] == ["00u1nem0000000000000"]
