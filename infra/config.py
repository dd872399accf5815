"""The stack configuration (``kubesphere-okta:`` keys, camelCase) as a pydantic model.

No Pulumi import and no resources: ``load`` turns the raw config strings of one stack into a
validated ``IntegrationConfig`` or raises one ``ConfigError`` listing every problem, each with
the config key and the ``pulumi config set`` command that fixes it.
"""

from __future__ import annotations

import difflib
import json
from typing import Annotated, Any, Mapping, Optional

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


StrList = Annotated[list[str], BeforeValidator(_json_list)]


def _role_bindings(value: dict[str, str]) -> dict[str, str]:
    rules.check_role_bindings(value)  # raises with the message; the mapping keeps its order
    return value


def _scoped_role_bindings(field: str):
    def check(value: dict[str, Any]) -> dict[str, Any]:
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
    require_mfa: bool = True
    """Require two factors to sign in to KubeSphere."""
    reauthenticate_every: Annotated[Optional[str], AfterValidator(lambda v: v if v is None else rules.check_iso8601_duration(v))] = None
    """ISO-8601 duration after which Okta asks for a new sign-in, e.g. PT12H."""
    sign_on_policy: bool = True
    """Manage an app sign-on policy (false on Okta Classic orgs)."""
    mapping_method: Annotated[str, AfterValidator(rules.check_mapping_method)] = "auto"
    """auto or lookup."""
    login_confirmation: bool = True
    """Let users confirm a KubeSphere username at first login."""
    scopes: Annotated[StrList, AfterValidator(rules.check_scopes)] = list(rules.DEFAULT_SCOPES)
    """OIDC scopes; openid is always included."""
    username_claim: Optional[str] = None
    """Claim KubeSphere reads the username from (preferredUsernameKey)."""
    email_claim: Optional[str] = None
    """Claim KubeSphere reads the email from (emailKey)."""
    app_label: Optional[str] = None
    """Okta app display name. Default: KubeSphere (<stack>)."""
    access_token_max_age: Optional[str] = None
    """3.x only: oauthOptions.accessTokenMaxAge, e.g. 1h."""
    access_token_inactivity_timeout: Optional[str] = None
    """3.x only: oauthOptions.accessTokenInactivityTimeout, e.g. 30m."""
    protect_app: Optional[bool] = None
    """Protect the Okta app from deletion. Default: true on stacks named prod*."""
    username_format: Annotated[str, AfterValidator(rules.check_username_format)] = "okta-login"
    """okta-login (Okta's default app username, the login) or dns-safe (jane.doe@acme.com -> jane.doe.acme.com,
    a name KubeSphere accepts, so loginConfirmation may be false)."""
    role_bindings: Annotated[dict[str, str], BeforeValidator(_json_list), AfterValidator(_role_bindings)] = {}
    """Okta group (name or id, also in groupIds/groupNames) -> KubeSphere global role, first match wins;
    needs mappingMethod lookup. Each member gets a User and one GlobalRoleBinding."""
    workspace_role_bindings: Annotated[dict[str, dict[str, str]], BeforeValidator(_json_list), _scoped_role_bindings("workspace_role_bindings")] = {}
    """Okta group -> {workspace: role} (admin, regular, viewer, self-provisioner or a custom WorkspaceRole's full
    name), first match wins per workspace; needs mappingMethod lookup. One WorkspaceRoleBinding per member and workspace."""
    project_role_bindings: Annotated[dict[str, dict[str, str]], BeforeValidator(_json_list), _scoped_role_bindings("project_role_bindings")] = {}
    """Okta group -> {project namespace: role} (admin, operator, viewer or a custom Role), first match wins per
    project; needs mappingMethod lookup. One RoleBinding per member and project."""
    cluster_role_bindings: Annotated[dict[str, str], BeforeValidator(_json_list), _scoped_role_bindings("cluster_role_bindings")] = {}
    """Okta group -> cluster role (cluster-admin, cluster-viewer or a custom ClusterRole), first match wins;
    needs mappingMethod lookup. One ClusterRoleBinding per member."""
    prune_users: bool = False
    """Delete the KubeSphere User of a member who left the roleBindings groups (default: keep it, drop its role)."""
    reserved_usernames: Annotated[StrList, AfterValidator(rules.check_reserved_usernames)] = []
    """KubeSphere user names no Okta user may get (admin is always reserved)."""
    strict_identities: bool = False
    """All or nothing for roleBindings: fail when any member cannot be provisioned (default: skip them with one
    warning, list them in the skippedMembers output, provision everyone else)."""
    verify_login: bool = False
    """pulumi up waits until login is ready (Okta discovery matches the issuer, KubeSphere lists the provider) or fails with a diagnosis; never during preview."""
    verify_login_timeout: Annotated[Optional[float], AfterValidator(lambda v: v if v is None else rules.check_verify_login_timeout(v))] = None
    """Seconds verifyLogin waits, polling with backoff. Default 900."""

    def component_args(self, *, stack: str) -> dict[str, Any]:
        """The ``KubeSphereOktaIntegrationArgs`` for this configuration (issuer already resolved)."""
        args = self.model_dump(exclude_none=True)
        args.setdefault("app_label", f"KubeSphere ({stack})")
        args["protect_app"] = self.protect_app if self.protect_app is not None else stack.startswith("prod")
        return args


#: What `pulumi config set` example to show for each key.
EXAMPLES: dict[str, str] = {
    "consoleUrl": "https://console.example.com",
    "kubesphereVersion": "4.1",
    "issuer": "https://example.okta.com",
    "authorizationServerId": "default",
    "providerName": "Okta",
    "groupIds": "00g1abcdefghijklmnop",
    "groupNames": "'KubeSphere Users'",
    "requireMfa": "true",
    "reauthenticateEvery": "PT12H",
    "signOnPolicy": "true",
    "mappingMethod": "auto",
    "loginConfirmation": "true",
    "scopes": "openid",
    "usernameClaim": "preferred_username",
    "emailClaim": "email",
    "appLabel": "'KubeSphere (prod)'",
    "accessTokenMaxAge": "1h",
    "accessTokenInactivityTimeout": "30m",
    "protectApp": "true",
    "usernameFormat": "dns-safe",
    "pruneUsers": "false",
    "reservedUsernames": "ops",
    "strictIdentities": "true",
    "verifyLogin": "true",
    "verifyLoginTimeout": "900",
}
#: The --path example of each scoped role map: (path after the key, role).
SCOPED_EXAMPLES: dict[str, tuple[str, str]] = {
    "workspaceRoleBindings": ('["KS Team A"]["team-a"]', "regular"),
    "projectRoleBindings": ('["KS Team A"]["team-a-dev"]', "operator"),
    "clusterRoleBindings": ('["KS SRE"]', "cluster-viewer"),
}
LIST_KEYS = {"groupIds", "groupNames", "scopes", "reservedUsernames"}


def fix_command(key: str) -> str:
    if key.startswith("okta:"):
        return f"pulumi config set {key} <value>"
    if key == "roleBindings":
        return f"pulumi config set --path '{NAMESPACE}:roleBindings[\"KubeSphere Admins\"]' platform-admin"
    if key in SCOPED_EXAMPLES:
        path, role = SCOPED_EXAMPLES[key]
        return f"pulumi config set --path '{NAMESPACE}:{key}{path}' {role}"
    if key in LIST_KEYS:
        return f"pulumi config set --path '{NAMESPACE}:{key}[0]' {EXAMPLES[key]}"
    return f"pulumi config set {NAMESPACE}:{key} {EXAMPLES.get(key, '<value>')}"


class ConfigError(ValueError):
    """Every problem of one stack's configuration, each naming its key and the fix."""

    def __init__(self, stack: str, problems: list[tuple[str, str, str]]):
        self.stack = stack
        self.problems = problems
        lines = "\n".join(f"  - {key}: {message}\n    fix: {fix}" for key, message, fix in problems)
        super().__init__(
            f"stack {stack!r} has {len(problems)} configuration problem(s); nothing was created:\n{lines}"
        )


def _problem_for_error(error: Mapping[str, Any]) -> tuple[str, str, str]:
    key = str(error["loc"][0]) if error["loc"] else "?"
    if error["type"] == "extra_forbidden":
        known = [to_camel(name) for name in IntegrationConfig.model_fields]
        close = difflib.get_close_matches(key, known, n=1)
        hint = f" (did you mean {NAMESPACE}:{close[0]}?)" if close else ""
        return f"{NAMESPACE}:{key}", f"unknown key{hint}", f"pulumi config rm {NAMESPACE}:{key}"
    if error["type"] == "missing":
        return f"{NAMESPACE}:{key}", "is required", fix_command(key)
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{NAMESPACE}:{key}", message, fix_command(key)


def load(raw: Mapping[str, Any], *, stack: str, okta: Mapping[str, Any] | None = None) -> tuple[IntegrationConfig, str]:
    """Validate one stack's ``kubesphere-okta:`` config; return it with the resolved issuer.

    ``raw`` maps keys without the namespace (``consoleUrl``) to Pulumi's config values (strings,
    structured values as JSON); ``okta`` holds the okta provider's ``orgName``/``baseUrl``.
    """
    okta = okta or {}
    problems: list[tuple[str, str, str]] = []
    model: IntegrationConfig | None = None
    try:
        model = IntegrationConfig.model_validate(dict(raw))
    except ValidationError as error:
        problems += [_problem_for_error(e) for e in error.errors()]

    # Cross-field rules run on whatever parsed, so every problem is reported in one round.
    values = {field: raw.get(to_camel(field)) for field in IntegrationConfig.model_fields}
    for field in ("group_ids", "group_names", "scopes", "role_bindings", "reserved_usernames",
                  "workspace_role_bindings", "project_role_bindings", "cluster_role_bindings"):
        values[field] = _json_list(values[field])
    for field in ("require_mfa", "sign_on_policy", "login_confirmation", "prune_users", "strict_identities"):
        if isinstance(values[field], str):
            values[field] = {"true": True, "false": False}.get(values[field].lower(), values[field])
    values = {k: v for k, v in values.items() if v is not None}
    values.setdefault("provider_name", rules.DEFAULT_PROVIDER_NAME)
    for field, message in rules.cross_field_problems(values):
        key = to_camel(field)
        problems.append((f"{NAMESPACE}:{key}", message, fix_command(key)))

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
        else:
            problems.append((
                f"{NAMESPACE}:issuer",
                "no issuer: set it, or set okta:orgName (and okta:baseUrl) to use the org authorization server",
                "pulumi config set okta:orgName <your-org>",
            ))
    if problems or model is None:
        raise ConfigError(stack, problems)
    return model, issuer
