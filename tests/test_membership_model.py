"""The keyed membership resources' decisions (membership_model) and inputs (membership_inputs): pure."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubesphere_okta import kubesphere_iam, kubesphere_roles
from kubesphere_okta import membership_inputs as inputs
from kubesphere_okta import membership_model as model
from kubesphere_okta.usernames import PlannedUser

VERSIONS = ("3.4", "4.1.2", "4.1.3")
NAME = st.from_regex(r"[a-z0-9]([a-z0-9.-]{0,20}[a-z0-9])?", fullmatch=True)
EMAIL = st.from_regex(r"[a-zA-Z0-9._%+<>{}-]{1,12}@[a-z]{1,8}\.com", fullmatch=True)
OKTA_ID = st.from_regex(r"00u[a-zA-Z0-9]{5,17}", fullmatch=True)
ROLE = st.sampled_from(["admin", "regular", "viewer", "operator", "platform-admin", "platform-regular",
                        "cluster-viewer", "team-a-deployer"])


@st.composite
def planned(draw):
    names = draw(st.lists(NAME, min_size=1, max_size=6, unique=True))
    users = [PlannedUser(n, draw(OKTA_ID), draw(EMAIL), draw(st.sampled_from(["", "platform-admin", "platform-regular"])), n)
             for n in names]
    memberships = []
    for user in users:
        for scope in (kubesphere_roles.WORKSPACE, kubesphere_roles.PROJECT, kubesphere_roles.CLUSTER):
            if draw(st.booleans()):
                target = "" if scope == kubesphere_roles.CLUSTER else draw(st.sampled_from(["team-a", "w" * 60, "dev"]))
                memberships.append(kubesphere_roles.Membership(scope, target, draw(ROLE), user.username, "g"))
    return users, memberships


def with_our_labels(body: dict, provider: str) -> dict:
    body["metadata"]["labels"] = {**(body["metadata"].get("labels") or {}), **model.our_labels(provider)}
    return body


@settings(max_examples=60, deadline=None)
@given(version=st.sampled_from(VERSIONS), plan=planned())
def test_filled_templates_are_exactly_what_the_renderers_make(version, plan):
    users, memberships = plan
    written = inputs.rendered(version, "Okta", users, memberships)
    expected_users = {u.username: with_our_labels(kubesphere_iam.render_user(version, "Okta", u), "Okta") for u in users}
    assert written[model.USERS] == expected_users
    expected = {}
    for u in users:
        if u.role:
            expected[u.username + "-" + u.role] = with_our_labels(
                kubesphere_iam.render_global_role_binding(version, u.username, u.role), "Okta")
    assert written.get(model.GLOBAL, {}) == expected
    for scope in (kubesphere_roles.WORKSPACE, kubesphere_roles.PROJECT, kubesphere_roles.CLUSTER):
        bodies = [with_our_labels(m.render(version), "Okta") for m in memberships if m.scope == scope]
        assert written.get(scope, {}) == {model.object_key(b): b for b in bodies}


def test_inputs_hold_only_what_varies_per_member():
    jane = PlannedUser("jane.acme.com", "00ujane", "jane@acme.com", "platform-admin", "jane@acme.com")
    ws = kubesphere_roles.Membership("workspace", "team-a", "admin", "jane.acme.com", "g")
    ns = kubesphere_roles.Membership("project", "dev", "viewer", "jane.acme.com", "g")
    assert inputs.users_map([jane]) == {"jane.acme.com": {"email": "jane@acme.com", "oktaId": "00ujane"}}
    assert inputs.bindings_maps("3.4", [jane], [ws, ns]) == {
        "global": {"jane.acme.com": {"jane.acme.com-platform-admin": "platform-admin"}},  # no target: the role alone
        "workspace": {"jane.acme.com": {"jane.acme.com-team-a-admin": {"role": "team-a-admin", "target": "team-a"}}},
        "project": {"jane.acme.com": {"dev/jane.acme.com-viewer": {"role": "viewer", "target": "dev"}}},
    }


# --- ownership and the plan ---------------------------------------------------------------------

def obj(name: str, labels: dict | None = None, managers: tuple[str, ...] = (), **fields) -> dict:
    metadata = {"name": name, "labels": dict(labels or {})}
    if managers:
        metadata["managedFields"] = [{"manager": m, "operation": "Apply"} for m in managers]
    return {"metadata": metadata, **fields}


OURS = model.our_labels("Okta")


def test_owner_tells_ours_from_handover_per_member_and_foreign():
    assert model.owner(obj("a", OURS), "Okta") == model.OURS
    assert model.owner(obj("a", model.our_labels("Other")), "Okta") == model.FOREIGN
    assert model.owner(obj("a", {model.HANDOVER_LABEL: "Okta"}, ("pulumi-kubernetes-1a2b",)), "Okta") == model.HANDOVER
    assert model.owner(obj("a", {}, ("pulumi-kubernetes-1a2b",)), "Okta") == model.PER_MEMBER
    assert model.owner(obj("a", {"app.kubernetes.io/managed-by": "pulumi"}), "Okta") == model.PER_MEMBER
    assert model.owner(obj("a", {}, ("kubectl-edit", "ks-apiserver")), "Okta") == model.FOREIGN


def declared(*names: str, email: str = "x@acme.com") -> dict:
    return {n: obj(n, OURS, spec={"email": email}) for n in names}


def test_plan_writes_only_what_differs_and_deletes_only_ours():
    live = {**declared("a", "b"), "c": obj("c", OURS), "d": obj("d", {}), "e": obj("e", model.our_labels("Other"))}
    live["b"]["spec"]["email"] = "changed@acme.com"
    result = model.plan(declared("a", "b", "f"), live, "Okta", prune=True)
    assert [(w.key, w.force) for w in result.apply] == [("b", True), ("f", False)]
    assert result.unchanged == ("a",) and result.delete == ("c",) and result.kept == () and result.conflicts == ()


def test_users_no_longer_declared_are_kept_unless_pruned():
    live = declared("a", "gone")
    kept = model.plan(declared("a"), live, "Okta", prune=False)
    assert kept.delete == () and kept.kept == ("gone",)
    assert model.plan(declared("a"), live, "Okta", prune=True).delete == ("gone",)


def test_a_declared_name_held_by_someone_else_refuses_unless_adopted():
    live = {"a": obj("a", {}, ("kubectl-create",))}
    assert model.plan(declared("a"), live, "Okta", prune=True).conflicts == (("a", model.FOREIGN),)
    adopted = model.plan(declared("a"), live, "Okta", prune=True, adopt=True)
    assert adopted.conflicts == () and [(w.key, w.force) for w in adopted.apply] == [("a", True)]


def test_an_earlier_per_member_object_is_refused_even_with_adopt_and_handed_over_ones_are_taken():
    live = {"a": obj("a", {}, ("pulumi-kubernetes-9f",)),
            "b": obj("b", {model.HANDOVER_LABEL: "Okta"}, ("pulumi-kubernetes-9f",)),
            "c": obj("c", {model.HANDOVER_LABEL: "Okta"}, ("pulumi-kubernetes-9f",))}
    result = model.plan(declared("a", "b"), live, "Okta", prune=True, adopt=True)
    assert result.conflicts == (("a", model.PER_MEMBER),)
    assert [(w.key, w.force) for w in result.apply] == [("b", True)]
    assert result.delete == ("c",)  # handed over, and its member left between the two steps
    message = model.conflict_message("User", result.conflicts, "Okta")
    assert "perMemberResources true" in message and "a" in message and "Nothing was written" in message


LIVE = st.dictionaries(
    st.sampled_from("abcdefgh"),
    st.tuples(st.sampled_from([model.OURS, model.HANDOVER, model.PER_MEMBER, model.FOREIGN]), st.booleans()),
)


def live_object(key: str, who: str, same: bool) -> dict:
    labels = {model.OURS: OURS, model.HANDOVER: {model.HANDOVER_LABEL: "Okta"}, model.PER_MEMBER: {},
              model.FOREIGN: {}}[who]
    managers = ("pulumi-kubernetes-1",) if who in (model.HANDOVER, model.PER_MEMBER) else ("kubectl",)
    return obj(key, labels, managers, spec={"email": "x@acme.com" if same else "y@acme.com"})


@settings(max_examples=200, deadline=None)
@given(want=st.sets(st.sampled_from("abcdefgh")), live=LIVE, prune=st.booleans(), adopt=st.booleans())
def test_the_plan_never_touches_what_is_not_ours_and_converges(want, live, prune, adopt):
    live_objects = {k: live_object(k, who, same) for k, (who, same) in live.items()}
    result = model.plan(declared(*want), live_objects, "Okta", prune=prune, adopt=adopt)
    touched = {w.key for w in result.apply} | set(result.delete)
    for key in touched:
        who = live.get(key, (None,))[0]
        assert who in (None, model.OURS, model.HANDOVER) or (who == model.FOREIGN and adopt), key
    assert all(not w.force for w in result.apply if w.key not in live)
    assert set(result.delete) <= set(live) - want
    if not result.conflicts:
        # Applying the plan, the next plan has nothing to write and nothing to delete.
        after = {k: v for k, v in live_objects.items() if k not in result.delete}
        after.update({w.key: w.body for w in result.apply})
        again = model.plan(declared(*want), after, "Okta", prune=prune, adopt=adopt)
        assert again.apply == () and again.delete == () and again.conflicts == ()


def test_read_back_reports_what_is_live_and_marks_drift():
    template = inputs.user_template("3.4", "Okta")
    recorded = {"jane": {"email": "j@acme.com", "oktaId": "00uj"}, "gone": {"email": "g@acme.com", "oktaId": "00ug"},
                "edited": {"email": "e@acme.com", "oktaId": "00ue"}}
    live = model.declared_users(template, recorded)
    del live["gone"]
    live["edited"]["spec"]["email"] = "other@acme.com"
    live["stray"] = obj("stray", OURS)
    found = model.read_back(template, recorded, live, bindings=False)
    assert found == {"jane": recorded["jane"], "edited": {**recorded["edited"], "drifted": True}, "<unrecorded>": ["stray"]}


def test_read_back_of_bindings_keeps_each_entry_shape_and_marks_drift():
    template = inputs.binding_template("4.1", "global", "Okta")
    recorded = {"jane": {"jane-platform-admin": "platform-admin"}, "gone": {"gone-platform-regular": "platform-regular"},
                "edited": {"edited-platform-regular": "platform-regular"}}
    live = model.declared_bindings(template, recorded)
    del live["gone-platform-regular"]
    live["edited-platform-regular"]["roleRef"]["name"] = "platform-admin"
    found = model.read_back(template, recorded, live, bindings=True)
    # A drifted entry is no longer the role name alone, so the next preview shows it as a change.
    assert found == {"jane": recorded["jane"], "edited": {"edited-platform-regular": {"role": "platform-regular", "drifted": True}}}
    workspace = inputs.binding_template("4.1", "workspace", "Okta")
    entry = {"role": "team-a-admin", "target": "team-a"}
    live = model.declared_bindings(workspace, {"ann": {"ann-team-a-admin": entry}})
    assert model.read_back(workspace, {"ann": {"ann-team-a-admin": entry}}, live, bindings=True) == {"ann": {"ann-team-a-admin": entry}}
    live["ann-team-a-admin"]["metadata"]["labels"]["kubesphere.io/workspace"] = "team-b"
    assert model.read_back(workspace, {"ann": {"ann-team-a-admin": entry}}, live, bindings=True) == {
        "ann": {"ann-team-a-admin": {**entry, "drifted": True}}}


@pytest.mark.parametrize("fields, values", [
    ("platform-admin", {"user": "u", "role": "platform-admin", "target": ""}),
    ({"role": "team-a-admin", "target": "team-a"}, {"user": "u", "role": "team-a-admin", "target": "team-a"}),
])
def test_a_binding_entry_is_its_role_alone_or_role_and_target(fields, values):
    assert model.binding_values("u", fields) == values
    assert model.binding_entry(values["role"], values["target"]) == fields


def test_progress_message_names_what_was_done_and_what_is_left():
    text = model.progress_message("GlobalRoleBindings", ["a-x", "b-x"], "c-x", "HTTP 500", ["d-x"])
    assert "Done before it (2): a-x, b-x" in text and "Not done (1): d-x" in text and "c-x failed: HTTP 500" in text


def test_a_one_person_change_among_6000_is_one_key_each_way():
    """The engine diffs object-valued inputs key by key (pulumi/pulumi sdk/go/common/resource/
    properties_diff.go, ``ObjectDiff``: Adds/Deletes/Updates per key), so the preview of one person
    leaving and one joining names two keys, not 6,000."""
    before = {f"user{i:04d}.acme.com": {"email": f"u{i}@acme.com", "oktaId": f"00u{i:05d}"} for i in range(6000)}
    after = dict(before)
    del after["user0042.acme.com"]
    after["newcomer.acme.com"] = {"email": "n@acme.com", "oktaId": "00unew"}
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    updated = [k for k in set(before) & set(after) if before[k] != after[k]]
    assert (added, removed, updated) == (["newcomer.acme.com"], ["user0042.acme.com"], [])
    # ...and the inputs of 6,000 Users are far from the per-resource state they replace.
    assert len(json.dumps(after)) < 100 * 6000


def test_a_new_template_rewrites_every_object_that_is_ours():
    live = declared("a", "b")
    assert model.plan(declared("a", "b"), live, "Okta", prune=True).apply == ()
    rewritten = model.plan(declared("a", "b"), live, "Okta", prune=True, rewrite=True)
    assert [(w.key, w.force) for w in rewritten.apply] == [("a", True), ("b", True)]


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
MEMBER_VALUES = st.fixed_dictionaries({"user": TEXT, "email": TEXT, "oktaId": TEXT, "role": TEXT, "target": TEXT})


def template_for(version, scope):
    """The template a keyed resource of ``scope`` ("users" or a binding scope) carries."""
    return inputs.user_template(version, "Okta") if scope == "users" else inputs.binding_template(version, scope, "Okta")


@settings(max_examples=100, deadline=None)
@given(values=MEMBER_VALUES, version=st.sampled_from(VERSIONS), scope=st.sampled_from(["users", *model.SCOPES]))
def test_the_fast_filler_makes_exactly_what_fill_makes(values, version, scope):
    template = template_for(version, scope)
    assert model.filler(template)(values) == model.fill(template, values)


PATHS = (("kind",), ("metadata", "name"), ("metadata", "namespace"), ("metadata", "labels", "iam.kubesphere.io/user-ref"),
         ("metadata", "annotations"), ("roleRef", "name"), ("subjects",), ("spec", "email"), ("no", "such", "field"))


def at(body, path):
    for key in path:
        body = body.get(key) if isinstance(body, dict) else None
    return body


@settings(max_examples=100, deadline=None)
@given(values=MEMBER_VALUES, version=st.sampled_from(VERSIONS), scope=st.sampled_from(["users", *model.SCOPES]))
def test_a_projection_reads_what_the_filled_body_holds(values, version, scope):
    template = template_for(version, scope)
    body = model.fill(template, values)
    assert model.projector(template, PATHS)(values) == tuple(at(body, path) for path in PATHS)
    # A key on the path with a placeholder is only found once filled: the projection fills the body then.
    keyed = {"metadata": {"labels": {"<<user>>": "<<role>>"}}}
    assert model.projector(keyed, [("metadata", "labels", values["user"])])(values) == (values["role"],)


@settings(max_examples=40, deadline=None)
@given(version=st.sampled_from(VERSIONS), plan=planned())
def test_declared_fields_follow_declared_objects(version, plan):
    users, memberships = plan
    maps = inputs.bindings_maps(version, users, memberships)
    resources = [(model.USERS_TYPE, {"template": inputs.user_template(version, "Okta"), "users": inputs.users_map(users)})]
    resources += [(model.BINDINGS_TYPE, {"template": inputs.binding_template(version, scope, "Okta"), "bindings": bindings})
                  for scope, bindings in maps.items()]
    for token, keyed in resources:
        bodies = model.declared_objects(token, keyed).values()
        assert model.declared_fields(token, keyed, PATHS) == [tuple(at(b, p) for p in PATHS) for b in bodies]
    assert model.declared_fields("kubernetes:v1:Secret", {"template": {}, "users": {}}, PATHS) == []
