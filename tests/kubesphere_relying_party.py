"""A relying party that logs in exactly as KubeSphere's console and ks-apiserver do (docs/kubesphere-okta-facts.md, "A login").

Protocol work is done by libraries: Authlib builds the authorize URL and exchanges the code, joserfc
verifies the ID token. What is written here is only KubeSphere's own behaviour, read from its source
(pkg/apiserver/authentication/identityprovider/oidc/oidc.go, identityprovider.go, models/auth at
v3.4.1 and v4.1.3): how the provider block is decoded, when the provider is silently skipped, how the
console builds the authorize URL, the client_secret_basic-then-post exchange, which claims become
the username and email, and that a user created without confirmation needs a DNS-1123 name.
Each failure raises ``LoginFailed`` carrying the message KubeSphere itself would log or answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, Mapping
from urllib.parse import parse_qs, parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
import yaml
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


class LoginFailed(Exception):
    """A login that KubeSphere would not complete. ``stage`` says where, ``message`` what KubeSphere says."""

    def __init__(self, stage: str, message: str, authorize_error: str | None = None):
        super().__init__(f"{stage}: {message}" + (f" (the provider redirected back with {authorize_error})" if authorize_error else ""))
        self.stage = stage
        self.message = message
        self.authorize_error = authorize_error
        """The ``error: error_description`` the provider put on the redirect back, if any."""


@dataclass(frozen=True)
class IdentityProviderEntry:
    """One OIDCIdentityProvider as ks-apiserver reads it (3.x ClusterConfiguration entry or 4.1 Secret)."""

    name: str
    mapping_method: str
    creates_user_without_confirmation: bool
    provider: Mapping[str, Any]

    @classmethod
    def from_v4_configuration(cls, configuration_yaml: str) -> "IdentityProviderEntry":
        document = yaml.safe_load(configuration_yaml)
        method = document.get("mappingMethod", "")
        return cls(document["name"], method, method == "auto", document["provider"])

    @classmethod
    def from_v3_entry(cls, entry: Mapping[str, Any]) -> "IdentityProviderEntry":
        method = entry.get("mappingMethod", "")
        return cls(entry["name"], method, method == "auto" and bool(entry.get("disableLoginConfirmation")), entry["provider"])

    def option(self, key: str, default: Any = None) -> Any:
        """ks-apiserver decodes the provider block with mapstructure: keys match case-insensitively."""
        for k, v in self.provider.items():
            if k.lower() == key.lower():
                return v
        return default


@dataclass(frozen=True)
class LoadedProvider:
    """What ks-apiserver keeps after discovery succeeded (the endpoints it adds to the entry)."""

    entry: IdentityProviderEntry
    issuer: str
    auth_url: str
    token_url: str
    jwks_url: str
    end_session_url: str = ""
    """The discovery document's ``end_session_endpoint`` (what the console sends a user to at logout)."""


@dataclass(frozen=True)
class Identity:
    sub: str
    username: str
    email: str
    needs_confirmation: bool
    """True when KubeSphere shows its confirmation page (the user picks the name) before creating the User."""


def load_identity_provider(entry: IdentityProviderEntry, http: requests.Session) -> LoadedProvider:
    """Discovery as ks-apiserver runs it when the configuration is loaded (go-oidc ``NewProvider``).

    On failure KubeSphere logs "failed to create identity provider <name>: ..." and skips the provider.
    """
    issuer = entry.option("issuer", "")

    def skipped(reason: str) -> LoginFailed:
        return LoginFailed("load", f"failed to create identity provider {entry.name}: failed to create oidc provider: {reason}")

    try:
        response = http.get(issuer.rstrip("/") + "/.well-known/openid-configuration", timeout=10)
    except requests.RequestException as error:
        raise skipped(str(error)) from error
    if response.status_code != 200:
        raise skipped(f"{response.status_code} {response.reason}: {response.text[:200]}")
    document = response.json()
    if document.get("issuer") != issuer:
        raise skipped(
            f"oidc: issuer did not match the issuer returned by provider, expected {issuer!r} got {document.get('issuer')!r}"
        )
    return LoadedProvider(entry, issuer, document["authorization_endpoint"], document["token_endpoint"], document["jwks_uri"],
                          document.get("end_session_endpoint") or "")


def console_authorize_url(provider: LoadedProvider) -> str:
    """The console's login button: clientID, redirectURL and scopes as configured, state = provider name.

    No PKCE and no nonce: the console sends neither.
    """
    entry = provider.entry
    client = OAuth2Session(
        client_id=entry.option("clientID"),
        redirect_uri=entry.option("redirectURL"),
        scope=" ".join(entry.option("scopes") or []),
    )
    url, _state = client.create_authorization_url(provider.auth_url, state=entry.name, response_type="code")
    return url


def browser_sign_in(authorize_url: str, redirect_url: str, browser: requests.Session, max_hops: int = 10) -> str:
    """Follow the OpenID Provider's redirects as a browser would, until it sends us back to ``redirect_url``.

    Returns the callback URL. An error page (no redirect back) raises ``LoginFailed`` at stage "authorize".
    """
    url = authorize_url
    for _ in range(max_hops):
        response = browser.get(url, allow_redirects=False, timeout=10)
        location = response.headers.get("Location")
        if response.status_code in (302, 303) and location:
            url = urljoin(url, location)
            if url.split("?", 1)[0] == redirect_url:
                return url
            continue
        try:
            body = response.json()
            message = f"{body.get('error')}: {body.get('error_description', '')}"
        except ValueError:
            message = f"{response.status_code} {response.text[:200]}"
        raise LoginFailed("authorize", message)
    raise LoginFailed("authorize", "too many redirects")


def _provider_name_in_callback(callback_url: str) -> str:
    """The console serves ``/oauth/redirect/<name>`` and forwards to ks-apiserver ``/oauth/callback/<name>``."""
    return urlsplit(callback_url).path.rstrip("/").rsplit("/", 1)[-1]


def identity_exchange_callback(
    providers: Mapping[str, LoadedProvider], callback_url: str, http: requests.Session
) -> Identity:
    """ks-apiserver's callback: find the provider by name, exchange the code, verify the ID token, map claims."""
    name = _provider_name_in_callback(callback_url)
    provider = providers.get(name)
    if provider is None:
        raise LoginFailed("callback", "identity provider not found")
    query = parse_qs(urlsplit(callback_url).query)
    # ks-apiserver reads only ``code``: an error the provider sent back is not looked at, and the
    # exchange of the missing code is what fails (handler.go oauthCallback, oidc.go at v4.1.3).
    authorize_error = f"{query['error'][0]}: {query.get('error_description', [''])[0]}" if "error" in query else None
    code = query.get("code", [""])[0]
    entry = provider.entry

    token = _exchange_code(provider, code, http, authorize_error)
    raw_id_token = token.get("id_token")
    if not isinstance(raw_id_token, str):
        raise LoginFailed("token", "no id_token in token response")
    claims = _verified_claims(provider, raw_id_token, http)

    sub = claims.get("sub")
    if not isinstance(sub, str):
        raise LoginFailed("claims", 'missing required claim "sub"')
    email = claims.get(entry.option("emailKey") or "email")
    username = claims.get(entry.option("preferredUsernameKey") or "preferred_username")
    if not isinstance(username, str) or not username:
        username = claims.get("name") if isinstance(claims.get("name"), str) else ""
    username = username.lower()  # pkg/models/auth/authenticator.go
    identity = Identity(sub, username, email if isinstance(email, str) else "", not entry.creates_user_without_confirmation)
    if entry.creates_user_without_confirmation and not is_creatable_user_name(username):
        raise LoginFailed(
            "user",
            f'User.iam.kubesphere.io "{username}" is invalid: metadata.name: Invalid value: "{username}": a lowercase '
            "RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'",
        )
    return identity


def is_creatable_user_name(username: str) -> bool:
    """A name KubeSphere can create a User with: a DNS-1123 subdomain, at most 63 characters here (docs/kubesphere-okta-facts.md, "Usernames and Users")."""
    return 0 < len(username) <= 63 and bool(_DNS1123_SUBDOMAIN.match(username))


def _exchange_code(
    provider: LoadedProvider, code: str, http: requests.Session, authorize_error: str | None = None
) -> Mapping[str, Any]:
    """golang.org/x/oauth2 with no AuthStyle set: client_secret_basic first, then client_secret_post."""
    entry = provider.entry
    last_error: OAuthError | None = None
    for method in ("client_secret_basic", "client_secret_post"):
        client = OAuth2Session(
            client_id=entry.option("clientID"),
            client_secret=entry.option("clientSecret"),
            token_endpoint_auth_method=method,
            redirect_uri=entry.option("redirectURL"),
        )
        client.verify, client.trust_env = http.verify, http.trust_env
        try:
            return client.fetch_token(provider.token_url, code=code, grant_type="authorization_code")
        except OAuthError as error:
            last_error = error
    raise LoginFailed(
        "token", f"oidc: failed to get token: {last_error.error}: {last_error.description}", authorize_error
    )


def _verified_claims(provider: LoadedProvider, raw_id_token: str, http: requests.Session) -> dict[str, Any]:
    """go-oidc's IDTokenVerifier with only ClientID set: RS256 against the JWKS, iss, aud, exp."""
    keys = KeySet.import_key_set(http.get(provider.jwks_url, timeout=10).json())
    try:
        token = jwt.decode(raw_id_token, keys, algorithms=["RS256"])
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": provider.issuer},
            aud={"essential": True, "value": provider.entry.option("clientID")},
            exp={"essential": True},
        ).validate(token.claims)
    except JoseError as error:
        raise LoginFailed("id_token", f"failed to verify id token: {error}") from error
    return dict(token.claims)


def log_in(entry: IdentityProviderEntry, http: requests.Session, browser: requests.Session) -> Identity:
    """A whole login: ks-apiserver loads the entry, the console redirects, the user signs in, the callback runs."""
    provider = load_identity_provider(entry, http)
    # A provider skipped at load time is simply absent; the console shows no button for it.
    callback_url = browser_sign_in(console_authorize_url(provider), entry.option("redirectURL"), browser)
    return identity_exchange_callback({entry.name: provider}, callback_url, http)


# --- Logout, as the console does it --------------------------------------------------------------


class LogoutFailed(Exception):
    """The OpenID Provider refused the console's logout request; ``message`` is its error."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def console_logout_url(provider: LoadedProvider, appends_logout_parameters: bool) -> str:
    """Where the console sends a user who logged in through this provider when they log out.

    Every ks-console from 3.2 to 4.1.3 sends an OIDC user to the provider's ``endSessionURL``
    (server/controllers/session.js ``handleLogout``): never with ``id_token_hint``, which nothing in
    KubeSphere keeps. 3.x and 4.1.0-4.1.2 use the discovered ``end_session_endpoint`` as is; 4.1.3
    adds ``post_logout_redirect_uri`` (``provider.postLogoutRedirectURI``, empty when unset) and
    ``client_id`` with Go's ``url.Values.Encode`` (keys sorted) when it loads the provider (oidc.go).
    """
    url = provider.end_session_url
    if not appends_logout_parameters:
        return url
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [("post_logout_redirect_uri", provider.entry.option("postLogoutRedirectURI") or ""),
              ("client_id", provider.entry.option("clientID"))]
    return urlunsplit(parts._replace(query=urlencode(sorted(query, key=lambda kv: kv[0]))))


class _Forms(HTMLParser):
    """The forms of a page: action, method and the hidden inputs (the provider's logout prompt)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attributes.get("action", ""), "method": attributes.get("method", "get"), "fields": {}})
        elif tag == "input" and self.forms and attributes.get("name"):
            self.forms[-1]["fields"][attributes["name"]] = attributes.get("value", "")


@dataclass(frozen=True)
class LoggedOutAt:
    url: str
    """The first URL outside the provider the browser was sent to, or the provider page it ended on."""
    prompts: int
    """How many pages asked the user to confirm ("yes, sign me out")."""


def browser_log_out(logout_url: str, browser: requests.Session, max_hops: int = 10) -> LoggedOutAt:
    """Follow the provider's logout as a browser would, confirming "yes, sign me out" when asked.

    A refused request raises ``LogoutFailed`` with the provider's error.
    """
    provider_origin = urlsplit(logout_url)[:2]
    url, method, data, prompts = logout_url, "GET", None, 0
    for _ in range(max_hops):
        response = browser.request(method, url, data=data, allow_redirects=False, timeout=10)
        location = response.headers.get("Location")
        if response.status_code in (302, 303) and location:
            url, method, data = urljoin(url, location), "GET", None
            if urlsplit(url)[:2] != provider_origin:
                return LoggedOutAt(url, prompts)
            continue
        if response.status_code >= 400:
            try:
                body = response.json()
                raise LogoutFailed(f"{body.get('error')}: {body.get('error_description', '')}")
            except ValueError:
                raise LogoutFailed(f"{response.status_code} {response.text[:200]}") from None
        parser = _Forms()
        parser.feed(response.text)
        forms = [f for f in parser.forms if f["method"].lower() == "post"]
        if not forms:
            return LoggedOutAt(url, prompts)  # a page of the provider itself: the user stays there
        prompts += 1
        form = forms[0]
        url, method, data = urljoin(url, form["action"]), "POST", {**form["fields"], "logout": "yes"}
    raise LogoutFailed("too many redirects")
