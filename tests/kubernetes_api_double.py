"""A small stand-in for the Kubernetes API server on 127.0.0.1, for the objects this project touches.

It answers as the API server does (kubernetes/kubernetes apiserver semantics, not shaped to our
client): every object has a ``metadata.uid`` set at creation and a ``resourceVersion`` bumped by
every accepted write; GET of a missing object is 404 with a Status body; PUT replaces an object
only when the ``metadata.resourceVersion`` it carries matches (409 Conflict otherwise, 422 when
missing, as for custom resources); ``fieldManager`` query parameters are recorded. It serves:

* the ks-installer ClusterConfiguration (``object``; absent when None);
* Namespace ``kube-system`` (its uid identifies the cluster: ``cluster_uid``);
* Secrets in ``kubesphere-system`` (``secrets``), listable with a ``labelSelector`` of ``k=v``, and
  created with POST (as pulumi-kubernetes creates the 4.1 identity-provider Secret);
* KubeSphere Users and role bindings (``store``: GET, LIST, server-side apply, DELETE;
  tests/kubernetes_objects.py);
* any other collection a test fills in (``collections``: path to items), for the role check's LISTs.

It requires the bearer token of the kubeconfig it hands out, records every request, lets a test act
between a read and a write (``before_write``), and simulates broken networks: ``drop_put_responses``
applies a PUT and then closes the connection without answering; ``black_hole`` accepts connections
and never answers; ``forbidden`` answers 403 (as RBAC does) to GETs of the paths it holds, while
writes still go through (a user allowed to write Secrets but not to read Namespaces); ``trickle``
answers GETs of the paths it holds one byte every half second, so only a total deadline ends them.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional
from urllib.parse import parse_qs, urlsplit

import yaml

from tests.kubernetes_objects import ObjectStore

PATH = "/apis/installer.kubesphere.io/v1alpha1/namespaces/kubesphere-system/clusterconfigurations/ks-installer"
NAMESPACE_PATH = "/api/v1/namespaces/"
SECRETS_PATH = "/api/v1/namespaces/kubesphere-system/secrets"
TOKEN = "test-token"


def _status(code: int, reason: str, message: str) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


class KubernetesApiDouble:
    def __init__(self, cluster_configuration: Optional[dict], *, cluster_uid: Optional[str] = None):
        self.resource_version = 1000
        self.cluster_uid = cluster_uid or str(uuid.uuid4())
        self.object: Optional[dict] = copy.deepcopy(cluster_configuration)
        if self.object is not None:
            self.object.setdefault("metadata", {})["uid"] = str(uuid.uuid4())
            self.object["metadata"]["resourceVersion"] = str(self.resource_version)
        self.secrets: dict[str, dict] = {}
        #: KubeSphere Users and role bindings (tests/kubernetes_objects.py).
        self.store = ObjectStore(self._bump)
        self.gets = 0
        self.requests: list[tuple[str, str]] = []
        self.writes: list[bytes] = []
        self.field_managers: list[Optional[str]] = []
        self.rejected_writes: list[int] = []
        #: Called with this double on every PUT, before the precondition is checked.
        self.before_write: Optional[Callable[["KubernetesApiDouble"], None]] = None
        #: Answer every GET of the ClusterConfiguration with this instead (status, Status message).
        self.fail_gets_with: Optional[tuple[int, str]] = None
        #: How many accepted PUTs to apply and then leave unanswered (connection closed).
        self.drop_put_responses = 0
        #: Accept connections, read the request, never answer.
        self.black_hole = False
        #: Paths (or path prefixes ending in "/") whose GET is answered 403 Forbidden.
        self.forbidden: set[str] = set()
        #: Collections a test serves for LIST: path -> items.
        self.collections: dict[str, list[dict]] = {}
        #: Paths whose GET is answered at once with headers, then one byte of the body every half
        #: second (until the test ends); ``trickled[path]``: the bytes sent so far, per request.
        self.trickle: set[str] = set()
        self.trickled: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    # --- what tests use -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def kubeconfig(self, current_context: str = "test") -> str:
        """Kubeconfig contents with two contexts: ``test`` reaches this server, ``elsewhere`` nothing."""
        return yaml.safe_dump({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "double", "cluster": {"server": self.url}},
                         {"name": "nowhere", "cluster": {"server": "http://127.0.0.1:9"}}],
            "users": [{"name": "tester", "user": {"token": TOKEN}}],
            "contexts": [{"name": "test", "context": {"cluster": "double", "user": "tester"}},
                         {"name": "elsewhere", "context": {"cluster": "nowhere", "user": "tester"}}],
            "current-context": current_context,
        })

    def edit(self, change: Callable[[dict], None]) -> None:
        """Another writer (kubectl edit, ks-installer): change the object and bump its resourceVersion."""
        with self._lock:
            change(self.object)
            self._bump(self.object)

    def replace(self, obj: Optional[dict]) -> None:
        """Another writer replaced the whole object (a new uid when there was none)."""
        with self._lock:
            self.object = copy.deepcopy(obj)
            if self.object is not None:
                self.object.setdefault("metadata", {})["uid"] = str(uuid.uuid4())
                self._bump(self.object)

    def add_secret(self, name: str, body: dict) -> None:
        with self._lock:
            secret = copy.deepcopy(body)
            metadata = secret.setdefault("metadata", {})
            metadata.update(name=name, namespace="kubesphere-system", uid=str(uuid.uuid4()))
            self._bump(secret)
            self.secrets[name] = secret

    def spec_bytes(self) -> str:
        return json.dumps(self.object["spec"])

    def __enter__(self) -> "KubernetesApiDouble":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # --- the API ------------------------------------------------------------------------------

    def _bump(self, obj: dict) -> None:
        self.resource_version += 1
        obj.setdefault("metadata", {})["resourceVersion"] = str(self.resource_version)

    def _handler(self):
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _send(self, code: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _hold(self) -> bool:
                """Black hole: keep the connection open and silent until the test ends."""
                if not double.black_hole:
                    return False
                double._stop.wait(60)
                self.close_connection = True
                return True

            def _trickle(self, path: str) -> None:
                """A List padded to a few hundred bytes, sent one byte every half second."""
                with double._lock:
                    items = copy.deepcopy(double.collections.get(path, []))
                body = json.dumps({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": "1"},
                                   "items": items, "padding": "x" * 300}).encode()
                sent = double.trickled.setdefault(path, [])
                sent.append(0)
                index = len(sent) - 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.flush()
                for byte in body:
                    if double._stop.wait(0.5):
                        break
                    try:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    except OSError:
                        break
                    sent[index] += 1
                self.close_connection = True

            def _authorised(self) -> bool:
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    self._send(401, _status(401, "Unauthorized", "Unauthorized"))
                    return False
                return True

            def _not_found(self, what: str = "the server could not find the requested resource") -> None:
                self._send(404, _status(404, "NotFound", what))

            def do_GET(self) -> None:
                if self._hold() or not self._authorised():
                    return
                parts = urlsplit(self.path)
                path, query = parts.path, parse_qs(parts.query)
                double.requests.append(("GET", path))
                if any(path == f or (f.endswith("/") and path.startswith(f)) for f in double.forbidden):
                    self._send(403, _status(403, "Forbidden", f'User "tester" cannot get resource at {path}'))
                    return
                if path in double.trickle:
                    self._trickle(path)
                    return
                with double._lock:
                    if path in double.collections:
                        self._send(200, {"apiVersion": "v1", "kind": "List",
                                         "metadata": {"resourceVersion": str(double.resource_version)},
                                         "items": copy.deepcopy(double.collections[path])})
                    elif path == PATH:
                        double.gets += 1
                        if double.fail_gets_with:
                            code, message = double.fail_gets_with
                            self._send(code, _status(code, "InternalError", message))
                        elif double.object is None:
                            self._not_found('clusterconfigurations.installer.kubesphere.io "ks-installer" not found')
                        else:
                            self._send(200, double.object)
                    elif path == NAMESPACE_PATH + "kube-system":
                        self._send(200, {"apiVersion": "v1", "kind": "Namespace", "metadata": {
                            "name": "kube-system", "uid": double.cluster_uid, "resourceVersion": "4",
                            "creationTimestamp": "2024-01-01T00:00:00Z"}, "spec": {"finalizers": ["kubernetes"]},
                            "status": {"phase": "Active"}})
                    elif path == SECRETS_PATH:
                        selector = (query.get("labelSelector") or [""])[0]
                        wanted = dict(part.split("=", 1) for part in selector.split(",") if "=" in part)
                        items = [s for s in double.secrets.values()
                                 if all(((s.get("metadata") or {}).get("labels") or {}).get(k) == v for k, v in wanted.items())]
                        self._send(200, {"apiVersion": "v1", "kind": "SecretList",
                                         "metadata": {"resourceVersion": str(double.resource_version)},
                                         "items": [{"apiVersion": "v1", "kind": "Secret", **s} for s in items]})
                    elif path.startswith(SECRETS_PATH + "/"):
                        secret = double.secrets.get(path.rsplit("/", 1)[-1])
                        if secret is None:
                            self._not_found(f'secrets "{path.rsplit("/", 1)[-1]}" not found')
                        else:
                            self._send(200, {"apiVersion": "v1", "kind": "Secret", **secret})
                    elif not self._store("GET", path, query, b""):
                        self._not_found()

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self._hold() or not self._authorised():
                    return
                path = urlsplit(self.path).path
                double.requests.append(("POST", path))
                if path != SECRETS_PATH:
                    self._send(405, _status(405, "MethodNotAllowed", "the server does not allow this method"))
                    return
                body = json.loads(raw)
                name = (body.get("metadata") or {}).get("name")
                with double._lock:
                    if name in double.secrets:
                        self._send(409, _status(409, "AlreadyExists", f'secrets "{name}" already exists'))
                        return
                    double.writes.append(raw)
                body.pop("apiVersion", None)
                body.pop("kind", None)
                double.add_secret(name, body)
                self._send(201, {"apiVersion": "v1", "kind": "Secret", **double.secrets[name]})

            def _store(self, method: str, path: str, query: dict, raw: bytes) -> bool:
                """Answer from ``double.store`` (Users, role bindings); False when it does not serve ``path``."""
                answer = double.store.handle(method, path, query, raw, self.headers.get("Content-Type", "").split(";")[0])
                if answer is None:
                    return False
                self._send(*answer)
                return True

            def _members(self, method: str) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self._hold() or not self._authorised():
                    return
                parts = urlsplit(self.path)
                double.requests.append((method, parts.path))
                with double._lock:
                    if not self._store(method, parts.path, parse_qs(parts.query), raw):
                        self._send(405, _status(405, "MethodNotAllowed", "the server does not allow this method"))

            def do_PATCH(self) -> None:
                self._members("PATCH")

            def do_DELETE(self) -> None:
                self._members("DELETE")

            def do_PUT(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self._hold() or not self._authorised():
                    return
                parts = urlsplit(self.path)
                double.requests.append(("PUT", parts.path))
                if parts.path != PATH:
                    self._send(405, _status(405, "MethodNotAllowed", "the server does not allow this method"))
                    return
                body = json.loads(raw)
                if double.before_write:
                    double.before_write(double)
                with double._lock:
                    sent = (body.get("metadata") or {}).get("resourceVersion")
                    if double.object is None:
                        double.rejected_writes.append(404)
                        self._not_found("not found")
                        return
                    if not sent:
                        double.rejected_writes.append(422)
                        self._send(422, _status(422, "Invalid", "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update"))
                        return
                    if sent != (double.object.get("metadata") or {}).get("resourceVersion"):
                        double.rejected_writes.append(409)
                        self._send(409, _status(409, "Conflict", 'Operation cannot be fulfilled on clusterconfigurations.installer.kubesphere.io "ks-installer": the object has been modified; please apply your changes to the latest version and try again'))
                        return
                    double.writes.append(raw)
                    double.field_managers.append((parse_qs(parts.query).get("fieldManager") or [None])[0])
                    stored = double.object.setdefault("metadata", {})
                    stored.setdefault("uid", str(uuid.uuid4()))
                    body.setdefault("metadata", {})["uid"] = stored["uid"]  # uid is immutable
                    double.object = body
                    double._bump(double.object)
                    drop = double.drop_put_responses > 0
                    if drop:
                        double.drop_put_responses -= 1
                if drop:  # applied, but the answer is lost on the way back
                    self.close_connection = True
                    try:
                        self.connection.shutdown(2)
                    except OSError:
                        pass
                    return
                self._send(200, double.object)

        return Handler


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()
