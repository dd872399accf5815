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

Why a PUT with resourceVersion rather than a JSON patch with a ``test`` op: the precondition then
covers the whole object we merged into (so no concurrent change can be lost, whatever it
touched), the API server answers a stale write with the documented 409 Conflict for any object,
and a JSON patch would need a chain of ``add``/``test`` operations for each missing container on
the path. The body is the object exactly as read, with only our entry and keys changed.

Pulumi stores the provider in the state, pickled with dill, and runs it in a separate process
(``python -m pulumi.dynamic``) started in the PROGRAM's directory (``infra/`` here), where
``components`` is not importable. dill pickles classes and functions of importable modules by
reference, so this module and ``cluster_configuration`` are re-run from their own source under
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
import time
import types
from typing import Any, Mapping, Optional

import pulumi
import pulumi.dynamic
import yaml

from . import cluster_configuration as cc

#: Seconds to wait before each retry after a 409 Conflict; its length bounds the retries.
RETRY_DELAYS_SECONDS: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0, 4.0)
#: Per-request timeout (connect, read) in seconds, so a dead API server cannot hang the update.
REQUEST_TIMEOUT_SECONDS = (10, 30)

_OWNED_KEYS = ("provider_name", "entry", "oauth_options", "kubeconfig", "kube_context")
_OBJECT = f"ClusterConfiguration {cc.NAMESPACE}/{cc.NAME}"
_SECRET_PLACEHOLDER = "[secret]"


class ClusterConfigurationError(Exception):
    """A failure talking to, or merging into, the ks-installer ClusterConfiguration (message is safe to show)."""


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
    entry = props.get("entry")
    provider = entry.get("provider") if isinstance(entry, Mapping) else None
    found = [provider.get("clientSecret") if isinstance(provider, Mapping) else None, props.get("kubeconfig")]
    return [s for s in found if isinstance(s, str)]


def api_client(kubeconfig: Optional[str], kube_context: Optional[str]):
    """A ``kubernetes`` ApiClient for the cluster pulumi-kubernetes would reach with the same settings.

    ``kubeconfig`` is a path to a kubeconfig file or its contents (as ``kubernetes:kubeconfig``
    takes it); None means the ambient kubeconfig (``KUBECONFIG`` or ~/.kube/config), then the
    in-cluster service account.
    """
    from kubernetes import client, config

    try:
        if kubeconfig:
            path = os.path.expanduser(kubeconfig)
            if "\n" not in kubeconfig and os.path.isfile(path):
                return config.new_client_from_config(config_file=path, context=kube_context, persist_config=False)
            try:
                contents = yaml.safe_load(kubeconfig)
            except yaml.YAMLError:
                contents = None
            if not isinstance(contents, dict):
                raise ClusterConfigurationError(
                    "kubeconfig is neither the path of an existing file nor kubeconfig contents (YAML)"
                )
            return config.new_client_from_config_dict(contents, context=kube_context, persist_config=False)
        try:
            return config.new_client_from_config(context=kube_context, persist_config=False)
        except (config.ConfigException, FileNotFoundError):
            if kube_context:
                raise
            configuration = client.Configuration()
            config.load_incluster_config(client_configuration=configuration)
            return client.ApiClient(configuration)
    except config.ConfigException as error:
        raise ClusterConfigurationError(f"cannot load the kubeconfig to reach the cluster: {error}") from None


class ClusterConfigurationProvider(pulumi.dynamic.ResourceProvider):
    """CRUD of our entry in ks-installer's ClusterConfiguration (see the module docstring)."""

    retry_delays: tuple[float, ...] = RETRY_DELAYS_SECONDS

    # --- I/O ---------------------------------------------------------------------------------

    def _api(self, props: Mapping[str, Any]):
        from kubernetes import client

        return client.CustomObjectsApi(api_client(props.get("kubeconfig"), props.get("kube_context")))

    def _get(self, api, props: Mapping[str, Any]) -> Optional[dict]:
        from kubernetes.client.exceptions import ApiException

        try:
            return api.get_namespaced_custom_object(
                cc.GROUP, cc.VERSION, cc.NAMESPACE, cc.PLURAL, cc.NAME, _request_timeout=REQUEST_TIMEOUT_SECONDS
            )
        except ApiException as error:
            if error.status == 404:
                return None
            raise self._api_error("read", error, props) from None
        except Exception as error:  # connection refused, DNS, TLS: say where, never what we send
            raise ClusterConfigurationError(
                f"cannot read {_OBJECT}: {_scrub(str(error), _secrets_of(props))}"
            ) from None

    def _put(self, api, body: dict, props: Mapping[str, Any]) -> bool:
        """Write ``body`` (carrying the resourceVersion it was read at); False on 409 Conflict."""
        from kubernetes.client.exceptions import ApiException

        try:
            api.replace_namespaced_custom_object(
                cc.GROUP, cc.VERSION, cc.NAMESPACE, cc.PLURAL, cc.NAME, body, _request_timeout=REQUEST_TIMEOUT_SECONDS
            )
            return True
        except ApiException as error:
            if error.status == 409:
                return False
            raise self._api_error("write", error, props) from None
        except Exception as error:
            raise ClusterConfigurationError(
                f"cannot write {_OBJECT}: {_scrub(str(error), _secrets_of(props))}"
            ) from None

    @staticmethod
    def _api_error(verb: str, error: Any, props: Mapping[str, Any]) -> ClusterConfigurationError:
        message = ""
        try:
            message = json.loads(error.body or "{}").get("message", "")
        except (ValueError, AttributeError):
            pass
        hint = ""
        if error.status in (401, 403):
            hint = (
                f" The kubeconfig's user needs get and update on clusterconfigurations.installer.kubesphere.io "
                f"in {cc.NAMESPACE}."
            )
        text = f"cannot {verb} {_OBJECT}: HTTP {error.status} {error.reason}. {message}".rstrip() + hint
        return ClusterConfigurationError(_scrub(text, _secrets_of(props)))

    def _merge_and_write(self, props: Mapping[str, Any], merge, *, missing_ok: bool) -> tuple[Optional[dict], int]:
        """Read, ``merge(object) -> desired object``, write if it changed; retry on 409.

        Returns (the object as it now is, or None when missing and ``missing_ok``; writes made).
        """
        api = self._api(props)
        attempts = len(self.retry_delays) + 1
        for attempt in range(attempts):
            current = self._get(api, props)
            if current is None:
                if missing_ok:
                    return None, 0
                raise ClusterConfigurationNotFound(_not_found_message(props.get("kube_context")))
            try:
                desired = merge(current)
            except cc.MalformedClusterConfiguration as error:
                raise ClusterConfigurationError(str(error)) from None
            if not cc.needs_write(current, desired):
                return current, 0
            if self._put(api, desired, props):
                return desired, 1
            if attempt + 1 < attempts:
                time.sleep(self.retry_delays[attempt])
        raise ClusterConfigurationError(
            f"gave up after {attempts} attempts: {_OBJECT} changed between each of our reads and writes "
            "(409 Conflict; ks-installer updates it while it runs). Nothing of ours was written; run the "
            "update again when the installer is idle."
        )

    # --- the merge for one operation --------------------------------------------------------

    @staticmethod
    def _apply(olds: Mapping[str, Any], news: Mapping[str, Any], current: dict) -> tuple[dict, dict]:
        """The object with ``news`` applied over what ``olds`` had applied; and the new before-values."""
        old_options = olds.get("oauth_options_written", olds.get("oauth_options")) or {}
        new_options = news.get("oauth_options") or {}
        before = dict(olds.get("oauth_options_before") or {})
        cc.check(current, news["provider_name"])
        # Token lifetimes we no longer set go back to what they were before us.
        dropped = {k: v for k, v in old_options.items() if k not in new_options}
        target = cc.restore_oauth_options(current, dropped, before) if dropped else current
        for key in dropped:
            before.pop(key, None)
        # Keys we set for the first time: remember what they were.
        before.update(cc.oauth_options_before(current, [k for k in new_options if k not in old_options]))
        old_name = olds.get("provider_name")
        if old_name and old_name != news["provider_name"]:
            target = cc.remove_identity_provider(target, old_name)
        target = cc.upsert_identity_provider(target, news["entry"], new_options)
        return target, before

    def _outputs(self, news: Mapping[str, Any], before: dict) -> dict:
        outs = {k: news.get(k) for k in _OWNED_KEYS}
        outs["oauth_options_before"] = before
        # What we wrote, kept apart from ``oauth_options``, which a refresh overwrites with live values.
        outs["oauth_options_written"] = dict(news.get("oauth_options") or {})
        return outs

    # --- the ResourceProvider interface -----------------------------------------------------

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        news_plain = _plain(news)
        failures = []
        name = news_plain.get("provider_name")
        entry = news_plain.get("entry")
        if _contains_unknown(name):
            return pulumi.dynamic.CheckResult(news, failures)  # preview with unknown inputs: nothing to check yet
        if not isinstance(name, str) or not name:
            failures.append(pulumi.dynamic.CheckFailure("provider_name", "provider_name must be a non-empty string"))
        elif isinstance(entry, Mapping) and not _contains_unknown(entry.get("name")) and entry.get("name") != name:
            failures.append(pulumi.dynamic.CheckFailure("entry", f"entry.name must equal provider_name {name!r}"))
        if not failures and not any(_contains_unknown(news_plain.get(k)) for k in ("kubeconfig", "kube_context")):
            # Fail the preview, before anything is written, on a cluster we cannot merge into.
            try:
                current = self._get(self._api(news_plain), news_plain)
                if current is None:
                    failures.append(pulumi.dynamic.CheckFailure("kubeconfig", _not_found_message(news_plain.get("kube_context"))))
                else:
                    cc.check(current, name)
            except cc.MalformedClusterConfiguration as error:
                failures.append(pulumi.dynamic.CheckFailure("entry", str(error)))
            except ClusterConfigurationError:
                pass  # unreachable now: create/update will say so with the same clarity
        return pulumi.dynamic.CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        olds, news = _plain(olds), _plain(news)
        changed = [
            key for key in _OWNED_KEYS
            if _contains_unknown(news.get(key)) or (olds.get(key) or None) != (news.get(key) or None)
        ]
        return pulumi.dynamic.DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        props = _plain(props)
        recorded: dict = {}

        def merge(current: dict) -> dict:
            target, before = self._apply({}, props, current)
            recorded["before"] = before
            return target

        self._merge_and_write(props, merge, missing_ok=False)
        return pulumi.dynamic.CreateResult(
            f"{cc.NAMESPACE}/{cc.NAME}/{props['provider_name']}", self._outputs(props, recorded["before"])
        )

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        olds, news = _plain(olds), _plain(news)
        recorded: dict = {}

        def merge(current: dict) -> dict:
            target, before = self._apply(olds, news, current)
            recorded["before"] = before
            return target

        self._merge_and_write(news, merge, missing_ok=False)
        return pulumi.dynamic.UpdateResult(self._outputs(news, recorded["before"]))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        props = _plain(props)

        def merge(current: dict) -> dict:
            target = cc.remove_identity_provider(current, props["provider_name"])
            written = props.get("oauth_options_written", props.get("oauth_options")) or {}
            return cc.restore_oauth_options(target, written, props.get("oauth_options_before") or {})

        self._merge_and_write(props, merge, missing_ok=True)

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        props = _plain(props)
        current = self._get(self._api(props), props)
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

    def __init__(
        self,
        name: str,
        *,
        provider_name: pulumi.Input[str],
        entry: pulumi.Input[dict],
        oauth_options: Optional[pulumi.Input[dict]] = None,
        kubeconfig: Optional[pulumi.Input[str]] = None,
        kube_context: Optional[pulumi.Input[str]] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        props = {
            "provider_name": provider_name,
            "entry": pulumi.Output.secret(entry),
            "oauth_options": oauth_options or {},
            "kubeconfig": pulumi.Output.secret(kubeconfig) if kubeconfig is not None else None,
            "kube_context": kube_context,
            "oauth_options_before": None,
            "oauth_options_written": None,
        }
        # The engine keeps these outputs encrypted whatever the provider returns.
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["entry", "kubeconfig"])
        )
        super().__init__(portable_provider(), name, props, opts)


#: The one line that ties this module to the package; ``portable_provider`` supplies ``cc`` itself.
_PACKAGE_IMPORT = "from . import cluster_configuration as cc\n"


@functools.lru_cache(maxsize=None)
def _provider_class_in_main() -> type:
    """``ClusterConfigurationProvider`` re-created from this module's and ``cluster_configuration``'s
    source under the module name ``__main__``, so that dill pickles its code by value."""
    pure: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(inspect.getsource(cc), cc.__file__, "exec"), pure)  # noqa: S102 - our own source
    source = inspect.getsource(sys.modules[__name__])
    if _PACKAGE_IMPORT not in source:
        raise RuntimeError("kubesphere_v3 must import cluster_configuration with exactly: " + _PACKAGE_IMPORT)
    namespace: dict[str, Any] = {
        "__name__": "__main__",
        "cc": types.SimpleNamespace(**{k: v for k, v in pure.items() if not k.startswith("__")}),
    }
    exec(compile(source.replace(_PACKAGE_IMPORT, ""), __file__, "exec"), namespace)  # noqa: S102
    return namespace["ClusterConfigurationProvider"]


def portable_provider() -> pulumi.dynamic.ResourceProvider:
    """A provider instance that the dynamic-provider process can unpickle without this project on its path."""
    return _provider_class_in_main()()
