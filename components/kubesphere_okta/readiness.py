"""The post-deploy login readiness check: poll Okta's discovery and KubeSphere's OAuth configuration.

The judging is in ``readiness_rules`` (pure); this module only fetches, waits with backoff and
gives up after a timeout (default 15 minutes) with the last problem seen; ``login_ready_during_up``
makes it part of ``pulumi up`` (never of a preview). Standard library only (urllib), so the check
adds no runtime dependency. TLS is verified against
the system trust store (``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` are honoured).
"""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Callable, Optional, Sequence

import pulumi

from .readiness_rules import (
    DEFAULT_TIMEOUT_SECONDS,
    ExpectedLogin,
    Fetched,
    Problem,
    backoff_delays,
    discovery_url,
    login_problem,
    oauth_configuration_url,
    timed_out_message,
)


class LoginNotReady(RuntimeError):
    """Login is not ready: the message says what is wrong and where to look."""


#: Below this many seconds left, ``wait_until_login_ready`` stops instead of looking once more.
MIN_CHECK_SECONDS = 0.1
#: The most a readiness answer may hold: a discovery document or the OAuth configuration is a few KiB.
MAX_BODY_BYTES = 1 << 20


class _NoDowngradeRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects, except from https to anything else (a token endpoint must not go plain http)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102 - urllib's hook
        target = urllib.parse.urljoin(req.full_url, newurl)
        if urllib.parse.urlsplit(req.full_url).scheme == "https" and urllib.parse.urlsplit(target).scheme != "https":
            raise urllib.error.URLError(f"refused to follow a redirect from {req.full_url} to plain-http {target}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch_json(url: str, timeout: float = 10.0, ssl_context: Optional[ssl.SSLContext] = None) -> Fetched:
    """GET ``url`` expecting JSON; never raises for network or HTTP errors (they become ``Fetched.error``/status).

    ``timeout`` is the total for the whole answer (connect, headers, body), whatever the server
    does: a body trickled byte by byte is cut off at the deadline. At most ``MAX_BODY_BYTES`` are
    read, and a redirect from https to plain http is refused.
    """
    deadline = time.monotonic() + timeout
    box: dict[str, Fetched] = {}
    worker = threading.Thread(target=lambda: box.update(value=_fetch(url, deadline, ssl_context)), daemon=True)
    worker.start()
    worker.join(timeout + 0.2)
    if "value" not in box:
        return Fetched(url, error=f"no complete answer within {timeout:g} s")
    return box["value"]


def _fetch(url: str, deadline: float, ssl_context: Optional[ssl.SSLContext]) -> Fetched:
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "kubesphere-okta-readiness"})
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ssl_context), _NoDowngradeRedirects())
    late = Fetched(url, error="no complete answer within the deadline (the server answers too slowly)")
    try:
        with opener.open(request, timeout=max(deadline - time.monotonic(), 0.01)) as response:
            status = response.status
            body = bytearray()
            while True:
                if time.monotonic() > deadline:
                    return late
                chunk = response.read1(65536)
                if not chunk:
                    break
                body += chunk
                if len(body) > MAX_BODY_BYTES:
                    return Fetched(url, status=status, error=f"answer larger than {MAX_BODY_BYTES} bytes; not read further")
    except urllib.error.HTTPError as error:
        return Fetched(url, status=error.code)
    except (urllib.error.URLError, OSError, ValueError) as error:
        return Fetched(url, error=str(getattr(error, "reason", error)))
    try:
        return Fetched(url, status=status, document=json.loads(bytes(body)))
    except ValueError:
        return Fetched(url, status=status, document=None)


def check_login_once(
    expected: ExpectedLogin, request_timeout: float = 10.0, ssl_context: Optional[ssl.SSLContext] = None
) -> Optional[Problem]:
    """One look at Okta and at KubeSphere, within ``request_timeout`` in total; None when login is ready."""
    deadline = time.monotonic() + request_timeout
    discovery = fetch_json(discovery_url(expected.issuer), request_timeout, ssl_context)
    oauth = fetch_json(oauth_configuration_url(expected.console_url), max(deadline - time.monotonic(), 0.01), ssl_context)
    return login_problem(expected, discovery, oauth)


def wait_until_login_ready(
    expected: ExpectedLogin,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    *,
    first_delay: float = 2.0,
    max_delay: float = 30.0,
    request_timeout: float = 10.0,
    ssl_context: Optional[ssl.SSLContext] = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """Poll until login is ready; return a one-line summary, or raise ``LoginNotReady``.

    A permanent problem (the issuer Okta publishes differs from the configured one) fails at once.
    """
    deadline = clock() + timeout
    delays = backoff_delays(timeout, first=first_delay, cap=max_delay)
    attempts = 0
    while True:
        attempts += 1
        problem = check_login_once(expected, min(request_timeout, max(deadline - clock(), 0.05)), ssl_context)
        if problem is None:
            return (
                f"login ready: {expected.issuer} publishes its discovery document and KubeSphere lists "
                f"{expected.provider_name!r} with its endpoints (after {attempts} check(s))"
            )
        if problem.permanent:
            raise LoginNotReady(f"KubeSphere login through {expected.provider_name!r} cannot work: {problem.message}")
        remaining = deadline - clock()
        delay = next(delays, None)
        if delay is None or remaining <= 0:
            raise LoginNotReady(timed_out_message(expected, timeout, problem))
        sleep(min(delay, remaining))
        if deadline - clock() < MIN_CHECK_SECONDS:
            # Too little time left for a fair look: wait it out, then report what the last look saw.
            sleep(max(deadline - clock(), 0.0))
            raise LoginNotReady(timed_out_message(expected, timeout, problem))


def login_ready_during_up(
    expected: ExpectedLogin,
    client_id: pulumi.Input[str],
    deployed: Sequence[pulumi.Resource],
    timeout: float,
    log_resource: Optional[pulumi.Resource] = None,
) -> pulumi.Output[str]:
    """An Output that resolves once login is ready, after the ``deployed`` resources exist.

    Why an apply, not a dynamic resource: an apply runs in the program on every ``pulumi up`` (so
    each deploy is verified, not only the first), the component registers it as an output so the
    engine waits for it before ``up`` finishes, and its failure fails ``up`` with our message; a
    dynamic provider would run only when its inputs change and needs this package importable in
    Pulumi's provider process. Preview (``is_dry_run``) never checks: nothing has been written yet.
    The wait runs in a worker thread so it does not block the Pulumi event loop.
    """
    if pulumi.runtime.is_dry_run():
        return pulumi.Output.from_input("not checked during preview")
    if deployment_is_mocked():
        return pulumi.Output.from_input("not checked under Pulumi mocks (nothing was deployed)")

    def check(values: list) -> object:
        with_client = ExpectedLogin(
            expected.console_url, expected.issuer, expected.provider_name, expected.kubesphere_version, values[0]
        )
        pulumi.log.info(
            f"waiting up to {timeout:g} s until KubeSphere at {expected.console_url} lists identity provider "
            f"{expected.provider_name!r} and {expected.issuer} answers discovery",
            resource=log_resource,
        )
        return asyncio.to_thread(wait_until_login_ready, with_client, timeout)

    return pulumi.Output.all(client_id, *[resource.id for resource in deployed]).apply(check)


def deployment_is_mocked() -> bool:
    """True when the program runs under ``pulumi.runtime.set_mocks`` rather than a real engine."""
    from pulumi.runtime.settings import get_monitor
    from pulumi.runtime.mocks import MockMonitor

    return isinstance(get_monitor(), MockMonitor)
