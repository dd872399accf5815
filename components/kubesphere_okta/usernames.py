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
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

#: KubeSphere uses the username as a label value (``iam.kubesphere.io/user-ref``): at most 63.
MAX_USERNAME_LENGTH = 63
#: A DNS-1123 subdomain, as Kubernetes validates object names (docs/kubesphere-okta-facts.md, "Usernames and Users").
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


class UsernameError(ValueError):
    """A login that cannot become a KubeSphere username; the message says why and what to do."""


def is_kubesphere_username(name: str) -> bool:
    """True for a name KubeSphere accepts for a User: DNS-1123 subdomain of at most 63 characters."""
    return len(name) <= MAX_USERNAME_LENGTH and _DNS1123_SUBDOMAIN.fullmatch(name) is not None


def mapped_login(login: str) -> str:
    """Steps 1-3 of the module docstring, without any check: what both sides compute."""
    name = login[:MAX_USERNAME_LENGTH].translate(_ASCII_LOWER)
    for character, replacement in REPLACEMENTS:
        name = name.replace(character, replacement)
    return name


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
    unmapped = sorted({c for c in name if not (c.isascii() and (c.isalnum() or c in ".-"))})
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


@dataclass(frozen=True)
class PlannedUser:
    """A KubeSphere User this project declares, and the one global role it binds to it."""

    username: str
    okta_id: str
    email: str
    role: str
    login: str


class IdentityProblems(ValueError):
    """Every member that cannot be provisioned, one line each; raised before any User is registered."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(
            f"KubeSphereOktaIntegration: {len(self.problems)} Okta group member(s) cannot be provisioned "
            f"in KubeSphere; no User or GlobalRoleBinding was declared:\n{lines}"
        )


def collision_suffix(okta_id: str) -> str:
    """Stable per user: the first hex digits of sha256 of the Okta user id (ids are case-sensitive)."""
    return hashlib.sha256(okta_id.encode("utf-8")).hexdigest()[:SUFFIX_LENGTH]


def suffixed_username(base: str, okta_id: str) -> str:
    """``<base>-<suffix>``, the base shortened (and stripped of a trailing '-' or '.') to fit 63."""
    head = base[: MAX_USERNAME_LENGTH - SUFFIX_LENGTH - 1].rstrip("-.")
    return f"{head}-{collision_suffix(okta_id)}"


def assign_usernames(members: Iterable[OktaMember], reserved: Iterable[str] = ()) -> tuple[dict[str, str], list[str]]:
    """Username per Okta user id, and a problem line for every member who gets none.

    A name two or more members would share stays with the member whose Okta id sorts first; each
    other one gets ``suffixed_username``. So a member's name never depends on the order groups are
    read in, and it changes only if a member with a smaller id later derives the same name.
    Reserved names (``ALWAYS_RESERVED`` plus ``reserved``) are refused, never suffixed or linked.
    """
    deny = set(ALWAYS_RESERVED) | set(reserved)
    problems: list[str] = []
    by_base: dict[str, list[OktaMember]] = {}
    for member in sorted({m.id: m for m in members}.values(), key=lambda m: m.id):
        try:
            base = dns_safe_username(member.login)
        except UsernameError as error:
            base = mapped_login(member.login or "")
            if base not in deny:
                problems.append(f"{member.describe()}: {error}")
                continue
        if base in deny:
            problems.append(
                f"{member.describe()} would become KubeSphere user {base!r}, a reserved local account "
                "name (reserved_usernames); it is never linked: rename the login in Okta or take the "
                "user out of the role_bindings groups"
            )
            continue
        by_base.setdefault(base, []).append(member)
    names: dict[str, str] = {}
    for base, sharing in by_base.items():
        for rank, member in enumerate(sharing):
            names[member.id] = base if rank == 0 else suffixed_username(base, member.id)
    taken: dict[str, str] = {}
    for okta_id in sorted(names):
        name = names[okta_id]
        if name in deny or name in taken:
            problems.append(f"Okta user {okta_id}: its suffixed name {name!r} is taken; rename the login in Okta")
            del names[okta_id]
            continue
        taken[name] = okta_id
    return names, problems


def first_role(role_bindings: Sequence[tuple[str, str]], groups_of_member: Iterable[str]) -> str | None:
    """The role of the first ``role_bindings`` entry whose group the member belongs to."""
    groups = set(groups_of_member)
    return next((role for group, role in role_bindings if group in groups), None)


def plan_users(
    role_bindings: Sequence[tuple[str, str]],
    members_by_group: Mapping[str, Sequence[OktaMember]],
    reserved: Iterable[str] = (),
    other_groups: Sequence[str] = (),
) -> list[PlannedUser]:
    """Every User to declare, with its one global role; ``IdentityProblems`` lists every refusal.

    ``role_bindings`` are (group id, role) pairs in precedence order; ``members_by_group`` maps each
    group id to its members. Members of ``other_groups`` (groups that grant only workspace, project
    or cluster roles) get a User too, with role ``""`` (no global role) unless a ``role_bindings``
    group gives them one. Deactivated Okta users get nothing. A refusal of one member refuses the
    whole plan, so a run never half-applies.
    """
    groups_of: dict[str, list[str]] = {}
    member_by_id: dict[str, OktaMember] = {}
    for group_id in dict.fromkeys([g for g, _role in role_bindings] + list(other_groups)):
        for member in members_by_group.get(group_id, ()):
            if member.status in INACTIVE_STATUSES:
                continue
            member_by_id.setdefault(member.id, member)
            groups_of.setdefault(member.id, []).append(group_id)
    names, problems = assign_usernames(member_by_id.values(), reserved)
    by_email: dict[str, list[str]] = {}
    for okta_id, name in names.items():
        email = member_by_id[okta_id].email
        if not email:
            problems.append(f"{member_by_id[okta_id].describe()} has no email; KubeSphere requires spec.email")
        else:
            by_email.setdefault(email, []).append(okta_id)  # KubeSphere's webhook compares exactly
    for email, ids in sorted(by_email.items()):
        if len(ids) > 1:
            users = ", ".join(member_by_id[i].describe() for i in sorted(ids))
            problems.append(f"{users} share the email {email!r}; KubeSphere requires a unique email per User")
    if problems:
        raise IdentityProblems(problems)
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
    return sorted(planned, key=lambda p: p.username)
