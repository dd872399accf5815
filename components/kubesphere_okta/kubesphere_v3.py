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
* delete: remove our entry (or put back the entry we adopted, exactly as it was read) and give
  back the token lifetimes we set; already gone, or no ClusterConfiguration at all, is success.
  The object itself is never deleted.
* read (refresh): reports our entry as it is in the cluster, so edits and removals show as drift.
* diff: compares only what we own (our entry, our token lifetimes, name, cluster access).
* check (also during preview): refuses a cluster without the ClusterConfiguration, or with one
  that cannot be merged into safely, before anything is written.

Cluster binding, ownership and lost responses (docs/cluster-binding.md):

* every operation first reads the identity of the cluster it reaches (``cluster_access``: the
  ``kube-system`` Namespace uid); it is recorded in state (``cluster``) on the first write, and
  check, update, read and delete refuse when a later run reaches a cluster with another uid
  (``cluster_binding``);
* an entry with our name that this stack did not write (other type, issuer or client id than we
  write now or last wrote) is refused at every write unless ``adopt`` is set;
* what the entry holds on the cluster (its name, its identity, an adopted entry, the token
  lifetimes below ours) is kept in our annotation of the ClusterConfiguration, written in the same
  PUT as what it describes (``entry_ledger``), so a lost answer, a lost checkpoint or a rename in
  between never makes a later write or delete forget it;
* a check that cannot read the cluster marks its inputs unverified (``cluster_check``): update
  then reads it again during ``pulumi up`` and refuses unless it is the bound cluster;
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
from . import cluster_check
from . import cluster_configuration as cc
from . import entry_ledger as ledger
from .cluster_access import FIELD_MANAGER, REQUEST_TIMEOUT_SECONDS, ClusterAccessError, ClusterUnreachable, Session, _changed, _contains_unknown, _plain, _scrub, _warn, api_error
from . import dynamic_registration

#: Seconds to wait before each retry after a 409 Conflict; its length bounds the retries.
RETRY_DELAYS_SECONDS: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0, 4.0)
#: Annotation of the ClusterConfiguration holding the ledger of what each entry holds there and
#: what goes back (``entry_ledger``), written in the same PUT as what it describes.
RESTORE_ANNOTATION = ledger.ANNOTATION

_OWNED_KEYS = ("provider_name", "entry", "oauth_options", "kubeconfig", "kube_context")
_OBJECT = f"ClusterConfiguration {cc.NAMESPACE}/{cc.NAME}"
#: A failure talking to, or merging into, the ks-installer ClusterConfiguration (message is safe to show).
ClusterConfigurationError = ClusterAccessError


class ClusterConfigurationNotFound(ClusterConfigurationError):
    pass


class ClusterConfigurationMalformed(ClusterConfigurationError):
    """The object, or our annotation on it, is not shaped as KubeSphere and this project write it."""


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


# --- the ledger of what the entry holds on the cluster ------------------------------------------


def _ledger(current: Any, owner: str, state_name: Optional[str]) -> dict:
    """The ledger of ``current`` (``entry_ledger``), its junk a ``ClusterConfigurationError``."""
    try:
        cc.check(current, state_name or "")
        return ledger.read(current, owner=owner, name=state_name or "")
    except (cc.MalformedClusterConfiguration, ledger.LedgerError) as error:
        raise ClusterConfigurationMalformed(str(error)) from None


def _state_adopted(props: Mapping[str, Any]) -> Optional[dict]:
    """The adopted entry a state of a release before the ledger kept (a mapping), or None."""
    text = ledger.adopted_from_state(props.get("adopted_entry"))
    if text is None:
        return None
    try:
        found = json.loads(text)
    except ValueError:
        return None
    return found if isinstance(found, dict) and isinstance(found.get("name"), str) else None


class ClusterConfigurationProvider(pulumi.dynamic.ResourceProvider):
    """CRUD of our entry in ks-installer's ClusterConfiguration (see the module docstring)."""

    retry_delays: tuple[float, ...] = RETRY_DELAYS_SECONDS

    # --- I/O ---------------------------------------------------------------------------------

    def _session(self, props: Mapping[str, Any]) -> _Session:
        return _Session(props)

    def _bound(self, props: Mapping[str, Any], recorded: Any, rebind: Any, verb: str) -> tuple[_Session, dict, str]:
        """A session to the cluster reached, its identity, and how it relates to the recorded one
        (refuses a mismatch, and a cluster whose identity cannot be read)."""
        what = f"the identity provider entry in {_OBJECT}"
        try:
            session = self._session(props)
            live = session.identity()
        except ClusterConfigurationError as error:
            raise ClusterConfigurationError(cluster_check.unreadable_message(what, verb, str(error))) from None
        try:
            decision = binding.check(what, verb, recorded, live, rebind)
        except binding.ClusterMismatch as error:
            raise ClusterConfigurationError(str(error)) from None
        return session, live, decision

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
            except (cc.MalformedClusterConfiguration, ledger.LedgerError, ValueError) as error:
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

    # --- the merge for one write --------------------------------------------------------------

    @staticmethod
    def _plan(current: dict, olds: Mapping[str, Any], news: Mapping[str, Any], *, owner: str, trusted: bool,
              client_id_known: bool = True) -> tuple[dict, dict]:
        """The object after writing ``news`` over ``current``, and the ledger written with it.

        ``olds``: the state (empty for a first write or a rebuilt cluster); ``owner``: the
        resource's id; ``trusted``: the state was written to this very cluster (its binding
        matched), so its record of the entry we wrote may say whose an entry is. Raises
        ``ClusterConfigurationError`` rather than take an entry that is not ours.
        """
        name, entry = news["provider_name"], news["entry"]
        state_name = olds.get("provider_name") or None
        book = _ledger(current, owner, state_name or name)
        cc.check(current, name)
        trusted_identity = olds.get("entry_identity") if trusted else None
        old_name = ledger.owned_name(book, owner, state_name)
        existing = cc.find_identity_provider(current, name)
        whose = ledger.whose(book, owner, existing, entry, trusted_identity=trusted_identity,
                             client_id_known=client_id_known)
        adopted = ledger.adopted(book, owner) or (_state_adopted(olds) if owner not in book["entries"] else None)
        target, adopting, keep_adopted = current, None, True
        if old_name is not None and old_name != name:
            if whose == "foreign":
                raise ClusterConfigurationError(binding.foreign_entry_message(
                    name, ledger.differences(existing, entry, client_id_known=client_id_known), renaming_from=old_name))
            # The old name goes back to whoever had it: the entry we adopted there, or nobody.
            old = cc.find_identity_provider(current, old_name)
            if adopted is not None and adopted["name"] == old_name:
                target = cc.upsert_identity_provider(target, adopted)
            elif ledger.whose(book, owner, old, entry, trusted_identity=trusted_identity or ledger.identity(olds.get("entry"))) == "ours":
                target = cc.remove_identity_provider(target, old_name)
            keep_adopted = False
        elif whose == "foreign":
            if not news.get("adopt") or adopted is not None:
                raise ClusterConfigurationError(binding.foreign_entry_message(
                    name, ledger.differences(existing, entry, client_id_known=client_id_known)))
            adopting = existing  # kept, exactly as read, in the ledger written with our entry
        elif adopted is not None and owner not in book["entries"]:
            adopting = adopted  # a state of a release before the ledger: now on the cluster too
        target = cc.upsert_identity_provider(target, entry)
        book = ledger.record_entry(book, owner, entry, adopting=adopting, keep_adopted=keep_adopted)
        book = ledger.seed(book, owner, cc.oauth_options_of(target),
                           olds.get("oauth_options_written", olds.get("oauth_options")) or {},
                           olds.get("oauth_options_before") or {})
        book, changes = ledger.set_options(book, owner, cc.oauth_options_of(target), news.get("oauth_options") or {})
        target = cc.with_oauth_options(target, changes, ledger.ABSENT)
        return ledger.with_ledger(target, book), book

    def _outputs(self, news: Mapping[str, Any], book: dict, owner: str, cluster: dict) -> dict:
        outs = {k: news.get(k) for k in _OWNED_KEYS}
        # The cluster's own token lifetimes (informative: the ledger on the cluster is what is restored).
        outs["oauth_options_before"] = {
            key: values[0] for key in ledger.held_keys(book, owner)
            for values in [ledger.restore_values(book, key)] if values[0] is not ledger.ABSENT}
        # What we wrote, kept apart from ``oauth_options`` and ``entry``, which a refresh overwrites.
        outs["oauth_options_written"] = dict(news.get("oauth_options") or {})
        outs["entry_identity"] = ledger.identity(news.get("entry"))
        outs["cluster"] = cluster
        outs["adopted_entry"] = ledger.adopted_text(book, owner)
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
        what = f"KubeSphere identity provider {name!r}"
        try:
            session = self._session(news_plain)
            live = session.identity()
        except ClusterConfigurationError as error:
            # Not read: never a same step. Marked unverified, diff reports a change and `pulumi up`
            # calls update, which reads again and refuses (cluster_check).
            if cluster_check.fails_at_check(not olds_plain, isinstance(error, ClusterUnreachable)):
                return pulumi.dynamic.CheckResult(news, [pulumi.dynamic.CheckFailure("kubeconfig", str(error))])
            _warn(cluster_check.preview_warning(what, str(error)))
            return pulumi.dynamic.CheckResult(cluster_check.unverified_inputs(news, recorded, str(error)), [])
        decision = binding.decide(recorded, live, news_plain.get("rebind_cluster"))
        if decision == "mismatch":
            message = binding.mismatch_message(f"the identity provider entry in {_OBJECT}", "update", recorded, live)
            return pulumi.dynamic.CheckResult(news, [pulumi.dynamic.CheckFailure("kubeconfig", message)])
        # The cluster this resource is bound to travels in its inputs, so the next check sees it.
        news = cluster_check.verified_inputs(news, binding.updated(recorded, live) if decision == "same" else live)
        try:
            current = session.get()
            if current is None:
                failures.append(pulumi.dynamic.CheckFailure("kubeconfig", _not_found_message(news_plain.get("kube_context"))))
            elif isinstance(entry, Mapping) and not _contains_unknown(entry.get("type")):
                fresh = decision == "rebind" or not olds_plain.get("provider_name")
                olds_used = {} if fresh else olds_plain
                book = _ledger(current, "", olds_used.get("provider_name") or name)
                owner = ledger.owner_named(book, olds_used.get("provider_name") or name) or ledger.owner_for(
                    olds_used.get("provider_name") or name)
                self._plan(current, olds_used, news_plain, owner=owner, trusted=decision == "same",
                           client_id_known=not _contains_unknown(entry))
            else:
                _ledger(current, "", name)
                cc.check(current, name)
        except (cc.MalformedClusterConfiguration, ClusterConfigurationMalformed) as error:
            failures.append(pulumi.dynamic.CheckFailure("entry", str(error)))
        except ClusterConfigurationError as error:
            if isinstance(error, ClusterUnreachable):
                _warn(cluster_check.preview_warning(what, str(error)))
                return pulumi.dynamic.CheckResult(cluster_check.unverified_inputs(news, recorded, str(error)), [])
            failures.append(pulumi.dynamic.CheckFailure("provider_name", str(error)))
        return pulumi.dynamic.CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        olds, news = _plain(olds), _plain(news)
        changed = _changed(olds, news, _OWNED_KEYS)
        if cluster_check.unverified(news):
            changed.append(cluster_check.UNVERIFIED)  # update reads the cluster again (see check)
        # A binding not yet in the outputs (state written before bindings existed), or a rebind
        # accepted by check: an update records it (and writes nothing when the entry is as wanted).
        if binding.binding_changed(olds.get("cluster"), news.get("cluster")) and not _contains_unknown(news.get("cluster")):
            changed.append("cluster")
        return pulumi.dynamic.DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        props = _plain(props)
        owner = ledger.owner_for(props["provider_name"])
        return pulumi.dynamic.CreateResult(owner, self._write(owner, {}, props, planned=props.get("cluster")))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        olds, news = _plain(olds), _plain(news)
        return pulumi.dynamic.UpdateResult(self._write(id_, olds, news, planned=olds.get("cluster")))

    def _write(self, owner: str, olds: dict, news: dict, *, planned: Any) -> dict:
        session, live, decision = self._bound(news, planned, news.get("rebind_cluster"), "update")
        if decision == "rebind":
            olds = {}  # a rebuilt cluster: nothing of ours is there; its values are captured afresh
        written: dict = {}

        def merge(current: dict) -> dict:
            # State without a binding (releases before it) is checked like a first write.
            target, written["ledger"] = self._plan(current, olds, news, owner=owner, trusted=decision == "same")
            return target

        obj, _ = self._merge_and_write(session, merge, missing_ok=False)
        cluster = dict(live)
        uid = ((obj or {}).get("metadata") or {}).get("uid")
        if uid:
            cluster["cluster_configuration_uid"] = uid
        return self._outputs(news, written["ledger"], owner, cluster)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        props = _plain(props)
        session, _, _ = self._bound(props, props.get("cluster"), None, "delete")

        def merge(current: dict) -> dict:
            state_name = props.get("provider_name")
            book = _ledger(current, id_, state_name)
            name = ledger.owned_name(book, id_, state_name)
            existing = cc.find_identity_provider(current, name) if name else None
            trusted = props.get("entry_identity") or ledger.identity(props.get("entry"))
            target = current
            if ledger.whose(book, id_, existing, None, trusted_identity=trusted) == "ours":
                adopted = ledger.adopted(book, id_) or (_state_adopted(props) if id_ not in book["entries"] else None)
                if adopted is not None and adopted["name"] == name:
                    target = cc.upsert_identity_provider(target, adopted)  # back, exactly as it was read
                else:
                    target = cc.remove_identity_provider(target, name)
            book = ledger.seed(book, id_, cc.oauth_options_of(target),
                               props.get("oauth_options_written", props.get("oauth_options")) or {},
                               props.get("oauth_options_before") or {})
            book = ledger.forget_entry(book, id_)
            book, changes = ledger.leave_options(book, id_, cc.oauth_options_of(target))
            return ledger.with_ledger(cc.with_oauth_options(target, changes, ledger.ABSENT), book)

        self._merge_and_write(session, merge, missing_ok=True)

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        props = _plain(props)
        session, _, _ = self._bound({**props, "rebind_cluster": None}, props.get("cluster"), None, "refresh")
        current = session.get()
        outs = dict(props)
        outs.pop(pulumi.dynamic.dynamic.PROVIDER_KEY, None)
        live_entry = None
        live_options: dict = {}
        if current is not None:
            try:
                book = _ledger(current, id_, props.get("provider_name"))
                name = ledger.owned_name(book, id_, props.get("provider_name"))
                live_entry = cc.find_identity_provider(current, name)
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
        dynamic_registration.register_dynamic(self, PROVIDER, name, props, opts)


#: The provider every resource of this module registers, carried by value (``dynamic_registration``).
PROVIDER = dynamic_registration.PortableProvider("kubesphere_v3", "ClusterConfigurationProvider")


def portable_provider() -> pulumi.dynamic.ResourceProvider:
    """A provider instance that the dynamic-provider process can unpickle without this project on its path."""
    return PROVIDER.instance()
