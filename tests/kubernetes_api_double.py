"""A tiny stand-in for the Kubernetes API serving one ClusterConfiguration, on 127.0.0.1 only.

It answers like the API server does for this object: GET returns it (404 when absent), PUT
replaces it only when ``metadata.resourceVersion`` matches the stored one (409 Conflict
otherwise, 422 when missing, as for custom resources), and every accepted write bumps the
resourceVersion. It requires the bearer token of the kubeconfig it hands out, records every GET
and PUT, and lets a test act between a read and a write (``before_write``).
"""

from __future__ import annotations

import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional

import yaml

PATH = "/apis/installer.kubesphere.io/v1alpha1/namespaces/kubesphere-system/clusterconfigurations/ks-installer"
TOKEN = "test-token"


def _status(code: int, reason: str, message: str) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


class KubernetesApiDouble:
    def __init__(self, cluster_configuration: Optional[dict]):
        self.object: Optional[dict] = copy.deepcopy(cluster_configuration)
        self.resource_version = 1000
        if self.object is not None:
            self.object.setdefault("metadata", {})["resourceVersion"] = str(self.resource_version)
        self.gets = 0
        self.writes: list[bytes] = []
        self.rejected_writes: list[int] = []
        #: Called with this double on every PUT, before the precondition is checked.
        self.before_write: Optional[Callable[["KubernetesApiDouble"], None]] = None
        #: Answer every GET with this instead (status, Status message), e.g. (500, "...").
        self.fail_gets_with: Optional[tuple[int, str]] = None
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
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
            self._bump()

    def spec_bytes(self) -> str:
        return json.dumps(self.object["spec"])

    def __enter__(self) -> "KubernetesApiDouble":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # --- the API ------------------------------------------------------------------------------

    def _bump(self) -> None:
        self.resource_version += 1
        self.object.setdefault("metadata", {})["resourceVersion"] = str(self.resource_version)

    def _handler(self):
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _send(self, code: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self) -> bool:
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    self._send(401, _status(401, "Unauthorized", "Unauthorized"))
                    return False
                if self.path.split("?")[0] != PATH:
                    self._send(404, _status(404, "NotFound", "the server could not find the requested resource"))
                    return False
                return True

            def do_GET(self) -> None:
                if not self._authorised():
                    return
                with double._lock:
                    double.gets += 1
                    if double.fail_gets_with:
                        code, message = double.fail_gets_with
                        self._send(code, _status(code, "InternalError", message))
                    elif double.object is None:
                        self._send(404, _status(404, "NotFound", 'clusterconfigurations.installer.kubesphere.io "ks-installer" not found'))
                    else:
                        self._send(200, double.object)

            def do_PUT(self) -> None:
                if not self._authorised():
                    return
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                body = json.loads(raw)
                if double.before_write:
                    double.before_write(double)
                with double._lock:
                    sent = (body.get("metadata") or {}).get("resourceVersion")
                    if double.object is None:
                        double.rejected_writes.append(404)
                        self._send(404, _status(404, "NotFound", "not found"))
                    elif not sent:
                        double.rejected_writes.append(422)
                        self._send(422, _status(422, "Invalid", "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update"))
                    elif sent != str(double.resource_version):
                        double.rejected_writes.append(409)
                        self._send(409, _status(409, "Conflict", 'Operation cannot be fulfilled on clusterconfigurations.installer.kubesphere.io "ks-installer": the object has been modified; please apply your changes to the latest version and try again'))
                    else:
                        double.writes.append(raw)
                        double.object = body
                        double._bump()
                        self._send(200, double.object)

        return Handler
