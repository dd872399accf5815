"""KubeSphere 3.x: one entry of ks-installer's ClusterConfiguration, as a Pulumi dynamic resource.

``ClusterConfigurationIdentityProvider`` owns exactly one entry of
``spec.authentication.oauthOptions.identityProviders`` (matched by name) in the
``installer.kubesphere.io/v1alpha1`` ClusterConfiguration ``kubesphere-system/ks-installer``, and
the ``oauthOptions`` token lifetimes it was given. Everything else in that object belongs to the
cluster and is sent back exactly as it was read (docs/kubesphere-okta-facts.md, "KubeSphere 3.2-3.4"):

* create/update: GET the object, merge our entry by name (``cluster_configuration``), and PUT it
  back with the ``metadata.resourceVersion`` it was read at. The API server answers 409 Conflict
  when anyone wrote in between; we then read again and merge again, a bounded number of times.
  Nothing is written when the object already holds what we want: every spec write makes
  ks-installer re-run for minutes.
* delete: remove our entry by name (and put back the token lifetimes we changed, where they still
  hold our values); already gone, or no ClusterConfiguration at all, is success. The object
  itself is never deleted.
* read (refresh): reports our entry as it is in the cluster, so edits and removals show as drift.
* diff: compares only what we own (our entry, our token lifetimes, name, cluster access).
* check (also during preview): refuses a cluster without the ClusterConfiguration, or with one
  that cannot be merged into safely, before anything is written.

Cluster binding, ownership and lost responses (docs/cluster-binding.md):

* every operation first reads the ``kube-system`` Namespace of the cluster it reaches; its uid is
  recorded in state (``cluster``) on the first write, and check, update, read and delete refuse
  when a later run reaches a cluster with another uid (``cluster_binding``);
* an entry with our name that this stack did not write (other type, issuer or client id) is
  refused unless ``adopt`` is set; an adopted entry is kept in state and put back on delete;
* the token lifetimes to restore are captured once, before our first write, and kept in an
  annotation of the ClusterConfiguration written together with that write, so a retried create
  (lost response, lost checkpoint) never mistakes our own value for the cluster's;
* every request has one total deadline (``request_timeout``), with the client's own retries
  turned off, and writes carry the field manager ``kubesphere-okta``.

Why a PUT with resourceVersion rather than a JSON patch with a ``test`` op: the precondition then
covers the whole object we merged into (so no concurrent change can be lost, whatever it
touched), the API server answers a stale write with the documented 409 Conflict for any object,
and a JSON patch would need a chain of ``add``/``test`` operations for each missing container on
the path. The body is the object exactly as read, with only our entry and keys changed.

Pulumi stores the provider in the state, pickled with dill, and runs it in a separate process
(``python -m pulumi.dynamic``) started in the PROGRAM's directory (``infra/`` here), where
``components`` is not importable. dill pickles classes and functions of importable modules by
reference, so this module, ``cluster_configuration`` and ``cluster_binding`` are re-run from their own source under
``__main__`` (``portable_provider``): dill then pickles that code by value, like a provider
written in ``__main__.py``, and the provider process needs only the installed packages. The
provider holds no client or connection; each operation builds its own from its inputs.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import sys
import threading
import time
import types
from typing import Any, Callable, Mapping, Optional, Sequence

import pulumi
import pulumi.dynamic
import yaml

from . import cluster_binding as binding
from . import cluster_configuration as cc

#: Seconds to wait before each retry after a 409 Conflict; its length bounds the retries.
RETRY_DELAYS_SECONDS: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0, 4.0)
#: Total seconds one request to the API server may take (connect, send, answer, body): the real
#: bound, since the client's own retries are turned off.
REQUEST_TIMEOUT_SECONDS = 20.0
#: One operation (check, create, update, read, delete) gives up after this many request timeouts.
OPERATION_TIMEOUT_REQUESTS = 3
#: The field manager every write carries (``metadata.managedFields``, audit logs).
FIELD_MANAGER = "kubesphere-okta"
#: Annotation of the ClusterConfiguration holding, per provider name, the token lifetimes as they
#: were before our first write (JSON), so they are captured once whatever is retried.
RESTORE_ANNOTATION = "kubesphere-okta.io/oauth-options-before"

_OWNED_KEYS = ("provider_name", "entry", "oauth_options", "kubeconfig", "kube_context")
_OBJECT = f"ClusterConfiguration {cc.NAMESPACE}/{cc.NAME}"
_SECRET_PLACEHOLDER = "[secret]"


class ClusterConfigurationError(Exception):
    """A failure talking to, or merging into, the ks-installer ClusterConfiguration (message is safe to show)."""


class ClusterConfigurationNotFound(ClusterConfigurationError):
    pass


class ClusterUnreachable(ClusterConfigurationError):
    """The API server could not be reached or did not answer in time."""


def _not_found_message(kube_context: Optional[str]) -> str:
    where = f"kubeconfig context {kube_context!r}" if kube_context else "the current kubeconfig context"
    return (
        f"{_OBJECT} (installer.kubesphere.io/v1alpha1) does not exist on the cluster of {where}. "
        "KubeSphere 3.2-3.4 keeps identity providers there; KubeSphere 4.1 keeps them in Secrets: if this "
        'cluster runs KubeSphere 4.1, set kubesphere_version: "4.1" (stack config '
        "kubesphere-okta:kubesphereVersion). In a 3.x multi-cluster setup, point kubeconfig/kube_context "
        "at the HOST cluster (members ignore identity providers)."
    )


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


def _unchecked(failures: list, recorded: Any, error: "ClusterConfigurationError", what: str) -> None:
    """At check: a cluster that could not be read. A first write to a cluster whose kubeconfig is
    wrong fails; an unreachable cluster, or one this resource already wrote to, is named in a
    warning (preview must not pass silently) and ``pulumi up`` fails unless it answers."""
    if recorded is None and not isinstance(error, ClusterUnreachable):
        failures.append(pulumi.dynamic.CheckFailure("kubeconfig", str(error)))
    else:
        _warn(f"{what}: {error} (not checked during preview; `pulumi up` fails unless the cluster answers)")


def api_client(kubeconfig: Optional[str], kube_context: Optional[str]):
    """A ``kubernetes`` ApiClient for the cluster pulumi-kubernetes would reach with the same settings.

    ``kubeconfig`` is a path to a kubeconfig file or its contents (as ``kubernetes:kubeconfig``
    takes it); None means the ambient kubeconfig (``KUBECONFIG`` or ~/.kube/config), then the
    in-cluster service account. The client never retries on its own (``retries=False``): a request
    that fails, or whose answer is lost, is reported, never silently sent again.
    """
    from kubernetes import client, config

    configuration = client.Configuration()
    configuration.retries = False
    try:
        if kubeconfig:
            path = os.path.expanduser(kubeconfig)
            if "\n" not in kubeconfig and os.path.isfile(path):
                try:
                    with open(path, encoding="utf-8") as handle:
                        text = handle.read()
                except (OSError, UnicodeDecodeError) as error:
                    raise ClusterConfigurationError(f"cannot read the kubeconfig file {path}: {type(error).__name__}") from None
                problem = binding.kubeconfig_problem(text, kube_context)
                if problem:
                    raise ClusterConfigurationError(f"{problem} (file {path})")
                config.load_kube_config(config_file=path, context=kube_context, persist_config=False,
                                        client_configuration=configuration)
                return client.ApiClient(configuration)
            problem = binding.kubeconfig_problem(kubeconfig, kube_context)
            if problem:
                raise ClusterConfigurationError(problem)
            config.load_kube_config_from_dict(yaml.safe_load(kubeconfig), context=kube_context, persist_config=False,
                                              client_configuration=configuration)
            return client.ApiClient(configuration)
        try:
            config.load_kube_config(context=kube_context, persist_config=False, client_configuration=configuration)
        except (config.ConfigException, FileNotFoundError):
            if kube_context:
                raise
            configuration = client.Configuration()
            configuration.retries = False
            config.load_incluster_config(client_configuration=configuration)
        return client.ApiClient(configuration)
    except ClusterConfigurationError:
        raise
    except config.ConfigException as error:
        raise ClusterConfigurationError(
            _scrub(f"cannot load the kubeconfig to reach the cluster: {error}", [kubeconfig or ""])
        ) from None
    except Exception as error:  # malformed contents the loader trips over: name the kind, never the values
        raise ClusterConfigurationError(
            f"cannot load the kubeconfig to reach the cluster: it is malformed ({type(error).__name__}); "
            "check its certificate and key data and the current context"
        ) from None


class _Session:
    """One operation's connection to the cluster: a total deadline per request and per operation."""

    def __init__(self, props: Mapping[str, Any]):
        self.props = props
        self.secrets = _secrets_of(props)
        timeout = props.get("request_timeout")
        self.timeout = float(timeout) if isinstance(timeout, (int, float)) and timeout > 0 else REQUEST_TIMEOUT_SECONDS
        self.deadline = time.monotonic() + self.timeout * OPERATION_TIMEOUT_REQUESTS
        self.client = api_client(props.get("kubeconfig"), props.get("kube_context"))
        self.server = self.client.configuration.host

    def call(self, what: str, request: Callable[[float], Any]) -> Any:
        """Run ``request(timeout)`` and give up, whatever the server does, after the deadline."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise ClusterUnreachable(self._late(what, self.timeout * OPERATION_TIMEOUT_REQUESTS))
        limit = min(self.timeout, remaining)
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                box["value"] = request(limit)
            except BaseException as error:  # noqa: BLE001 - handed to the caller below
                box["error"] = error

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(limit + 0.25)
        if worker.is_alive():
            raise ClusterUnreachable(self._late(what, limit))
        if "error" in box:
            error = box["error"]
            if "Timeout" in type(error).__name__ or isinstance(error, TimeoutError):
                raise ClusterUnreachable(self._late(what, limit)) from None
            raise error
        return box["value"]

    def _late(self, what: str, seconds: float) -> str:
        return (
            f"cannot {what}: the Kubernetes API server at {self.server} did not answer within {seconds:g} s. "
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
            raise _api_error(what, error, self.secrets, hint) from None
        except ClusterConfigurationError:
            raise
        except Exception as error:
            raise self.unreachable(what, error) from None
        uid = getattr(getattr(namespace, "metadata", None), "uid", None)
        if not uid and isinstance(namespace, Mapping):
            uid = (namespace.get("metadata") or {}).get("uid")
        if not uid:
            raise ClusterConfigurationError(f"the API server at {self.server} returned Namespace kube-system without a uid")
        return {"server": self.server, "kube_system_uid": uid}

    def get(self) -> Optional[dict]:
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        api = client.CustomObjectsApi(self.client)
        try:
            return self.call(f"read {_OBJECT}", lambda t: api.get_namespaced_custom_object(
                cc.GROUP, cc.VERSION, cc.NAMESPACE, cc.PLURAL, cc.NAME, _request_timeout=t))
        except ApiException as error:
            if error.status == 404:
                return None
            raise _api_error(f"read {_OBJECT}", error, self.secrets) from None
        except ClusterConfigurationError:
            raise
        except Exception as error:
            raise self.unreachable(f"read {_OBJECT}", error) from None

    def put(self, body: dict) -> bool:
        """Write ``body`` (carrying the resourceVersion it was read at); False on 409 Conflict."""
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        api = client.CustomObjectsApi(self.client)
        try:
            self.call(f"write {_OBJECT}", lambda t: api.replace_namespaced_custom_object(
                cc.GROUP, cc.VERSION, cc.NAMESPACE, cc.PLURAL, cc.NAME, body,
                field_manager=FIELD_MANAGER, _request_timeout=t))
            return True
        except ApiException as error:
            if error.status == 409:
                return False
            raise _api_error(f"write {_OBJECT}", error, self.secrets) from None
        except ClusterUnreachable as error:
            raise ClusterUnreachable(f"{error} The write may or may not have been applied; the next "
                                     "`pulumi up` reads the object again and finishes it.") from None
        except ClusterConfigurationError:
            raise
        except Exception as error:
            raise ClusterUnreachable(
                _scrub(f"cannot write {_OBJECT}: the API server at {self.server} gave no answer "
                       f"({type(error).__name__}). The write may or may not have been applied; the next "
                       "`pulumi up` reads the object again and finishes it.", self.secrets)
            ) from None


def _api_error(what: str, error: Any, secrets: list[str], hint: str = "") -> ClusterConfigurationError:
    message = ""
    try:
        message = json.loads(error.body or "{}").get("message", "")
    except (ValueError, AttributeError):
        pass
    if not hint and error.status in (401, 403):
        hint = (
            f" The kubeconfig's user needs get and update on clusterconfigurations.installer.kubesphere.io "
            f"in {cc.NAMESPACE}."
        )
    text = f"cannot {what}: HTTP {error.status} {error.reason}. {message}".rstrip() + hint
    return ClusterConfigurationError(_scrub(text, secrets))


# --- the restore record (token lifetimes before our first write) --------------------------------


def _restore_records(obj: Mapping[str, Any]) -> dict:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    try:
        records = json.loads(annotations.get(RESTORE_ANNOTATION) or "{}")
    except ValueError:
        return {}
    return records if isinstance(records, dict) else {}


def _with_restore_record(obj: dict, name: str, record: Optional[dict], drop: Optional[str] = None) -> dict:
    """``obj`` (already a copy) with the record of ``name`` set (or removed when empty/None)."""
    records = _restore_records(obj)
    if drop:
        records.pop(drop, None)
    if record and (record.get("keys") or []):
        records[name] = record
    else:
        records.pop(name, None)
    metadata = obj.setdefault("metadata", {})
    annotations = dict(metadata.get("annotations") or {})
    if records:
        annotations[RESTORE_ANNOTATION] = json.dumps(records, sort_keys=True)
    else:
        annotations.pop(RESTORE_ANNOTATION, None)
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)
    return obj


class ClusterConfigurationProvider(pulumi.dynamic.ResourceProvider):
    """CRUD of our entry in ks-installer's ClusterConfiguration (see the module docstring)."""

    retry_delays: tuple[float, ...] = RETRY_DELAYS_SECONDS

    # --- I/O ---------------------------------------------------------------------------------

    def _session(self, props: Mapping[str, Any]) -> _Session:
        return _Session(props)

    def _bound(self, session: _Session, recorded: Any, rebind: Any, verb: str) -> tuple[dict, str]:
        """The identity of the cluster reached, and how it relates to the recorded one (refuses a mismatch)."""
        live = session.identity()
        try:
            decision = binding.check(f"the identity provider entry in {_OBJECT}", verb, recorded, live, rebind)
        except binding.ClusterMismatch as error:
            raise ClusterConfigurationError(str(error)) from None
        return live, decision

    def _merge_and_write(self, session: _Session, merge, *, missing_ok: bool) -> tuple[Optional[dict], int]:
        """Read, ``merge(object) -> desired object``, write if it changed; retry on 409.

        Returns (the object as it now is, or None when missing and ``missing_ok``; writes made).
        """
        attempts = len(self.retry_delays) + 1
        for attempt in range(attempts):
            current = session.get()
            if current is None:
                if missing_ok:
                    return None, 0
                raise ClusterConfigurationNotFound(_not_found_message(session.props.get("kube_context")))
            try:
                desired = merge(current)
            except cc.MalformedClusterConfiguration as error:
                raise ClusterConfigurationError(str(error)) from None
            if not cc.needs_write(current, desired):
                return current, 0
            if session.put(desired):
                return desired, 1
            if attempt + 1 < attempts:
                time.sleep(self.retry_delays[attempt])
        raise ClusterConfigurationError(
            f"gave up after {attempts} attempts: {_OBJECT} changed between each of our reads and writes "
            "(409 Conflict; ks-installer updates it while it runs). Nothing of ours was written; run the "
            "update again when the installer is idle."
        )

    # --- ownership ----------------------------------------------------------------------------

    @staticmethod
    def _foreign(current: dict, news: Mapping[str, Any], *, client_id_known: bool = True) -> Optional[dict]:
        """The entry with our name when it is someone else's (None when absent or ours)."""
        existing = cc.find_identity_provider(current, news["provider_name"])
        entry = news.get("entry")
        if existing is None or not isinstance(entry, Mapping):
            return None
        return existing if binding.entry_differences(existing, entry, client_id_known=client_id_known) else None

    def _ownership_problem(self, olds: Mapping[str, Any], news: Mapping[str, Any], current: dict, *,
                           fresh: bool, client_id_known: bool = True) -> Optional[str]:
        """Why writing ``news`` would take an entry this stack does not own (None when it would not)."""
        name = news["provider_name"]
        old_name = None if fresh else olds.get("provider_name")
        if not fresh and old_name == name:
            return None  # ours since the first write (edits by others are drift we put right)
        foreign = self._foreign(current, news, client_id_known=client_id_known)
        if foreign is None:
            return None
        differences = binding.entry_differences(foreign, news["entry"], client_id_known=client_id_known)
        if old_name and old_name != name:
            return binding.foreign_entry_message(name, differences, renaming_from=old_name)
        if news.get("adopt"):
            return None
        return binding.foreign_entry_message(name, differences)

    # --- the merge for one operation --------------------------------------------------------

    @staticmethod
    def _apply(olds: Mapping[str, Any], news: Mapping[str, Any], current: dict) -> tuple[dict, dict]:
        """The object with ``news`` applied over what ``olds`` had applied; and the new before-values.

        Values to restore come from the restore record when one exists: it was written together
        with our first write of each key, so it holds the value from BEFORE that write even when
        the write's answer, or the checkpoint after it, was lost.
        """
        name = news["provider_name"]
        old_name = olds.get("provider_name") or name
        old_options = olds.get("oauth_options_written", olds.get("oauth_options")) or {}
        new_options = news.get("oauth_options") or {}
        before = dict(olds.get("oauth_options_before") or {})
        cc.check(current, name)
        records = _restore_records(current)
        record = records.get(old_name) or records.get(name) or {}
        recorded_keys = list(record.get("keys") or [])
        recorded_before = dict(record.get("before") or {})
        # Token lifetimes we no longer set go back to what they were before us.
        dropped = {k: v for k, v in old_options.items() if k not in new_options}
        target = cc.restore_oauth_options(current, dropped, before) if dropped else current
        for key in dropped:
            before.pop(key, None)
            recorded_before.pop(key, None)
            if key in recorded_keys:
                recorded_keys.remove(key)
        # Keys we set for the first time: remember what they were, once.
        fresh = [k for k in new_options if k not in old_options]
        for key in fresh:
            if key in recorded_keys:
                if key in recorded_before:
                    before[key] = recorded_before[key]
                else:
                    before.pop(key, None)
            else:
                captured = cc.oauth_options_before(current, [key])
                before.update(captured)
                recorded_keys.append(key)
                recorded_before.update(captured)
        for key in new_options:  # keys already ours: keep the record complete for older state
            if key not in recorded_keys:
                recorded_keys.append(key)
                if key in before:
                    recorded_before[key] = before[key]
        if old_name != name:
            target = cc.remove_identity_provider(target, old_name)
        target = cc.upsert_identity_provider(target, news["entry"], new_options)
        record = {"keys": recorded_keys, "before": {k: v for k, v in recorded_before.items() if k in recorded_keys}}
        target = _with_restore_record(target, name, record, drop=old_name if old_name != name else None)
        return target, before

    def _outputs(self, news: Mapping[str, Any], before: dict, cluster: dict, adopted: Optional[dict]) -> dict:
        outs = {k: news.get(k) for k in _OWNED_KEYS}
        outs["oauth_options_before"] = before
        # What we wrote, kept apart from ``oauth_options``, which a refresh overwrites with live values.
        outs["oauth_options_written"] = dict(news.get("oauth_options") or {})
        outs["cluster"] = cluster
        outs["adopted_entry"] = adopted
        for key in ("adopt", "rebind_cluster", "request_timeout"):
            outs[key] = news.get(key)
        return outs

    # --- the ResourceProvider interface -----------------------------------------------------

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        olds_plain, news_plain = _plain(olds or {}), _plain(news)
        failures = []
        name = news_plain.get("provider_name")
        entry = news_plain.get("entry")
        if _contains_unknown(name):
            return pulumi.dynamic.CheckResult(news, failures)  # preview with unknown inputs: nothing to check yet
        if not isinstance(name, str) or not name:
            failures.append(pulumi.dynamic.CheckFailure("provider_name", "provider_name must be a non-empty string"))
        elif isinstance(entry, Mapping) and not _contains_unknown(entry.get("name")) and entry.get("name") != name:
            failures.append(pulumi.dynamic.CheckFailure("entry", f"entry.name must equal provider_name {name!r}"))
        keys = ("kubeconfig", "kube_context", "rebind_cluster", "request_timeout")
        if failures or any(_contains_unknown(news_plain.get(k)) for k in keys):
            return pulumi.dynamic.CheckResult(news, failures)
        recorded = olds_plain.get("cluster")
        try:
            session = self._session(news_plain)
            live = session.identity()
            decision = binding.decide(recorded, live, news_plain.get("rebind_cluster"))
            if decision == "mismatch":
                message = binding.mismatch_message(f"the identity provider entry in {_OBJECT}", "update", recorded, live)
                failures.append(pulumi.dynamic.CheckFailure("kubeconfig", message))
                return pulumi.dynamic.CheckResult(news, failures)
            # The cluster this resource is bound to travels in its inputs, so the next check sees it.
            news = dict(news)
            news["cluster"] = binding.updated(recorded, live) if decision == "same" else live
            current = session.get()
            if current is None:
                failures.append(pulumi.dynamic.CheckFailure("kubeconfig", _not_found_message(news_plain.get("kube_context"))))
            else:
                cc.check(current, name)
                if isinstance(entry, Mapping) and not _contains_unknown(entry.get("type")):
                    client_id_known = not _contains_unknown(entry)
                    problem = self._ownership_problem(olds_plain, news_plain, current,
                                                      fresh=decision == "rebind" or not olds_plain.get("provider_name"),
                                                      client_id_known=client_id_known)
                    if problem:
                        failures.append(pulumi.dynamic.CheckFailure("provider_name", problem))
        except cc.MalformedClusterConfiguration as error:
            failures.append(pulumi.dynamic.CheckFailure("entry", str(error)))
        except ClusterConfigurationError as error:
            _unchecked(failures, recorded, error, f"KubeSphere identity provider {name!r}")
        return pulumi.dynamic.CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        olds, news = _plain(olds), _plain(news)
        changed = _changed(olds, news, _OWNED_KEYS)
        # A binding not yet in the outputs (state written before bindings existed), or a rebind
        # accepted by check: an update records it (and writes nothing when the entry is as wanted).
        cluster = news.get("cluster")
        if binding.is_identity(cluster) and not _contains_unknown(cluster):
            recorded = olds.get("cluster")
            if not binding.is_identity(recorded) or recorded.get("kube_system_uid") != cluster["kube_system_uid"]:
                changed.append("cluster")
        return pulumi.dynamic.DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        props = _plain(props)
        return pulumi.dynamic.CreateResult(
            f"{cc.NAMESPACE}/{cc.NAME}/{props['provider_name']}", self._write({}, props, planned=props.get("cluster"))
        )

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        olds, news = _plain(olds), _plain(news)
        return pulumi.dynamic.UpdateResult(self._write(olds, news, planned=olds.get("cluster")))

    def _write(self, olds: dict, news: dict, *, planned: Any) -> dict:
        session = self._session(news)
        live, decision = self._bound(session, planned, news.get("rebind_cluster"), "update")
        fresh = not olds or decision == "rebind"
        if fresh:
            olds = {}  # a rebuilt cluster: nothing of ours is there; capture its values afresh
        recorded: dict = {}

        def merge(current: dict) -> dict:
            problem = self._ownership_problem(olds, news, current, fresh=fresh)
            if problem:
                raise ClusterConfigurationError(problem)
            adopted = olds.get("adopted_entry")
            if fresh and news.get("adopt"):
                adopted = self._foreign(current, news)
            target, before = self._apply(olds, news, current)
            recorded.update(before=before, adopted=adopted)
            return target

        obj, _ = self._merge_and_write(session, merge, missing_ok=False)
        cluster = dict(live)
        uid = ((obj or {}).get("metadata") or {}).get("uid")
        if uid:
            cluster["cluster_configuration_uid"] = uid
        return self._outputs(news, recorded["before"], cluster, recorded["adopted"])

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        props = _plain(props)
        session = self._session(props)
        self._bound(session, props.get("cluster"), None, "delete")

        def merge(current: dict) -> dict:
            name = props["provider_name"]
            adopted = props.get("adopted_entry")
            if isinstance(adopted, Mapping) and adopted.get("name") == name:
                target = cc.upsert_identity_provider(current, dict(adopted))  # put the adopted entry back
            else:
                target = cc.remove_identity_provider(current, name)
            written = props.get("oauth_options_written", props.get("oauth_options")) or {}
            record = _restore_records(current).get(name) or {}
            before = dict(props.get("oauth_options_before") or {})
            for key in record.get("keys") or []:  # captured before our first write: the better source
                if key in (record.get("before") or {}):
                    before[key] = record["before"][key]
                else:
                    before.pop(key, None)
            target = cc.restore_oauth_options(target, written, before)
            return _with_restore_record(target, name, None)

        self._merge_and_write(session, merge, missing_ok=True)

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        props = _plain(props)
        session = self._session(props)
        self._bound(session, props.get("cluster"), None, "refresh")
        current = session.get()
        outs = dict(props)
        outs.pop(pulumi.dynamic.dynamic.PROVIDER_KEY, None)
        live_entry = None
        live_options: dict = {}
        if current is not None:
            try:
                live_entry = cc.find_identity_provider(current, props["provider_name"])
                live_options = cc.oauth_options_before(current, (props.get("oauth_options") or {}).keys())
            except cc.MalformedClusterConfiguration as error:
                raise ClusterConfigurationError(str(error)) from None
        # Absent stays in state as "no entry", so the next update puts it back and still knows
        # which token lifetimes to restore on delete.
        outs["entry"] = live_entry
        outs["oauth_options"] = live_options
        return pulumi.dynamic.ReadResult(id_, outs)


class ClusterGuardProvider(pulumi.dynamic.ResourceProvider):
    """The cluster binding for objects written by pulumi-kubernetes (Secret, Users, role bindings).

    A guard writes nothing to the cluster. It records the cluster on create and refuses, in check
    (preview and up), update, read and delete, a cluster with another kube-system uid. The
    component registers two: one every KubeSphere object depends on (checked before any of them
    is written) and one that depends on all of them (so ``pulumi destroy`` deletes it FIRST, and
    its refusal stops the destroy before any object is deleted). With ``secret_name`` set (4.1),
    check also looks for other identity-provider Secrets defining our provider name, which
    KubeSphere's webhook would refuse.
    """

    def _identity(self, props: Mapping[str, Any]) -> tuple[_Session, dict]:
        session = _Session(props)
        return session, session.identity()

    @staticmethod
    def _what(props: Mapping[str, Any]) -> str:
        return f"the KubeSphere objects of identity provider {props.get('provider_name')!r}"

    def _secret_problems(self, session: _Session, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        name, secret, namespace = news.get("provider_name"), news.get("secret_name"), news.get("namespace")
        if not (isinstance(name, str) and isinstance(secret, str) and isinstance(namespace, str)):
            return []
        old_name, old_secret = olds.get("provider_name"), olds.get("secret_name")
        if old_name and old_name != name and old_secret == secret:
            return [binding.rename_in_place_message(old_name, name, secret, namespace)]
        core = client.CoreV1Api(session.client)
        what = f"list the identity-provider Secrets in {namespace}"
        try:
            listed = session.call(what, lambda t: core.list_namespaced_secret(
                namespace, label_selector="config.kubesphere.io/type=identityprovider", _request_timeout=t))
        except ApiException as error:
            _warn(f"{what} failed (HTTP {error.status}): cannot tell whether another Secret already defines "
                  f"provider {name!r}; KubeSphere refuses a second one at `pulumi up`")
            return []
        secrets = [{"metadata": {"name": item.metadata.name}, "data": dict(item.data or {})} for item in listed.items]
        others = binding.conflicting_secrets(secrets, name, secret)
        return [binding.conflicting_secret_message(name, secret, others, namespace)] if others else []

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        olds_plain, news_plain = _plain(olds or {}), _plain(news)
        if any(_contains_unknown(news_plain.get(k)) for k in ("kubeconfig", "kube_context", "rebind_cluster")):
            return pulumi.dynamic.CheckResult(news, [])
        recorded = olds_plain.get("cluster")
        failures = []
        try:
            session, live = self._identity(news_plain)
            decision = binding.decide(recorded, live, news_plain.get("rebind_cluster"))
            if decision == "mismatch":
                message = binding.mismatch_message(self._what(news_plain), "update", recorded, live)
                return pulumi.dynamic.CheckResult(news, [pulumi.dynamic.CheckFailure("kubeconfig", message)])
            news = dict(news)
            news["cluster"] = binding.updated(recorded, live) if decision == "same" else live
            for problem in self._secret_problems(session, olds_plain, news_plain):
                failures.append(pulumi.dynamic.CheckFailure("provider_name", problem))
        except ClusterConfigurationError as error:
            _unchecked(failures, recorded, error, self._what(news_plain))
        return pulumi.dynamic.CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        olds, news = _plain(olds), _plain(news)
        changed = _changed(olds, news, ("kubeconfig", "kube_context", "provider_name", "secret_name"))
        cluster = news.get("cluster")
        if binding.is_identity(cluster):
            recorded = olds.get("cluster")
            if not binding.is_identity(recorded) or recorded.get("kube_system_uid") != cluster["kube_system_uid"]:
                changed.append("cluster")
        return pulumi.dynamic.DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def _bind(self, planned: Any, news: Mapping[str, Any], verb: str) -> dict:
        session, live = self._identity(news)
        try:
            binding.check(self._what(news), verb, planned, live, news.get("rebind_cluster"))
        except binding.ClusterMismatch as error:
            raise ClusterConfigurationError(str(error)) from None
        return live

    def _outs(self, news: Mapping[str, Any], live: dict) -> dict:
        keys = ("kubeconfig", "kube_context", "provider_name", "secret_name", "namespace", "rebind_cluster",
                "request_timeout", "role")
        outs = {k: news.get(k) for k in keys}
        outs["cluster"] = live
        return outs

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        props = _plain(props)
        live = self._bind(props.get("cluster"), props, "write")
        return pulumi.dynamic.CreateResult(live["kube_system_uid"], self._outs(props, live))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        olds, news = _plain(olds), _plain(news)
        live = self._bind(olds.get("cluster"), news, "update")
        return pulumi.dynamic.UpdateResult(self._outs(news, live))

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        props = _plain(props)
        self._bind(props.get("cluster"), {**props, "rebind_cluster": None}, "refresh")
        outs = dict(props)
        outs.pop(pulumi.dynamic.dynamic.PROVIDER_KEY, None)
        return pulumi.dynamic.ReadResult(id_, outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        props = _plain(props)
        self._bind(props.get("cluster"), {**props, "rebind_cluster": None}, "delete")


def _register_dynamic(resource: pulumi.dynamic.Resource, provider: Any, name: str, props: dict,
                      opts: Optional[pulumi.ResourceOptions]) -> None:
    """``pulumi.dynamic.Resource.__init__``, with the provider serialized once per process.

    Our providers carry no state (``vars(provider)`` is empty), so every instance of one class
    serializes to the same text; ``pulumi.dynamic`` pickles it again (dill, by value: about 0.17 s
    CPU) for every resource. Registered as ``pulumi.dynamic.Resource.__init__`` registers it (pulumi
    3.272, pulumi/pulumi:sdk/python/lib/pulumi/dynamic/dynamic.py): the same type token, inputs plus
    ``__provider`` as a secret, the same options; ``tests/test_component_v3.py`` pins that. A
    provider with state takes the SDK's own path.
    """
    if vars(provider) or pulumi.dynamic.dynamic.PROVIDER_KEY in props:
        _sdk_register_dynamic(resource, provider, name, props, opts)
        return
    serialized = pulumi.Output.secret(_serialized_provider(type(provider)))
    pulumi.CustomResource.__init__(resource, f"pulumi-python:{type(resource)._resource_type_name}", name,
                                   {**props, pulumi.dynamic.dynamic.PROVIDER_KEY: serialized}, opts)


@functools.lru_cache(maxsize=None)
def _serialized_provider(provider_class: type) -> str:
    """What ``pulumi.dynamic.serialize_provider`` makes of a (stateless) ``provider_class()``, once."""
    restore = _pickler_methods()
    try:
        return pulumi.dynamic.dynamic.serialize_provider(provider_class())
    finally:
        restore()


def _sdk_register_dynamic(resource: pulumi.dynamic.Resource, provider: Any, name: str, props: dict,
                          opts: Optional[pulumi.ResourceOptions]) -> None:
    """``pulumi.dynamic.Resource.__init__`` itself, undoing what it leaves behind in ``pickle``."""
    restore = _pickler_methods()
    try:
        pulumi.dynamic.Resource.__init__(resource, provider, name, props, opts)
    finally:
        restore()


def _pickler_methods() -> Callable[[], None]:
    """A function that puts back ``pickle._Pickler``'s methods as they are now.

    ``pulumi.dynamic.serialize_provider`` (pulumi 3.272) wraps ``pickle._Pickler._batch_setitems``
    and replaces ``save_dict`` on every call and never restores them, so each dynamic resource a
    process registers nests one more wrapper, until pickling overflows the stack.
    """
    import pickle

    saved = {k: pickle._Pickler.__dict__[k] for k in ("_batch_setitems", "save_dict") if k in pickle._Pickler.__dict__}

    def restore() -> None:
        for key, value in saved.items():
            setattr(pickle._Pickler, key, value)

    return restore


class ClusterConfigurationIdentityProvider(pulumi.dynamic.Resource):
    """Our identity provider, merged by name into ks-installer's ClusterConfiguration (KubeSphere 3.x)."""

    provider_name: pulumi.Output[str]
    """The entry's name, the provider name KubeSphere shows."""

    entry: pulumi.Output[dict]
    """The entry as last written or read back (secret: it holds the client secret)."""

    oauth_options: pulumi.Output[dict]
    """The ``oauthOptions`` keys this resource sets (token lifetimes)."""

    oauth_options_before: pulumi.Output[dict]
    """Those keys' values before this resource set them; put back on delete while still ours."""

    oauth_options_written: pulumi.Output[dict]
    """The ``oauthOptions`` values this resource last wrote (``oauth_options`` shows them as read back)."""

    cluster: pulumi.Output[dict]
    """The cluster this entry was written to: API server URL, kube-system uid, ClusterConfiguration uid."""

    adopted_entry: pulumi.Output[dict]
    """The entry with our name that was there before we adopted it (secret); put back on delete."""

    def __init__(
        self,
        name: str,
        *,
        provider_name: pulumi.Input[str],
        entry: pulumi.Input[dict],
        oauth_options: Optional[pulumi.Input[dict]] = None,
        kubeconfig: Optional[pulumi.Input[str]] = None,
        kube_context: Optional[pulumi.Input[str]] = None,
        adopt: bool = False,
        rebind_cluster: Optional[str] = None,
        request_timeout: float = REQUEST_TIMEOUT_SECONDS,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        props = {
            "provider_name": provider_name,
            "entry": pulumi.Output.secret(entry),
            "oauth_options": oauth_options or {},
            "kubeconfig": pulumi.Output.secret(kubeconfig) if kubeconfig is not None else None,
            "kube_context": kube_context,
            "adopt": adopt,
            "rebind_cluster": rebind_cluster,
            "request_timeout": request_timeout,
            "oauth_options_before": None,
            "oauth_options_written": None,
            "cluster": None,
            "adopted_entry": None,
        }
        # The engine keeps these outputs encrypted whatever the provider returns.
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["entry", "kubeconfig", "adopted_entry"])
        )
        _register_dynamic(self, portable_provider(), name, props, opts)


class ClusterGuard(pulumi.dynamic.Resource):
    """Binds the pulumi-kubernetes objects of one integration to the cluster they were first written to."""

    cluster: pulumi.Output[dict]
    """The cluster recorded on first write: API server URL and kube-system uid."""

    def __init__(
        self,
        name: str,
        *,
        role: str,
        provider_name: str,
        kubeconfig: Optional[pulumi.Input[str]] = None,
        kube_context: Optional[pulumi.Input[str]] = None,
        secret_name: Optional[str] = None,
        namespace: Optional[str] = None,
        rebind_cluster: Optional[str] = None,
        request_timeout: float = REQUEST_TIMEOUT_SECONDS,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        props = {
            "role": role,
            "provider_name": provider_name,
            "kubeconfig": pulumi.Output.secret(kubeconfig) if kubeconfig is not None else None,
            "kube_context": kube_context,
            "secret_name": secret_name,
            "namespace": namespace,
            "rebind_cluster": rebind_cluster,
            "request_timeout": request_timeout,
            "cluster": None,
        }
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["kubeconfig"]))
        _register_dynamic(self, portable_guard_provider(), name, props, opts)


#: The lines that tie this module to the package; ``_provider_namespace`` supplies those modules itself.
_PACKAGE_IMPORTS = {
    "binding": ("from . import cluster_binding as binding\n", "cluster_binding"),
    "cc": ("from . import cluster_configuration as cc\n", "cluster_configuration"),
}


@functools.lru_cache(maxsize=None)
def _provider_namespace() -> dict[str, Any]:
    """This module re-created from its own source, and that of the pure modules it uses, under the
    module name ``__main__``, so that dill pickles the providers' code by value."""
    import importlib

    source = inspect.getsource(sys.modules[__name__])
    namespace: dict[str, Any] = {"__name__": "__main__"}
    for alias, (line, module_name) in _PACKAGE_IMPORTS.items():
        if line not in source:
            raise RuntimeError("kubesphere_v3 must import its pure modules with exactly: " + line)
        module = importlib.import_module(f"{__package__}.{module_name}")
        pure: dict[str, Any] = {"__name__": "__main__"}
        exec(compile(inspect.getsource(module), module.__file__, "exec"), pure)  # noqa: S102 - our own source
        namespace[alias] = types.SimpleNamespace(**{k: v for k, v in pure.items() if not k.startswith("__")})
        source = source.replace(line, "")
    exec(compile(source, __file__, "exec"), namespace)  # noqa: S102
    return namespace


def _provider_class_in_main() -> type:
    return _provider_namespace()["ClusterConfigurationProvider"]


def portable_provider() -> pulumi.dynamic.ResourceProvider:
    """A provider instance that the dynamic-provider process can unpickle without this project on its path."""
    return _provider_namespace()["ClusterConfigurationProvider"]()


def portable_guard_provider() -> pulumi.dynamic.ResourceProvider:
    """The cluster guard's provider, carried by value like ``portable_provider``."""
    return _provider_namespace()["ClusterGuardProvider"]()
