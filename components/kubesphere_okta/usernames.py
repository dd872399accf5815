"""KubeSphere usernames from Okta logins, and who gets which global role: pure, no Pulumi, no I/O.

Two consumers must agree on a user's name (docs/kubesphere-okta-facts.md, "Usernames and Users"):

* KubeSphere's ``auto`` mapping creates ``User`` ``lower(preferred_username)``, and Okta puts the app
  username (``user_name_template``) into ``preferred_username``. ``okta_username_expression()`` is
  the CUSTOM template that computes the name inside Okta.
* With ``mapping_method: lookup`` this project pre-provisions each ``User``; ``dns_safe_username()``
  computes the name in Python.

Both apply the same steps, in the same order, from one table (``REPLACEMENTS``):

1. keep at most the first 63 characters of the login;
2. lower-case ASCII letters;
3. replace ``@`` with ``.`` (so the domain is kept: jane.doe@acme.com -> jane.doe.acme.com) and each
   other character of ``REPLACEMENTS`` with ``-``.

Steps 1-3 map one character to one character, so truncating first equals truncating last. The
result must be a DNS-1123 subdomain (what KubeSphere accepts as a User name) and must contain a
``.`` (it kept part of the domain, so it can never equal a local account such as ``admin``);
otherwise the login is *refused*: ``dns_safe_username`` raises, and the Okta expression yields a
value that ends in ``@`` and that KubeSphere therefore refuses too. Nothing is trimmed or repaired:
Okta's Expression Language has no function that could do the same, and both sides must agree.

Why only these characters are replaced: Okta documents ``String.replace(input, match, replacement)``
as replacing "all instances of a specified string" but not whether ``match`` is read as a regular
expression. Every ``match`` emitted here is free of regular-expression metacharacters, so the
expression means the same under either reading. Logins holding other characters (``+``, ``$``,
``*``, ``?``, ``^``, ``{``, ``|``, ``}``...) or non-ASCII characters are refused.

That refusal binds only where Okta computes the name (``mapping_method: auto`` with the dns-safe
app username). Users this project pre-provisions for ``mapping_method: lookup`` are found by the
Okta user id, not by name, so ``lookup_username`` gives every login a name: the dns-safe one where
it exists, else the same derivation on the login with its accents folded to ASCII, else a fallback
derived from the Okta user id (docs/identities.md).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

#: KubeSphere uses the username as a label value (``iam.kubesphere.io/user-ref``): at most 63.
MAX_USERNAME_LENGTH = 63
#: A DNS-1123 subdomain, as Kubernetes validates object names (docs/kubesphere-okta-facts.md, "Usernames and Users").
_NAME_CHARACTERS = re.compile(r"[A-Za-z0-9.-]*")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")

#: Characters of a login that the dns-safe username replaces, in the order both sides apply them.
#: None is a regular-expression metacharacter (see the module docstring); ``@`` keeps the domain.
REPLACEMENTS: tuple[tuple[str, str], ...] = (("@", "."),) + tuple((c, "-") for c in " !\"#%&',/:;<=>_`~")
_REPLACED = {c for c, _ in REPLACEMENTS}

#: Characters that Java regular expressions (what Okta's EL is built on) treat specially.
JAVA_REGEX_METACHARACTERS = frozenset("\\^$.|?*+()[]{}")

#: KubeSphere's built-in local account; always reserved, whatever ``reserved_usernames`` says.
ALWAYS_RESERVED: tuple[str, ...] = ("admin",)
#: Hex digits of sha256(Okta user id) appended to a name that two Okta users would share.
SUFFIX_LENGTH = 8
#: Okta user statuses whose users cannot sign in any more: they get no User and no role.
INACTIVE_STATUSES = frozenset({"DEPROVISIONED"})

OKTA_LOGIN = "user.login"
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
#: Steps 2 and 3 as one ``str.translate`` table. The same as lower-casing and then replacing one
#: character after the other, because no replacement ('.', '-') and no lower-case letter is itself
#: a replaced character (tests/test_usernames.py checks both agree).
_MAPPING = {**_ASCII_LOWER, **{ord(c): r for c, r in REPLACEMENTS}}


class UsernameError(ValueError):
    """A login that cannot become a KubeSphere username; the message says why and what to do."""


def is_kubesphere_username(name: str) -> bool:
    """True for a name KubeSphere accepts for a User: DNS-1123 subdomain of at most 63 characters."""
    return len(name) <= MAX_USERNAME_LENGTH and _DNS1123_SUBDOMAIN.fullmatch(name) is not None


def mapped_login(login: str) -> str:
    """Steps 1-3 of the module docstring, without any check: what both sides compute."""
    return login[:MAX_USERNAME_LENGTH].translate(_MAPPING)


def dns_safe_username(login: str) -> str:
    """The KubeSphere username for an Okta login, or ``UsernameError`` saying why there is none."""
    if not isinstance(login, str) or not login:
        raise UsernameError("the Okta login is empty")
    if "@" not in login[:MAX_USERNAME_LENGTH]:
        raise UsernameError(
            f"login {login!r} has no '@' in its first {MAX_USERNAME_LENGTH} characters; the dns-safe "
            "username keeps the login's domain so that it can never equal a local account such as admin"
        )
    name = mapped_login(login)
    # The characters of a name: ASCII letters and digits, '.', '-' (one regex instead of a look at each).
    unmapped = [] if _NAME_CHARACTERS.fullmatch(name) else sorted(
        {c for c in name if not (c.isascii() and (c.isalnum() or c in ".-"))})
    if unmapped:
        raise UsernameError(
            f"login {login!r} holds {', '.join(map(repr, unmapped))}, which the dns-safe username does "
            "not replace (only plain characters are, so that Okta computes the same name): change the login"
        )
    if not is_kubesphere_username(name):
        raise UsernameError(
            f"login {login!r} becomes {name!r}, which is not a DNS-1123 name (every dot-separated part must "
            "start and end with a letter or digit): change the login"
        )
    return name


def _el_string(text: str) -> str:
    """An EL string literal; Okta accepts both quote styles, so no escaping is ever needed."""
    if '"' in text and "'" in text:
        raise ValueError(f"cannot quote {text!r} without escapes")
    return f"'{text}'" if '"' in text else f'"{text}"'


def okta_username_expression() -> str:
    """The Okta Expression Language for a CUSTOM ``user_name_template`` equal to ``dns_safe_username``.

    Uses only ``String.len``, ``String.substring``, ``String.stringContains``, ``String.toLowerCase``,
    ``String.replace``, ``+``, ``>`` and ``? :``, all in Okta's Expression Language reference. At most
    1024 characters (Okta's limit for a username template).
    """
    n = MAX_USERNAME_LENGTH
    truncated = f"(String.len({OKTA_LOGIN}) > {n} ? String.substring({OKTA_LOGIN}, 0, {n}) : {OKTA_LOGIN})"
    name = f"String.toLowerCase({truncated})"
    for character, replacement in REPLACEMENTS:
        name = f"String.replace({name}, {_el_string(character)}, {_el_string(replacement)})"
    # No '@' to keep: answer a value ending in '@', which KubeSphere refuses, rather than a bare name.
    return f'(String.stringContains({truncated}, "@") ? {name} : {OKTA_LOGIN} + "@")'


# --- Lookup mode: a readable name for every login, or a stable fallback ---------------------------
#
# With ``mapping_method: lookup`` KubeSphere finds a member's User by the Okta user id (``sub``),
# never by name (kubesphere/kubesphere@v4.1.3:pkg/models/auth/mapper.go ``FindMappedUser``,
# @v3.4.1:pkg/models/auth/authenticator.go ``findMappedUser``), so the User's name need not equal
# what Okta computes: a login Okta's expression cannot turn into a name still gets one here.

#: Letters that are not "an ASCII letter plus accents" but are read as these ASCII letters.
LETTER_FOLDS: dict[str, str] = {
    "ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O",
    "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "TH",
}
#: Prefix of a name derived from the Okta user id, for logins with no readable name.
FALLBACK_PREFIX = "okta."
_FALLBACK_ID = re.compile(r"[a-z0-9]{1,%d}" % (MAX_USERNAME_LENGTH - len(FALLBACK_PREFIX)))

#: How a member's name was derived, in the order a shared name is given out (see ``assign_usernames``).
EXACT, FOLDED, FALLBACK = 0, 1, 2


def _fold_character(character: str) -> str | None:
    if character.isascii():
        return character
    if character in LETTER_FOLDS:
        return LETTER_FOLDS[character]
    if unicodedata.combining(character):
        return ""  # an accent written on its own after its letter
    # Only a character that is its own canonical form and decomposes into an ASCII letter plus
    # accents: e-diaeresis -> e. The Kelvin sign (U+212A) and the Angstrom sign (U+212B) are
    # canonical look-alikes of K and A-ring; fullwidth, mathematical and Cyrillic letters are
    # look-alikes too: none is folded, so none can produce another user's name.
    if unicodedata.normalize("NFC", character) != character:
        return None
    base, *marks = unicodedata.normalize("NFD", character)
    if marks and base.isascii() and base.isalpha() and all(unicodedata.combining(m) for m in marks):
        return base
    return None


def fold_to_ascii(text: str) -> str | None:
    """``text`` spelled in ASCII, dropping accents (Zoë.Ünicode -> Zoe.Unicode), or None when a
    character is not a Latin letter with accents or one of ``LETTER_FOLDS`` (look-alikes included)."""
    if text.isascii():
        return text  # every ASCII character is its own spelling
    folded = []
    for character in text:
        ascii_spelling = _fold_character(character)
        if ascii_spelling is None:
            return None
        folded.append(ascii_spelling)
    return "".join(folded)


def fallback_username(okta_id: str) -> str:
    """``okta.<Okta user id, lower-cased>``: stable, valid, and never a local account (it has a dot).

    Okta ids are case-sensitive; two ids equal but for case share this base and the second gets a
    collision suffix. An id that is not plain letters and digits becomes ``okta.<16 hex of sha256>``.
    """
    lowered = okta_id.lower()
    if _FALLBACK_ID.fullmatch(lowered):
        return FALLBACK_PREFIX + lowered
    return FALLBACK_PREFIX + hashlib.sha256(okta_id.encode("utf-8")).hexdigest()[:16]


def lookup_username(login: str, okta_id: str) -> tuple[str, int]:
    """(name, how) for a member pre-provisioned for ``mapping_method: lookup``; never raises.

    ``EXACT``: what Okta's dns-safe expression computes (``dns_safe_username``). ``FOLDED``: the same
    derivation applied to the login spelled in ASCII (``fold_to_ascii``). ``FALLBACK``:
    ``fallback_username(okta_id)``, for logins neither can turn into a name (no ``@``, characters
    that are not replaced, look-alike letters, label edges). Reserved names are the caller's check.
    """
    try:
        return dns_safe_username(login), EXACT
    except UsernameError:
        pass
    folded = fold_to_ascii(login or "")
    if folded and folded != login:
        try:
            return dns_safe_username(folded), FOLDED
        except UsernameError:
            pass
    return fallback_username(okta_id), FALLBACK


# --- Several Okta users at once: collisions, reserved names, roles --------------------------------


@dataclass(frozen=True)
class OktaMember:
    """What this project reads of an Okta group member (``okta.user.get_users``)."""

    id: str
    login: str
    email: str | None = None
    status: str | None = None

    def describe(self) -> str:
        return f"Okta user {self.login!r} ({self.id})"


def members_from_answer(answer: Mapping[str, Any] | None) -> list[OktaMember]:
    """The members in an answer of Okta's ``getUsers`` (``okta:user/getUsers:getUsers``) as the
    engine sends it: ``{"users": [{"id", "login", "email", "status", ...}, ...]}``, camelCase, the
    fields this project does not read ignored. A missing ``users`` (a group without members) is []."""
    return [OktaMember(id=u["id"], login=u.get("login"), email=u.get("email"), status=u.get("status"))
            for u in (answer or {}).get("users") or ()]


@dataclass(frozen=True)
class PlannedUser:
    """A KubeSphere User this project declares, and the one global role it binds to it."""

    username: str
    okta_id: str
    email: str
    role: str
    login: str


@dataclass(frozen=True)
class SkippedMember:
    """A group member who gets no User and no role this run, and why (one sentence with the fix)."""

    okta_id: str
    login: str
    reason: str

    def describe(self) -> str:
        return f"Okta user {self.login!r} ({self.okta_id}): {self.reason}"

    def as_output(self) -> dict[str, str]:
        """How the stack output ``skippedMembers`` lists it."""
        return {"oktaId": self.okta_id, "login": self.login, "reason": self.reason}


@dataclass(frozen=True)
class IdentityPlan:
    """The Users to declare (sorted by name) and the members skipped (sorted by Okta id)."""

    users: list[PlannedUser] = field(default_factory=list)
    skipped: list[SkippedMember] = field(default_factory=list)

    def warning(self) -> str:
        """One warning naming every skipped member, or "" when nobody was skipped."""
        if not self.skipped:
            return ""
        lines = "\n".join(f"  - {s.describe()}" for s in self.skipped)
        return (
            f"{len(self.skipped)} Okta group member(s) get no KubeSphere User or GlobalRoleBinding this run "
            f"(everyone else is provisioned; listed in the skippedMembers output; set strict_identities "
            f"to fail instead):\n{lines}"
        )


class IdentityProblems(ValueError):
    """Every member that cannot be provisioned, one line each; raised before any User is registered."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(
            f"KubeSphereOktaIntegration: {len(self.problems)} Okta group member(s) cannot be provisioned "
            f"in KubeSphere; no User or GlobalRoleBinding was declared (strict_identities is on):\n{lines}"
        )


def collision_suffix(okta_id: str) -> str:
    """Stable per user: the first hex digits of sha256 of the Okta user id (ids are case-sensitive)."""
    return hashlib.sha256(okta_id.encode("utf-8")).hexdigest()[:SUFFIX_LENGTH]


def suffixed_username(base: str, okta_id: str) -> str:
    """``<base>-<suffix>``, the base shortened (and stripped of a trailing '-' or '.') to fit 63."""
    head = base[: MAX_USERNAME_LENGTH - SUFFIX_LENGTH - 1].rstrip("-.")
    return f"{head}-{collision_suffix(okta_id)}"


def _reserved_reason(name: str) -> str:
    return (
        f"would become KubeSphere user {name!r}, a reserved local account name (reserved_usernames); "
        "it is never linked: rename the login in Okta or take the user out of the role_bindings groups"
    )


def _derive(member: OktaMember, deny: set[str], mapping_method: str) -> tuple[str, int] | str:
    """(base name, how) for one member, or the reason it gets none."""
    login = member.login or ""
    # What the login reads as, before any fallback: a reserved name here is refused, never renamed.
    mapped = mapped_login(login)
    folded = fold_to_ascii(login)
    readable = mapped if folded == login or not folded else mapped_login(folded)
    if readable in deny or mapped in deny:
        return _reserved_reason(readable if readable in deny else mapped)
    if mapping_method != "lookup":
        try:
            name, how = dns_safe_username(login), EXACT
        except UsernameError as error:
            return str(error)
    else:
        name, how = lookup_username(login, member.id)
    if name in deny:
        return _reserved_reason(name)
    return name, how


def assign_usernames(
    members: Iterable[OktaMember], reserved: Iterable[str] = (), mapping_method: str = "lookup"
) -> tuple[dict[str, str], list[SkippedMember]]:
    """Username per Okta user id, and every member who gets none (with the reason).

    ``lookup`` (what ``role_bindings`` needs): every login gets a name (``lookup_username``).
    ``auto``: only ``dns_safe_username``, the name Okta's expression computes, so both agree.

    A name two or more members would derive stays with one of them: an exact derivation before a
    folded one before a fallback, and among equals the smallest Okta id; each other one gets
    ``suffixed_username``. So a name never depends on the order groups are read in, a folded
    look-alike never takes the name of a member whose login spells it exactly, and a name changes
    only if a member who ranks before it later derives the same one. Reserved names (``ALWAYS_RESERVED``
    plus ``reserved``) are refused, never suffixed or linked. One sort, then linear.
    """
    deny = set(ALWAYS_RESERVED) | set(reserved)
    skipped: list[SkippedMember] = []
    derived: list[tuple[int, str, str, OktaMember]] = []
    for member in {m.id: m for m in members}.values():
        result = _derive(member, deny, mapping_method)
        if isinstance(result, str):
            skipped.append(SkippedMember(member.id, member.login or "", result))
        else:
            derived.append((result[1], member.id, result[0], member))
    derived.sort(key=lambda item: (item[0], item[1]))
    names: dict[str, str] = {}
    bases: set[str] = {base for _how, _id, base, _m in derived}
    given: set[str] = set()
    for _how, okta_id, base, member in derived:
        name = base if base not in given else suffixed_username(base, okta_id)
        if name in given or name in deny or (name != base and name in bases):
            skipped.append(SkippedMember(
                okta_id, member.login or "",
                f"its suffixed name {name!r} is taken by another member; rename the login in Okta",
            ))
            continue
        given.add(name)
        names[okta_id] = name
    return names, sorted(skipped, key=lambda s: s.okta_id)


def first_role(role_bindings: Sequence[tuple[str, str]], groups_of_member: Iterable[str]) -> str | None:
    """The role of the first ``role_bindings`` entry whose group the member belongs to."""
    groups = set(groups_of_member)
    return next((role for group, role in role_bindings if group in groups), None)


def plan_users(
    role_bindings: Sequence[tuple[str, str]],
    members_by_group: Mapping[str, Sequence[OktaMember]],
    reserved: Iterable[str] = (),
    *,
    other_groups: Sequence[str] = (),
    strict: bool = False,
    mapping_method: str = "lookup",
) -> IdentityPlan:
    """Every User to declare, with its one global role, and every member skipped and why.

    ``role_bindings`` are (group id, role) pairs in precedence order; ``members_by_group`` maps each
    group id to its members. Members of ``other_groups`` (groups that grant only workspace, project
    or cluster roles) get a User too, with role ``""`` (no global role) unless a ``role_bindings``
    group gives them one. Deactivated Okta users get nothing (and are not reported). A member
    without an email, members sharing one email (all of them: KubeSphere's webhook refuses the
    second and nobody can tell which is the owner), a reserved name, or a suffixed name that is
    taken, are skipped; everyone else is planned. ``strict`` raises ``IdentityProblems`` listing
    every skipped member instead, so that nothing is declared.
    """
    groups_of: dict[str, list[str]] = {}
    member_by_id: dict[str, OktaMember] = {}
    for group_id in dict.fromkeys([g for g, _role in role_bindings] + list(other_groups)):
        for member in members_by_group.get(group_id, ()):
            if member.status in INACTIVE_STATUSES:
                continue
            member_by_id.setdefault(member.id, member)
            groups_of.setdefault(member.id, []).append(group_id)
    skipped: list[SkippedMember] = []
    by_email: dict[str, list[str]] = {}
    for okta_id, member in member_by_id.items():
        if not member.email:
            skipped.append(SkippedMember(okta_id, member.login or "", "has no email; KubeSphere requires spec.email: "
                                         "give the Okta user an email"))
        else:
            by_email.setdefault(member.email, []).append(okta_id)  # KubeSphere's webhook compares exactly
    for email, ids in by_email.items():
        if len(ids) > 1:
            sharing = sorted(ids)
            for okta_id in sharing:
                # At most three others by id, so that many members sharing one email stay linear.
                others = [i for i in sharing[:4] if i != okta_id][:3]
                more = f" and {len(sharing) - 1 - len(others)} more" if len(sharing) - 1 > len(others) else ""
                skipped.append(SkippedMember(
                    okta_id, member_by_id[okta_id].login or "",
                    f"shares the email {email!r} with {', '.join(others)}{more}; KubeSphere requires a unique "
                    "email per User",
                ))
    excluded = {s.okta_id for s in skipped}
    names, refused = assign_usernames(
        (m for i, m in member_by_id.items() if i not in excluded), reserved, mapping_method
    )
    skipped = sorted([*skipped, *refused], key=lambda s: s.okta_id)
    if strict and skipped:
        raise IdentityProblems([s.describe() for s in skipped])
    planned = [
        PlannedUser(
            username=names[okta_id],
            okta_id=okta_id,
            email=member_by_id[okta_id].email or "",
            role=first_role(role_bindings, groups_of[okta_id]) or "",
            login=member_by_id[okta_id].login,
        )
        for okta_id in names
    ]
    return IdentityPlan(sorted(planned, key=lambda p: p.username), skipped)
