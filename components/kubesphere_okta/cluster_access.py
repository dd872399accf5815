"""How every dynamic provider of this package reaches its cluster: one shared cluster-access module.

Used by the 3.x entry (``kubesphere_v3``), the cluster guards (``cluster_guard``) and the role
check (``kubesphere_role_check``), and carried into Pulumi's state by value with them
(``dynamic_registration``), so it imports nothing of this package but pure modules, and Pulumi
only inside the functions that need it.

* ``resolve_kubeconfig(kubeconfig, context, env, home) -> ResolvedKubeconfig`` (pure, from
  ``kubeconfig_loading``): the one cluster, context and user pulumi-kubernetes reaches with the
  same ``kubernetes:kubeconfig``/``kubernetes:context``, by client-go's loading rules; it raises
  ``KubeconfigError`` naming the file, context or user at fault and the fix. ``resolve`` is
  the same for this process (``os.environ``, the home folder), raising ``ClusterAccessError``;
* ``api_client(kubeconfig, kube_context)``: the ``kubernetes`` ApiClient for that cluster, given
  only the resolved context, with the client's own retries off;
* ``Session(props)``: one operation (check, create, update, read, delete) against that cluster:
  ``call(what, request)`` runs one request under a TOTAL per-request deadline
  (``request_timeout``, default ``REQUEST_TIMEOUT_SECONDS``) inside the operation's deadline
  (``OPERATION_TIMEOUT_REQUESTS`` request timeouts); ``identity()`` reads the ``kube-system``
  Namespace uid that identifies the cluster (docs/cluster-binding.md);
* the errors: ``ClusterAccessError`` (safe to show: secrets scrubbed) and its subclass
  ``ClusterUnreachable`` (nothing answered in time); ``kubesphere_v3.ClusterConfigurationError``
  is ``ClusterAccessError``;
* what the providers share to read the engine's values: ``_plain`` (secret wrappers removed),
  ``_contains_unknown`` (preview's unknowns), ``_scrub``/``_secrets_of`` (no secret in a message),
  ``_warn`` (a warning line the engine shows), ``_changed`` (diff).
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import os
import sys
import threading
import time
from typing import Any, Callable, Mapping, Optional, Sequence

from .kubeconfig_loading import KubeconfigError, ResolvedKubeconfig, exec_credential, exec_info, id_token_usable, resolve_kubeconfig

#: Total seconds one request to the API server may take (connect, send, answer, body): the real
#: bound, since the client's own retries are turned off.
REQUEST_TIMEOUT_SECONDS = 20.0
#: One operation (check, create, update, read, delete) gives up after this many request timeouts.
OPERATION_TIMEOUT_REQUESTS = 3
#: The field manager every write carries (``metadata.managedFields``, audit logs).
FIELD_MANAGER = "kubesphere-okta"

_SECRET_PLACEHOLDER = "[secret]"


class ClusterAccessError(Exception):
    """A failure reaching or talking to the cluster (message is safe to show)."""


class ClusterUnreachable(ClusterAccessError):
    """The API server could not be reached or did not answer in time."""


def _plain(value: Any) -> Any:
    """``value`` without the engine's secret wrappers (dynamic providers get plain values, but be sure)."""
    from pulumi.runtime import rpc

    if isinstance(value, Mapping):
        if rpc.is_rpc_secret(value):
            return _plain(rpc.unwrap_rpc_secret(value))
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _contains_unknown(value: Any) -> bool:
    from pulumi.output import Unknown
    from pulumi.runtime import rpc

    if isinstance(value, Unknown) or value == rpc.UNKNOWN:
        return True
    if isinstance(value, Mapping):
        return any(_contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_unknown(v) for v in value)
    return False


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, _SECRET_PLACEHOLDER)
    return text


def _secrets_of(props: Mapping[str, Any]) -> list[str]:
    found = []
    for key in ("entry", "adopted_entry"):
        entry = props.get(key)
        provider = entry.get("provider") if isinstance(entry, Mapping) else None
        found.append(provider.get("clientSecret") if isinstance(provider, Mapping) else None)
    found.append(props.get("kubeconfig"))
    return [s for s in found if isinstance(s, str)]


def _warn(message: str) -> None:
    """A warning from the provider process: the engine shows a plugin's stderr lines in its output
    (pulumi/pulumi sdk/go/common/resource/plugin/plugin.go, ``runtrace``)."""
    print(f"warning: {message}", file=sys.stderr, flush=True)


def _changed(olds: dict[str, Any], news: dict[str, Any], keys: Sequence[str]) -> list[str]:
    """The keys whose new value is unknown or differs from the old one (a missing or empty value
    equals None)."""
    return [key for key in keys if _contains_unknown(news.get(key)) or (olds.get(key) or None) != (news.get(key) or None)]


def resolve(kubeconfig: Optional[str], kube_context: Optional[str]) -> ResolvedKubeconfig:
    """``resolve_kubeconfig`` for this process: its environment and home folder."""
    try:
        return resolve_kubeconfig(kubeconfig, kube_context, os.environ, os.path.expanduser("~"))
    except KubeconfigError as error:
        raise ClusterAccessError(_scrub(str(error), [kubeconfig or ""])) from None


def api_client(kubeconfig: Optional[str], kube_context: Optional[str], resolved: Optional[ResolvedKubeconfig] = None):
    """A ``kubernetes`` ApiClient for the cluster pulumi-kubernetes would reach with the same settings.

    ``kubeconfig`` is a path to a kubeconfig file or its contents (as ``kubernetes:kubeconfig``
    takes it); None means the ambient kubeconfig (``KUBECONFIG`` or ~/.kube/config), then the
    in-cluster service account: ``resolve_kubeconfig`` decides, and the client is given the one
    merged context it chose (never the Python client's own merging). The client never retries on
    its own (``retries=False``): a request that fails, or whose answer is lost, is reported, never
    silently sent again.
    """
    from kubernetes import client, config

    resolved = resolved or resolve(kubeconfig, kube_context)
    configuration = client.Configuration()
    configuration.retries = False
    try:
        if resolved.in_cluster:
            config.load_incluster_config(client_configuration=configuration)
        else:
            config.load_kube_config_from_dict(resolved.kubeconfig, context=resolved.context, persist_config=False,
                                              client_configuration=configuration)
        return client.ApiClient(configuration)
    except config.ConfigException as error:
        raise ClusterAccessError(
            _scrub(f"cannot load the kubeconfig to reach the cluster ({resolved.origin}): {error}", [kubeconfig or ""])
        ) from None
    except Exception as error:  # malformed contents the loader trips over: name the kind, never the values
        raise ClusterAccessError(
            f"cannot load the kubeconfig to reach the cluster ({resolved.origin}): it is malformed "
            f"({type(error).__name__}); check the certificate and key data of cluster {resolved.cluster!r} and "
            f"user {resolved.user!r}"
        ) from None


# --- credentials, fetched under the operation's deadline -----------------------------------------


def with_credentials(resolved: ResolvedKubeconfig, limit: Callable[[], float], secrets: list[str]) -> ResolvedKubeconfig:
    """``resolved`` with its user's exec plugin run, or its oidc id-token refreshed, each within
    ``limit()`` seconds, so the client is given a plain token or certificate and never runs them
    itself. The client would run an exec plugin with no deadline (a plugin that never exits hangs
    the operation) and refresh an oidc token with its own retries (4 x 40 s against a silent IdP)."""
    user = resolved.user_entry
    if resolved.kubeconfig is None or not (user.get("exec") or _oidc(user)):
        return resolved
    if user.get("exec"):
        credential = _run_exec_plugin(resolved, user["exec"], limit(), secrets)
    else:
        credential = {"token": _oidc_id_token(user["auth-provider"].get("config") or {}, limit, secrets, resolved)}
    fresh = {k: v for k, v in user.items() if k not in ("exec", "auth-provider", "token", "tokenFile")}
    fresh.update(credential)
    kubeconfig = copy.deepcopy(resolved.kubeconfig)
    kubeconfig["users"][0]["user"] = fresh
    return dataclasses.replace(resolved, kubeconfig=kubeconfig)


def _oidc(user: Mapping[str, Any]) -> bool:
    provider = user.get("auth-provider")
    return isinstance(provider, Mapping) and provider.get("name") == "oidc"


def _run_exec_plugin(resolved: ResolvedKubeconfig, plugin: Mapping[str, Any], seconds: float,
                     secrets: list[str]) -> dict:
    """Run the kubeconfig's credential plugin as client-go does (no terminal), killed with its
    whole process group when it does not finish within ``seconds``."""
    import signal
    import subprocess

    command = plugin["command"]
    what = f"the kubeconfig's credential plugin {command!r} (user {resolved.user!r})"
    if (plugin.get("interactiveMode") or "IfAvailable") == "Always":
        raise ClusterAccessError(f"{what} has interactiveMode: Always, and Pulumi runs providers without a terminal: "
                                 "set it to IfAvailable or Never, or give the kubeconfig a token instead")
    env = dict(os.environ)
    env.update({v["name"]: v.get("value") or "" for v in plugin.get("env") or []})
    try:
        env["KUBERNETES_EXEC_INFO"] = exec_info(plugin, resolved.cluster_entry)
    except KubeconfigError as error:
        raise ClusterAccessError(str(error)) from None
    if seconds <= 0:
        raise ClusterUnreachable(f"{what} was not started: the operation's deadline had passed. No request was sent "
                                 f"to the API server at {resolved.server}.")
    try:
        process = subprocess.Popen([command, *(plugin.get("args") or [])], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
    except OSError as error:
        hint = f" {plugin['installHint'].strip()}" if plugin.get("installHint") else ""
        raise ClusterAccessError(f"cannot run {what}: {error.strerror or type(error).__name__}.{hint}") from None
    try:
        out, err = process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.communicate()
        raise ClusterUnreachable(
            f"{what} did not finish within {_seconds(seconds)} s and was stopped. No request was sent to the API server at "
            f"{resolved.server}. Run the plugin by hand: it may be waiting for a login or a network it cannot reach."
        ) from None
    if process.returncode != 0:
        lines = [line for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
        said = f": {_scrub(lines[-1].strip()[:300], secrets)}" if lines else ""
        raise ClusterAccessError(f"{what} failed (exit status {process.returncode}){said}. No request was sent to "
                                 f"the API server at {resolved.server}.")
    try:
        return exec_credential(out, plugin)
    except KubeconfigError as error:
        raise ClusterAccessError(str(error)) from None


def _oidc_id_token(config: Mapping[str, Any], limit: Callable[[], float], secrets: list[str],
                   resolved: ResolvedKubeconfig) -> str:
    """The oidc auth provider's id-token as client-go's plugin gets it: the stored one while it
    is valid, else one refresh (discovery, then the token endpoint), each request bounded."""
    issuer = (config.get("idp-issuer-url") or "").rstrip("/")
    what = f"the kubeconfig's oidc auth provider (user {resolved.user!r})"
    if not issuer or not config.get("client-id"):
        raise ClusterAccessError(f"{what} needs idp-issuer-url and client-id in its config")
    try:
        if id_token_usable(config.get("id-token"), time.time()):
            return config["id-token"]
    except KubeconfigError as error:
        raise ClusterAccessError(f"{what}: {error}") from None
    refresh_token = config.get("refresh-token")
    if not refresh_token:
        raise ClusterAccessError(f"{what} has no valid id-token and no refresh-token to get one: log in again "
                                 f"(kubectl oidc-login or your IdP's tool)")
    secrets = secrets + [refresh_token, config.get("client-secret") or ""]
    context = _idp_tls(config)
    discovery = _idp_request(f"{issuer}/.well-known/openid-configuration", None, {}, limit(), context, issuer,
                             resolved.server, secrets)
    endpoint = discovery.get("token_endpoint") if isinstance(discovery, Mapping) else None
    if not isinstance(endpoint, str) or not endpoint:
        raise ClusterAccessError(f"the OpenID provider {issuer} names no token_endpoint in its discovery document")
    import urllib.parse

    form = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": refresh_token}).encode()
    credentials = f"{urllib.parse.quote_plus(config['client-id'])}:{urllib.parse.quote_plus(config.get('client-secret') or '')}"
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}
    answer = _idp_request(endpoint, form, headers, limit(), context, issuer, resolved.server, secrets)
    id_token = answer.get("id_token") if isinstance(answer, Mapping) else None
    if not isinstance(id_token, str) or not id_token:
        raise ClusterAccessError(f"the OpenID provider {issuer} refreshed the token without an id_token: request the "
                                 "openid scope at login")
    return id_token


def _idp_tls(config: Mapping[str, Any]) -> Any:
    import ssl

    context = ssl.create_default_context(cafile=config.get("idp-certificate-authority") or None)
    if config.get("idp-certificate-authority-data"):
        context.load_verify_locations(cadata=base64.b64decode(config["idp-certificate-authority-data"]).decode())
    return context


def _idp_request(url: str, body: Optional[bytes], headers: Mapping[str, str], seconds: float, context: Any,
                 issuer: str, server: str, secrets: list[str]) -> Any:
    """One request to the OpenID provider, all of it (connect, answer, body) within ``seconds``."""
    import urllib.error
    import urllib.request

    late = (f"the OpenID provider {issuer} (the kubeconfig's oidc auth provider) did not answer within {_seconds(seconds)} s, "
            f"so no token could be refreshed. No request was sent to the API server at {server}.")
    if seconds <= 0:
        raise ClusterUnreachable(late)
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST" if body else "GET")

    def fetch(timeout: float) -> Any:
        with urllib.request.urlopen(request, timeout=timeout, context=context if url.startswith("https") else None) as answer:
            return json.loads(answer.read().decode("utf-8"))

    try:
        return _bounded(fetch, seconds)
    except TimeoutError:
        raise ClusterUnreachable(late) from None
    except urllib.error.HTTPError as error:
        raise ClusterAccessError(f"the OpenID provider {issuer} refused the token refresh: HTTP {error.code}. "
                                 "Log in again to get a new refresh token.") from None
    except (OSError, ValueError) as error:
        raise ClusterUnreachable(_scrub(f"the OpenID provider {issuer} is unreachable ({type(error).__name__}: {error}); "
                                        f"no request was sent to the API server at {server}.", secrets)) from None


def _seconds(seconds: float) -> str:
    """A deadline as messages show it: ``1``, ``0.5``, ``0.91`` (never ``0.909311``)."""
    return f"{round(seconds, 2):g}"


def _bounded(run: Callable[[float], Any], seconds: float) -> Any:
    """``run(seconds)`` in a worker thread, given up (``TimeoutError``) when it has not returned
    after ``seconds``, whatever the other side does (a server trickling one byte at a time never
    trips a per-read timeout). The worker is left to end on its own; nothing waits for it."""
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["value"] = run(seconds)
        except BaseException as error:  # noqa: BLE001 - handed to the caller below
            box["error"] = error

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(seconds + 0.25)
    if worker.is_alive():
        raise TimeoutError(seconds)
    if "error" in box:
        error = box["error"]
        if "Timeout" in type(error).__name__ or isinstance(error, TimeoutError):
            raise TimeoutError(seconds) from None
        raise error
    return box["value"]


class Session:
    """One operation's connection to the cluster: a total deadline per request and per operation."""

    def __init__(self, props: Mapping[str, Any]):
        self.props = props
        self.secrets = _secrets_of(props)
        timeout = props.get("request_timeout")
        self.timeout = float(timeout) if isinstance(timeout, (int, float)) and timeout > 0 else REQUEST_TIMEOUT_SECONDS
        # Loading the client's code is no wait on the cluster: done before the operation's clock starts.
        import kubernetes.client  # noqa: F401

        self.deadline = time.monotonic() + self.timeout * OPERATION_TIMEOUT_REQUESTS
        resolved = resolve(props.get("kubeconfig"), props.get("kube_context"))
        self.server = resolved.server
        # Credential plugins and token refreshes run here, under this operation's deadline, never
        # inside the client (which would run them without one).
        resolved = with_credentials(resolved, self._limit, self.secrets)
        self.client = api_client(props.get("kubeconfig"), props.get("kube_context"), resolved)
        self.server = self.client.configuration.host

    def _limit(self) -> float:
        """Seconds the next step may take: one request's timeout, within what is left of the operation."""
        return max(0.0, min(self.timeout, self.deadline - time.monotonic()))

    def call(self, what: str, request: Callable[[float], Any]) -> Any:
        """Run ``request(timeout)`` and give up, whatever the server does, after the deadline: one
        request's timeout, within what is left of the operation, for all of it (connect, answer, body)."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise ClusterUnreachable(self._late(what, f"{_seconds(self.timeout * OPERATION_TIMEOUT_REQUESTS)} s"))
        limit = min(self.timeout, remaining)
        try:
            return _bounded(request, limit)
        except TimeoutError:
            within = f"{_seconds(limit)} s" if limit == self.timeout else \
                f"the {_seconds(limit)} s left of this operation's {_seconds(self.timeout * OPERATION_TIMEOUT_REQUESTS)} s"
            raise ClusterUnreachable(self._late(what, within)) from None

    def _late(self, what: str, within: str) -> str:
        return (
            f"cannot {what}: the Kubernetes API server at {self.server} did not answer within {within}. "
            "Nothing more was sent. Check that the kubeconfig/context reaches the cluster (VPN, proxy, firewall)."
        )

    def unreachable(self, what: str, error: Exception) -> ClusterUnreachable:
        return ClusterUnreachable(
            _scrub(f"cannot {what}: the Kubernetes API server at {self.server} is unreachable: "
                   f"{type(error).__name__}: {error}", self.secrets)
        )

    # --- requests -----------------------------------------------------------------------------

    def identity(self) -> dict:
        """The cluster reached: its API server URL and the uid of its kube-system Namespace."""
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        what = "read Namespace kube-system (the cluster's identity)"
        core = client.CoreV1Api(self.client)
        try:
            namespace = self.call(what, lambda t: core.read_namespace("kube-system", _request_timeout=t))
        except ApiException as error:
            hint = " The kubeconfig's user needs get on namespaces (kube-system) to identify the cluster." \
                if error.status in (401, 403) else ""
            raise api_error(what, error, self.secrets, hint) from None
        except ClusterAccessError:
            raise
        except Exception as error:
            raise self.unreachable(what, error) from None
        uid = getattr(getattr(namespace, "metadata", None), "uid", None)
        if not uid and isinstance(namespace, Mapping):
            uid = (namespace.get("metadata") or {}).get("uid")
        if not uid:
            raise ClusterAccessError(f"the API server at {self.server} returned Namespace kube-system without a uid")
        return {"server": self.server, "kube_system_uid": uid}


def api_error(what: str, error: Any, secrets: list[str], hint: str = "") -> ClusterAccessError:
    message = ""
    try:
        message = json.loads(error.body or "{}").get("message", "")
    except (ValueError, AttributeError):
        pass
    text = f"cannot {what}: HTTP {error.status} {error.reason}. {message}".rstrip() + hint
    return ClusterAccessError(_scrub(text, secrets))
