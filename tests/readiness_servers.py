"""A local server on 127.0.0.1 answering as Okta (discovery) and a KubeSphere console (configs/oauth) would.

The console lists our provider only ``ready_after`` seconds after start (None: never), the way a
3.x installer run or a 4.1 Secret reload makes it appear late. Started and stopped by the test.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator, Optional

from kubesphere_okta.readiness_rules import OAUTH_CONFIGURATION_PATH


@dataclass
class FakeOktaAndKubeSphere:
    provider_name: str = "Okta"
    ready_after: Optional[float] = 0.0
    published_issuer: Optional[str] = None  # default: the server's own base URL, i.e. the right issuer
    discovered: bool = True  # False: listed without endpoint.authURL (ks-apiserver's discovery failed)
    v3_shape: bool = False  # 3.x serves oauthOptions as is; 4.1 adds issuer/clients around identityProviders
    client_id: Optional[str] = None  # provider.clientID as listed; None leaves it out
    requests: list[str] = field(default_factory=list)
    base_url: str = ""
    started: float = 0.0

    def oauth_configuration(self) -> dict[str, Any]:
        ready = self.ready_after is not None and time.monotonic() - self.started >= self.ready_after
        providers = []
        if ready:
            provider: dict[str, Any] = {"issuer": self.base_url, "scopes": ["openid", "email", "profile"],
                                        "redirectURL": f"{self.base_url}/oauth/redirect/{self.provider_name}"}
            if self.client_id:
                provider["clientID"] = self.client_id
            if self.discovered:
                provider["endpoint"] = {"authURL": f"{self.base_url}/oauth2/v1/authorize", "tokenURL": f"{self.base_url}/oauth2/v1/token"}
            providers.append({"name": self.provider_name, "type": "OIDCIdentityProvider", "mappingMethod": "manual", "provider": provider})
        if self.v3_shape:
            return {"identityProviders": providers, "accessTokenMaxAge": 7200000000000, "accessTokenInactivityTimeout": 0}
        return {"issuer": {"url": "http://ks-apiserver"}, "identityProviders": providers, "clients": []}


@contextmanager
def serve(fake: FakeOktaAndKubeSphere, tls: Optional[tuple[Path, Path]] = None) -> Iterator[FakeOktaAndKubeSphere]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            fake.requests.append(self.path)
            if self.path == "/.well-known/openid-configuration":
                issuer = fake.published_issuer or fake.base_url
                body = {"issuer": issuer, "authorization_endpoint": f"{issuer}/oauth2/v1/authorize"}
            elif self.path == OAUTH_CONFIGURATION_PATH:
                body = fake.oauth_configuration()
            else:
                self.send_error(404)
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):  # keep test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    scheme = "http"
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(tls[0]), str(tls[1]))
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    fake.base_url = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    fake.started = time.monotonic()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
