"""Validation rules for a KubeSphere <-> Okta integration: pure functions, no Pulumi, no I/O.

Each ``check_*`` function takes one value, returns it normalised, or raises ``ValueError`` with
a sentence saying what is wrong and how to fix it. ``integration_problems`` runs them all (plus
the checks that span several settings) and returns every problem at once, so a user fixes a bad
configuration in one round. The facts behind each rule: docs/kubesphere-okta-facts.md.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence
from urllib.parse import urlsplit

from . import kubesphere_roles, kubesphere_versions
from .usernames import is_kubesphere_username

#: What differs by KubeSphere version lives in ``kubesphere_versions`` (it imports nothing of this
#: package); these names stay importable from here.
SUPPORTED_VERSIONS = kubesphere_versions.SUPPORTED_VERSIONS
V3_VERSIONS = kubesphere_versions.V3_VERSIONS
V4_VERSIONS = kubesphere_versions.V4_VERSIONS
IDENTITY_ANNOTATION_VERSIONS = kubesphere_versions.IDENTITY_ANNOTATION_VERSIONS
POST_LOGOUT_REDIRECT_VERSIONS = kubesphere_versions.POST_LOGOUT_REDIRECT_VERSIONS
is_v3 = kubesphere_versions.is_v3
is_v4 = kubesphere_versions.is_v4

MAPPING_METHODS: tuple[str, ...] = ("auto", "lookup")
#: "okta-login": Okta's default app username (the login, normally an email address);
#: "dns-safe": a CUSTOM user_name_template that KubeSphere accepts as a User name (usernames.py).
USERNAME_FORMATS: tuple[str, ...] = ("okta-login", "dns-safe")
DEFAULT_PROVIDER_NAME = "Okta"
DEFAULT_SCOPES: tuple[str, ...] = ("openid", "email", "profile")

#: Kubernetes label-value syntax; KubeSphere uses the provider name as a label value (docs/kubesphere-okta-facts.md, "Usernames and Users").
_LABEL_VALUE = re.compile(r"^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)$")
#: ISO-8601 duration as Okta's re_authentication_frequency takes it (e.g. PT12H, P1D, PT0S).
_ISO8601_DURATION = re.compile(
    r"^P(?=\d|T\d)(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+S)?)?$"
)
#: Go time.Duration syntax, which ks-apiserver parses for accessTokenMaxAge and friends.
_GO_DURATION = re.compile(r"^(?:0|(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+)$")
#: Okta object ids: 20 characters, groups start with 00g.
_OKTA_GROUP_ID = re.compile(r"^00g[A-Za-z0-9]{17}$")
_SCOPE = re.compile(r"^[\x21\x23-\x5B\x5D-\x7E]+$")  # RFC 6749 scope-token characters
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
#: Whitespace and control characters: urlsplit silently drops some (tab, newline), the original keeps them.
_URL_FORBIDDEN = re.compile(r"[\x00-\x20\x7f-\xa0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]")

#: KubeSphere 4.1 adds this prefix to the provider name in an annotation key (docs/kubesphere-okta-facts.md, "Usernames and Users"): the
#: annotation name part is limited to 63 characters, hence 45 for the provider name.
V4_PROVIDER_NAME_MAX = 45
V3_PROVIDER_NAME_MAX = 63


@dataclass(frozen=True)
class Fix:
    """What resolves one problem, said in settings, not in any one spelling of their names: the
    program renders it as a ``pulumi config`` command, the component as an argument change."""

    field: str
    action: str
    """``set`` (field to value), ``remove`` (the field), ``append`` (value to the list field),
    ``set_key`` (``key`` of the mapping field to value), ``rename`` (the field to the name in value),
    ``remove_key`` (the entry at path ``key``, a tuple of keys, inside the mapping field)."""
    value: Any = None
    key: Any = None
    path: tuple[str | int, ...] = ()
    """Where inside the field ``set`` or ``remove`` acts: mapping keys and list indexes, outermost first."""


class Problem(tuple):
    """``(field, message)`` as before, plus the fixes that belong to this problem (may be empty)."""

    fixes: tuple[Fix, ...]

    def __new__(cls, field: str, message: str, fixes: Sequence[Fix] = ()):
        problem = super().__new__(cls, (field, message))
        problem.fixes = tuple(fixes)
        return problem


class RuleError(ValueError):
    """A check's error, with the corrected value when the check knows it (``suggestion``), or the
    changes that resolve it (``fixes``, relative to the checked field: ``Fix.field`` is ignored)."""

    def __init__(self, message: str, suggestion: Any = None, fixes: Sequence[Fix] = ()):
        super().__init__(message)
        self.suggestion = suggestion
        self.fixes = tuple(fixes)


#: Values only the user knows: fixes carry these where a value belongs, and every check refuses them
#: (none is a URL, a version, a DNS name or a role), so a fix applied without editing never plans.
PLACEHOLDER = re.compile(r"^<[^<>]+>$")
CONSOLE_URL_PLACEHOLDER = "<your KubeSphere console URL>"
VERSION_PLACEHOLDER = "<your KubeSphere version: 3.2, 3.3, 3.4 or 4.1>"
GROUP_PLACEHOLDER = "<Okta group>"
GROUP_ID_PLACEHOLDER = "<Okta group id 00g...>"


def is_placeholder(value: Any) -> bool:
    return isinstance(value, str) and PLACEHOLDER.fullmatch(value) is not None


def dns_label(text: Any, *, max_length: int = 63) -> str | None:
    """The DNS-1123 label a name was meant to be (``Team_A`` -> ``team-a``), or None when nothing is left."""
    if not isinstance(text, str):
        return None
    label = re.sub(r"[^a-z0-9]+", "-", text.strip().lower()).strip("-")[:max_length].rstrip("-")
    return label or None


def dns_subdomain(text: Any) -> str | None:
    """A role name (DNS-1123 subdomain) a value was meant to be, or None."""
    if not isinstance(text, str):
        return None
    name = ".".join(p for p in (dns_label(part) for part in text.split(".")) if p)[:253].rstrip("-.")
    return name or None


def closest_choice(value: Any, choices: Sequence[str]) -> str | None:
    """The allowed value a wrong one was meant to be: same letters ignoring case, else a close spelling."""
    if not isinstance(value, str):
        return None
    folded = {c.lower(): c for c in choices}
    if value.strip().lower() in folded:
        return folded[value.strip().lower()]
    import difflib

    close = difflib.get_close_matches(value.strip().lower(), list(folded), n=1, cutoff=0.6)
    return folded[close[0]] if close else None


#: How the names of settings are said in messages. The component's own words are its argument
#: names (``mapping_method``); a program that exposes them under other names (config keys such as
#: ``mappingMethod``) sets its own translation around the calls it makes, so every message, the
#: component's warnings included, names settings as that program's user writes them.
message_terms: ContextVar[Callable[[str], str]] = ContextVar("message_terms", default=lambda text: text)


def in_terms(text: str) -> str:
    """``text`` in the caller's terms (``message_terms``), with URL credentials redacted."""
    return redact(message_terms.get()(text))


#: A URL's user information (``user:password@``), which must never be echoed in a message.
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@'\"]*@")


def redact(text: str) -> str:
    """``text`` with the user information of every URL in it replaced by ``***``."""
    return _URL_USERINFO.sub(r"\1***@", text)


def shown(value: Any) -> str:
    """A value as messages echo it: its repr, with any URL credentials redacted."""
    return redact(repr(value))


#: The one boolean syntax, the one ``pulumi.Config.get_bool`` reads: true/True/false/False
#: (a YAML boolean in a stack file reaches the program as "true"/"false").
_BOOLEANS = {"true": True, "True": True, "false": False, "False": False}


#: Texts people mean as booleans that Pulumi's get_bool refuses: the fix spells them true/false.
_MEANT_BOOLEANS = {"yes": True, "y": True, "on": True, "1": True, "true": True,
                   "no": False, "n": False, "off": False, "0": False, "false": False}


def meant_bool(value: Any, default: bool = True) -> bool:
    """The boolean a refused switch value meant (``yes``/``off``...), else ``default``."""
    return _MEANT_BOOLEANS.get(value.strip().lower(), default) if isinstance(value, str) else default


def parse_bool(value: Any, *, field: str = "value") -> bool:
    """A boolean setting: a bool, or the text ``pulumi config set`` stores (``true``/``false``)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in _BOOLEANS:
        return _BOOLEANS[value]
    raise RuleError(f"{field} must be true or false, got {shown(value)}", suggestion=meant_bool(value))


def check_kubesphere_version(value: Any) -> str:
    text = str(value).strip() if isinstance(value, (str, int, float)) and not isinstance(value, bool) else None
    if text not in SUPPORTED_VERSIONS:
        raise RuleError(
            f"kubesphere_version must be one of {', '.join(SUPPORTED_VERSIONS)} (got {value!r}); "
            "3.x keeps identity providers in the ks-installer ClusterConfiguration, 4.1 in a Secret",
            suggestion=_meant_version(text) or VERSION_PLACEHOLDER,
        )
    return text


def _meant_version(text: str | None) -> str | None:
    """The supported version a release was written as (``v3.4.1`` -> ``3.4``), never another release."""
    match = re.fullmatch(r"[vV]?(\d+)\.(\d+)(?:\.(\d+))?", text or "")
    if not match:
        return None
    minor = f"{int(match.group(1))}.{int(match.group(2))}"
    if minor in V3_VERSIONS:
        return minor
    patch = f"{minor}.{int(match.group(3))}" if match.group(3) else None
    return patch if patch in SUPPORTED_VERSIONS else minor if minor in SUPPORTED_VERSIONS and not patch else None


def check_console_url(value: Any) -> str:
    """The console's base URL: https (http only for localhost), no query or fragment.

    A trailing slash is dropped so that the redirect URL never holds a double slash.
    """
    if not isinstance(value, str) or not value.strip():
        raise RuleError("console_url is required: the KubeSphere console's base URL, e.g. https://console.example.com",
                        suggestion=CONSOLE_URL_PLACEHOLDER)
    _refuse_control_characters(value.strip(), "console_url")
    parts = urlsplit(value.strip())
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise RuleError(f"console_url must be an absolute https URL such as https://console.example.com (got {shown(value)})",
                        suggestion=_with_https(value.strip(), check_console_url))
    if parts.scheme == "http" and host not in _LOCAL_HOSTS:
        raise RuleError(
            f"console_url must use https (got {shown(value)}): Okta refuses plain-http redirect URIs "
            "except for localhost", suggestion="https" + value.strip()[len("http"):].rstrip("/"),
        )
    # Look for the delimiters themselves: urlsplit reports an empty query ("/?"), fragment ("#") or
    # user info ("https://@host") as "", and the redirect URL would be built after it.
    if "?" in value or "#" in value or "*" in value or "@" in parts.netloc:
        plain = f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path}".rstrip("/")
        raise RuleError(
            f"console_url must be a plain base URL without query, fragment, credentials or wildcard (got {shown(value)})",
            suggestion=None if "*" in plain else plain,
        )
    return value.strip().rstrip("/")


def _with_https(value: str, check: Callable[[Any], Any]) -> str | None:
    """``https://`` + a URL written without its scheme (``acme.okta.com``), when that is a valid value."""
    if "://" in value or not re.match(r"[A-Za-z0-9]", value):
        return None
    try:
        return check("https://" + value)
    except ValueError:
        return None


def _refuse_control_characters(value: str, field: str) -> None:
    found = _URL_FORBIDDEN.search(value)
    if found:
        raise ValueError(
            f"{field} must not contain whitespace or control characters (found {found.group()!r} at position "
            f"{found.start()} of {value!r}): URL parsers drop some of them, so the URL checked would not be the one used"
        )


def check_issuer(value: Any) -> str:
    """The Okta issuer, byte-identical to the discovery document's ``issuer`` (docs/kubesphere-okta-facts.md, "A login")."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(
            "issuer is required: https://<org>.okta.com for the org authorization server, "
            "or https://<org>.okta.com/oauth2/<server id> for a custom one"
        )
    if value != value.strip():
        raise RuleError(f"issuer must not have surrounding whitespace (got {shown(value)})", suggestion=value.strip())
    _refuse_control_characters(value, "issuer")
    if value.endswith("/"):
        raise RuleError(
            f"issuer must not end with a slash (got {shown(value)}, use {shown(value.rstrip('/'))}): KubeSphere "
            "compares it byte for byte with the issuer Okta publishes, and skips the provider on a mismatch",
            suggestion=redact(value.rstrip("/")) if value.rstrip("/") == redact(value.rstrip("/")) else None,
        )
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise RuleError(f"issuer must be an https URL such as https://example.okta.com (got {shown(value)})",
                        suggestion=_with_https(value, check_issuer))
    if "?" in value or "#" in value or "@" in parts.netloc:  # even empty ones (see check_console_url)
        raise ValueError(f"issuer must not carry a query, fragment or credentials (got {shown(value)})")
    if parts.path not in ("",) and not re.fullmatch(r"/oauth2/[A-Za-z0-9]+", parts.path):
        raise ValueError(
            f"issuer path must be empty (org authorization server) or /oauth2/<server id> "
            f"(custom authorization server), got {parts.path!r}"
        )
    return value


def check_provider_name(value: Any) -> str:
    """A Kubernetes label value: KubeSphere labels Users with it (docs/kubesphere-okta-facts.md, "Usernames and Users")."""
    if not isinstance(value, str) or not value:
        raise ValueError("provider_name must be a non-empty name such as 'Okta'")
    if len(value) > V3_PROVIDER_NAME_MAX or not _LABEL_VALUE.fullmatch(value):
        raise ValueError(
            f"provider_name {value!r} must be a valid Kubernetes label value: at most 63 characters, "
            "letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        )
    return value


def check_mapping_method(value: Any) -> str:
    if value not in MAPPING_METHODS:
        raise RuleError(
            f"mapping_method must be 'auto' (KubeSphere creates the user at first login) or "
            f"'lookup' (the user must already exist), got {value!r}", suggestion=closest_choice(value, MAPPING_METHODS),
        )
    return value


def check_scopes(value: Any) -> list[str]:
    """Scopes in order, without duplicates, ``openid`` always first (no id_token without it)."""
    if isinstance(value, (str, Mapping)) or not isinstance(value, Iterable):
        raise _not_a_list("scopes", value, "scope names",
                          lambda s: s.strip() if isinstance(s, str) and _SCOPE.fullmatch(s.strip()) else None)
    scopes: list[str] = []
    items = list(value)
    for scope in items:
        if not isinstance(scope, str) or not _SCOPE.fullmatch(scope):
            raise RuleError(f"scopes: {scope!r} is not a valid OAuth scope name (no spaces or quotes)",
                            fixes=_bad_items("scopes", items, lambda s: s if isinstance(s, str) and _SCOPE.fullmatch(s) else
                                             s.strip() if isinstance(s, str) and _SCOPE.fullmatch(s.strip()) else None))
        if scope not in scopes:
            scopes.append(scope)
    if "openid" in scopes:
        scopes.remove("openid")
    return ["openid", *scopes]


def check_claim(value: Any, *, field: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_.:-]+", value):
        raise ValueError(f"{field} must be the name of an ID-token claim such as 'preferred_username', got {value!r}")
    return value


def check_iso8601_duration(value: Any, *, field: str = "reauthenticate_every") -> str:
    if not isinstance(value, str) or not _ISO8601_DURATION.fullmatch(value):
        raise ValueError(f"{field} must be an ISO-8601 duration such as PT12H or P1D (got {value!r})")
    return value


def check_go_duration(value: Any, *, field: str) -> str:
    if not isinstance(value, str) or not _GO_DURATION.fullmatch(value):
        raise ValueError(f"{field} must be a duration as KubeSphere writes it, such as 1h, 30m or 2h45m (got {value!r})")
    return value


def _not_a_list(field: str, value: Any, what: str, meant: Callable[[Any], Any] = lambda item: item,
                placeholder: str | None = None) -> RuleError:
    """A single value (or a mapping) where a list belongs: the fix makes it the list's items, each as
    ``meant`` reads it (an item that means nothing becomes ``placeholder``, or is left out)."""
    if isinstance(value, str) and value.strip():
        given = [value]
    elif isinstance(value, Mapping):
        given = [k for k in value if isinstance(k, str)] or [v for v in value.values() if isinstance(v, str)]
    else:
        given = []
    items = list(dict.fromkeys(m if m is not None else placeholder for m in map(meant, given)))
    items = [item for item in items if item is not None]
    shape = "[" + ", ".join(items) + "]" if items else "[...]"
    fixes = [Fix(field, "remove")] + [Fix(field, "set", item, path=(i,)) for i, item in enumerate(items)]
    return RuleError(f"{field} must be a list of {what}, e.g. {shape}, got {shown(value)}", fixes=fixes)


def _bad_items(field: str, items: list[Any], meant: Callable[[Any], Any], placeholder: str | None = None) -> list[Fix]:
    """Per-index fixes for the bad items of a list, highest index first so that a removal shifts
    no index a later fix names. ``meant(item)`` is the good item or None (then the placeholder, or removal)."""
    decisions: list[Fix | None] = []
    seen: set[Any] = set()
    for index, item in enumerate(items):  # an item the same as an earlier one's good value is dropped
        good = meant(item)
        if good is None:
            decisions.append(Fix(field, "set", placeholder, path=(index,)) if placeholder is not None
                             else Fix(field, "remove", path=(index,)))
        elif good in seen:
            decisions.append(Fix(field, "remove", path=(index,)))
        else:
            seen.add(good)
            decisions.append(Fix(field, "set", good, path=(index,)) if good != item else None)
    fixes = [fix for fix in reversed(decisions) if fix is not None]
    return fixes


#: Okta refuses a group name longer than this: "Minimum length of one character and maximum length of 255
#: characters" (Okta's documentation of a group's Name, help.okta.com Workflows connector reference, Create Group).
OKTA_GROUP_NAME_MAX = 255


def check_group_ids(value: Any) -> list[str]:
    if isinstance(value, (str, Mapping)) or not isinstance(value, Iterable):
        raise _not_a_list("group_ids", value, "Okta group ids (00g...)",
                          lambda g: g.strip() if isinstance(g, str) and _OKTA_GROUP_ID.fullmatch(g.strip()) else None,
                          GROUP_ID_PLACEHOLDER)
    ids = list(value)
    bad = [gid for gid in ids if not isinstance(gid, str) or not _OKTA_GROUP_ID.fullmatch(gid)]
    if bad:
        fixed = _bad_items("group_ids", ids, lambda g: g.strip() if isinstance(g, str) and _OKTA_GROUP_ID.fullmatch(g.strip())
                           else g if isinstance(g, str) and _OKTA_GROUP_ID.fullmatch(g) else None, GROUP_ID_PLACEHOLDER)
        raise RuleError(f"group_ids: {', '.join(map(repr, bad))} not an Okta group id (20 characters starting with 00g)",
                        fixes=fixed)
    return list(dict.fromkeys(ids))


def _group_name(name: Any) -> str | None:
    """The group name an entry means: itself trimmed, or the text of a number YAML made of it (``0x1F``
    reaches the program as 31); None when there is none."""
    if isinstance(name, (int, float)) and not isinstance(name, bool):
        name = str(name)
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > OKTA_GROUP_NAME_MAX:
        return None
    return name.strip()


def check_group_names(value: Any) -> list[str]:
    if isinstance(value, (str, Mapping)) or not isinstance(value, Iterable):
        raise _not_a_list("group_names", value, "Okta group names", _group_name)
    names = list(value)
    bad = [n for n in names if not isinstance(n, str) or _group_name(n) != n]
    if bad:
        raise RuleError(
            f"group_names: {', '.join(shown(n) if not isinstance(n, str) or len(n) <= 80 else repr(n[:60] + '...') for n in bad)} "
            f"not a group name (empty, padded with spaces, or longer than Okta's {OKTA_GROUP_NAME_MAX} characters)",
            fixes=_bad_items("group_names", names, _group_name),
        )
    return list(dict.fromkeys(names))


def is_okta_group_id(value: str) -> bool:
    """True for an Okta group id (00g...); anything else in role_bindings is a group name."""
    return bool(_OKTA_GROUP_ID.fullmatch(value))


def check_app_label(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        raise ValueError(f"app_label must be a non-empty display name of at most 100 characters, got {value!r}")
    return value


def exact_group_id(asked_name: str, found_name: str | None, found_id: str | None) -> str:
    """Okta's group lookup by name matches prefixes: accept only an exact hit (docs/kubesphere-okta-facts.md, "Okta")."""
    if not found_id or found_name != asked_name:
        found = f"only {found_name!r}" if found_name else "nothing"
        raise ValueError(
            f"Okta group {asked_name!r} was not found by its exact name (Okta's lookup returned "
            f"{found}); check the spelling in group_names or list the group's id in group_ids"
        )
    return found_id


def org_issuer(org_name: str, base_url: str) -> str:
    """Issuer of the Okta org authorization server, from the okta provider's own config."""
    return f"https://{org_name}.{base_url}"


def custom_issuer(org_issuer_url: str, authorization_server_id: str) -> str:
    """Issuer of a custom authorization server (``default`` is Okta's built-in custom one)."""
    return f"{org_issuer_url}/oauth2/{authorization_server_id}"


def check_username_format(value: Any) -> str:
    if value not in USERNAME_FORMATS:
        raise RuleError(
            f"username_format must be 'okta-login' (Okta's default: the login, usually an email address) "
            f"or 'dns-safe' (a name KubeSphere accepts, e.g. jane.doe@acme.com -> jane.doe.acme.com), got {value!r}",
            suggestion=closest_choice(value, USERNAME_FORMATS),
        )
    return value


def check_authorization_server_id(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9]+", value):
        raise ValueError(
            f"authorization_server_id must be the id of an Okta custom authorization server "
            f"('default' or aus...), got {value!r}"
        )
    return value


def _pairs_of(value: Any) -> list[tuple[Any, Any]]:
    """The (group, value) pairs a wrongly shaped role map holds: a list of one-entry mappings
    ([{Admins: platform-admin}]) is read as the mapping it was meant to be."""
    if isinstance(value, Mapping):
        return list(value.items())
    if isinstance(value, list):
        return [pair for item in value if isinstance(item, Mapping) for pair in item.items()]
    return []


def _role_map_shape(field: str, value: Any, example: str, placeholder_value: Any, head: str) -> RuleError:
    """A role map that is not a mapping: its entries as the mapping they were meant to be, with the user's names."""
    pairs = _pairs_of(value)
    fixes = [Fix(field, "remove")]
    if pairs:
        for group, target in pairs:
            if isinstance(target, Mapping):
                fixes += [Fix(field, "set", role, path=(str(group), str(t))) for t, role in target.items()]
            else:
                fixes.append(Fix(field, "set", target, path=(str(group),)) if not isinstance(placeholder_value, tuple)
                             else Fix(field, "set", target, path=(str(group), placeholder_value[0])))
        shape = "{" + ", ".join(f"{g}: {t}" for g, t in pairs) + "}"
    else:
        roles = value if isinstance(value, list) else [value]
        for role in [r for r in roles if isinstance(r, str)] or [None]:
            if isinstance(placeholder_value, tuple):
                fixes.append(Fix(field, "set", role or placeholder_value[1], path=(GROUP_PLACEHOLDER, placeholder_value[0])))
            else:
                fixes.append(Fix(field, "set", role or placeholder_value, path=(GROUP_PLACEHOLDER,)))
        shape = example
    return RuleError(f"{field} must map Okta groups (name or 00g... id) to {head}, e.g. {shape}, got {shown(value)}",
                     fixes=fixes)


def _group_key_problem(field: str, group: Any, entry: Any) -> tuple[str, list[Fix]] | None:
    """A group key that is empty or padded: the fix moves its entry to the trimmed name (or drops it)."""
    if isinstance(group, str) and group.strip() and group == group.strip() and len(group) <= OKTA_GROUP_NAME_MAX:
        return None
    fixes = [Fix(field, "remove", path=(str(group),))]
    good = _group_name(group)
    if good is not None:
        if isinstance(entry, Mapping):
            fixes += [Fix(field, "set", role, path=(good, str(t))) for t, role in entry.items()]
        else:
            fixes.append(Fix(field, "set", entry, path=(good,)))
    return (f"{field}: {shown(group)} is not an Okta group name or id (empty, padded with spaces, or longer than "
            f"{OKTA_GROUP_NAME_MAX} characters)", fixes)


def _raise_all(found: list[tuple[str, list[Fix]]]) -> None:
    if found:
        raise RuleError("; ".join(m for m, _ in found), fixes=[f for _, fixes in found for f in fixes])


def check_role_bindings(value: Any) -> list[tuple[str, str]]:
    """(group, role) pairs in the order given: the first matching group decides a user's role."""
    if not isinstance(value, Mapping):
        raise _role_map_shape("role_bindings", value, "{'KubeSphere Admins': 'platform-admin'}", "<global role>",
                              "KubeSphere global roles")
    found: list[tuple[str, list[Fix]]] = []
    pairs: list[tuple[str, str]] = []
    for group, role in value.items():
        bad_group = _group_key_problem("role_bindings", group, role)
        if bad_group:
            found.append(bad_group)
            continue
        if not isinstance(role, str) or not is_kubesphere_username(role):
            meant = dns_subdomain(role) if isinstance(role, str) else None
            found.append((
                f"role_bindings: role {role!r} for group {group!r} is not a KubeSphere global role name "
                "(lower-case DNS-1123, at most 63 characters, e.g. platform-admin, platform-regular)",
                [Fix("role_bindings", "set", meant if meant and is_kubesphere_username(meant) else "<global role>", path=(group,))],
            ))
            continue
        pairs.append((group, role))
    _raise_all(found)
    return pairs


#: Workspace and namespace names are DNS-1123 labels; role object names DNS-1123 subdomains.
_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
#: The scoped role maps, each with what its keys name and example roles for messages.
SCOPED_ROLE_MAPS: dict[str, tuple[str, str]] = {
    "workspace_role_bindings": ("workspace", "admin, regular, viewer, self-provisioner or a custom WorkspaceRole's full name"),
    "project_role_bindings": ("namespace", "admin, operator, viewer or a custom Role"),
}


def _is_role_name(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 253 and _DNS1123_SUBDOMAIN.fullmatch(value) is not None


def _check_group_key(field: str, group: Any) -> None:
    if not isinstance(group, str) or not group.strip() or group != group.strip():
        raise ValueError(f"{field}: {group!r} is not an Okta group name or id (empty or padded with spaces)")


def check_scoped_role_bindings(value: Any, *, field: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """``workspace_role_bindings`` / ``project_role_bindings``: Okta group -> {workspace or namespace:
    role}, as (group, [(target, role)]) in the order given (the first group a member is in wins)."""
    what, roles = SCOPED_ROLE_MAPS[field]
    example = "{'KS Team A': {'team-a': 'regular'}}" if what == "workspace" else "{'KS Team A': {'team-a-dev': 'operator'}}"
    target_placeholder, role_placeholder = f"<{what}>", f"<{what.replace('namespace', 'project')} role>"
    if not isinstance(value, Mapping):
        raise _role_map_shape(field, value, example, (target_placeholder, role_placeholder), f"{{{what}: role}}")
    found: list[tuple[str, list[Fix]]] = []
    pairs: list[tuple[str, list[tuple[str, str]]]] = []
    for group, targets in value.items():
        bad_group = _group_key_problem(field, group, targets)
        if bad_group:
            found.append(bad_group)
            continue
        if not isinstance(targets, Mapping) or not targets:
            fixes = [Fix(field, "remove", path=(group,))]
            if isinstance(targets, str):  # a role where the {what: role} mapping belongs
                fixes.append(Fix(field, "set", targets if _is_role_name(targets) else role_placeholder,
                                 path=(group, target_placeholder)))
                shape = f"{{{group}: {{{target_placeholder}: {targets}}}}}"
            elif isinstance(targets, list):  # a list of workspaces or of {what: role} mappings
                entries = _pairs_of(targets) or [(t, role_placeholder) for t in targets if isinstance(t, str)]
                fixes += [Fix(field, "set", r, path=(group, dns_label(t) or target_placeholder)) for t, r in entries]
                shape = f"{{{group}: {{{', '.join(f'{dns_label(t) or target_placeholder}: {r}' for t, r in entries)}}}}}"
            else:
                shape = f"{{{group}: {{{target_placeholder}: {role_placeholder}}}}}"
            found.append((f"{field}: group {group!r} must map to a non-empty {{{what}: role}} mapping, e.g. {shape}, "
                          f"got {shown(targets)}", fixes))
            continue
        checked: list[tuple[str, str]] = []
        for target, role in targets.items():
            if not isinstance(target, str) or len(target) > 63 or not _DNS1123_LABEL.fullmatch(target):
                meant = dns_label(target)
                found.append((
                    f"{field}: {target!r} (group {group!r}) is not a KubeSphere {what} name (lower-case DNS-1123 "
                    "label: letters, digits and '-', at most 63 characters)",
                    [Fix(field, "remove", path=(group, str(target))),
                     Fix(field, "set", role if _is_role_name(role) else role_placeholder,
                         path=(group, meant if meant and meant not in targets else target_placeholder))],
                ))
                continue
            if not _is_role_name(role):
                meant = dns_subdomain(role)
                found.append((f"{field}: role {role!r} for {what} {target!r} (group {group!r}) is not a role name ({roles})",
                              [Fix(field, "set", meant if _is_role_name(meant) else role_placeholder, path=(group, target))]))
                continue
            checked.append((target, role))
        pairs.append((group, checked))
    _raise_all(found)
    return pairs


def check_cluster_role_bindings(value: Any) -> list[tuple[str, str]]:
    """``cluster_role_bindings``: Okta group -> cluster role, as (group, role) in the order given."""
    if not isinstance(value, Mapping):
        raise _role_map_shape("cluster_role_bindings", value, "{'KS SRE': 'cluster-viewer'}", "<cluster role>",
                              "a cluster role")
    found: list[tuple[str, list[Fix]]] = []
    pairs: list[tuple[str, str]] = []
    for group, role in value.items():
        bad_group = _group_key_problem("cluster_role_bindings", group, role)
        if bad_group:
            found.append(bad_group)
            continue
        if not _is_role_name(role):
            if isinstance(role, Mapping):  # a per-cluster or {role: ...} map: the one role name it holds
                named = [r for r in role.values() if _is_role_name(r)] or [r for r in role if _is_role_name(r)]
                meant = named[0] if len(set(named)) == 1 else None
                shape = f" (one role for the group, e.g. {{{group}: {meant or '<cluster role>'}}}: the role applies to the cluster the stack writes to)"
            else:
                meant, shape = dns_subdomain(role), ""
            found.append((
                f"cluster_role_bindings: role {role!r} for group {group!r} is not a cluster role name "
                f"(cluster-admin, cluster-viewer or a custom ClusterRole){shape}",
                [Fix("cluster_role_bindings", "set", meant if _is_role_name(meant) else "<cluster role>", path=(group,))],
            ))
            continue
        pairs.append((group, role))
    _raise_all(found)
    return pairs


def _meant_username(name: Any) -> str | None:
    """The KubeSphere user name a reserved entry means: itself, or as the dns-safe format derives it."""
    if isinstance(name, str) and is_kubesphere_username(name):
        return name
    from .usernames import mapped_login

    derived = mapped_login(name.strip()) if isinstance(name, str) and name.strip() else None
    return derived if derived and is_kubesphere_username(derived) else None


def check_reserved_usernames(value: Any) -> list[str]:
    if isinstance(value, (str, Mapping)) or not isinstance(value, Iterable):
        raise _not_a_list("reserved_usernames", value, "KubeSphere user names", _meant_username)
    names = list(value)
    bad = [n for n in names if not isinstance(n, str) or not is_kubesphere_username(n)]
    if bad:
        raise RuleError(
            f"reserved_usernames: {', '.join(map(repr, bad))} can never be a KubeSphere user name "
            "(lower-case DNS-1123, at most 63 characters), so reserving it protects nothing",
            fixes=_bad_items("reserved_usernames", names, _meant_username),
        )
    return list(dict.fromkeys(names))


def check_verify_login_timeout(value: Any) -> float:
    """Seconds ``pulumi up`` waits for login to be ready (verify_login); a 3.x installer run takes minutes."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 24 * 3600:
        raise ValueError(
            f"verify_login_timeout must be a positive number of seconds, at most 86400 (default 900), got {value!r}"
        )
    return float(value)


def check_kubeconfig(value: Any) -> str:
    """A path or kubeconfig contents; contents are checked here (a path is read by the provider)."""
    from .cluster_binding import kubeconfig_problem

    if not isinstance(value, str) or not value.strip():
        raise ValueError("kubeconfig must be a kubeconfig file's contents or its path (a non-empty string)")
    if "\n" in value.strip() or value.lstrip().startswith("{"):
        problem = kubeconfig_problem(value)
        if problem and "no current-context" not in problem:
            raise ValueError(problem)
    return value


def check_kube_context(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or value != value.strip():
        raise ValueError(f"kube_context must be the name of a kubeconfig context, got {value!r}")
    return value


#: A Kubernetes uid as the API server writes it (RFC 4122 text form).
_UID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def check_cluster_uid(value: Any) -> str:
    if not isinstance(value, str) or not _UID.fullmatch(value):
        raise ValueError(
            "rebind_cluster must be the uid of the new cluster's kube-system Namespace as the refusal message "
            f"shows it (`kubectl get namespace kube-system -o jsonpath='{{.metadata.uid}}'`), got {value!r}"
        )
    return value


#: One check per field, in the order problems are reported.
FIELD_CHECKS: dict[str, Callable[[Any], Any]] = {
    "console_url": check_console_url,
    "issuer": check_issuer,
    "kubesphere_version": check_kubesphere_version,
    "provider_name": check_provider_name,
    "group_ids": check_group_ids,
    "group_names": check_group_names,
    "reauthenticate_every": check_iso8601_duration,
    "mapping_method": check_mapping_method,
    "scopes": check_scopes,
    "username_claim": lambda v: check_claim(v, field="username_claim"),
    "email_claim": lambda v: check_claim(v, field="email_claim"),
    "app_label": check_app_label,
    "access_token_max_age": lambda v: check_go_duration(v, field="access_token_max_age"),
    "access_token_inactivity_timeout": lambda v: check_go_duration(v, field="access_token_inactivity_timeout"),
    "username_format": check_username_format,
    "authorization_server_id": check_authorization_server_id,
    "role_bindings": check_role_bindings,
    "workspace_role_bindings": lambda v: check_scoped_role_bindings(v, field="workspace_role_bindings"),
    "project_role_bindings": lambda v: check_scoped_role_bindings(v, field="project_role_bindings"),
    "cluster_role_bindings": check_cluster_role_bindings,
    "reserved_usernames": check_reserved_usernames,
    "verify_login_timeout": check_verify_login_timeout,
    "kubeconfig": check_kubeconfig,
    "kube_context": check_kube_context,
    "rebind_cluster": check_cluster_uid,
}
_BOOLEAN_FIELDS = (
    "require_mfa", "sign_on_policy", "login_confirmation", "protect_app", "prune_users", "verify_login", "strict_identities",
    "adopt_existing_provider", "per_member_resources",
)


def cross_field_problems(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Problems that involve several settings. Tolerates values that failed their own check."""
    problems: list[tuple[str, str]] = []
    version = values.get("kubesphere_version")
    group_ids = values.get("group_ids") or []
    group_names = values.get("group_names") or []
    if not group_ids and not group_names:
        problems.append(Problem(
            "group_ids",
            "at least one Okta group must be allowed to use the app (group_ids and/or group_names): "
            "this project never opens the app to everyone in the org",
            [Fix("group_names", "append", GROUP_PLACEHOLDER)],
        ))
    name = values.get("provider_name", DEFAULT_PROVIDER_NAME)
    if is_v4(version) and isinstance(name, str) and len(name) > V4_PROVIDER_NAME_MAX:
        problems.append(Problem(
            "provider_name",
            f"provider_name {name!r} is {len(name)} characters; KubeSphere 4.1 allows at most "
            f"{V4_PROVIDER_NAME_MAX} (it becomes part of an annotation key)",
            [Fix("provider_name", "set", name[:V4_PROVIDER_NAME_MAX].rstrip("-_."))],
        ))
    if is_v4(version):
        for field in ("access_token_max_age", "access_token_inactivity_timeout"):
            if values.get(field) is not None:
                problems.append(Problem(
                    field,
                    f"{field} applies to KubeSphere 3.x only (on 4.1 token lifetimes live in "
                    "kubesphere-config, not in the identity provider); remove it",
                    [Fix(field, "remove")],
                ))
    if is_v4(version) and values.get("adopt_existing_provider") is True:
        problems.append(Problem(
            "adopt_existing_provider",
            "adopt_existing_provider applies to KubeSphere 3.x only (4.1 keeps each identity provider in its own "
            "Secret, and KubeSphere refuses a second Secret for our provider name, so there is nothing to adopt); remove it",
            [Fix("adopt_existing_provider", "remove")],
        ))
    if values.get("sign_on_policy") is False and values.get("reauthenticate_every") is not None:
        problems.append(Problem(
            "reauthenticate_every",
            "reauthenticate_every needs the app sign-on policy (sign_on_policy true, Okta Identity Engine); "
            "remove it or enable sign_on_policy",
            [Fix("reauthenticate_every", "remove")],
        ))
    if (values.get("login_confirmation") is False and values.get("username_claim") in (None, "preferred_username")
            and values.get("username_format") != "dns-safe"):
        problems.append(Problem(
            "login_confirmation",
            "login_confirmation false creates the KubeSphere user from the username claim at first "
            "login, but Okta's preferred_username is normally an email address, which KubeSphere "
            "refuses: keep login_confirmation true, set username_format to 'dns-safe', or set "
            "username_claim to a claim that holds a DNS-1123 name",
            [Fix("login_confirmation", "set", True)],
        ))
    if values.get("login_confirmation") is False and values.get("username_claim") == "email":
        problems.append(Problem(
            "username_claim",
            "username_claim 'email' with login_confirmation false can never create a KubeSphere user: "
            "an email address is not a DNS-1123 name; use username_format 'dns-safe' (and the default "
            "username_claim) or keep login_confirmation true",
            [Fix("username_claim", "remove"), Fix("username_format", "set", "dns-safe")],
        ))
    problems.extend(_identity_problems(values))
    return problems


def _strings(value: Any) -> list[str]:
    """The strings of a list-like value (a malformed value reports itself through its own check)."""
    if isinstance(value, str) or not isinstance(value, Iterable) or isinstance(value, Mapping):
        return []
    return [v for v in value if isinstance(v, str)]


#: The maps from Okta groups to KubeSphere roles; each member of a mapped group gets a User.
MEMBER_MAPS = ("role_bindings", "workspace_role_bindings", "project_role_bindings", "cluster_role_bindings")


def _identity_problems(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Cross-field rules of role_bindings and authorization_server_id (usernames.py, identities.py)."""
    problems: list[tuple[str, str]] = []
    for field in MEMBER_MAPS:
        role_bindings = values.get(field)
        if not isinstance(role_bindings, Mapping) or not role_bindings:
            continue
        # An invalid mapping_method reports itself; its fix decides, so no second problem for it here.
        if (values.get("mapping_method") or "auto") == "auto":
            problems.append(Problem(
                field,
                f"{field} pre-provisions each member as a KubeSphere User bound to their Okta identity, "
                "which KubeSphere only honours with mapping_method 'lookup': set mapping_method: lookup",
                [Fix("mapping_method", "set", "lookup")],
            ))
        allowed = set(_strings(values.get("group_ids"))) | set(_strings(values.get("group_names")))
        lists = [values.get(f) for f in ("group_ids", "group_names") if values.get(f) is not None]
        # A malformed group list reports itself, and its fix decides which groups are allowed.
        outside = [] if any(not isinstance(v, list) for v in lists) else [
            g for g in role_bindings if isinstance(g, str) and _group_name(g) == g and g not in allowed]
        if outside:
            problems.append(Problem(
                field,
                f"{field} group(s) {', '.join(map(repr, outside))} are not allowed to use the app: "
                f"add each to group_ids (by id) or group_names (by name), spelled as in {field}",
                [Fix("group_ids" if is_okta_group_id(g) else "group_names", "append", g) for g in outside],
            ))
    problems.extend(_global_role_problems(values))
    problems.extend(_scoped_role_problems(values))
    server = values.get("authorization_server_id")
    issuer = values.get("issuer")
    if isinstance(server, str) and isinstance(issuer, str) and not issuer.endswith(f"/oauth2/{server}"):
        problems.append(Problem(
            "authorization_server_id",
            f"authorization_server_id {server!r} needs the issuer of that server, "
            f"https://<org>.okta.com/oauth2/{server} (got {shown(issuer)}): tokens would otherwise come from "
            "a server whose access policy this project does not manage",
            [Fix("issuer", "set", f"{redact(issuer).split('/oauth2/')[0].rstrip('/')}/oauth2/{server}")],
        ))
    return problems


def _global_roles(values: Mapping[str, Any]) -> tuple[str, list[tuple[str, str]]] | None:
    """(version, role_bindings pairs) when both are valid, else None (their own checks report)."""
    version = values.get("kubesphere_version")
    if version not in SUPPORTED_VERSIONS:
        return None
    try:
        return version, check_role_bindings(values.get("role_bindings") or {})
    except ValueError:
        return None


def _global_role_problems(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A built-in global role the stack's KubeSphere version does not ship yet is refused
    (``missing_built_in_role_problems``), with the fix for each group that names it."""
    found = _global_roles(values)
    if found is None:
        return []
    version, pairs = found
    problems: list[tuple[str, str]] = []
    for role in dict.fromkeys(role for _, role in pairs):
        for message in missing_built_in_role_problems([role], version):
            groups = [group for group, named in pairs if named == role]
            problems.append(Problem(
                "role_bindings", message,
                [Fix("role_bindings", "set_key", "platform-regular", key=group) for group in groups],
            ))
    return problems


def global_role_warnings(values: Mapping[str, Any]) -> list[str]:
    """A role_bindings role that no supported KubeSphere release ships: a custom GlobalRole, or a typo."""
    found = _global_roles(values)
    if found is None:
        return []
    version, pairs = found
    built_in = kubesphere_versions.assignable_global_roles(version)
    warnings = []
    for group, role in pairs:
        if not kubesphere_versions.releases_shipping_global_role(role):
            import difflib

            close = difflib.get_close_matches(role, built_in, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            warnings.append(
                f"role_bindings: role {role!r} for group {group!r} is not built into KubeSphere {version}{hint}; "
                f"it must exist as a custom GlobalRole, or the binding grants nothing. Built-in: {', '.join(built_in)}"
            )
    return warnings


def scoped_role_maps(values: Mapping[str, Any]) -> dict[str, Any] | None:
    """The three scoped maps as ``kubesphere_roles`` takes them, or None when one does not parse."""
    try:
        return {
            "workspace": check_scoped_role_bindings(values.get("workspace_role_bindings") or {}, field="workspace_role_bindings"),
            "project": check_scoped_role_bindings(values.get("project_role_bindings") or {}, field="project_role_bindings"),
            "cluster": check_cluster_role_bindings(values.get("cluster_role_bindings") or {}),
        }
    except ValueError:
        return None  # reported by the field's own check


def _scoped_role_problems(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Version-dependent limits of workspace, project and cluster roles (kubesphere_roles)."""
    version = values.get("kubesphere_version")
    maps = scoped_role_maps(values)
    if version not in SUPPORTED_VERSIONS or maps is None:
        return []
    # Each fix removes the one map entry at fault, spelled with the user's own group and target.
    return [Problem(argument, message, [Fix(argument, "remove_key", key=entry)])
            for argument, message, entry in kubesphere_roles.configuration_problem_entries(version, maps)]


def missing_built_in_role_problems(roles: Iterable[Any], kubesphere_version: str) -> list[str]:
    """A global role that another supported release ships but ``kubesphere_version`` does not grants
    nothing there (``kubesphere_versions.SHIPPED_GLOBAL_ROLES``: ``platform-self-provisioner`` from
    3.3 on; ``users-manager`` and ``workspaces-manager`` in 3.2 only)."""
    shipped = kubesphere_versions.assignable_global_roles(kubesphere_version)
    problems: list[str] = []
    for role in dict.fromkeys(r for r in roles if isinstance(r, str)):
        releases = kubesphere_versions.releases_shipping_global_role(role)
        if releases and role not in shipped:
            problems.append(
                f"role {role!r} is built into KubeSphere {', '.join(releases)}, not into {kubesphere_version} "
                f"({kubesphere_versions.role_source(kubesphere_version)} has no such GlobalRole): a "
                f"GlobalRoleBinding to it would grant nothing. Use one of {', '.join(shipped)}, or create "
                "a custom GlobalRole under another name and bind that"
            )
    return problems


def integration_warnings(values: Mapping[str, Any]) -> list[str]:
    """Risky but allowed combinations of settings: the component shows each as a Pulumi warning."""
    warnings: list[str] = global_role_warnings(values)
    if (values.get("kubesphere_version") in IDENTITY_ANNOTATION_VERSIONS
            and values.get("username_format") == "dns-safe"
            and values.get("mapping_method", "auto") == "auto"
            and values.get("login_confirmation") is False):
        warnings.append(
            "KubeSphere 4.1.3 'auto' links a first login to an existing User of the same name, and the "
            "dns-safe Okta username cannot see other users: two Okta logins that derive the same name "
            "(jane_doe@acme.com and jane-doe@acme.com) would share one KubeSphere account. Use "
            "mapping_method 'lookup' with role_bindings (collision suffixes), or keep login_confirmation true."
        )
    return warnings


def problem_from_error(field: str, error: ValueError) -> Problem:
    """A failed check as a Problem; the corrected value, when the check knew it, is the fix."""
    fixes = getattr(error, "fixes", ())
    if fixes:
        return Problem(field, str(error), [Fix(field, f.action, f.value, f.key, f.path) for f in fixes])
    suggestion = getattr(error, "suggestion", None)
    return Problem(field, str(error), [Fix(field, "set", suggestion)] if suggestion is not None else [])


def integration_problems(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every problem with a set of integration settings, as (field, message) pairs.

    ``values`` holds the settings that are known now (snake_case); absent keys are skipped, except
    the required ones.
    """
    problems: list[tuple[str, str]] = []
    for field in ("console_url", "issuer", "kubesphere_version"):
        if values.get(field) is None:
            problems.append((field, f"{field} is required"))
    for field, check in FIELD_CHECKS.items():
        if values.get(field) is None:
            continue
        try:
            check(values[field])
        except ValueError as error:
            problems.append(problem_from_error(field, error))
    for field in _BOOLEAN_FIELDS:
        if field in values and values[field] is not None and not isinstance(values[field], bool):
            problems.append(Problem(field, f"{field} must be true or false, got {shown(values[field])}",
                                    [Fix(field, "set", meant_bool(values[field]))]))
    problems.extend(cross_field_problems(values))
    return problems
