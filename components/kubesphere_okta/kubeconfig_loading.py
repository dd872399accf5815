"""Which cluster, user and context a kubeconfig setting reaches: client-go's loading rules, as a pure function.

pulumi-kubernetes writes with client-go, so the dynamic providers (guards, 3.x entry, role
check) must reach the cluster client-go reaches with the same settings, and the Python
``kubernetes`` client's own merger does not (with ``KUBECONFIG=a:b`` it lets the LAST file win).
``resolve_kubeconfig`` decides it the way pulumi-kubernetes' ``Configure`` does
(pulumi/pulumi-kubernetes@v4.32.0:provider/pkg/provider/provider.go, ``parseKubeconfigString`` in
provider/pkg/provider/util.go) with client-go's rules (kubernetes/client-go@v0.35.7:
tools/clientcmd/loader.go ``ClientConfigLoadingRules.Load``, merged_client_builder.go,
client_config.go, validation.go):

* ``kubernetes:kubeconfig`` set (the ``kubeconfig`` argument): a path when a file exists there
  (``~`` and ``~/`` expanded), else the contents themselves. Either way it is read alone, with
  paths inside it NOT resolved against its folder (pulumi-kubernetes loads the text), and no
  in-cluster fallback.
* otherwise the ``KUBECONFIG`` list (``:``-separated; repeated and empty entries skipped, missing
  files ignored), or ``<home>/.kube/config`` when ``KUBECONFIG`` is unset or empty. For every
  context, cluster and user name the FIRST file that defines it wins, whole (a later file's
  entry of the same name is ignored, even its other fields), and so does the first non-empty
  ``current-context``. Relative paths in a file (certificate-authority, client-certificate,
  client-key, tokenFile, an exec command containing ``/``) are resolved against that file's folder.
* the context is ``kubernetes:context`` (``context``) when set, else ``current-context``. A named
  context that does not exist is an error. A name nobody set (no current-context, a context
  without cluster or user) is "", and an entry named "" is then used, as client-go does. A
  cluster no file defines (no context at all, or a context naming a missing cluster) is
  client-go's "no configuration": the in-cluster service account is used when the process runs
  in a pod (``KUBERNETES_SERVICE_HOST``/``_PORT`` set and the token file present), with ambient
  loading only; otherwise an error. A cluster a file defines without a server is an error, even
  in a pod (client-go tags it with its file, so it is never the empty configuration).
* a context naming a user no file defines uses no credentials (client-go sends anonymous
  requests). (One difference, on purpose: client-go sends no credentials to a plain ``http://``
  server; the client given this result does. It changes no cluster, and the local stand-in API
  servers of the tests are plain HTTP.)

The result is ONE merged single-context kubeconfig (``ResolvedKubeconfig.kubeconfig``), which is
what the client is given: ``kubectl config view --minify --raw`` prints the same for the same
files and context (tests/test_kubeconfig_loading.py compares them on generated kubeconfigs).

What a file holds is checked as client-go decodes it (``decode_problem``): YAML, the type of
every known field, base64 of the ``*-data`` fields, and names unique within a file; unknown
fields are ignored. Every error is a ``KubeconfigError`` whose message names the file, context,
cluster or user at fault and how to fix it, and never a credential.

No Pulumi, no network; the only I/O is reading the files named (``read_file``, injectable).
"""

from __future__ import annotations

import base64
import binascii
import os
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Sequence

import yaml

#: Where a pod's service account is mounted (kubernetes/client-go@v0.35.7:rest/config.go, InClusterConfig).
SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"
SERVICE_ACCOUNT_CA = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
#: The kubeconfig client-go reads when ``KUBECONFIG`` is unset (clientcmd.RecommendedHomeFile).
HOME_KUBECONFIG = (".kube", "config")

_STRING, _BOOL, _BYTES, _STRINGS = "string", "boolean", "base64 string", "list of strings"
#: The fields client-go decodes, by section, with their JSON types (tools/clientcmd/api/v1/types.go).
_CLUSTER_FIELDS = {"server": _STRING, "tls-server-name": _STRING, "insecure-skip-tls-verify": _BOOL,
                   "certificate-authority": _STRING, "certificate-authority-data": _BYTES,
                   "proxy-url": _STRING, "disable-compression": _BOOL}
_USER_FIELDS = {"client-certificate": _STRING, "client-certificate-data": _BYTES, "client-key": _STRING,
                "client-key-data": _BYTES, "token": _STRING, "tokenFile": _STRING, "as": _STRING,
                "as-uid": _STRING, "as-groups": _STRINGS, "username": _STRING, "password": _STRING}
_CONTEXT_FIELDS = {"cluster": _STRING, "user": _STRING, "namespace": _STRING}
_EXEC_FIELDS = {"command": _STRING, "args": _STRINGS, "apiVersion": _STRING, "installHint": _STRING,
                "provideClusterInfo": _BOOL, "interactiveMode": _STRING}
#: Path fields resolved against their file's folder (loader.go, GetClusterFileReferences and
#: GetAuthInfoFileReferences).
_CLUSTER_PATHS = ("certificate-authority",)
_USER_PATHS = ("client-certificate", "client-key", "tokenFile")
#: (list key in the file, key of each entry's body, how messages name one)
_SECTIONS = (("clusters", "cluster", "cluster"), ("users", "user", "user"), ("contexts", "context", "context"))


#: What Go's encoding/json accepts for []byte (base64.StdEncoding, after it drops every \r and \n):
#: whole quantums, padding only in the last one. Python's b64decode(validate=True) also takes
#: padding after a whole quantum ("YWJj="), which client-go refuses.
_GO_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


class KubeconfigError(Exception):
    """The kubeconfig setting cannot be resolved to a cluster (message names what and the fix; no secrets)."""


@dataclass(frozen=True)
class ResolvedKubeconfig:
    """The one cluster, user and context a kubeconfig setting reaches."""

    #: Where it came from, for messages: the file(s) read, "kubernetes:kubeconfig contents", or the
    #: in-cluster service account.
    origin: str
    #: The API server URL (for in-cluster: ``https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT``).
    server: str
    #: The single-context kubeconfig to hand to the client (None: in-cluster service account).
    kubeconfig: Optional[dict] = None
    context: Optional[str] = None
    cluster: Optional[str] = None
    user: Optional[str] = None
    in_cluster: bool = False
    #: The files read, in order (missing ones left out).
    files: tuple[str, ...] = field(default=())

    @property
    def user_entry(self) -> dict:
        """The chosen user's fields (empty for anonymous and in-cluster)."""
        if not self.kubeconfig:
            return {}
        return dict(self.kubeconfig["users"][0]["user"]) if self.kubeconfig.get("users") else {}

    @property
    def cluster_entry(self) -> dict:
        if not self.kubeconfig:
            return {}
        return dict(self.kubeconfig["clusters"][0]["cluster"])


def _read_from_disk(path: str) -> Optional[bytes]:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def resolve_kubeconfig(
    kubeconfig: Optional[str],
    context: Optional[str],
    env: Mapping[str, str],
    home: str,
    *,
    read_file: Callable[[str], Optional[bytes]] = _read_from_disk,
    is_file: Callable[[str], bool] = os.path.isfile,
    cwd: Optional[str] = None,
) -> ResolvedKubeconfig:
    """The cluster pulumi-kubernetes reaches with ``kubernetes:kubeconfig`` = ``kubeconfig`` and
    ``kubernetes:context`` = ``context`` (None or "" when unset), in a process with environment
    ``env`` and home folder ``home`` (see the module docstring). ``read_file(path)`` returns a
    file's bytes, or None when it does not exist; ``is_file`` tells whether a path is a file
    (the ``kubeconfig`` path-or-contents test, the service-account token); ``cwd`` resolves
    relative ``KUBECONFIG`` entries. Raises ``KubeconfigError``."""
    context = context or None
    if kubeconfig:
        return _resolve_given(kubeconfig, context, home, read_file, is_file)
    cwd = cwd if cwd is not None else os.getcwd()
    listed = env.get("KUBECONFIG") or ""
    if listed:
        paths = list(dict.fromkeys(p for p in listed.split(":") if p))
        origin = "KUBECONFIG=" + listed
    else:
        paths = [posixpath.join(home, *HOME_KUBECONFIG)]
        origin = paths[0]
    loaded: list[tuple[str, dict]] = []
    for path in paths:
        path = posixpath.normpath(posixpath.join(cwd, path))
        data = _read(path, read_file)
        if data is None:
            continue
        document = _decode(data, f"kubeconfig file {path}")
        _resolve_paths(document, posixpath.dirname(path))
        loaded.append((path, document))
    merged = _merge([(f"kubeconfig file {path}", document) for path, document in loaded])
    files = tuple(path for path, _document in loaded)
    if not files:
        where = f"{origin} (no such file)"
    else:
        where = ("kubeconfig file " if len(files) == 1 else "kubeconfig files ") + ", ".join(files)
    return _select(merged, context, where, files, (env, is_file))


def _resolve_given(kubeconfig: str, context: Optional[str], home: str, read_file, is_file) -> ResolvedKubeconfig:
    path = kubeconfig
    if path == "~":
        path = home
    elif path.startswith("~/"):
        path = posixpath.join(home, path[2:])
    if is_file(path):
        data = _read(path, read_file)
        if data is None:
            raise KubeconfigError(f"the kubeconfig file {path} (kubernetes:kubeconfig) disappeared while it was read")
        where = f"kubeconfig file {path} (kubernetes:kubeconfig)"
        document = _decode(data, where)
        files: tuple[str, ...] = (path,)
    else:
        where = "the kubeconfig contents given (kubeconfig / kubernetes:kubeconfig)"
        if "\n" not in kubeconfig and not kubeconfig.lstrip().startswith("{") and ":" not in kubeconfig:
            raise KubeconfigError(
                f"the kubeconfig setting (kubeconfig / kubernetes:kubeconfig) {kubeconfig!r} is neither the path of an "
                "existing file nor kubeconfig contents: give the path of an existing kubeconfig file, or its contents."
            )
        document = _decode(kubeconfig.encode(), where)
        files = ()
    return _select(_merge([(where, document)]), context, where, files, None)


def _read(path: str, read_file: Callable[[str], Optional[bytes]]) -> Optional[bytes]:
    try:
        return read_file(path)
    except IsADirectoryError:
        raise KubeconfigError(f"the kubeconfig path {path} is a folder, not a file: point KUBECONFIG or "
                              "kubernetes:kubeconfig at the file inside it") from None
    except OSError as error:
        raise KubeconfigError(f"cannot read the kubeconfig file {path}: {error.strerror or type(error).__name__}. "
                              "Make it readable by the user running Pulumi, or remove it from KUBECONFIG.") from None


# --- decoding: what client-go's Load accepts ---------------------------------------------------


def decode_problem(text: str, where: str = "the kubeconfig") -> Optional[str]:
    """Why client-go could not load ``text`` as a kubeconfig (None when it can)."""
    try:
        _decode(text.encode(), where)
    except KubeconfigError as error:
        return str(error)
    return None


def _decode(data: bytes, where: str) -> dict:
    """One file as client-go's ``Load`` decodes it: ``{"clusters": {name: body}, "users": ...,
    "contexts": ..., "current-context": str}`` (empty data is an empty kubeconfig)."""
    empty: dict = {"clusters": {}, "users": {}, "contexts": {}, "current-context": ""}
    if not data:
        return empty
    try:
        document = yaml.safe_load(data.decode())
    except UnicodeDecodeError:
        raise KubeconfigError(f"{where} is not UTF-8 text: it must be a kubeconfig (YAML or JSON)") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise KubeconfigError(f"{where} is not valid YAML{at}: fix the file (`kubectl config view` shows what "
                              "kubectl makes of it)") from None
    if document is None:
        return empty
    if not isinstance(document, Mapping):
        raise KubeconfigError(f"{where} is not a kubeconfig: its top level must be a mapping "
                              "(apiVersion: v1, kind: Config, clusters, users, contexts)")
    for key, expected in (("apiVersion", "v1"), ("kind", "Config")):
        value = document.get(key)
        if value not in (None, "", expected):
            raise KubeconfigError(f"{where} has {key} {value!r}: a kubeconfig has {key}: {expected}")
    current = document.get("current-context")
    if current is not None and not isinstance(current, str):
        raise KubeconfigError(f"{where}: current-context must be a string (a context name)")
    _check_extensions(document.get("extensions"), where)
    preferences = document.get("preferences")
    if preferences is not None:
        if not isinstance(preferences, Mapping):
            raise KubeconfigError(f"{where}: preferences must be a mapping")
        _check_fields(preferences, {"colors": _BOOL}, f"{where}: preferences")
        _check_extensions(preferences.get("extensions"), f"{where}: preferences")
    decoded = {"current-context": current or ""}
    for section, inner, noun in _SECTIONS:
        items = document.get(section)
        if items is None:
            items = []
        if not isinstance(items, list):
            raise KubeconfigError(f"{where}: {section} must be a list of {{name, {inner}}} entries")
        named: dict[str, dict] = {}
        for index, item in enumerate(items):
            if item is None:
                item = {}
            if not isinstance(item, Mapping):
                raise KubeconfigError(f"{where}: {section}[{index}] must be a mapping with name and {inner}")
            name = item.get("name")
            if name is None:
                name = ""
            if not isinstance(name, str):
                raise KubeconfigError(f"{where}: {section}[{index}].name must be a string")
            if name in named:
                raise KubeconfigError(f"{where} defines {noun} {name!r} twice: keep one {section} entry of that name")
            body = item.get(inner)
            if body is None:
                body = {}
            if not isinstance(body, Mapping):
                raise KubeconfigError(f"{where}: {noun} {name!r} ({section}[{index}].{inner}) must be a mapping")
            named[name] = _checked_body(dict(body), noun, name, where)
        decoded[section] = named
    return decoded


def _checked_body(body: dict, noun: str, name: str, where: str) -> dict:
    fields = {"cluster": _CLUSTER_FIELDS, "user": _USER_FIELDS, "context": _CONTEXT_FIELDS}[noun]
    what = f"{where}: {noun} {name!r}"
    _check_fields(body, fields, what)
    _check_extensions(body.get("extensions"), what)
    if noun == "user":
        extra = body.get("as-user-extra")
        if extra is not None and not (isinstance(extra, Mapping) and all(
                isinstance(k, str) and (v is None or _is(v, _STRINGS)) for k, v in extra.items())):
            raise KubeconfigError(f"{what}: as-user-extra must map names to lists of strings")
        if extra:
            body["as-user-extra"] = {k: v and _zero_nulls(v, "") for k, v in extra.items()}
        if body.get("as-groups"):
            body["as-groups"] = _zero_nulls(body["as-groups"], "")
        provider = body.get("auth-provider")
        if provider is not None:
            if not isinstance(provider, Mapping):
                raise KubeconfigError(f"{what}: auth-provider must be a mapping with name and config")
            _check_fields(provider, {"name": _STRING}, f"{what} auth-provider")
            config = provider.get("config")
            if config is not None and not (isinstance(config, Mapping) and all(
                    isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in config.items())):
                raise KubeconfigError(f"{what}: auth-provider.config must map names to strings")
        plugin = body.get("exec")
        if plugin is not None:
            if not isinstance(plugin, Mapping):
                raise KubeconfigError(f"{what}: exec must be a mapping (command, args, env, apiVersion)")
            _check_fields(plugin, _EXEC_FIELDS, f"{what} exec")
            variables = plugin.get("env")
            if variables is not None and not (isinstance(variables, list) and all(
                    v is None or isinstance(v, Mapping) and all(x is None or isinstance(x, str) for x in (v.get("name"), v.get("value")))
                    for v in variables)):
                raise KubeconfigError(f"{what}: exec.env must be a list of {{name, value}} strings")
            plugin = dict(plugin)
            for key, zero in (("args", ""), ("env", {})):
                if plugin.get(key):
                    plugin[key] = _zero_nulls(plugin[key], zero)
            body["exec"] = plugin
    return body


def _zero_nulls(values: list, zero: Any) -> list:
    """A JSON list as Go decodes it into a slice: a null element becomes the element type's zero value."""
    return [zero if v is None else v for v in values]


def _is(value: Any, kind: str) -> bool:
    if kind == _STRING:
        return isinstance(value, str)
    if kind == _BOOL:
        return isinstance(value, bool)
    if kind == _STRINGS:  # a null element decodes as ""
        return isinstance(value, list) and all(v is None or isinstance(v, str) for v in value)
    return isinstance(value, str) and _GO_BASE64.fullmatch(value.replace("\r", "").replace("\n", "")) is not None


def _check_extensions(extensions: Any, what: str) -> None:
    """client-go's decoding of an ``extensions`` list ([]NamedExtension, converted to a map in
    tools/clientcmd/api/v1/conversion.go): a name may come again only after entries whose
    extension is null (those convert to nothing)."""
    if extensions is None:
        return
    if not isinstance(extensions, list):
        raise KubeconfigError(f"{what}: extensions must be a list of {{name, extension}} entries")
    named: set[str] = set()
    for index, item in enumerate(extensions):
        item = {} if item is None else item
        if not isinstance(item, Mapping):
            raise KubeconfigError(f"{what}: extensions[{index}] must be a mapping with name and extension")
        name = "" if item.get("name") is None else item["name"]
        if not isinstance(name, str):
            raise KubeconfigError(f"{what}: extensions[{index}].name must be a string")
        if name in named:
            raise KubeconfigError(f"{what} has extension {name!r} twice: keep one extensions entry of that name")
        if item.get("extension") is not None:
            named.add(name)


def _check_fields(body: Mapping[str, Any], fields: Mapping[str, str], what: str) -> None:
    for key, kind in fields.items():
        value = body.get(key)
        if value is not None and not _is(value, kind):
            if kind == _BYTES and isinstance(value, str):
                raise KubeconfigError(f"{what}: {key} is not valid base64")
            raise KubeconfigError(f"{what}: {key} must be a {kind}")


def _resolve_paths(document: dict, base: str) -> None:
    """Relative paths in a file's entries, made absolute against its folder (loader.go, ResolveLocalPaths)."""
    for body in document["clusters"].values():
        _absolute(body, _CLUSTER_PATHS, base)
    for body in document["users"].values():
        _absolute(body, _USER_PATHS, base)
        plugin = body.get("exec")
        if plugin and "/" in str(plugin.get("command")):
            plugin = dict(plugin)
            _absolute(plugin, ("command",), base)
            body["exec"] = plugin


def _absolute(body: dict, keys: Sequence[str], base: str) -> None:
    for key in keys:
        value = body.get(key)
        if value and not posixpath.isabs(value):
            body[key] = posixpath.normpath(posixpath.join(base, value))


# --- merging and choosing ---------------------------------------------------------------------


def _merge(documents: Sequence[tuple[str, dict]]) -> dict:
    """client-go's merge of (file, decoded) pairs: the first file that defines a name, or sets
    current-context, wins. ``origins`` tells which file each entry came from."""
    merged: dict = {"clusters": {}, "users": {}, "contexts": {}, "current-context": "", "origins": {}}
    for path, document in documents:
        for section, _inner, _noun in _SECTIONS:
            for name, body in document[section].items():
                if name not in merged[section]:
                    merged[section][name] = body
                    merged["origins"][section, name] = path
        if not merged["current-context"]:
            merged["current-context"] = document["current-context"]
    return merged


def _select(merged: dict, context: Optional[str], where: str, files: tuple[str, ...],
            pod: Optional[tuple[Mapping[str, str], Callable[[str], bool]]]) -> ResolvedKubeconfig:
    """The context, cluster and user client-go chooses from ``merged`` (client_config.go,
    ``getContext``, ``getCluster``, ``getAuthInfo``: a name nobody set is "", and an entry named ""
    is then the one used). ``pod`` is (environment, is_file) where client-go may fall back to the
    pod's service account (ambient loading), None for a kubeconfig given outright."""
    name = context or merged["current-context"]
    source = "kube_context / kubernetes:context" if context else "current-context"
    if name and name not in merged["contexts"]:
        known = ", ".join(repr(c) for c in sorted(merged["contexts"])) or "none"
        fix = ("set kube_context (kubernetes:context) to one of those" if merged["contexts"]
               else "point KUBECONFIG or kubernetes:kubeconfig at a kubeconfig that defines it")
        raise KubeconfigError(f"{where}: context {name!r} ({source}) does not exist (contexts: {known}); {fix}")
    chosen = merged["contexts"].get(name, {})
    cluster_name = chosen.get("cluster") or ""
    user_name = chosen.get("user") or ""
    user = dict(merged["users"].get(user_name, {}))
    if user_name in merged["users"]:
        _check_user(user, user_name, merged["origins"]["users", user_name])
    # client-go's "no configuration has been provided" (ErrEmptyConfig) is a cluster equal to an
    # empty one; an entry read from a file never is (it carries the file as LocationOfOrigin), so
    # only a cluster no file defines falls back to the pod's service account.
    if cluster_name not in merged["clusters"] and pod is not None and _in_cluster_possible(*pod):
        env = pod[0]
        host, port = env["KUBERNETES_SERVICE_HOST"], env["KUBERNETES_SERVICE_PORT"]
        host = f"[{host}]" if ":" in host else host
        return ResolvedKubeconfig(origin="the in-cluster service account (no kubeconfig context to use)",
                                  server=f"https://{host}:{port}", in_cluster=True, files=files)
    cluster = merged["clusters"].get(cluster_name, {})
    if not cluster.get("server"):
        raise KubeconfigError(_no_configuration(where, name, source, cluster_name, merged, pod is not None))
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": name,
        "contexts": [{"name": name, "context": {**chosen, "user": user_name}}],
        "clusters": [{"name": cluster_name, "cluster": dict(cluster)}],
        "users": [{"name": user_name, "user": user}],
    }
    return ResolvedKubeconfig(origin=where, server=cluster["server"], kubeconfig=document, context=name,
                              cluster=cluster_name, user=user_name, files=files)


def _no_configuration(where: str, name: str, source: str, cluster_name: str, merged: dict, ambient: bool) -> str:
    if not name:
        known = ", ".join(repr(c) for c in sorted(merged["contexts"]))
        if known:
            return (f"{where} has no current-context and no context was given: set kube_context "
                    f"(kubernetes:context) to one of its contexts ({known})")
        if not ambient:
            return f"{where} defines no context: give a kubeconfig with a context for the cluster"
        return (f"{where}: no kubeconfig context to use (no contexts at all), and this is not a pod with a "
                "service account: set KUBECONFIG or kubernetes:kubeconfig to a kubeconfig for the cluster")
    if cluster_name and cluster_name not in merged["clusters"]:
        return (f"{where}: context {name!r} ({source}) names cluster {cluster_name!r}, which no kubeconfig file "
                "defines: add that cluster, or point the context at a cluster that exists")
    if not cluster_name:
        return f"{where}: context {name!r} ({source}) names no cluster: set its contexts[].context.cluster"
    return (f"{merged['origins'][('clusters', cluster_name)]}: cluster {cluster_name!r} (of context {name!r}) has "
            "no server: set its clusters[].cluster.server to the API server's URL")


def _check_user(user: Mapping[str, Any], name: str, where: str) -> None:
    """client-go's checks of the chosen user (validation.go, validateAuthInfo), where they are
    decidable without reading other files."""
    what = f"{where}: user {name!r}"
    if user.get("token") and (user.get("username") or user.get("password")):
        raise KubeconfigError(f"{what} has both a token and a username/password: keep one authentication method")
    if user.get("client-certificate") or user.get("client-certificate-data"):
        if user.get("client-certificate") and user.get("client-certificate-data"):
            raise KubeconfigError(f"{what} has both client-certificate and client-certificate-data: keep one")
        if user.get("client-key") and user.get("client-key-data"):
            raise KubeconfigError(f"{what} has both client-key and client-key-data: keep one")
        if not (user.get("client-key") or user.get("client-key-data")):
            raise KubeconfigError(f"{what} has a client certificate but no client-key or client-key-data: add the key")
    plugin = user.get("exec")
    if plugin is not None:
        if user.get("auth-provider") is not None:
            raise KubeconfigError(f"{what} has both exec and auth-provider: keep one")
        if not (plugin or {}).get("command"):
            raise KubeconfigError(f"{what}: exec has no command: set users[].user.exec.command")
        if not (plugin or {}).get("apiVersion"):
            raise KubeconfigError(f"{what}: exec (command {plugin['command']!r}) has no apiVersion: set it, e.g. "
                                  "client.authentication.k8s.io/v1")
        mode = (plugin or {}).get("interactiveMode") or "IfAvailable"
        if mode not in ("Never", "IfAvailable", "Always"):
            raise KubeconfigError(f"{what}: exec interactiveMode {mode!r} is not Never, IfAvailable or Always")
        for variable in (plugin or {}).get("env") or []:
            if not variable.get("name"):
                raise KubeconfigError(f"{what}: an exec env entry has no name")
    if (user.get("as-uid") or user.get("as-groups") or user.get("as-user-extra")) and not user.get("as"):
        raise KubeconfigError(f"{what} asks for impersonated uid, groups or extra without impersonating a user (as)")


def _in_cluster_possible(env: Mapping[str, str], is_file: Callable[[str], bool]) -> bool:
    """client-go's inClusterClientConfig.Possible."""
    return bool(env.get("KUBERNETES_SERVICE_HOST")) and bool(env.get("KUBERNETES_SERVICE_PORT")) \
        and is_file(SERVICE_ACCOUNT_TOKEN)


# --- credentials the client cannot be left to fetch (cluster_access runs them under a deadline) ----

#: client-go's oidc auth provider treats an id-token as expired this long before its ``exp``
#: (kubernetes/client-go@v0.35.7:plugin/pkg/client/auth/oidc/oidc.go, ``expiryDelta``).
OIDC_EXPIRY_MARGIN_SECONDS = 10.0


#: The cluster extension whose value client-go hands a credential plugin as ``spec.cluster.config``
#: (kubernetes/client-go@v0.35.7:tools/clientcmd/client_config.go, ``clusterExtensionKey``).
EXEC_CLUSTER_EXTENSION = "client.authentication.k8s.io/exec"


def exec_info(plugin: Mapping[str, Any], cluster: Mapping[str, Any], *,
              read_file: Callable[[str], Optional[bytes]] = _read_from_disk) -> str:
    """``KUBERNETES_EXEC_INFO`` for a credential plugin run without a terminal (client-go's
    plugin/pkg/client/auth/exec/exec.go): the ExecCredential spec, with the cluster when the
    plugin asks for it (``provideClusterInfo``) as client-go's rest/exec.go ``ConfigToExecCluster``
    builds it: the CA as bytes (``certificate-authority-data`` decoded, else the
    ``certificate-authority`` file read with ``read_file``), re-encoded as JSON encodes bytes, and
    the cluster's ``client.authentication.k8s.io/exec`` extension as ``config``."""
    import json

    spec: dict[str, Any] = {"interactive": False}
    if plugin.get("provideClusterInfo"):
        info: dict[str, Any] = {"server": cluster["server"]}
        if cluster.get("tls-server-name"):
            info["tls-server-name"] = cluster["tls-server-name"]
        if cluster.get("insecure-skip-tls-verify"):
            info["insecure-skip-tls-verify"] = True
        authority = _certificate_authority(cluster, read_file)
        if authority:
            info["certificate-authority-data"] = base64.b64encode(authority).decode()
        if cluster.get("proxy-url"):
            info["proxy-url"] = cluster["proxy-url"]
        if cluster.get("disable-compression"):
            info["disable-compression"] = True
        info["config"] = None  # a RawExtension is never omitted: JSON null when the cluster has none
        for extension in cluster.get("extensions") or []:
            if extension and extension.get("name") == EXEC_CLUSTER_EXTENSION and extension.get("extension") is not None:
                info["config"] = extension["extension"]
        spec["cluster"] = info
    return json.dumps({"apiVersion": plugin.get("apiVersion"), "kind": "ExecCredential", "spec": spec})


def _certificate_authority(cluster: Mapping[str, Any], read_file: Callable[[str], Optional[bytes]]) -> bytes:
    """The CA bytes client-go gives a plugin (rest/config.go ``dataFromSliceOrFile``): the data
    when set, else the file's contents, which must exist."""
    data = cluster.get("certificate-authority-data")
    if data:
        return base64.b64decode(data)  # valid (decoding checked it); line breaks are skipped
    path = cluster.get("certificate-authority")
    if not path:
        return b""
    contents = _read(path, read_file)
    if contents is None:
        raise KubeconfigError(f"the certificate-authority file {path} of the kubeconfig's cluster does not exist: "
                              "the credential plugin asks for the cluster's CA (provideClusterInfo); fix the path")
    return contents


def exec_credential(output: bytes, plugin: Mapping[str, Any]) -> dict:
    """The user fields a credential plugin's answer gives (``token``, or ``client-certificate-data``
    and ``client-key-data``); raises ``KubeconfigError`` naming the plugin when the answer is not a
    usable ExecCredential of the plugin's apiVersion."""
    import json

    command = plugin.get("command")
    what = f"the kubeconfig's credential plugin {command!r}"
    try:
        answer = json.loads(output.decode())
    except (UnicodeDecodeError, ValueError):
        raise KubeconfigError(f"{what} printed no ExecCredential JSON: run it by hand to see what it prints") from None
    if not isinstance(answer, Mapping) or answer.get("kind") != "ExecCredential":
        raise KubeconfigError(f"{what} printed something other than an ExecCredential (kind: ExecCredential)")
    if answer.get("apiVersion") != plugin.get("apiVersion"):
        raise KubeconfigError(f"{what} answered with apiVersion {answer.get('apiVersion')!r}, the kubeconfig asks for "
                              f"{plugin.get('apiVersion')!r}: make exec.apiVersion match the plugin")
    status = answer.get("status")
    if not isinstance(status, Mapping):
        raise KubeconfigError(f"{what} answered without a status: it gave no credential")
    token = status.get("token")
    certificate, key = status.get("clientCertificateData"), status.get("clientKeyData")
    if isinstance(token, str) and token:
        return {"token": token}
    if isinstance(certificate, str) and certificate and isinstance(key, str) and key:
        return {"client-certificate-data": base64.b64encode(certificate.encode()).decode(),
                "client-key-data": base64.b64encode(key.encode()).decode()}
    raise KubeconfigError(f"{what} answered with neither a token nor a client certificate and key")


def id_token_usable(id_token: Any, now: float) -> bool:
    """Whether client-go's oidc auth provider would send ``id_token`` as it is at time ``now`` (Unix
    seconds): a JWT whose ``exp`` is more than ``OIDC_EXPIRY_MARGIN_SECONDS`` away. Raises
    ``KubeconfigError`` for a token that is no JWT (client-go fails on it too)."""
    import json

    if not isinstance(id_token, str) or not id_token:
        return False
    parts = id_token.split(".")
    if len(parts) != 3:
        raise KubeconfigError("the kubeconfig's oidc id-token is not a JWT: log in again to get a new one")
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=="))  # surplus padding is ignored
    except (binascii.Error, ValueError):
        raise KubeconfigError("the kubeconfig's oidc id-token has an unreadable payload: log in again") from None
    expiry = payload.get("exp") if isinstance(payload, Mapping) else None
    if isinstance(expiry, bool) or not isinstance(expiry, (int, float)):
        return False
    return now + OIDC_EXPIRY_MARGIN_SECONDS < expiry
