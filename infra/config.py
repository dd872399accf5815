"""The stack configuration (``kubesphere-okta:`` keys, camelCase) as a pydantic model.

No Pulumi import and no resources: ``load`` turns the raw config strings of one stack into a
validated ``IntegrationConfig`` or raises one ``ConfigError`` listing every problem, each with
the config key and the ``pulumi config set`` command that fixes it.
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import os
import re
import shlex
from contextvars import ContextVar
from functools import lru_cache, partial
from pathlib import Path
from typing import Annotated, Any, Collection, Mapping, Optional

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from kubesphere_okta import rules

NAMESPACE = "kubesphere-okta"


def _json_list(value: Any) -> Any:
    """Pulumi hands structured config (``--path`` or YAML lists) over as JSON text."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


#: Shapes are checked by the rules, which know the fix (a bare string where a list belongs...).
StrList = Annotated[Any, BeforeValidator(_json_list)]


def _optional(check):
    """An AfterValidator that lets None through and runs ``check`` on anything else."""
    return lambda value: value if value is None else check(value)


def _bool(field: str):
    """A boolean setting, in the one syntax everything here reads (rules.parse_bool)."""
    return BeforeValidator(partial(rules.parse_bool, field=field))


def _role_bindings(value: Any) -> Any:
    rules.check_role_bindings(value)  # raises with the message; the mapping keeps its order
    return value


def _scoped_role_bindings(field: str):
    def check(value: Any) -> Any:
        if field == "cluster_role_bindings":
            rules.check_cluster_role_bindings(value)
        else:
            rules.check_scoped_role_bindings(value, field=field)
        return value
    return AfterValidator(check)


class IntegrationConfig(BaseModel):
    """One integration per stack. Field docs are the config reference in docs/reference.md."""

    # Field docstrings are read by infra/reference.py from the source, not by pydantic: its
    # use_attribute_docstrings scans sys.modules at class creation (~0.2 s once pulumi is loaded).
    model_config = ConfigDict(alias_generator=to_camel, extra="forbid", frozen=True)

    console_url: Annotated[str, AfterValidator(rules.check_console_url)]
    """KubeSphere console base URL, e.g. https://console.example.com."""
    kubesphere_version: Annotated[str, BeforeValidator(str), AfterValidator(rules.check_kubesphere_version)]
    """3.2, 3.3, 3.4 or 4.1; a 4.1 patch level (4.1.0-4.1.3) where behaviour differs (4.1 = 4.1.3)."""
    issuer: Annotated[Optional[str], AfterValidator(lambda v: v if v is None else rules.check_issuer(v))] = None
    """Okta issuer. Default: the org authorization server of okta:orgName/okta:baseUrl."""
    authorization_server_id: Annotated[Optional[str], AfterValidator(lambda v: v if v is None else rules.check_authorization_server_id(v))] = None
    """Custom authorization server id (e.g. default): the issuer becomes <org>/oauth2/<id>, and the component
    manages that server's access policy for this app (tokens only for the allowed groups)."""
    provider_name: Annotated[str, AfterValidator(rules.check_provider_name)] = rules.DEFAULT_PROVIDER_NAME
    """KubeSphere identity-provider name (login button, redirect URI)."""
    group_ids: Annotated[StrList, AfterValidator(rules.check_group_ids)] = []
    """Okta group ids allowed to use the app."""
    group_names: Annotated[StrList, AfterValidator(rules.check_group_names)] = []
    """Okta group names allowed to use the app (exact names)."""
    require_mfa: Annotated[bool, _bool("require_mfa")] = True
    """Require two factors to sign in to KubeSphere."""
    reauthenticate_every: Annotated[Optional[str], AfterValidator(lambda v: v if v is None else rules.check_iso8601_duration(v))] = None
    """ISO-8601 duration after which Okta asks for a new sign-in, e.g. PT12H."""
    sign_on_policy: Annotated[bool, _bool("sign_on_policy")] = True
    """Manage an app sign-on policy (false on Okta Classic orgs)."""
    mapping_method: Annotated[str, AfterValidator(rules.check_mapping_method)] = "auto"
    """auto or lookup."""
    login_confirmation: Annotated[bool, _bool("login_confirmation")] = True
    """Let users confirm a KubeSphere username at first login."""
    scopes: Annotated[StrList, AfterValidator(rules.check_scopes)] = list(rules.DEFAULT_SCOPES)
    """OIDC scopes; openid is always included."""
    username_claim: Annotated[Optional[str], AfterValidator(_optional(lambda v: rules.check_claim(v, field="username_claim")))] = None
    """Claim KubeSphere reads the username from (preferredUsernameKey)."""
    email_claim: Annotated[Optional[str], AfterValidator(_optional(lambda v: rules.check_claim(v, field="email_claim")))] = None
    """Claim KubeSphere reads the email from (emailKey)."""
    app_label: Annotated[Optional[str], AfterValidator(_optional(rules.check_app_label))] = None
    """Okta app display name. Default: KubeSphere (<stack>)."""
    access_token_max_age: Annotated[Optional[str], AfterValidator(_optional(lambda v: rules.check_go_duration(v, field="access_token_max_age")))] = None
    """3.x only: oauthOptions.accessTokenMaxAge, e.g. 1h."""
    access_token_inactivity_timeout: Annotated[Optional[str], AfterValidator(_optional(lambda v: rules.check_go_duration(v, field="access_token_inactivity_timeout")))] = None
    """3.x only: oauthOptions.accessTokenInactivityTimeout, e.g. 30m."""
    protect_app: Annotated[Optional[bool], _bool("protect_app")] = None
    """Protect the Okta app from deletion. Default: true on stacks named prod*."""
    username_format: Annotated[str, AfterValidator(rules.check_username_format)] = "okta-login"
    """okta-login (Okta's default app username, the login) or dns-safe (jane.doe@acme.com -> jane.doe.acme.com,
    a name KubeSphere accepts, so loginConfirmation may be false)."""
    role_bindings: Annotated[Any, BeforeValidator(_json_list), AfterValidator(_role_bindings)] = {}
    """Okta group (name or id, also in groupIds/groupNames) -> KubeSphere global role, first match wins (Pulumi passes
    a map's groups sorted by name, whatever their order in the stack file);
    needs mappingMethod lookup. Each member gets a User and one GlobalRoleBinding."""
    workspace_role_bindings: Annotated[Any, BeforeValidator(_json_list), _scoped_role_bindings("workspace_role_bindings")] = {}
    """Okta group -> {workspace: role} (admin, regular, viewer, self-provisioner or a custom WorkspaceRole's full
    name), first match wins per workspace; needs mappingMethod lookup. One WorkspaceRoleBinding per member and workspace."""
    project_role_bindings: Annotated[Any, BeforeValidator(_json_list), _scoped_role_bindings("project_role_bindings")] = {}
    """Okta group -> {project namespace: role} (admin, operator, viewer or a custom Role), first match wins per
    project; needs mappingMethod lookup. One RoleBinding per member and project."""
    cluster_role_bindings: Annotated[Any, BeforeValidator(_json_list), _scoped_role_bindings("cluster_role_bindings")] = {}
    """Okta group -> cluster role (cluster-admin, cluster-viewer or a custom ClusterRole), first match wins;
    needs mappingMethod lookup. One ClusterRoleBinding per member."""
    prune_users: Annotated[bool, _bool("prune_users")] = False
    """Delete the KubeSphere User of a member who left the roleBindings groups (default: keep it, drop its role)."""
    per_member_resources: Annotated[bool, _bool("per_member_resources")] = False
    """Step 1 of the upgrade from releases up to 0.2: one resource per User and binding, kept on delete and
    labelled for handover; remove it again with the next `pulumi up` (docs/usernames-and-roles.md)."""
    reserved_usernames: Annotated[StrList, AfterValidator(rules.check_reserved_usernames)] = []
    """KubeSphere user names no Okta user may get (admin is always reserved)."""
    strict_identities: Annotated[bool, _bool("strict_identities")] = False
    """All or nothing for roleBindings: fail when any member cannot be provisioned (default: skip them with one
    warning, list them in the skippedMembers output, provision everyone else)."""
    verify_login: Annotated[bool, _bool("verify_login")] = False
    """pulumi up waits until login is ready (Okta discovery matches the issuer, KubeSphere lists the provider) or fails with a diagnosis; never during preview."""
    verify_login_timeout: Annotated[Optional[float], AfterValidator(lambda v: v if v is None else rules.check_verify_login_timeout(v))] = None
    """Seconds verifyLogin waits, polling with backoff. Default 900."""
    adopt_existing_provider: Annotated[bool, _bool("adopt_existing_provider")] = False
    """3.x: take over an identity provider with our name this stack did not create; it is put back on destroy."""
    rebind_cluster: Annotated[Optional[str], AfterValidator(_optional(rules.check_cluster_uid))] = None
    """kube-system uid of a rebuilt cluster that replaces the one this stack wrote to (shown by the refusal)."""

    def component_args(self, *, stack: str) -> dict[str, Any]:
        """The ``KubeSphereOktaIntegrationArgs`` for this configuration (issuer already resolved)."""
        args = self.model_dump(exclude_none=True)
        args.setdefault("app_label", f"KubeSphere ({stack})")
        args["protect_app"] = self.protect_app if self.protect_app is not None else stack.startswith("prod")
        return args


#: What only the user knows, said so that it cannot be mistaken for a value (every check refuses it).
PLACEHOLDERS: dict[str, str] = {
    "consoleUrl": rules.CONSOLE_URL_PLACEHOLDER, "kubesphereVersion": rules.VERSION_PLACEHOLDER,
    "issuer": "<your Okta issuer URL>",
    "mappingMethod": f"<{' or '.join(rules.MAPPING_METHODS)}>", "usernameFormat": f"<{' or '.join(rules.USERNAME_FORMATS)}>",
}


def fix_command(key: str) -> str:
    """The fix of a problem whose right value the program cannot know: an optional key is removed, so
    that its documented default applies; a required one is set to a placeholder the user replaces."""
    if ":" in key:
        return f"pulumi config set {key} '<value>'"
    field = next((f for f in IntegrationConfig.model_fields if to_camel(f) == key), None)
    if key not in PLACEHOLDERS and field is not None and not IntegrationConfig.model_fields[field].is_required():
        return f"pulumi config rm {NAMESPACE}:{key}"
    return f"pulumi config set {NAMESPACE}:{key} {shlex.quote(PLACEHOLDERS.get(key, f'<{key}>'))}"


def placeholder_problems(full_config: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Keys (of any namespace) that still hold a placeholder of a fix line (``<your KubeSphere console URL>``)."""
    problems = []
    for key, value in full_config.items():
        found = sorted(_placeholders(_json_list(value)))
        if found:
            problems.append((key, f"holds {', '.join(map(repr, found))}, a placeholder from a fix line: "
                             "replace it with your own value", f"pulumi config edit: replace {found[0]} in {key}"))
    return problems


def _placeholders(value: Any) -> set[str]:
    if rules.is_placeholder(value):
        return {value}
    if isinstance(value, Mapping):
        return {p for k, v in value.items() for p in _placeholders(k) | _placeholders(v)}
    if isinstance(value, list):
        return {p for v in value for p in _placeholders(v)}
    return set()


#: Component arguments that are not ``kubesphere-okta:`` keys: the program takes them from the
#: kubernetes provider's configuration.
_PROVIDER_ARGUMENTS = {"kubeconfig": "kubernetes:kubeconfig", "kube_context": "kubernetes:context"}


def config_name(field: str) -> str:
    """The name a user of this program writes for a component argument or model field."""
    return _PROVIDER_ARGUMENTS.get(field) or to_camel(field)


def in_config_terms(message: str) -> str:
    """A rules message with every argument name (snake_case) said as its config key (camelCase)."""
    fields = set(IntegrationConfig.model_fields) | set(_PROVIDER_ARGUMENTS)
    pattern = r"(?<![\w-])(" + "|".join(sorted((re.escape(f) for f in fields if "_" in f), key=len, reverse=True)) + r")(?![\w-])"
    return re.sub(pattern, lambda m: config_name(m.group(1)), message)


def _config_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "''"
    return shlex.quote(str(value))


def _path_key(full: str, path: tuple[str | int, ...]) -> str:
    """``full`` with ``path`` as Pulumi's property paths write it: ``[0]``, ``["key"]`` (only ``"`` is escaped)."""
    return full + "".join(f"[{p}]" if isinstance(p, int) else '["' + p.replace('"', '\\"') + '"]' for p in path)


def _path_value(value: Any) -> tuple[str, str]:
    """(flags, text) that make ``pulumi config set --path`` store ``value`` as it is: a string that
    Pulumi would coerce to a boolean or number is typed as a string."""
    text = _config_value(value)
    if isinstance(value, str) and (value in ("true", "false") or re.fullmatch(r"[+-]?[0-9]+", value) and not
                                   (len(value) > 1 and value[0] == "0")):
        return "--type string ", text
    return "", text


def config_fix(fix: rules.Fix, raw: Mapping[str, Any], secret: bool = False,
               lengths: dict[Any, int] | None = None) -> str:
    """A rules.Fix as the ``pulumi config`` command that applies it to this stack."""
    key = config_name(fix.field)
    full = key if ":" in key else f"{NAMESPACE}:{key}"
    value = "<value>" if secret else _config_value(fix.value)
    flag = "--secret " if secret else ""
    path = fix.path or ((fix.key,) if fix.action == "set_key" else tuple(fix.key) if fix.action == "remove_key" else ())
    if fix.action == "remove_key":
        return f"pulumi config rm --path {shlex.quote(_path_key(full, path))}"
    if fix.action == "append":
        current = _json_list(raw.get(key))
        path = (len(current) if isinstance(current, list) else 0,)
        if lengths is not None:  # one round: each value appended once, each after the one before
            seen = (key, json.dumps(fix.value))
            if seen not in lengths:
                lengths[seen] = lengths.get(key, path[0])
                lengths[key] = lengths[seen] + 1
            path = (lengths[seen],)
    if fix.action == "remove":
        return f"pulumi config rm --path {shlex.quote(_path_key(full, path))}" if path else f"pulumi config rm {full}"
    if path:
        typed, text = ("", value) if secret else _path_value(fix.value)
        return f"pulumi config set {flag}{typed}--path {shlex.quote(_path_key(full, path))} {text}"
    return f"pulumi config set {flag}{full} {value}"


class ConfigError(ValueError):
    """Every problem of one stack's configuration, each naming its key and the fix."""

    def __init__(self, stack: str, problems: list[tuple[str, str, str]]):
        self.stack = stack
        self.problems = problems
        lines = "\n".join(f"  - {key}: {rules.redact(message)}\n    fix: {rules.redact(fix)}" for key, message, fix in problems)
        super().__init__(
            f"stack {stack!r} has {len(problems)} configuration problem(s); nothing was created:\n{lines}"
        )


ENCRYPTED = "an encrypted secure: value, not shown"


def _hide_secret_value(message: str, value: Any) -> str:
    """A message about an encrypted key, with its value described instead of echoed."""
    if isinstance(value, str) and value:
        for shown in (rules.shown(value), repr(value), value):
            message = message.replace(shown, ENCRYPTED)
    return message


def _render(key: str, problem: tuple[str, str], raw: Mapping[str, Any], secret_keys: Collection[str],
            fallback: str, lengths: dict[Any, int] | None = None) -> tuple[str, str, str]:
    """One problem as (config key, message in config terms, the fix that belongs to it)."""
    message = in_config_terms(problem[1])
    if key in secret_keys and raw.get(key) == SECRET_PLACEHOLDER:
        message = (f"{key} is an encrypted secure: value, which the offline plan cannot decrypt, so it can be "
                   f"neither checked nor used here; {key} is not a credential: store it in plain text")
    elif key in secret_keys:
        message = _hide_secret_value(message, raw.get(key))
    fixes = [config_fix(f, raw, secret=config_name(f.field) in secret_keys, lengths=lengths)
             for f in getattr(problem, "fixes", ())]
    return f"{NAMESPACE}:{key}" if ":" not in key else key, message, " && ".join(fixes) or fallback


#: What the offline plan hands the program for a ``secure:`` value it cannot decrypt.
SECRET_PLACEHOLDER = "[secret]"


#: The switches: a text that is not true/false is fixed to what it meant, unless that adds a problem.
BOOLEAN_FIELDS = ("require_mfa", "sign_on_policy", "login_confirmation", "prune_users", "strict_identities",
                  "protect_app", "verify_login", "adopt_existing_provider", "per_member_resources")


#: Settings with a few allowed values: a fix picks the one meant, unless that adds a problem.
CHOICES: dict[str, tuple[Any, ...]] = {**{f: (True, False) for f in BOOLEAN_FIELDS},
                                       "mapping_method": rules.MAPPING_METHODS, "username_format": rules.USERNAME_FORMATS}


def _safe_choice(field: str, meant: Any, values: Mapping[str, Any], cross: list[tuple[str, str]]) -> Any:
    """``meant`` when setting it adds no problem to the stack, else another allowed value that adds none
    (``loginConfirmation: N`` with Okta's email usernames, ``mappingMethod: Auto`` with role maps)."""
    before = {p[0] for p in cross}
    for candidate in (meant, *(c for c in CHOICES[field] if c != meant)):
        if {p[0] for p in rules.cross_field_problems({**values, field: candidate})} <= before:
            return candidate
    return meant


def _problem_of_error(error: Mapping[str, Any], values: Mapping[str, Any], cross: list[tuple[str, str]],
                      secret_keys: Collection[str] = ()):
    """(config key, rules.Problem) for one pydantic error, or a rendered (key, message, fix) triple."""
    key = str(error["loc"][0]) if error["loc"] else "?"
    if error["type"] == "extra_forbidden":
        known = [to_camel(name) for name in IntegrationConfig.model_fields]
        close = _closest(key, known)
        hint = f" (did you mean {NAMESPACE}:{close}?)" if close else ""
        fix = f"pulumi config rm {NAMESPACE}:{key}"
        if close:
            fix += f" && pulumi config set {'--secret ' if key in secret_keys else ''}{NAMESPACE}:{close} <value>"
        return key, (f"{NAMESPACE}:{key}", f"unknown key{hint}: this program ignores nothing it does not know", fix)
    if error["type"] == "missing":
        return key, (f"{NAMESPACE}:{key}", "is required", fix_command(key))
    cause = (error.get("ctx") or {}).get("error")
    field = next((f for f in IntegrationConfig.model_fields if to_camel(f) == key), key)
    if isinstance(cause, ValueError):
        problem = rules.problem_from_error(field, cause)
        if field in CHOICES and len(problem.fixes) == 1 and not problem.fixes[0].path:
            problem = rules.Problem(field, problem[1], [rules.Fix(field, "set", _safe_choice(
                field, problem.fixes[0].value, values, cross))])
    else:
        problem = rules.Problem(field, f"{field}: {error['msg']}")
    return key, problem


def _closest(name: str, known: Collection[str]) -> str | None:
    """The known name meant by a misspelt one: same letters ignoring case and - or _, else the closest."""
    folded = {re.sub(r"[-_]", "", k).lower(): k for k in known}
    if re.sub(r"[-_]", "", name).lower() in folded:
        return folded[re.sub(r"[-_]", "", name).lower()]
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
    return close[0] if close else None


@lru_cache(maxsize=None)
def provider_config_keys(package: str) -> frozenset[str]:
    """The config keys a provider reads (``okta:orgName``...), from its SDK's ``ProviderArgs``
    parameters, read as text so that the provider package is not imported."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    source = (Path(list(spec.submodule_search_locations)[0]) / "provider.py").read_text()
    init = re.search(r"class ProviderArgs:.*?def __init__\(__self__, \*,(.*?)\):", source, re.S)
    names = re.findall(r"^\s*(\w+):", init.group(1), re.M) if init else []
    return frozenset(to_camel(n) for n in names)


#: The namespaces this program reads, and the SDK package whose provider reads each.
NAMESPACES = {NAMESPACE: None, "okta": "pulumi_okta", "kubernetes": "pulumi_kubernetes"}


def _leaves(value: Any, path: tuple[str | int, ...] = ()) -> list[tuple[tuple[str | int, ...], Any]]:
    if isinstance(value, dict) and value:
        return [leaf for k, v in value.items() for leaf in _leaves(v, (*path, k))]
    if isinstance(value, list) and value:
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, (*path, i))]
    return [(path, value)]


def set_commands(full: str, text: Any, *, secret: bool = False) -> list[str]:
    """The ``pulumi config set`` commands that give ``full`` the value the program received as ``text``
    (structured values leaf by leaf with ``--path``); ``<value>`` where a command cannot say it."""
    value = _json_list(text) if isinstance(text, str) and text.lstrip().startswith(("[", "{")) else text
    if secret or not isinstance(value, (str, list, dict)):
        return [f"pulumi config set {'--secret ' if secret else ''}{full} <value>"]
    if isinstance(value, str):
        return [f"pulumi config set {full} {_config_value(value)}"]
    commands = []
    for path, leaf in _leaves(value):
        if not path or isinstance(leaf, (dict, list)) or leaf is None:
            return [f"pulumi config set {full} <value>"]
        typed, shown_leaf = _path_value(leaf if isinstance(leaf, str) else json.dumps(leaf) if not isinstance(leaf, bool)
                                        else leaf)
        commands.append(f"pulumi config set {typed}--path {shlex.quote(_path_key(full, path))} {shown_leaf}")
    return commands


def unknown_names(full_config: Mapping[str, Any], secret_keys: Collection[str] = ()) -> list[tuple[str, str, str]]:
    """Config keys that are almost certainly typos: a namespace one edit from ours
    (``kubesphere_okta:``), or a provider key the provider does not read (``okta:orgname``)."""
    problems = []
    for full in sorted(full_config):
        namespace, _, key = full.partition(":")
        if not key or namespace == "pulumi":
            continue
        secret = "--secret " if full in secret_keys else ""
        if namespace not in NAMESPACES:
            ours = key in {to_camel(f) for f in IntegrationConfig.model_fields}
            close = _closest(namespace, list(NAMESPACES))
            meant = close or (NAMESPACE if ours else None)
            reads = f"this program reads only {', '.join(f'{n}:' for n in NAMESPACES)} keys, so this value is ignored"
            if meant:
                why = f"did you mean {meant}:?" if close else f"did you mean {meant}:{key}?"
                move = " && ".join(set_commands(f"{meant}:{key}", full_config.get(full), secret=bool(secret)))
                problems.append((full, f"unknown namespace {namespace!r} ({why}): {reads}",
                                 f"pulumi config rm {shlex.quote(full)} && {move}"))
            else:
                problems.append((full, f"namespace {namespace!r} is not read here: {reads}",
                                 f"pulumi config rm {shlex.quote(full)}"))
            continue
        package = NAMESPACES[namespace]
        known = provider_config_keys(package) if package else frozenset()
        if package and known and key not in known:
            meant = _closest(key, known)
            hint = f" (did you mean {namespace}:{meant}?)" if meant else ""
            fix = f"pulumi config rm {full}" + (f" && pulumi config set {secret}{namespace}:{meant} <value>" if meant else "")
            problems.append((full, f"the {namespace} provider has no setting {key!r}{hint}, so this value is ignored", fix))
    return problems


#: Provider settings that are credentials: a stack file must hold them encrypted (``--secret``).
CREDENTIAL_KEYS = ("okta:apiToken", "okta:privateKey", "okta:accessToken", "kubernetes:kubeconfig")


#: Where each config value came from when the offline plan knows it (full key -> ``Pulumi.<stack>.yaml``,
#: ``Pulumi.yaml`` or ``--config``); under ``pulumi`` every value is in the stack's configuration.
VALUE_SOURCES: ContextVar[Mapping[str, str]] = ContextVar("value_sources", default={})


def plaintext_credential_warnings(full_config: Mapping[str, Any], secret_keys: Collection[str], stack: str,
                                  sources: Mapping[str, str] | None = None) -> list[str]:
    """Warnings for provider credentials stored in plain text (never the value itself), naming where each is."""
    sources = VALUE_SOURCES.get() if sources is None else sources
    warnings = []
    for key in CREDENTIAL_KEYS:
        value = full_config.get(key)
        if value in (None, "") or key in secret_keys:
            continue
        if key == "kubernetes:kubeconfig" and "\n" not in str(value) and not str(value).lstrip().startswith("{"):
            continue  # a path to a kubeconfig file, not its contents
        source = sources.get(key, f"Pulumi.{stack}.yaml")
        if source == "--config":
            warnings.append(f"{key} is given in plain text with --config (`pulumi preview --config` saves it, in plain "
                            f"text, to Pulumi.{stack}.yaml): set it with `pulumi config set --secret {key} <value>` instead")
        else:
            warnings.append(f"{key} is stored in plain text in {source} (anyone who can read the repository can "
                            f"use it): encrypt it with `pulumi config set --secret {key} <value>`")
    return warnings


#: Set by the offline plan: check an explicit kubernetes:kubeconfig here. Under `pulumi preview` the
#: cluster guards resolve it the same way and refuse it (docs/cluster-binding.md), so the program does not.
CHECK_KUBECONFIG: ContextVar[bool] = ContextVar("check_kubeconfig", default=False)


def kubeconfig_problems(full_config: Mapping[str, Any], secret_keys: Collection[str] = (), *,
                        env: Mapping[str, str] | None = None, home: str | None = None) -> list[tuple[str, str, str]]:
    """``kubernetes:kubeconfig`` (with ``kubernetes:context``) the program would fail to use: a missing
    file, contents that do not parse, a context it does not define. Resolved exactly as the cluster
    binding resolves it (``cluster_access.resolve_kubeconfig``, client-go's rules). Only an explicit
    ``kubernetes:kubeconfig`` is checked: the ambient kubeconfig of the machine running the offline
    plan is not the one ``pulumi up`` will use. Encrypted contents the plan cannot decrypt are skipped."""
    from kubesphere_okta.cluster_access import KubeconfigError, resolve_kubeconfig

    kubeconfig = full_config.get("kubernetes:kubeconfig")
    if not isinstance(kubeconfig, str) or not kubeconfig or kubeconfig == SECRET_PLACEHOLDER:
        return []
    context = full_config.get("kubernetes:context") or None
    try:
        resolve_kubeconfig(kubeconfig, context, os.environ if env is None else env,
                           os.path.expanduser("~") if home is None else home)
    except KubeconfigError as error:
        message = str(error)
        for both, key in (("kubeconfig / kubernetes:kubeconfig", "kubernetes:kubeconfig"),
                          ("kube_context / kubernetes:context", "kubernetes:context"),
                          ("kube_context (kubernetes:context)", "kubernetes:context")):
            message = message.replace(both, key)  # a stack's user wrote config keys, not arguments
        secret = "--secret " if "kubernetes:kubeconfig" in secret_keys else ""
        if context and f"context {context!r}" in message and "does not exist" in message:
            return [("kubernetes:context", message, "pulumi config set kubernetes:context '<a context of that kubeconfig>'")]
        return [("kubernetes:kubeconfig", message,
                 f"pulumi config set {secret}kubernetes:kubeconfig '<path of your kubeconfig file>'")]
    return []


def load(raw: Mapping[str, Any], *, stack: str, okta: Mapping[str, Any] | None = None,
         full_config: Mapping[str, Any] | None = None, secret_keys: Collection[str] = ()) -> tuple[IntegrationConfig, str]:
    """Validate one stack's ``kubesphere-okta:`` config; return it with the resolved issuer.

    ``raw`` maps keys without the namespace (``consoleUrl``) to Pulumi's config values (strings,
    structured values as JSON); ``okta`` holds the okta provider's ``orgName``/``baseUrl``.
    ``full_config`` (every key with its namespace) lets misspelt namespaces and provider keys be
    reported; ``secret_keys`` (full keys) are never echoed.
    """
    okta = okta or {}
    own_secrets = {k[len(NAMESPACE) + 1:] for k in secret_keys if k.startswith(f"{NAMESPACE}:")}
    problems: list[tuple[str, str, str]] = list(unknown_names(full_config or {}, secret_keys))
    if CHECK_KUBECONFIG.get():
        problems += kubeconfig_problems(full_config or {}, secret_keys)
    problems += placeholder_problems(full_config if full_config is not None else
                                     {f"{NAMESPACE}:{k}": v for k, v in raw.items()})
    # Cross-field rules run on whatever parsed, so every problem is reported in one round.
    values = {field: raw.get(to_camel(field)) for field in IntegrationConfig.model_fields}
    for field in ("group_ids", "group_names", "scopes", "role_bindings", "reserved_usernames",
                  "workspace_role_bindings", "project_role_bindings", "cluster_role_bindings"):
        values[field] = _json_list(values[field])
    for field in BOOLEAN_FIELDS:
        try:
            values[field] = rules.parse_bool(values[field]) if values[field] is not None else None
        except ValueError:
            pass  # reported by the model, in the same words
    values = {k: v for k, v in values.items() if v is not None}
    values.setdefault("provider_name", rules.DEFAULT_PROVIDER_NAME)
    cross = rules.cross_field_problems(values)

    model: IntegrationConfig | None = None
    found: list[tuple[str, Any]] = []
    try:
        model = IntegrationConfig.model_validate(dict(raw))
    except ValidationError as error:
        found += [_problem_of_error(e, values, cross, own_secrets) for e in error.errors()]
    found += [(to_camel(problem[0]), problem) for problem in cross]
    # An append lands after the items the same round removes from that list (fixes run in order).
    lengths = {key: len(items) for key, items in ((k, _json_list(v)) for k, v in raw.items()) if isinstance(items, list)}
    for _, problem in found:
        for fix in getattr(problem, "fixes", ()):
            if fix.action == "remove" and len(fix.path) == 1 and isinstance(fix.path[0], int):
                lengths[config_name(fix.field)] = lengths.get(config_name(fix.field), 0) - 1
    # A key set under a foreign namespace is reported there, with its move: not again as missing here.
    moved = {fix.split(f" {NAMESPACE}:", 1)[1].split(" ", 1)[0] for _, _, fix in problems if f"set {NAMESPACE}:" in fix}
    for key, problem in found:
        if len(problem) == 3 and problem[1] == "is required" and key in moved:
            continue
        problems.append(problem if len(problem) == 3 else _render(key, problem, raw, own_secrets, fix_command(key), lengths))

    issuer = raw.get("issuer")
    if not issuer:
        org_name, base_url = okta.get("orgName"), okta.get("baseUrl") or "okta.com"
        if org_name:
            issuer = rules.org_issuer(org_name, base_url)
            if raw.get("authorizationServerId"):
                issuer = rules.custom_issuer(issuer, raw["authorizationServerId"])
            try:
                rules.check_issuer(issuer)
            except ValueError as error:
                problems.append(("okta:orgName", f"the issuer derived from okta:orgName/okta:baseUrl is invalid: {error}",
                                 "pulumi config set kubesphere-okta:issuer https://<org>.okta.com"))
        elif "issuer" not in moved:
            problems.append((
                f"{NAMESPACE}:issuer",
                "no issuer: set it, or set okta:orgName (and okta:baseUrl) to use the org authorization server",
                "pulumi config set okta:orgName <your-org>",
            ))
    if problems or model is None:
        raise ConfigError(stack, problems)
    return model, issuer
