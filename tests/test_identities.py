"""Okta group members as KubeSphere Users and GlobalRoleBindings, under Pulumi mocks."""

from __future__ import annotations

import pulumi
import pytest

from kubesphere_okta import KubeSphereOktaIntegration, identities, membership_model
from kubesphere_okta.args import resolve_args
from kubesphere_okta.okta_directory import OktaDirectory
from kubesphere_okta.usernames import IdentityProblems, collision_suffix
from tests.pulumi_harness import OktaAndKubernetesMocks, run

OURS = membership_model.our_labels("Okta")
ADMINS = "00gadminsabcdefghijk"
USERS = "00gusersabcdefghijkl"
COMPONENT = "kubesphere-okta:index:KubeSphereOktaIntegration"
GET_USERS = "okta:user/getUsers:getUsers"
GET_GROUP = "okta:group/getGroup:getGroup"


def okta_user(okta_id: str, login: str, **extra) -> dict:
    return {"id": okta_id, "login": login, "email": login.lower(), "status": "ACTIVE", **extra}


JANE = okta_user("00ujane", "Jane.Doe@acme.com")
BOB = okta_user("00ubob", "bob@acme.com")
EVE = okta_user("00ueve", "eve_x@acme.com")
MEMBERS = {ADMINS: [JANE], USERS: [JANE, BOB, EVE]}

ARGS = {
    "console_url": "https://console.example.com",
    "issuer": "https://example.okta.com",
    "kubesphere_version": "4.1.3",
    "group_ids": [ADMINS, USERS],
    "mapping_method": "lookup",
    "role_bindings": {ADMINS: "platform-admin", USERS: "platform-regular"},
}


@pytest.fixture(autouse=True)
def no_v3_cluster_configuration(monkeypatch):
    """The 3.x ClusterConfiguration entry (issue 3) is not what these tests look at."""
    monkeypatch.setattr(KubeSphereOktaIntegration, "_kubesphere_v3", lambda self, *args: None)


def build(args=None, name="ks"):
    return lambda: KubeSphereOktaIntegration(name, {**ARGS, **(args or {})})


def plan(args=None, members=None, **kwargs):
    return run(build(args, **kwargs), mocks=OktaAndKubernetesMocks(group_members=members or MEMBERS))


def users(rec, version="v1beta1"):
    return {r.inputs["metadata"]["name"]: r for r in rec.objects(f"kubernetes:iam.kubesphere.io/{version}:User")}


def bindings(rec, version="v1beta1"):
    return {r.inputs["metadata"]["name"]: r for r in rec.objects(f"kubernetes:iam.kubesphere.io/{version}:GlobalRoleBinding")}


def test_v34_users_are_v1alpha2_bound_by_labels_with_v3_bindings():
    rec = plan({"kubesphere_version": "3.4"})
    jane = users(rec, "v1alpha2")["jane.doe.acme.com"].inputs
    assert jane == {
        "apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "User",
        "metadata": {"name": "jane.doe.acme.com", "labels": {
            "iam.kubesphere.io/identify-provider": "Okta", "iam.kubesphere.io/origin-uid": "00ujane", **OURS}},
        "spec": {"email": "jane.doe@acme.com"},
    }
    binding = bindings(rec, "v1alpha2")["jane.doe.acme.com-platform-admin"].inputs
    assert binding["metadata"]["labels"] == {"iam.kubesphere.io/user-ref": "jane.doe.acme.com", **OURS}
    assert binding["roleRef"] == {"apiGroup": "iam.kubesphere.io", "kind": "GlobalRole", "name": "platform-admin"}
    assert binding["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "jane.doe.acme.com"}]


def test_v412_users_are_v1beta1_bound_by_labels():
    rec = plan({"kubesphere_version": "4.1.2", "provider_name": "corp-okta"})
    assert users(rec)["bob.acme.com"].inputs["metadata"] == {"name": "bob.acme.com", "labels": {
        "iam.kubesphere.io/identify-provider": "corp-okta", "iam.kubesphere.io/origin-uid": "00ubob",
        **membership_model.our_labels("corp-okta")}}


def test_v413_users_are_bound_by_the_identity_provider_annotation():
    rec = plan({"provider_name": "corp-okta"})
    assert users(rec)["bob.acme.com"].inputs["metadata"] == {"name": "bob.acme.com", "annotations": {
        "iam.kubesphere.io/identity-provider.corp-okta": "00ubob"}, "labels": membership_model.our_labels("corp-okta")}


def test_each_member_gets_one_binding_for_the_first_matching_group():
    rec = plan()
    assert {name: b.inputs["roleRef"]["name"] for name, b in bindings(rec).items()} == {
        "jane.doe.acme.com-platform-admin": "platform-admin",
        "bob.acme.com-platform-regular": "platform-regular",
        "eve-x.acme.com-platform-regular": "platform-regular",
    }
    assert bindings(rec)["bob.acme.com-platform-regular"].inputs["metadata"]["labels"] == {
        "iam.kubesphere.io/user-ref": "bob.acme.com", "iam.kubesphere.io/role-ref": "platform-regular", **OURS}


def test_users_and_bindings_are_children_of_the_component_and_bindings_follow_their_user():
    rec = plan()
    component = rec.one(COMPONENT).urn
    assert all(r.parent_urn == component for r in [*users(rec).values(), *bindings(rec).values()])
    assert users(rec)["bob.acme.com"].urn in bindings(rec)["bob.acme.com-platform-regular"].dependencies


def test_users_are_kept_unless_prune_users_by_the_users_resource_not_by_retain_on_delete():
    """The provider keeps Users that are no longer declared unless ``prune_users`` (membership_model.plan,
    tested with the providers); no keyed resource is retained, so destroy runs the provider's own rule."""
    for args, prune in (({}, False), ({"prune_users": True}, True)):
        rec = plan(args)
        keyed = rec.one(membership_model.USERS_TYPE)
        assert keyed.inputs["prune_users"] is prune and not keyed.retain_on_delete
        assert not any(b.retain_on_delete for b in bindings(rec).values())


def test_removing_a_member_removes_exactly_their_binding():
    before = plan()
    after = plan(members={ADMINS: [JANE], USERS: [JANE, EVE]})
    assert set(bindings(before)) - set(bindings(after)) == {"bob.acme.com-platform-regular"}
    assert set(bindings(after)) < set(bindings(before))
    for name, binding in bindings(after).items():
        assert binding.inputs == bindings(before)[name].inputs
    assert set(users(before)) - set(users(after)) == {"bob.acme.com"}
    # One Pulumi resource for all Users: Bob's key leaves its map; the provider keeps his User (prune_users off).
    assert before.one(membership_model.USERS_TYPE).urn == after.one(membership_model.USERS_TYPE).urn


ROOT_ADMIN = okta_user("00uroot", "Admin")
ADMIN_REASON = ("would become KubeSphere user 'admin', a reserved local account name (reserved_usernames); it is "
                "never linked: rename the login in Okta or take the user out of the role_bindings groups")


def test_member_whose_login_would_be_admin_is_skipped_warned_and_listed_and_the_others_provisioned():
    mocks = OktaAndKubernetesMocks(group_members={ADMINS: [JANE], USERS: [ROOT_ADMIN, BOB]})
    rec = run(lambda: {"skipped": build()().skipped_members}, mocks=mocks)
    assert rec.outputs["skipped"] == [{"oktaId": "00uroot", "login": "Admin", "reason": ADMIN_REASON}]
    assert set(users(rec)) == {"jane.doe.acme.com", "bob.acme.com"}
    assert set(bindings(rec)) == {"jane.doe.acme.com-platform-admin", "bob.acme.com-platform-regular"}
    warnings = [w for w in rec.warnings if "get no KubeSphere User" in w]
    assert len(warnings) == 1 and f"Okta user 'Admin' (00uroot): {ADMIN_REASON}" in warnings[0]


def test_strict_identities_fails_and_nothing_is_registered_for_anyone():
    mocks = OktaAndKubernetesMocks(group_members={ADMINS: [JANE], USERS: [ROOT_ADMIN, BOB]})
    with pytest.raises(IdentityProblems) as raised:
        run(build({"strict_identities": True}), mocks=mocks)
    assert raised.value.problems == [f"Okta user 'Admin' (00uroot): {ADMIN_REASON}"]
    assert [r.type for r in mocks.recording.resources] == [COMPONENT]


def test_nobody_skipped_means_an_empty_output():
    rec = run(lambda: {"skipped": build()().skipped_members}, mocks=OktaAndKubernetesMocks(group_members=MEMBERS))
    assert rec.outputs["skipped"] == []


def test_configured_reserved_name_is_skipped():
    rec = run(lambda: {"skipped": build({"reserved_usernames": ["bob.acme.com"]})().skipped_members},
              mocks=OktaAndKubernetesMocks(group_members=MEMBERS))
    assert [s["oktaId"] for s in rec.outputs["skipped"]] == ["00ubob"]
    assert "bob.acme.com" not in users(rec)


def test_colliding_members_get_a_suffix_from_their_okta_id():
    twin = okta_user("00uzz", "eve-x@acme.com")
    rec = plan(members={ADMINS: [], USERS: [EVE, twin]})
    assert set(users(rec)) == {"eve-x.acme.com", f"eve-x.acme.com-{collision_suffix('00uzz')}"}


def test_one_okta_read_per_group_even_for_members_of_several_groups():
    rec = plan()
    assert sorted(args["groupId"] for token, args in rec.invokes if token == GET_USERS) == sorted([ADMINS, USERS])


def test_five_groups_of_2000_members_cost_five_okta_reads():
    # The component reads groups only through identities.planned_users (the step timed here); the
    # whole stack at 1,000 and 10,000 members is measured by `make bench` (bench/overhead.py), not in the suite.
    members = [okta_user(f"00u{i:017d}", f"user{i}@acme.com") for i in range(2000)]
    groups = [f"00g{i:017d}" for i in range(5)]
    _, access = resolve_args({**ARGS, "group_ids": groups, "role_bindings": {g: "platform-regular" for g in groups}})
    planned = []

    def program():
        parent = pulumi.ComponentResource("test:index:Parent", "parent")
        planned.extend(identities.planned_users(access, OktaDirectory(parent)).users)

    rec = run(program, mocks=OktaAndKubernetesMocks(group_members={g: members for g in groups}), preview=True)
    assert len([token for token, _ in rec.invokes if token == GET_USERS]) == 5
    assert len(planned) == 2000


def invokes(rec, token):
    return [args for t, args in rec.invokes if t == token]


NAMED_GROUPS = {f"Team {i}": f"00g{i:017d}" for i in range(5)}


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "up"])
def test_five_groups_named_in_role_bindings_cost_five_get_group_and_five_get_users(preview):
    # The same five names allow the app (assignments, sign-on policy), feed the access policy of a
    # custom authorization server and map to roles: every user of a group reads it once.
    names = list(NAMED_GROUPS)
    members = {gid: [okta_user(f"00u{i}", f"user{i}@acme.com")] for i, gid in enumerate(NAMED_GROUPS.values())}
    args = {"group_ids": [], "group_names": names, "role_bindings": {n: "platform-regular" for n in names},
            "authorization_server_id": "default", "issuer": "https://example.okta.com/oauth2/default"}
    rec = run(build(args), mocks=OktaAndKubernetesMocks(groups=NAMED_GROUPS, group_members=members), preview=preview)
    assert sorted(a["name"] for a in invokes(rec, GET_GROUP)) == sorted(names)
    assert sorted(a["groupId"] for a in invokes(rec, GET_USERS)) == sorted(NAMED_GROUPS.values())
    ids = list(NAMED_GROUPS.values())
    assert [g["id"] for g in rec.one("okta:index/appGroupAssignments:AppGroupAssignments").inputs["groups"]] == ids
    assert rec.one("okta:index/appSignonPolicyRule:AppSignonPolicyRule").inputs["groupsIncluded"] == ids
    assert rec.one("okta:auth/serverPolicyRule:ServerPolicyRule").inputs["groupWhitelists"] == ids
    assert len(bindings(rec)) == 5


def test_a_group_listed_by_name_and_by_id_is_read_once():
    args = {"group_ids": [ADMINS], "group_names": ["Admins"], "role_bindings": {"Admins": "platform-admin", ADMINS: "platform-regular"}}
    rec = run(build(args), mocks=OktaAndKubernetesMocks(groups={"Admins": ADMINS}, group_members=MEMBERS))
    assert len(invokes(rec, GET_GROUP)) == 1 and len(invokes(rec, GET_USERS)) == 1
    assert [g["id"] for g in rec.one("okta:index/appGroupAssignments:AppGroupAssignments").inputs["groups"]] == [ADMINS]


def test_each_component_has_its_own_directory_and_each_run_reads_afresh():
    # Two components may use two Okta orgs (their own okta providers): answers are never shared.
    def two_components():
        KubeSphereOktaIntegration("a", ARGS)
        KubeSphereOktaIntegration("b", {**ARGS, "provider_name": "Okta2"})

    first = run(two_components, mocks=OktaAndKubernetesMocks(group_members=MEMBERS))
    second = run(two_components, mocks=OktaAndKubernetesMocks(group_members=MEMBERS))
    assert len(invokes(first, GET_USERS)) == len(invokes(second, GET_USERS)) == 4


def test_directory_answers_ids_as_given_and_names_by_exact_match_only():
    found = {}

    def program():
        directory = OktaDirectory(pulumi.ComponentResource("test:index:Parent", "parent"))
        found["id"] = directory.group_id(ADMINS)
        found["name"] = directory.group_id("KubeSphere Admins")
        with pytest.raises(ValueError, match="'KubeSphere' was not found by its exact name"):
            directory.group_id("KubeSphere")
        found["members"] = [m.id for m in directory.members("KubeSphere Admins")]

    rec = run(program, mocks=OktaAndKubernetesMocks(groups={"KubeSphere Admins": USERS}, group_members=MEMBERS))
    assert found == {"id": ADMINS, "name": USERS, "members": ["00ujane", "00ubob", "00ueve"]}
    assert [a["name"] for a in invokes(rec, GET_GROUP)] == ["KubeSphere Admins", "KubeSphere"]


def test_role_bindings_by_group_name_read_the_exactly_named_group():
    mocks = OktaAndKubernetesMocks(groups={"KubeSphere Admins": ADMINS}, group_members=MEMBERS)
    rec = run(build({"group_names": ["KubeSphere Admins"], "role_bindings": {"KubeSphere Admins": "platform-admin"}}),
              mocks=mocks)
    assert set(bindings(rec)) == {"jane.doe.acme.com-platform-admin"}


def test_no_role_bindings_means_no_okta_reads_and_no_users():
    rec = plan({"role_bindings": {}, "mapping_method": "auto"})
    assert not [t for t, _ in rec.invokes if t == GET_USERS]
    assert not users(rec) and not bindings(rec)


def test_dns_safe_username_format_sets_the_custom_app_username():
    rec = plan({"username_format": "dns-safe"})
    app = rec.one("okta:app/oAuth:OAuth").inputs
    assert app["userNameTemplateType"] == "CUSTOM"
    assert app["userNameTemplate"].startswith("(String.stringContains(")


def test_authorization_server_policy_is_limited_to_this_client_and_the_allowed_groups():
    rec = plan({"authorization_server_id": "aus1abcdefghijklmnop", "issuer": "https://example.okta.com/oauth2/aus1abcdefghijklmnop"})
    policy = rec.one("okta:auth/serverPolicy:ServerPolicy")
    rule = rec.one("okta:auth/serverPolicyRule:ServerPolicyRule")
    app = rec.one("okta:app/oAuth:OAuth")
    assert policy.inputs["authServerId"] == "aus1abcdefghijklmnop"
    assert policy.inputs["clientWhitelists"] == [run_client_id(app)]
    assert policy.inputs["priority"] == 1
    assert rule.inputs["groupWhitelists"] == [ADMINS, USERS]
    assert rule.inputs["grantTypeWhitelists"] == ["authorization_code"]
    assert rule.inputs["scopeWhitelists"] == ["openid", "email", "profile"]
    assert rule.parent_urn == policy.urn and policy.urn in rule.dependencies


def test_no_authorization_server_means_no_access_policy():
    assert not plan().of_type("okta:auth/serverPolicy:ServerPolicy")


def run_client_id(app) -> str:
    """The client id the harness's mocks give an app (see OktaAndKubernetesMocks.new_resource)."""
    return f"0oa{abs(hash(app.name)) % 10**17:017d}"
