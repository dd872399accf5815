"""The component's arguments: a TypedDict, and their validation.

The annotations are the component's schema for other languages (``provider.py`` infers it from
them), so they say what the code accepts: a plain type for an argument that shapes the resource
graph (``_STRUCTURAL``: an Output is refused), ``pulumi.Input[...]`` for one that may be an Output,
``Required[...]`` for the three required ones. No ``from __future__ import annotations`` here: the
schema inference needs real types, not strings.
"""

import difflib
from typing import Any, Mapping, Required, Sequence, TypedDict

import pulumi

from . import rules
from .identity_provider import IdentityProviderSettings
from .readiness_rules import DEFAULT_TIMEOUT_SECONDS


class KubeSphereOktaIntegrationArgs(TypedDict, total=False):
    """Arguments of ``KubeSphereOktaIntegration``. Only the first three are required."""

    console_url: Required[str]
    """Required. The KubeSphere console's base URL, e.g. ``https://console.example.com``. https; plain
    http only for localhost. The Okta redirect URI is ``<console_url>/oauth/redirect/<provider_name>``."""

    issuer: Required[str]
    """Required. The Okta issuer, byte-identical to its discovery document: ``https://<org>.okta.com``
    (org authorization server) or ``https://<org>.okta.com/oauth2/<id>`` (custom). No trailing slash."""

    kubesphere_version: Required[str]
    """Required. ``"3.2"``, ``"3.3"``, ``"3.4"`` (entry in the ks-installer ClusterConfiguration) or
    ``"4.1"`` (identity-provider Secret). A 4.1 patch level (``"4.1.0"`` to ``"4.1.3"``) where behaviour
    differs: up to 4.1.2 a pre-provisioned User is bound to its Okta identity by labels, from 4.1.3
    by an annotation; plain ``"4.1"`` means the newest 4.1 (4.1.3)."""

    provider_name: str
    """KubeSphere identity-provider name, shown on the login button. Default ``"Okta"``. A label
    value of at most 63 characters (45 on 4.1). Changing it changes the redirect URI."""

    group_ids: Sequence[str]
    """Okta group ids (``00g...``) allowed to use the app. With ``group_names``, at least one group."""

    group_names: Sequence[str]
    """Okta group names allowed to use the app, resolved to ids with an exact-name check."""

    require_mfa: bool
    """Require two factors in the app sign-on policy rule. Default true. Needs ``sign_on_policy``."""

    reauthenticate_every: str
    """ISO-8601 duration after which Okta asks the user to sign in again (e.g. ``PT12H``). Optional;
    needs ``sign_on_policy``."""

    sign_on_policy: bool
    """Manage an app sign-on (authentication) policy: default-deny plus one allow rule for the
    allowed groups. Default true. Set false on Okta Classic orgs, which have no such policies."""

    mapping_method: str
    """``"auto"`` (default: KubeSphere creates the user at first login) or ``"lookup"`` (the user must
    already exist in KubeSphere)."""

    login_confirmation: bool
    """Default true: at first login the user confirms a KubeSphere username (KubeSphere's own
    behaviour, works with email-like Okta logins). False creates the user at once from the
    username claim, which must then hold a DNS-1123 name. On 4.1: true -> ``manual``, false -> ``auto``."""

    scopes: Sequence[str]
    """OIDC scopes. Default ``[openid, email, profile]``; ``openid`` is always added."""

    username_claim: str
    """ID-token claim KubeSphere takes the username from (``preferredUsernameKey``). Default: KubeSphere's
    ``preferred_username``."""

    email_claim: str
    """ID-token claim KubeSphere takes the email from (``emailKey``). Default: KubeSphere's ``email``."""

    app_label: str
    """Display name of the Okta app. Default ``"KubeSphere (<component name>)"``."""

    access_token_max_age: str
    """3.x only: ``oauthOptions.accessTokenMaxAge`` (e.g. ``1h``)."""

    access_token_inactivity_timeout: str
    """3.x only: ``oauthOptions.accessTokenInactivityTimeout`` (e.g. ``30m``)."""

    protect_app: bool
    """Protect the Okta app from deletion (replacing it rotates client id and secret and logs every
    user out). Default false; the example program turns it on for ``prod*`` stacks."""

    kubeconfig: pulumi.Input[str]
    """Kubeconfig (contents or path) that reaches the KubeSphere cluster, as ``kubernetes:kubeconfig``
    takes it. Given (or ``kube_context``), every KubeSphere object goes through a kubernetes provider
    the component builds from it (do not also pass one in ``opts``). Default: the stack's default
    kubernetes provider, i.e. ``kubernetes:kubeconfig``/``kubernetes:context``, else the ambient
    kubeconfig. Adding or removing it on an existing stack replaces every KubeSphere object."""

    kube_context: pulumi.Input[str]
    """Kubeconfig context, the same as ``kubernetes:context`` (see ``kubeconfig``). Default: the
    default provider's context."""

    adopt_existing_provider: bool
    """3.x: take over an identity provider with our name that this stack did not create (another
    type, issuer or client id). Default false: such an entry is refused at preview. An adopted entry
    is kept in state and put back as it was on ``pulumi destroy``."""

    rebind_cluster: str
    """The kube-system Namespace uid of a cluster that really replaces the one this stack first wrote
    to (rebuilt); the refusal message shows it. Accepted once: the stack is then bound to that cluster."""

    username_format: str
    """The Okta app username, which Okta sends as ``preferred_username``: ``"okta-login"`` (default, the
    login, usually an email address KubeSphere refuses as a name) or ``"dns-safe"`` (a CUSTOM
    ``user_name_template``: jane.doe@acme.com -> jane.doe.acme.com; see usernames.py). With
    ``"dns-safe"``, ``login_confirmation`` may be false and first logins just work."""

    authorization_server_id: str
    """Id of the Okta custom authorization server the ``issuer`` belongs to (``default`` or ``aus...``).
    When set, the component manages that server's access policy: limited to this app's client, with
    one rule that issues tokens only to the allowed groups. Needs Okta API Access Management."""

    role_bindings: Mapping[str, str]
    """Okta group (name or ``00g...`` id, as listed in ``group_ids``/``group_names``) -> KubeSphere global
    role (``platform-admin``, ``platform-regular``, ``platform-self-provisioner`` or a custom GlobalRole),
    in precedence order. Needs ``mapping_method: lookup``: every member gets a User bound to their Okta
    identity and one GlobalRoleBinding, for the first group in this order they belong to."""

    workspace_role_bindings: Mapping[str, Mapping[str, str]]
    """Okta group (as in ``role_bindings``) -> {workspace: workspace role}, in precedence order. A role is
    a built-in short name (``admin``, ``regular``, ``viewer``, ``self-provisioner``: that workspace's own
    role) or a custom WorkspaceRole's full name. Each member gets one WorkspaceRoleBinding per workspace,
    from the first group in this order they belong to, declared on the host cluster. Needs
    ``mapping_method: lookup``."""

    project_role_bindings: Mapping[str, Mapping[str, str]]
    """Okta group -> {project namespace: role} (``admin``, ``operator``, ``viewer`` or a custom Role in that
    namespace), in precedence order: one RoleBinding per member and project, on the cluster the
    component's Kubernetes provider reaches. Needs ``mapping_method: lookup``."""

    cluster_role_bindings: Mapping[str, str]
    """Okta group -> cluster role (``cluster-admin``, ``cluster-viewer`` or a custom ClusterRole), in
    precedence order: one ClusterRoleBinding per member. Needs ``mapping_method: lookup``."""

    prune_users: bool
    """Delete the KubeSphere User of someone who left the ``role_bindings`` groups. Default false: the
    User is kept (only its GlobalRoleBinding goes), because deleting a User makes KubeSphere delete
    every workspace and namespace membership anyone granted it."""

    per_member_resources: bool
    """Step 1 of the upgrade from releases up to 0.2 (docs/usernames-and-roles.md, "Upgrading from
    per-member resources"): declare one resource per User and binding again, each kept on delete and
    labelled for handover, then remove this argument. Default false: a few resources keyed by user."""

    reserved_usernames: Sequence[str]
    """KubeSphere user names no Okta user may get (local accounts): a member who would get one is
    skipped (one warning naming them, the ``skipped_members`` output), never linked. ``admin`` is always reserved."""

    strict_identities: bool
    """All or nothing for ``role_bindings``: when any member cannot be provisioned (no email, a shared
    email, a reserved name...), fail before declaring any User. Default false: those members are
    skipped with one warning and listed in the ``skipped_members`` output, everyone else is provisioned."""

    verify_login: bool
    """After ``pulumi up`` has written both halves, wait until login is really ready: Okta's discovery
    document publishes exactly ``issuer``, and the console's ``/kapis/config.kubesphere.io/v1alpha2/configs/oauth``
    lists the provider with ``provider.endpoint.authURL`` (ks-apiserver's own discovery worked). Fails
    ``pulumi up`` with a diagnosis otherwise. Never runs during preview. Default false; the machine
    running Pulumi must reach both the console and Okta."""

    verify_login_timeout: float
    """Seconds ``verify_login`` waits, polling with backoff. Default 900 (a 3.x installer run takes minutes)."""


#: Arguments holding credentials (a kubeconfig may carry tokens or client keys): the schema marks
#: them secret, so programs in other languages keep them encrypted.
SECRET_ARGUMENTS = ("kubeconfig",)

#: Arguments that shape the resource graph, so they must be known when the program runs.
_STRUCTURAL = (
    "kubesphere_version", "provider_name", "group_ids", "group_names", "require_mfa",
    "reauthenticate_every", "sign_on_policy", "mapping_method", "login_confirmation", "scopes",
    "username_claim", "email_claim", "app_label", "access_token_max_age",
    "access_token_inactivity_timeout", "protect_app", "console_url", "issuer",
    "username_format", "authorization_server_id", "role_bindings", "workspace_role_bindings",
    "project_role_bindings", "cluster_role_bindings", "prune_users", "per_member_resources", "reserved_usernames",
    "strict_identities", "verify_login", "verify_login_timeout", "adopt_existing_provider", "rebind_cluster",
)


def argument_fix(fix: rules.Fix) -> str:
    """A rules.Fix said in the component's own terms: its argument names, Python values."""
    where = fix.field + "".join(f"[{p!r}]" for p in fix.path)
    if fix.action == "remove":
        return f"remove {where}" if fix.path else f"remove {fix.field}"
    if fix.path and fix.action == "set":
        return f"set {where} = {fix.value!r}"
    if fix.action == "rename":
        return f"rename {fix.field} to {fix.value}"
    if fix.action == "append":
        return f"add {fix.value!r} to {fix.field}"
    if fix.action == "set_key":
        return f"set {fix.field}[{fix.key!r}] = {fix.value!r}"
    if fix.action == "remove_key":
        return f"remove {fix.field}{''.join(f'[{k!r}]' for k in fix.key)}"
    return f"set {fix.field}={fix.value!r}"


class IntegrationArgsError(ValueError):
    """Raised before any resource is registered; the message lists every problem, each with the fix
    that belongs to it when there is one. URL credentials are never echoed."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        lines = []
        for problem in problems:
            field, message = problem
            lines.append(f"  - {rules.in_terms(field)}: {rules.in_terms(message)}")
            lines += [f"    fix: {argument_fix(fix)}" for fix in getattr(problem, "fixes", ())]
        super().__init__(f"KubeSphereOktaIntegration: {len(problems)} invalid argument(s):\n" + "\n".join(lines))


def _is_output(value: Any) -> bool:
    return isinstance(value, pulumi.Output) or hasattr(value, "__await__")


def resolve_args(args: KubeSphereOktaIntegrationArgs) -> tuple[IdentityProviderSettings, dict[str, Any]]:
    """Validate ``args`` and return the normalised settings plus the Okta-side options.

    Raises ``IntegrationArgsError`` listing every problem; nothing has been registered then.
    """
    values = dict(args)
    known = list(KubeSphereOktaIntegrationArgs.__annotations__)
    problems: list[tuple[str, str]] = []
    for name in sorted(set(values) - set(known)):
        close = difflib.get_close_matches(name, known, n=1)
        problems.append(rules.Problem(
            name, f"unknown argument {name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""),
            [rules.Fix(name, "rename", close[0]) if close else rules.Fix(name, "remove")],
        ))
        if close and close[0] not in values:
            values[close[0]] = values[name]  # check the value under the name it was meant for, too
        del values[name]
    outputs = [k for k in _STRUCTURAL if _is_output(values.get(k))]
    problems += [(k, f"{k} must be a plain value known when the program runs, not an Output") for k in outputs]
    # kubeconfig/kube_context may be Outputs too (secret stack config): the providers check those.
    checkable = {k: v for k, v in values.items() if not _is_output(v)}
    checkable.setdefault("provider_name", rules.DEFAULT_PROVIDER_NAME)
    problems += [p for p in rules.integration_problems(checkable) if p[0] not in outputs]
    if problems:
        raise IntegrationArgsError(problems)
    values.setdefault("provider_name", rules.DEFAULT_PROVIDER_NAME)

    settings = IdentityProviderSettings(
        console_url=rules.check_console_url(values["console_url"]),
        issuer=values["issuer"],
        kubesphere_version=rules.check_kubesphere_version(values["kubesphere_version"]),
        provider_name=values["provider_name"],
        mapping_method=values.get("mapping_method") or "auto",
        login_confirmation=values.get("login_confirmation", True),
        scopes=tuple(rules.check_scopes(values.get("scopes") or rules.DEFAULT_SCOPES)),
        username_claim=values.get("username_claim"),
        email_claim=values.get("email_claim"),
        access_token_max_age=values.get("access_token_max_age"),
        access_token_inactivity_timeout=values.get("access_token_inactivity_timeout"),
        username_format=values.get("username_format") or "okta-login",
    )
    access = {
        "group_ids": rules.check_group_ids(values.get("group_ids") or []),
        "group_names": rules.check_group_names(values.get("group_names") or []),
        "require_mfa": values.get("require_mfa", True),
        "reauthenticate_every": values.get("reauthenticate_every"),
        "sign_on_policy": values.get("sign_on_policy", True),
        "app_label": values.get("app_label"),
        "protect_app": values.get("protect_app", False),
        "kubeconfig": values.get("kubeconfig"),
        "kube_context": values.get("kube_context"),
        "authorization_server_id": values.get("authorization_server_id"),
        "role_bindings": rules.check_role_bindings(values.get("role_bindings") or {}),
        "workspace_role_bindings": rules.check_scoped_role_bindings(
            values.get("workspace_role_bindings") or {}, field="workspace_role_bindings"),
        "project_role_bindings": rules.check_scoped_role_bindings(
            values.get("project_role_bindings") or {}, field="project_role_bindings"),
        "cluster_role_bindings": rules.check_cluster_role_bindings(values.get("cluster_role_bindings") or {}),
        "prune_users": values.get("prune_users", False),
        "per_member_resources": values.get("per_member_resources", False),
        "reserved_usernames": rules.check_reserved_usernames(values.get("reserved_usernames") or []),
        "strict_identities": values.get("strict_identities", False),
        "verify_login": values.get("verify_login", False),
        "verify_login_timeout": float(values.get("verify_login_timeout") or DEFAULT_TIMEOUT_SECONDS),
        "adopt_existing_provider": values.get("adopt_existing_provider", False),
        "rebind_cluster": values.get("rebind_cluster"),
    }
    return settings, access

