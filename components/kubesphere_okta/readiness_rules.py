"""Is login ready after a deploy? Pure decisions: no Pulumi, no I/O.

``readiness.py`` fetches two documents and this module judges them:

* the issuer's discovery document, whose ``issuer`` must equal the configured one byte for byte
  (ks-apiserver's go-oidc discovery refuses anything else and skips the provider);
* the console's ``GET /kapis/config.kubesphere.io/v1alpha2/configs/oauth`` (no login needed; the
  login page reads it). Its shape, from KubeSphere's source: 3.x writes ``oauthOptions`` as is
  (pkg/kapis/config/v1alpha2/register.go at v3.4.1), 4.1 writes ``{issuer, identityProviders,
  clients}`` listing only providers ks-apiserver created (handler.go, identityprovider.go at
  v4.1.3). Either way each entry of ``identityProviders`` has ``name`` and ``provider``, secrets
  removed, and ``provider.endpoint.authURL`` is added only once ks-apiserver's own discovery worked.

Every problem is a sentence saying what is wrong and where to look.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Optional

from . import rules

OAUTH_CONFIGURATION_PATH = "/kapis/config.kubesphere.io/v1alpha2/configs/oauth"
DEFAULT_TIMEOUT_SECONDS = 15 * 60  # a 3.x ks-installer run takes minutes

_KS_APISERVER_LOG = "kubectl -n kubesphere-system logs deploy/ks-apiserver | grep 'failed to create identity provider {name}'"
_KS_INSTALLER_LOG = "kubectl -n kubesphere-system logs deploy/ks-installer -f"


@dataclass(frozen=True)
class ExpectedLogin:
    """What the deploy configured, i.e. what a ready KubeSphere must show."""

    console_url: str
    issuer: str
    provider_name: str
    kubesphere_version: str
    client_id: Optional[str] = None


@dataclass(frozen=True)
class Fetched:
    """One HTTP GET: the status and JSON body, or why there is none (``error``)."""

    url: str
    status: Optional[int] = None
    document: Any = None
    error: Optional[str] = None


@dataclass(frozen=True)
class Problem:
    """Why login is not ready. ``permanent`` problems cannot go away by waiting: fail at once."""

    message: str
    permanent: bool = False


def oauth_configuration_url(console_url: str) -> str:
    return console_url.rstrip("/") + OAUTH_CONFIGURATION_PATH


def discovery_url(issuer: str) -> str:
    """Where go-oidc (ks-apiserver) looks: the issuer without trailing slash + the well-known path."""
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def issuer_problem(expected: ExpectedLogin, discovery: Fetched) -> Optional[Problem]:
    if discovery.error is not None:
        return Problem(
            f"Okta's discovery document {discovery.url} did not answer ({discovery.error}): check the issuer "
            f"{expected.issuer!r} and that Okta is reachable from here and from the cluster"
        )
    if discovery.status != 200 or not isinstance(discovery.document, dict):
        return Problem(
            f"Okta's discovery document {discovery.url} answered HTTP {discovery.status} without an OpenID "
            f"configuration: {expected.issuer!r} is not an issuer; use https://<org>.okta.com or "
            "https://<org>.okta.com/oauth2/<authorization server id>",
            permanent=discovery.status == 404,
        )
    published = discovery.document.get("issuer")
    if published != expected.issuer:
        return Problem(
            f"the issuer Okta publishes is {published!r} but KubeSphere is configured with {expected.issuer!r}: "
            "they must match byte for byte, or ks-apiserver skips the provider (its log says "
            f"\"failed to create identity provider {expected.provider_name}\"); set issuer to {published!r}",
            permanent=True,
        )
    return None


def _not_listed_hint(expected: ExpectedLogin) -> str:
    name = expected.provider_name
    if rules.is_v3(expected.kubesphere_version):
        return (
            f"on KubeSphere {expected.kubesphere_version} ks-installer must first apply the ClusterConfiguration "
            f"(minutes; follow `{_KS_INSTALLER_LOG}`) and ks-apiserver reload kubesphere-config; then look in "
            f"ks-apiserver's log (`{_KS_APISERVER_LOG.format(name=name)}`)"
        )
    return (
        "KubeSphere 4.1 lists only providers ks-apiserver created: check the identity-provider Secret in "
        "kubesphere-system (label config.kubesphere.io/type=identityprovider) and ks-apiserver's log "
        f"(`{_KS_APISERVER_LOG.format(name=name)}`)"
    )


def provider_problem(expected: ExpectedLogin, oauth: Fetched) -> Optional[Problem]:
    """Does the console's OAuth configuration list our provider, discovered (``endpoint.authURL``) and current?"""
    name = expected.provider_name
    if oauth.error is not None:
        return Problem(
            f"the KubeSphere console {oauth.url} did not answer ({oauth.error}): check console_url and that "
            "the console is up (`kubectl -n kubesphere-system get pods`)"
        )
    if oauth.status != 200 or not isinstance(oauth.document, dict):
        return Problem(
            f"the KubeSphere console {oauth.url} answered HTTP {oauth.status} instead of its OAuth configuration: "
            "check console_url (it must be the console's base URL) and that this is the host cluster"
        )
    providers = oauth.document.get("identityProviders") or []
    ours = next((p for p in providers if isinstance(p, dict) and p.get("name") == name), None)
    if ours is None:
        return Problem(f"KubeSphere does not list identity provider {name!r} at {oauth.url} yet: {_not_listed_hint(expected)}")
    provider = ours.get("provider") if isinstance(ours.get("provider"), dict) else {}
    if provider.get("issuer") not in (None, expected.issuer) or (
        expected.client_id and provider.get("clientID") not in (None, expected.client_id)
    ):
        return Problem(
            f"KubeSphere still serves an older configuration of {name!r} (issuer {provider.get('issuer')!r}, "
            f"clientID {provider.get('clientID')!r}): the new one is not loaded yet; {_not_listed_hint(expected)}"
        )
    endpoint = provider.get("endpoint") if isinstance(provider.get("endpoint"), dict) else {}
    if not endpoint.get("authURL"):
        return Problem(
            f"KubeSphere lists {name!r} but without provider.endpoint.authURL: ks-apiserver's OIDC discovery of "
            f"{expected.issuer!r} failed and it skipped the provider (no retry until its configuration is loaded "
            f"again). Look for \"failed to create identity provider {name}\" in ks-apiserver's log "
            f"(`{_KS_APISERVER_LOG.format(name=name)}`): usually an issuer mismatch, or the cluster cannot reach "
            "Okta (egress, proxy, CA bundle)"
        )
    return None


def login_problem(expected: ExpectedLogin, discovery: Fetched, oauth: Fetched) -> Optional[Problem]:
    """The first reason login is not ready, Okta's side first; None when it is ready."""
    return issuer_problem(expected, discovery) or provider_problem(expected, oauth)


def backoff_delays(timeout: float, first: float = 2.0, factor: float = 1.5, cap: float = 30.0) -> Iterator[float]:
    """Waits between polls: growing by ``factor`` up to ``cap``, adding up to at most ``timeout``."""
    if timeout <= 0 or first <= 0:
        return
    spent, delay = 0.0, min(first, cap)
    while spent < timeout:
        step = min(delay, timeout - spent)
        yield step
        spent += step
        delay = min(delay * factor, cap)


def timed_out_message(expected: ExpectedLogin, timeout: float, last: Problem) -> str:
    return (
        f"KubeSphere login through {expected.provider_name!r} was not ready after {timeout:g} s: {last.message}. "
        "Raise verify_login_timeout if KubeSphere is just slow, or set verify_login false to skip this check."
    )

