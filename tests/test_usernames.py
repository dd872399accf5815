"""Username derivation (Python and Okta expression), collisions, reserved names, role precedence."""

from __future__ import annotations

import hashlib
import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubesphere_okta.usernames import (
    EXACT,
    FALLBACK,
    FOLDED,
    IdentityPlan,
    SkippedMember,
    fold_to_ascii,
    fallback_username,
    lookup_username,
    JAVA_REGEX_METACHARACTERS,
    MAX_USERNAME_LENGTH,
    REPLACEMENTS,
    IdentityProblems,
    OktaMember,
    UsernameError,
    assign_usernames,
    collision_suffix,
    dns_safe_username,
    first_role,
    is_kubesphere_username,
    okta_username_expression,
    _el_string,
    mapped_login,
    plan_users,
    suffixed_username,
    members_from_answer,
)
from tests.login_table import LOGINS
from tests.okta_expression import evaluate

#: Hypothesis logins: mostly the characters Okta logins hold, plus every other printable ASCII one.
ascii_logins = st.text(alphabet=st.sampled_from(string.printable), max_size=80) | st.builds(
    lambda local, domain: f"{local}@{domain}",
    st.text(alphabet=string.ascii_letters + string.digits + "._-'+", min_size=1, max_size=40),
    st.text(alphabet=string.ascii_letters + string.digits + ".-", min_size=1, max_size=40),
)


def python_name(login: str) -> str | None:
    try:
        return dns_safe_username(login)
    except UsernameError:
        return None


@pytest.mark.parametrize("login, expected", LOGINS)
def test_python_derivation_matches_the_login_table(login, expected):
    assert python_name(login) == expected


@pytest.mark.parametrize("login, expected", LOGINS)
def test_okta_expression_matches_the_login_table(login, expected):
    result = evaluate(okta_username_expression(), login)
    if expected is None:
        assert not is_kubesphere_username(result), f"Okta would send {result!r}, which KubeSphere accepts"
    else:
        assert result == expected


@pytest.mark.parametrize("login, _expected", LOGINS)
def test_okta_expression_means_the_same_whether_replace_reads_a_regex_or_plain_text(login, _expected):
    assert evaluate(okta_username_expression(), login, regex=True) == evaluate(okta_username_expression(), login, regex=False)


def test_okta_expression_never_replaces_a_regex_metacharacter():
    for character, replacement in REPLACEMENTS:
        assert character not in JAVA_REGEX_METACHARACTERS and replacement not in "$\\"


def test_okta_expression_fits_okta_template_limit():
    assert len(okta_username_expression()) <= 1024


def test_okta_expression_uses_only_functions_from_okta_reference():
    used = set(re.findall(r"\b(String\.\w+)\(", okta_username_expression()))
    assert used == {"String.len", "String.substring", "String.stringContains", "String.toLowerCase", "String.replace"}


@settings(max_examples=300, deadline=None)
@given(ascii_logins)
def test_okta_and_python_agree_or_both_refuse_for_any_ascii_login(login):
    name, okta_value = python_name(login), evaluate(okta_username_expression(), login)
    if name is None:
        assert not is_kubesphere_username(okta_value)
    else:
        assert okta_value == name


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_derived_name_is_always_a_dotted_dns_name_kubesphere_accepts(login):
    name = python_name(login)
    if name is not None:
        assert is_kubesphere_username(name) and "." in name and len(name) <= MAX_USERNAME_LENGTH


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=20), st.characters(min_codepoint=128))
def test_login_with_a_non_ascii_character_is_refused(local, other):
    # Java's and Python's lower-casing differ outside ASCII (e.g. the Kelvin sign becomes 'k'), so
    # the Python side refuses every non-ASCII login rather than guess what Okta computes.
    assert python_name(f"{local}{other}@acme.com") is None


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(JAVA_REGEX_METACHARACTERS - {"."})), st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=20))
def test_login_holding_a_regex_metacharacter_is_refused(metacharacter, local):
    assert python_name(f"{local}{metacharacter}{local}@acme.com") is None


def test_refusal_says_which_login_and_why():
    with pytest.raises(UsernameError, match=r"'jane\+ops@acme.com' holds '\+'"):
        dns_safe_username("jane+ops@acme.com")


# --- collisions and reserved names ------------------------------------------------------------------

def member(okta_id: str, login: str, email: str | None = None) -> OktaMember:
    return OktaMember(id=okta_id, login=login, email=email or f"{okta_id}@mail.example")


def test_colliding_members_keep_one_bare_name_and_suffix_the_other_by_id():
    names, problems = assign_usernames([member("00ub", "jane-doe@acme.com"), member("00ua", "jane_doe@acme.com")])
    assert problems == []
    assert names == {"00ua": "jane-doe.acme.com", "00ub": f"jane-doe.acme.com-{collision_suffix('00ub')}"}


okta_ids = st.text(alphabet=string.ascii_letters + string.digits, min_size=5, max_size=20).map(lambda s: "00u" + s)
local_parts = st.sampled_from(["jane", "jane-doe", "jane_doe", "JANE", "j", "x" * 60])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(okta_ids, local_parts), max_size=12, unique_by=lambda t: t[0]), st.randoms())
def test_usernames_are_unique_valid_and_independent_of_member_order(pairs, random):
    members = [member(i, f"{local}@acme.com") for i, local in pairs]
    names, problems = assign_usernames(members)
    shuffled = list(members)
    random.shuffle(shuffled)
    assert assign_usernames(shuffled) == (names, problems)
    assert len(set(names.values())) == len(names)
    assert all(is_kubesphere_username(n) for n in names.values())


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(okta_ids, local_parts), min_size=1, max_size=10, unique_by=lambda t: t[0]), okta_ids)
def test_a_newcomer_with_a_larger_id_never_renames_anyone(pairs, newcomer):
    members = [member(i, f"{local}@acme.com") for i, local in pairs]
    before, _ = assign_usernames(members)
    newcomer_id = "zz" + newcomer  # sorts after every 00u... id
    after, _ = assign_usernames([*members, member(newcomer_id, members[0].login)])
    assert {k: v for k, v in after.items() if k != newcomer_id} == before
    assert after[newcomer_id].endswith(collision_suffix(newcomer_id))


def test_suffixed_long_name_still_fits_63_characters():
    login = "x" * 60 + "@acme.com"
    names, _ = assign_usernames([member("00ua", login), member("00ub", login)])
    assert len(names["00ub"]) <= MAX_USERNAME_LENGTH and is_kubesphere_username(names["00ub"])


def test_login_that_would_be_admin_is_refused_naming_the_okta_user():
    names, skipped = assign_usernames([member("00uadmin", "Admin"), member("00ujane", "jane@acme.com")])
    assert names == {"00ujane": "jane.acme.com"}
    assert [s.describe() for s in skipped] == [
        "Okta user 'Admin' (00uadmin): would become KubeSphere user 'admin', a reserved local account name "
        "(reserved_usernames); it is never linked: rename the login in Okta or take the user out of the "
        "role_bindings groups"
    ]


@pytest.mark.parametrize("login", ["admin", "ADMIN", "Ädmin", "admiń"])
def test_login_reading_as_admin_is_refused_not_given_a_fallback(login):
    names, skipped = assign_usernames([member("00uroot", login)])
    assert names == {} and "'admin', a reserved local account" in skipped[0].reason


def test_configured_reserved_name_is_refused_even_when_it_is_dotted():
    names, skipped = assign_usernames([member("00uops", "ops@acme.com")], reserved=["ops.acme.com"])
    assert names == {} and "'ops.acme.com', a reserved local account" in skipped[0].reason


def test_folded_login_reading_as_a_reserved_name_is_refused():
    names, skipped = assign_usernames([member("00uops", "öps@acme.com")], reserved=["ops.acme.com"])
    assert names == {} and "'ops.acme.com', a reserved local account" in skipped[0].reason


# --- roles ------------------------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("abcdef"), st.sampled_from(["platform-admin", "platform-regular", "x"])),
             unique_by=lambda t: t[0]),
    st.sets(st.sampled_from("abcdef")),
)
def test_role_is_the_first_role_bindings_entry_among_the_members_groups(role_bindings, groups):
    expected = next((role for group, role in role_bindings if group in groups), None)
    assert first_role(role_bindings, groups) == expected


def test_admin_group_listed_first_wins_over_regular():
    assert first_role([("admins", "platform-admin"), ("users", "platform-regular")], {"users", "admins"}) == "platform-admin"
    assert first_role([("users", "platform-regular"), ("admins", "platform-admin")], {"users", "admins"}) == "platform-regular"


def test_plan_gives_a_member_of_two_groups_one_user_with_the_first_role():
    jane = member("00ujane", "jane@acme.com", "jane@acme.com")
    planned = plan_users([("g-admins", "platform-admin"), ("g-users", "platform-regular")],
                         {"g-admins": [jane], "g-users": [jane, member("00ubob", "bob@acme.com", "bob@acme.com")]}).users
    assert [(p.username, p.role, p.email) for p in planned] == [
        ("bob.acme.com", "platform-regular", "bob@acme.com"),
        ("jane.acme.com", "platform-admin", "jane@acme.com"),
    ]


def test_plan_skips_deactivated_okta_users():
    gone = OktaMember(id="00ugone", login="gone@acme.com", email="gone@acme.com", status="DEPROVISIONED")
    assert plan_users([("g", "platform-regular")], {"g": [gone]}) == IdentityPlan([], [])


BAD_MEMBERS = [member("00uadmin", "admin"), OktaMember(id="00unomail", login="n@acme.com", email=None),
               member("00ushare1", "s1@acme.com", "team@acme.com"), member("00ushare2", "s2@acme.com", "team@acme.com")]


def test_plan_skips_each_member_it_cannot_provision_and_plans_everyone_else():
    good = [member("00ujane", "jane@acme.com", "jane@acme.com"), member("00uplus", "a+b@acme.com", "ab@acme.com")]
    plan = plan_users([("g", "platform-regular")], {"g": [*BAD_MEMBERS, *good]})
    assert [(u.username, u.okta_id) for u in plan.users] == [("jane.acme.com", "00ujane"), ("okta.00uplus", "00uplus")]
    assert [s.okta_id for s in plan.skipped] == ["00uadmin", "00unomail", "00ushare1", "00ushare2"]
    assert "has no email" in plan.skipped[1].reason
    assert plan.skipped[2].reason.startswith("shares the email 'team@acme.com' with 00ushare2;")
    warning = plan.warning()
    assert warning.startswith("4 Okta group member(s) get no KubeSphere User")
    assert all(f"({s.okta_id}): {s.reason}" in warning for s in plan.skipped)


def test_strict_plan_refuses_every_bad_member_at_once():
    with pytest.raises(IdentityProblems) as raised:
        plan_users([("g", "platform-regular")], {"g": [*BAD_MEMBERS, member("00ujane", "jane@acme.com")]}, strict=True)
    assert len(raised.value.problems) == 4
    assert "no User or GlobalRoleBinding was declared (strict_identities is on)" in str(raised.value)


def test_nobody_skipped_means_no_warning():
    plan = plan_users([("g", "platform-regular")], {"g": [member("00ujane", "jane@acme.com")]})
    assert plan.skipped == [] and plan.warning() == ""


# --- lookup mode: ASCII folding and the fallback -----------------------------------------------------

@pytest.mark.parametrize("login, expected", [
    ("Zoë.Ünicode@acme.com", "zoe.unicode.acme.com"),
    ("josé@acme.com", "jose.acme.com"),
    ("Zoë@acme.com", "zoe.acme.com"),  # the accent written as a separate combining mark
    ("Straße@acme.de", "strasse.acme.de"),
    ("Bjørn.Ærø@acme.dk", "bjorn.aero.acme.dk"),
    ("Łukasz@acme.pl", "lukasz.acme.pl"),
    ("İlker@acme.com.tr", "ilker.acme.com.tr"),
])
def test_accented_logins_fold_to_a_readable_name(login, expected):
    assert lookup_username(login, "00uany") == (expected, FOLDED)


@pytest.mark.parametrize("login", [
    "\u212Aate@acme.com",   # KELVIN SIGN, canonically K: a look-alike, never folded
    "\u212Bsa@acme.com",    # ANGSTROM SIGN, canonically A-ring
    "\uff4bate@acme.com",   # fullwidth k
    "\u043aate@acme.com",   # Cyrillic ka
    "ıvan@acme.com",        # dotless i
    "李@acme.com",
    "deploy-bot",          # no '@': a readable name could equal a local account
    "jane+ops@acme.com",
])
def test_logins_without_a_safe_readable_name_get_the_okta_id_fallback(login):
    assert lookup_username(login, "00uAbC123") == ("okta.00uabc123", FALLBACK)


def test_plain_logins_keep_the_name_okta_computes_in_lookup_mode():
    for login, expected in LOGINS:
        if expected is not None:
            assert lookup_username(login, "00uany") == (expected, EXACT)


def test_kelvin_sign_look_alike_never_takes_another_members_name():
    kate, spoof = member("00uzzkate", "kate@acme.com"), member("00uaaspoof", "\u212Aate@acme.com")
    names, skipped = assign_usernames([spoof, kate])
    assert names == {"00uzzkate": "kate.acme.com", "00uaaspoof": "okta.00uaaspoof"} and skipped == []


def test_a_folded_look_alike_yields_the_bare_name_to_the_exact_login_whatever_the_ids():
    kate, kåte = member("00uzzkate", "kate@acme.com"), member("00uaakate", "kåte@acme.com")
    names, _ = assign_usernames([kåte, kate])
    assert names == {"00uzzkate": "kate.acme.com", "00uaakate": f"kate.acme.com-{collision_suffix('00uaakate')}"}


def test_auto_mapping_keeps_the_okta_expression_guarantee_and_refuses_what_okta_cannot_compute():
    names, skipped = assign_usernames([member("00uzoe", "Zoë@acme.com"), member("00ubot", "deploy-bot")],
                                      mapping_method="auto")
    assert names == {} and [s.okta_id for s in skipped] == ["00ubot", "00uzoe"]
    assert "non-ASCII" not in skipped[1].reason and "'ë'" in skipped[1].reason


def test_fallback_of_an_unusual_id_is_a_hash_and_always_valid():
    assert fallback_username("00u_ODD id") == "okta." + hashlib.sha256(b"00u_ODD id").hexdigest()[:16]
    assert is_kubesphere_username(fallback_username("x" * 200))


def test_ids_equal_but_for_case_get_distinct_fallbacks():
    names, skipped = assign_usernames([member("00uAbc", "bot-a"), member("00uaBC", "bot-b")])
    assert skipped == [] and len(set(names.values())) == 2
    assert names["00uAbc"] == "okta.00uabc"  # "00uAbc" < "00uaBC": it keeps the bare fallback


lookup_logins = st.text(max_size=70) | st.builds(
    lambda local, domain: f"{local}@{domain}",
    st.text(alphabet=string.ascii_letters + "._-+äöüßéèçñøåæœłÅÉÖÜ\u212a\u0301", min_size=1, max_size=30),
    st.sampled_from(["acme.com", "Acme.DE", "x.y"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(okta_ids, lookup_logins), max_size=12, unique_by=lambda t: t[0]), st.randoms())
def test_lookup_mode_names_every_member_validly_uniquely_never_reserved_and_independent_of_order(pairs, random):
    members = [member(i, login) for i, login in pairs]
    names, skipped = assign_usernames(members, reserved=["ops.acme.com"])
    shuffled = list(members)
    random.shuffle(shuffled)
    assert assign_usernames(shuffled, reserved=["ops.acme.com"]) == (names, skipped)
    assert len(set(names.values())) == len(names)
    assert all(is_kubesphere_username(n) and "." in n for n in names.values())
    assert not {"admin", "ops.acme.com"} & set(names.values())
    # Only a login that reads as a reserved name is left without one.
    assert all("reserved local account" in s.reason for s in skipped)
    assert set(names) | {s.okta_id for s in skipped} == {i for i, _ in pairs}


def test_many_members_sharing_one_email_are_each_skipped_naming_at_most_three_others():
    members = [member(f"00u{i:04d}", f"m{i}@acme.com", "shared@acme.com") for i in range(50)]
    plan = plan_users([("g", "platform-regular")], {"g": members})
    assert plan.users == [] and len(plan.skipped) == 50
    assert plan.skipped[0].reason.startswith("shares the email 'shared@acme.com' with 00u0001, 00u0002, 00u0003 and 46 more;")
    assert plan.skipped[49].reason.startswith("shares the email 'shared@acme.com' with 00u0000, 00u0001, 00u0002 and 46 more;")


@settings(max_examples=500, deadline=None)
@given(st.characters(min_codepoint=128, exclude_categories=("Cs",)))
def test_a_non_ascii_character_folds_only_as_a_latin_letter_with_accents_or_a_listed_letter(character):
    import unicodedata

    from kubesphere_okta.usernames import LETTER_FOLDS, fold_to_ascii

    folded = fold_to_ascii(character)
    if folded is None or character in LETTER_FOLDS:
        return
    assert folded.isascii()
    if folded:  # a precomposed letter: its own NFC form, decomposing into exactly this letter plus accents
        base, *marks = unicodedata.normalize("NFD", character)
        assert unicodedata.normalize("NFC", character) == character and folded == base and base.isalpha()
        assert marks and all(unicodedata.combining(m) for m in marks)
    else:  # only a lone accent folds to nothing
        assert unicodedata.combining(character)


# --- what a name is, and names that must never change ----------------------------------------------

def dns1123_subdomain(name: str) -> bool:
    """Kubernetes' rule, spelled out: dot-separated labels of a-z, 0-9 and '-', each starting and
    ending with a letter or digit, at most 63 characters in all (KubeSphere's label limit)."""
    labels = name.split(".")
    return 0 < len(name) <= MAX_USERNAME_LENGTH and all(
        label and set(label) <= set(string.ascii_lowercase + string.digits + "-")
        and label[0] != "-" and label[-1] != "-" for label in labels)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab9.-_A\u212a", max_size=70) | st.builds(lambda n: "a" * n, st.integers(60, 66)))
def test_kubesphere_username_is_exactly_a_dns1123_subdomain_of_at_most_63_characters(name):
    assert is_kubesphere_username(name) == dns1123_subdomain(name)


@pytest.mark.parametrize("name", ["jane.acme-", "jane-.acme", "jane.-acme", "a_b", "a..b", ".a", "a.", "A", "\u212aate"])
def test_names_kubernetes_refuses_are_not_usernames(name):
    assert not is_kubesphere_username(name)


@given(ascii_logins | st.text(max_size=80))
def test_mapped_login_is_the_steps_of_the_module_docstring_one_after_the_other(login):
    # mapped_login does steps 2 and 3 in one str.translate; this is their definition, step by step.
    name = login[:MAX_USERNAME_LENGTH]
    name = "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in name)
    for character, replacement in REPLACEMENTS:
        name = name.replace(character, replacement)
    assert mapped_login(login) == name


@given(st.text(max_size=40))
def test_folding_keeps_ascii_text_as_it_is(text):
    folded = fold_to_ascii(text)
    assert (folded == text) if text.isascii() else (folded is None or folded.isascii())


def test_mapped_login_lower_cases_ascii_only():
    # str.lower() would turn the Kelvin sign into 'k' and let \u212aate@acme.com pass as kate.acme.com.
    assert mapped_login("\u212aATE@Acme.com") == "\u212aate.acme.com"
    with pytest.raises(UsernameError):
        dns_safe_username("\u212aATE@Acme.com")


#: Names users already have: a change to the suffix or the truncation would rename them.
@pytest.mark.parametrize("base, okta_id, expected", [
    ("jane.acme.com", "00u1abcdEFGH", "jane.acme.com-3fa74c64"),
    ("x" * 54, "00ub", "x" * 54 + "-d4eee2a9"),
    ("x" * 53 + ".y", "00ub", "x" * 53 + "-d4eee2a9"),  # cut before the '.': no '.-' in a name
    ("x" * 52 + "-.y", "00ub", "x" * 52 + "-d4eee2a9"),
    ("x" * 63, "00ub", "x" * 54 + "-d4eee2a9"),
])
def test_suffixed_names_are_stable(base, okta_id, expected):
    assert suffixed_username(base, okta_id) == expected
    assert collision_suffix(okta_id) == hashlib.sha256(okta_id.encode()).hexdigest()[:8]


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?", fullmatch=True).filter(dns1123_subdomain), okta_ids)
def test_a_suffixed_name_is_a_valid_name_ending_in_the_suffix_of_the_id(base, okta_id):
    name = suffixed_username(base, okta_id)
    assert is_kubesphere_username(name), name
    head, _, suffix = name.rpartition("-")
    assert suffix == collision_suffix(okta_id) and base.startswith(head)
    assert head == base if len(base) <= MAX_USERNAME_LENGTH - 9 else len(head) <= MAX_USERNAME_LENGTH - 9


def test_members_after_a_deactivated_one_are_still_planned():
    gone = OktaMember(id="00ugone", login="gone@acme.com", email="gone@acme.com", status="DEPROVISIONED")
    jane, bob = member("00ujane", "jane@acme.com", "jane@acme.com"), member("00ubob", "bob@acme.com", "bob@acme.com")
    plan = plan_users([("g", "platform-regular"), ("h", "platform-admin")], {"g": [jane, gone, bob], "h": [gone]})
    assert [u.okta_id for u in plan.users] == ["00ubob", "00ujane"] and plan.skipped == []


# --- sets of Okta users whose names collide ---------------------------------------------------------

@st.composite
def colliding_members(draw) -> tuple[list[OktaMember], list[str]]:
    """Members whose logins derive few distinct names: the same login in other cases and spellings,
    logins truncated to the same 63 characters, and logins that spell another member's suffixed
    name exactly; plus reserved names that are some members' names or suffixed names."""
    ids = draw(st.lists(okta_ids, min_size=1, max_size=10, unique=True))
    stems = ["jane@acme.com", "JANE@acme.com", "jane_doe@acme.com", "jane-doe@acme.com", "jäne@acme.com",
             "x" * 60 + "@acme.com", "x" * 60 + "@acme.org", "\u212aate@acme.com", "kate@acme.com", "deploy-bot"]
    members = []
    for okta_id in ids:
        kind = draw(st.sampled_from(["stem", "suffix of another"]))
        if kind == "stem":
            login = draw(st.sampled_from(stems))
        else:
            other = draw(st.sampled_from(ids))
            base = draw(st.sampled_from(["jane.acme.com", "jane-doe.acme.com", "x" * 60 + ".acme.com"]))
            login = suffixed_username(base, other).replace(".acme.com", "@acme.com", 1)
        members.append(member(okta_id, login))
    reserved = draw(st.lists(st.sampled_from(
        ["jane.acme.com", suffixed_username("jane.acme.com", ids[0]), "ops"]), max_size=2))
    return members, reserved


@settings(max_examples=120, deadline=None)
@given(colliding_members(), st.sampled_from(["lookup", "auto"]), st.randoms())
def test_colliding_members_never_share_a_name_nor_get_a_reserved_one(case, mapping_method, random):
    members, reserved = case
    names, skipped = assign_usernames(members, reserved, mapping_method)
    shuffled = list(members)
    random.shuffle(shuffled)
    assert assign_usernames(shuffled, reserved, mapping_method) == (names, skipped)
    assert len(set(names.values())) == len(names), "two Okta users would share one KubeSphere user"
    assert not set(names.values()) & ({"admin"} | set(reserved))
    assert all(is_kubesphere_username(n) for n in names.values())
    assert not set(names) & {s.okta_id for s in skipped}
    assert set(names) | {s.okta_id for s in skipped} == {m.id for m in members}
    assert [s.okta_id for s in skipped] == sorted(s.okta_id for s in skipped)
    # The member a name is derived for keeps it unless a member ranked before it derives it too.
    for okta_id, name in names.items():
        assert name.endswith(collision_suffix(okta_id)) or name not in {
            n for i, n in names.items() if i != okta_id}


def test_a_login_spelling_another_members_suffixed_name_never_takes_it():
    first, second = member("00ua", "jane@acme.com"), member("00ub", "jane@acme.com")
    spelled = suffixed_username("jane.acme.com", "00ub").replace(".acme.com", "@acme.com", 1)
    names, skipped = assign_usernames([first, second, member("00uc", spelled)])
    assert len(set(names.values())) == len(names)
    assert names["00ua"] == "jane.acme.com" and names["00uc"] == suffixed_username("jane.acme.com", "00ub")
    assert [s.okta_id for s in skipped] == ["00ub"] and "is taken" in skipped[0].reason


def test_a_suffixed_name_that_is_reserved_is_refused_not_given():
    names, skipped = assign_usernames([member("00ua", "jane@acme.com"), member("00ub", "jane@acme.com")],
                                      reserved=[suffixed_username("jane.acme.com", "00ub")])
    assert names == {"00ua": "jane.acme.com"} and [s.okta_id for s in skipped] == ["00ub"]


# --- exactly what a skipped member, a warning and a refusal say --------------------------------------

def test_a_member_without_an_email_is_skipped_saying_how_to_fix_it():
    nomail = OktaMember(id="00unomail", login="n@acme.com", email=None)
    plan = plan_users([("g", "platform-regular")], {"g": [nomail]})
    assert plan.skipped == [SkippedMember("00unomail", "n@acme.com", "has no email; KubeSphere requires spec.email: "
                                                                     "give the Okta user an email")]


def test_members_sharing_an_email_are_skipped_under_their_own_login():
    members = [member("00ua", "a@acme.com", "team@acme.com"), member("00ub", "b@acme.com", "team@acme.com")]
    plan = plan_users([("g", "platform-regular")], {"g": members})
    assert [(s.okta_id, s.login) for s in plan.skipped] == [("00ua", "a@acme.com"), ("00ub", "b@acme.com")]
    assert plan.skipped[0].reason == ("shares the email 'team@acme.com' with 00ub; KubeSphere requires a unique "
                                      "email per User")


def test_an_empty_login_is_skipped_as_empty_in_auto_mode_and_named_by_its_id_in_lookup_mode():
    names, skipped = assign_usernames([member("00uempty", "")], mapping_method="auto")
    assert names == {} and skipped == [SkippedMember("00uempty", "", "the Okta login is empty")]
    assert assign_usernames([member("00uempty", "")]) == ({"00uempty": "okta.00uempty"}, [])


@pytest.mark.parametrize("login", [None, 7, ""])
def test_a_login_that_is_not_text_or_is_empty_is_refused_as_empty(login):
    with pytest.raises(UsernameError, match="the Okta login is empty"):
        dns_safe_username(login)


def test_a_taken_suffixed_name_is_skipped_naming_the_name_and_the_login():
    first, second = member("00ua", "jane@acme.com"), member("00ub", "jane@acme.com")
    spelled = suffixed_username("jane.acme.com", "00ub").replace(".acme.com", "@acme.com", 1)
    _, skipped = assign_usernames([first, second, member("00uc", spelled)])
    assert skipped == [SkippedMember("00ub", "jane@acme.com", f"its suffixed name "
                                     f"{suffixed_username('jane.acme.com', '00ub')!r} is taken by another member; "
                                     "rename the login in Okta")]


def test_a_reserved_fallback_name_is_refused_naming_that_name():
    names, skipped = assign_usernames([member("00uBot", "deploy-bot")], reserved=["okta.00ubot"])
    assert names == {} and "would become KubeSphere user 'okta.00ubot'" in skipped[0].reason


def test_plan_passes_reserved_names_and_the_mapping_method_on():
    jane = member("00ujane", "jane@acme.com", "jane@acme.com")
    zoe = member("00uzoe", "Zoë@acme.com", "zoe@acme.com")
    plan = plan_users([("g", "platform-regular")], {"g": [jane, zoe]}, ["jane.acme.com"], mapping_method="auto")
    assert plan.users == [] and [s.okta_id for s in plan.skipped] == ["00ujane", "00uzoe"]
    assert "reserved" in plan.skipped[0].reason and "'ë'" in plan.skipped[1].reason


def test_planned_users_carry_login_email_and_no_global_role_when_only_other_groups_grant_them_one():
    jane = member("00ujane", "Jane@acme.com", "jane@acme.com")
    plan = plan_users([("g", "platform-regular")], {"team": [jane]}, other_groups=["team"])
    assert [(u.username, u.login, u.email, u.role) for u in plan.users] == [
        ("jane.acme.com", "Jane@acme.com", "jane@acme.com", "")]


def test_a_role_bindings_group_with_no_members_listed_plans_nobody():
    assert plan_users([("g", "platform-regular"), ("empty", "platform-admin")], {}) == IdentityPlan([], [])


def test_the_warning_lists_one_skipped_member_per_line():
    plan = plan_users([("g", "platform-regular")], {"g": [OktaMember("00ua", "a@acme.com"), OktaMember("00ub", "b@acme.com")]})
    assert plan.warning().splitlines()[1:] == [f"  - {s.describe()}" for s in plan.skipped]


def test_identity_problems_lists_one_problem_per_line():
    assert str(IdentityProblems(["one", "two"])).endswith(":\n  - one\n  - two")


def test_a_skipped_member_as_the_stack_output_shows_it():
    assert SkippedMember("00ua", "a@acme.com", "why").as_output() == {"oktaId": "00ua", "login": "a@acme.com",
                                                                       "reason": "why"}


def test_an_el_string_holding_both_quotes_is_refused_and_each_quote_is_quoted_by_the_other():
    assert _el_string('"') == "'\"'" and _el_string("'") == '"\'"' and _el_string("-") == '"-"'
    with pytest.raises(ValueError, match="without escapes"):
        _el_string("a\"b'c")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=12))
def test_folding_gives_ascii_or_nothing_and_never_changes_ascii(text):
    folded = fold_to_ascii(text)
    assert folded is None or folded.isascii()
    if text.isascii():
        assert folded == text


@pytest.mark.parametrize("character", ["李", "й", "\u212a", "ı", "\uff4b", "ſ", "\u0391"])
def test_letters_that_are_not_latin_letters_with_accents_do_not_fold(character):
    assert fold_to_ascii(f"a{character}b") is None


def test_five_members_sharing_an_email_name_three_others_and_one_more():
    members = [member(f"00u{i}", f"m{i}@acme.com", "shared@acme.com") for i in range(5)]
    plan = plan_users([("g", "platform-regular")], {"g": members})
    assert plan.skipped[0].reason.startswith("shares the email 'shared@acme.com' with 00u1, 00u2, 00u3 and 1 more;")
    assert plan.skipped[4].reason.startswith("shares the email 'shared@acme.com' with 00u0, 00u1, 00u2 and 1 more;")


def test_members_with_an_empty_login_are_skipped_under_that_empty_login():
    nomail = OktaMember(id="00unomail", login="", email=None)
    shared = [OktaMember(id=f"00ushare{i}", login="", email="team@acme.com") for i in (1, 2)]
    plan = plan_users([("g", "platform-regular")], {"g": [nomail, *shared]})
    assert [(s.okta_id, s.login) for s in plan.skipped] == [("00unomail", ""), ("00ushare1", ""), ("00ushare2", "")]
    # A taken suffixed name of a member with an empty login: 00uA and 00ua both fall back to okta.00ua.
    taken = suffixed_username("okta.00ua", "00ua")
    names, skipped = assign_usernames([member("00uA", ""), member("00ua", ""),
                                       member("00uz", taken.replace("okta.", "okta@", 1))])
    assert [(s.okta_id, s.login) for s in skipped] == [("00ua", "")] and names["00uz"] == taken


@pytest.mark.parametrize("login, listed", [("aé+b@acme.com", "'+', 'é'"), ("jo_e+x@acme.com", "'+'")])
def test_a_login_with_characters_the_name_cannot_hold_lists_exactly_those(login, listed):
    with pytest.raises(UsernameError) as raised:
        dns_safe_username(login)
    assert str(raised.value) == (
        f"login {login!r} holds {listed}, which the dns-safe username does not replace (only plain characters "
        "are, so that Okta computes the same name): change the login")


@pytest.mark.parametrize("reserved", ["jöse.acme.com", "jose.acme.com"])
def test_a_reserved_name_is_named_as_the_login_reads_or_as_it_maps(reserved):
    # 'jöse@acme.com' maps to 'jöse.acme.com' and reads (folded) as 'jose.acme.com': either reserved
    # refuses the member, naming the one that is reserved.
    member = OktaMember(id="00u1", login="jöse@acme.com", email="j@acme.com", status="ACTIVE")
    _, skipped = assign_usernames([member], reserved=[reserved])
    assert [s.reason for s in skipped] == [
        f"would become KubeSphere user {reserved!r}, a reserved local account name (reserved_usernames); it is "
        "never linked: rename the login in Okta or take the user out of the role_bindings groups"]


def test_members_are_read_from_okta_answers_as_the_engine_sends_them():
    answer = {"id": "users", "users": [{"id": "00u1", "login": "a@acme.com", "email": "a@acme.com", "status": "ACTIVE",
                                        "firstName": "A"}, {"id": "00u2"}]}
    assert members_from_answer(answer) == [
        OktaMember(id="00u1", login="a@acme.com", email="a@acme.com", status="ACTIVE"),
        OktaMember(id="00u2", login=None, email=None, status=None)]
    assert members_from_answer(None) == members_from_answer({}) == members_from_answer({"users": None}) == []

