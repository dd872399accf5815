"""What KubeSphere and Okta must be told: pure functions, no Pulumi, no I/O.

``IdentityProviderSettings`` is the validated, normalised view of one integration. From it this
module derives the redirect URL, the KubeSphere identity-provider entry (3.x ClusterConfiguration
entry, 4.1 Secret configuration) and the Okta OIDC app's settings, so both halves of the login
are computed from the same values and cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from . import rules
from .cluster_binding import IDENTITY_PROVIDER_SECRET_TYPE
from .usernames import okta_username_expression

SECRET_PLACEHOLDER = "[secret]"
V4_NAMESPACE = "kubesphere-system"
V4_SECRET_TYPE = IDENTITY_PROVIDER_SECRET_TYPE  # the type KubeSphere reads providers from (cluster_binding)
V4_SECRET_LABELS = {"config.kubesphere.io/type": "identityprovider"}
V4_CONFIGURATION_KEY = "configuration.yaml"


@dataclass(frozen=True)
class IdentityProviderSettings:
    """One integration's settings, already validated by ``rules``."""

    console_url: str
    issuer: str
    kubesphere_version: str
    provider_name: str = rules.DEFAULT_PROVIDER_NAME
    mapping_method: str = "auto"
    login_confirmation: bool = True
    scopes: tuple[str, ...] = rules.DEFAULT_SCOPES
    username_claim: str | None = None
    email_claim: str | None = None
    access_token_max_age: str | None = None
    access_token_inactivity_timeout: str | None = None
    username_format: str = "okta-login"

    @property
    def redirect_url(self) -> str:
        return redirect_url(self.console_url, self.provider_name)

    @property
    def post_logout_redirect_uri(self) -> str:
        return post_logout_redirect_uri(self.console_url)


def redirect_url(console_url: str, provider_name: str) -> str:
    """The URL the console sends as ``redirect_uri``; Okta's sign-in redirect URI must equal it."""
    return f"{console_url.rstrip('/')}/oauth/redirect/{provider_name}"


def post_logout_redirect_uri(console_url: str) -> str:
    """Where Okta sends the browser after a logout: the console itself (docs/logout.md).

    KubeSphere 4.1.3 passes ``provider.postLogoutRedirectURI`` verbatim as ``post_logout_redirect_uri``
    (kubesphere/kubesphere@v4.1.3:pkg/apiserver/authentication/identityprovider/oidc/oidc.go), and
    Okta honours it only when it equals one of the app's ``post_logout_redirect_uris``: both take
    this value. The console's root answers a signed-out browser with its login page.
    """
    return console_url.rstrip("/")


def has_post_logout_redirect(kubesphere_version: str) -> bool:
    """True where KubeSphere reads ``provider.postLogoutRedirectURI`` (4.1.3, and plain "4.1")."""
    return kubesphere_version in rules.POST_LOGOUT_REDIRECT_VERSIONS


def kubesphere_mapping_method(settings: IdentityProviderSettings) -> str:
    """3.x keeps auto/lookup plus disableLoginConfirmation; 4.1 folds them into manual/auto/lookup."""
    if settings.mapping_method == "lookup":
        return "lookup"
    if rules.is_v3(settings.kubesphere_version):
        return "auto"
    return "manual" if settings.login_confirmation else "auto"


def _provider_block(settings: IdentityProviderSettings, client_id: str, client_secret: str) -> dict[str, Any]:
    provider: dict[str, Any] = {
        "clientID": client_id,
        "clientSecret": client_secret,
        "issuer": settings.issuer,
        "redirectURL": settings.redirect_url,
    }
    if has_post_logout_redirect(settings.kubesphere_version):
        provider["postLogoutRedirectURI"] = settings.post_logout_redirect_uri
    provider["scopes"] = list(settings.scopes)
    if settings.username_claim:
        provider["preferredUsernameKey"] = settings.username_claim
    if settings.email_claim:
        provider["emailKey"] = settings.email_claim
    return provider


def render_v3_entry(settings: IdentityProviderSettings, client_id: str, client_secret: str) -> dict[str, Any]:
    """The entry of ``spec.authentication.oauthOptions.identityProviders`` (docs/kubesphere-okta-facts.md, "KubeSphere 3.2-3.4")."""
    return {
        "name": settings.provider_name,
        "type": "OIDCIdentityProvider",
        "mappingMethod": kubesphere_mapping_method(settings),
        "disableLoginConfirmation": not settings.login_confirmation,
        "provider": _provider_block(settings, client_id, client_secret),
    }


def v3_oauth_options(settings: IdentityProviderSettings) -> dict[str, str]:
    """Keys our integration sets next to ``identityProviders`` in ``oauthOptions`` (may be empty)."""
    options: dict[str, str] = {}
    if settings.access_token_max_age is not None:
        options["accessTokenMaxAge"] = settings.access_token_max_age
    if settings.access_token_inactivity_timeout is not None:
        options["accessTokenInactivityTimeout"] = settings.access_token_inactivity_timeout
    return options


def render_v4_configuration(settings: IdentityProviderSettings, client_id: str, client_secret: str) -> dict[str, Any]:
    """The ``configuration.yaml`` document of a KubeSphere 4.1 identity-provider Secret (docs/kubesphere-okta-facts.md, "KubeSphere 4.1")."""
    return {
        "name": settings.provider_name,
        "type": "OIDCIdentityProvider",
        "mappingMethod": kubesphere_mapping_method(settings),
        "provider": _provider_block(settings, client_id, client_secret),
    }


def dump_v4_configuration(configuration: dict[str, Any]) -> str:
    # libyaml's emitter where PyYAML has it: the same text, several times faster per Secret.
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(configuration, Dumper=dumper, sort_keys=False, default_flow_style=False)


def v4_secret_name(provider_name: str) -> str:
    """A DNS-1123 Secret name derived from the provider name (label values may hold '_' and capitals)."""
    return "identity-provider-" + provider_name.lower().replace("_", "-").replace(".", "-")


def render_v4_secret(settings: IdentityProviderSettings, client_id: str, client_secret: str) -> dict[str, Any]:
    """The whole Secret object, as ``kubectl apply`` would take it."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": v4_secret_name(settings.provider_name),
            "namespace": V4_NAMESPACE,
            "labels": dict(V4_SECRET_LABELS),
        },
        "type": V4_SECRET_TYPE,
        "stringData": {
            V4_CONFIGURATION_KEY: dump_v4_configuration(render_v4_configuration(settings, client_id, client_secret))
        },
    }


def redact(value: Any) -> Any:
    """A copy of ``value`` with every client secret replaced by ``[secret]``, for outputs and logs."""
    if isinstance(value, dict):
        return {k: (SECRET_PLACEHOLDER if k in ("clientSecret", "client_secret") else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def okta_app_settings(settings: IdentityProviderSettings) -> dict[str, Any]:
    """The ``okta.app.OAuth`` arguments (snake_case) of a web app KubeSphere can log in with.

    Authorization code only, response type code, exactly KubeSphere's redirect URI and the console as
    the post-logout redirect URI, no PKCE
    requirement (KubeSphere sends none), client_secret_basic (what KubeSphere tries first).
    """
    return {
        "type": "web",
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "redirect_uris": [settings.redirect_url],
        # Registered on every version: 4.1.3 asks for it at logout; on older ones it is unused but harmless.
        "post_logout_redirect_uris": [settings.post_logout_redirect_uri],
        "pkce_required": False,
        "implicit_assignment": False,
        "token_endpoint_auth_method": "client_secret_basic",
        "consent_method": "TRUSTED",
        "wildcard_redirect": "DISABLED",
        "hide_ios": True,
        "hide_web": True,
        **okta_username_template(settings.username_format),
    }


def okta_username_template(username_format: str) -> dict[str, str]:
    """The app username, which Okta sends as ``preferred_username``: its default, or the dns-safe one."""
    if username_format == "dns-safe":
        return {"user_name_template": okta_username_expression(), "user_name_template_type": "CUSTOM"}
    return {}
