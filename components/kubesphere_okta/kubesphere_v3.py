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

* every operation first reads the identity of the cluster it reaches (``cluster_access``: the
  ``kube-system`` Namespace uid); it is recorded in state (``cluster``) on the first write, and
  check, update, read and delete refuse when a later run reaches a cluster with another uid
  (``cluster_binding``);
* an entry with our name that this stack did not write (other type, issuer or client id) is
  refused unless ``adopt`` is set; an adopted entry is kept in state and put back on delete;
* the token lifetimes to restore are captured once, before our first write, and kept in an
  annotation of the ClusterConfiguration written together with that write, so a retried create
  (lost response, lost checkpoint) never mistakes our own value for the cluster's;
* every request has one total deadline (``request_timeout``), with the client's own retries
  turned off, and writes carry the field manager ``kubesphere-okta`` (``cluster_access``).

Why a PUT with resourceVersion rather than a JSON patch with a ``test`` op: the precondition then
covers the whole object we merged into (so no concurrent change can be lost, whatever it
touched), the API server answers a stale write with the documented 409 Conflict for any object,
and a JSON patch would need a chain of ``add``/``test`` operations for each missing container on
the path. The body is the object exactly as read, with only our entry and keys changed.

The provider is stored in the state BY VALUE (``dynamic_registration``): the dynamic-provider
process (``python -m pulumi.dynamic``) must unpickle it where ``components`` is not importable. It
holds no client or connection; each operation builds its own from its inputs. The cluster guard
(``cluster_guard``) and the role check (``kubesphere_role_check``) reach the cluster the same way.
"""

from __future__ import annotations

import json
import time
from typing import Any, Mapping, Optional

import pulumi
import pulumi.dynamic

from . import cluster_binding as binding
from . import cluster_configuration as cc
from .cluster_access import FIELD_MANAGER, REQUEST_TIMEOUT_SECONDS, ClusterAccessError, ClusterUnreachable, Session, _changed, _contains_unknown, _plain, _scrub, _unchecked, api_error
from . import dynamic_registration

#: Seconds to wait before each retry after a 409 Conflict; its length bounds the retries.
RETRY_DELAYS_SECONDS: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0, 4.0)
#: Annotation of the ClusterConfiguration holding, per provider name, the token lifetimes as they
#: were before our first write (JSON), so they are captured once whatever is retried.
RESTORE_ANNOTATION = "kubesphere-okta.io/oauth-options-before"

_OWNED_KEYS = ("provider_name", "entry", "oauth_options", "kubeconfig", "kube_context")
_OBJECT = f"ClusterConfiguration {cc.NAMESPACE}/{cc.NAME}"
#: A failure talking to, or merging into, the ks-installer ClusterConfiguration (message is safe to show).
ClusterConfigurationError = ClusterAccessError


class ClusterConfigurationNotFound(ClusterConfigurationError):
    pass


def _not_found_message(kube_context: Optional[str]) -> str:
    where = f"kubeconfig context {kube_context!r}" if kube_context else "the current kubeconfig context"
    return (
        f"{_OBJECT} (installer.kubesphere.io/v1alpha1) does not exist on the cluster of {where}. "
        "KubeSphere 3.2-3.4 keeps identity providers there; KubeSphere 4.1 keeps them in Secrets: if this "
        'cluster runs KubeSphere 4.1, set kubesphere_version: "4.1" (stack config '
        "kubesphere-okta:kubesphereVersion). In a 3.x multi-cluster setup, point kubeconfig/kube_context "
        "at the HOST cluster (members ignore identity providers)."
    )


class _Session(Session):
    """One operation on the ClusterConfiguration (``Session``, plus its read and write)."""

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
    if not hint and error.status in (401, 403):
        hint = (
            f" The kubeconfig's user needs get and update on clusterconfigurations.installer.kubesphere.io "
            f"in {cc.NAMESPACE}."
        )
    return api_error(what, error, secrets, hint)


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
        dynamic_registration.register_dynamic(self, portable_provider(), name, props, opts)


def portable_provider() -> pulumi.dynamic.ResourceProvider:
    """A provider instance that the dynamic-provider process can unpickle without this project on its path."""
    return dynamic_registration.provider_namespace("kubesphere_v3")["ClusterConfigurationProvider"]()
