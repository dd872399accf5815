"""Start and stop the local OpenID Provider (tests/oidc_provider/server.js, oidc-provider from npm).

It serves HTTPS on 127.0.0.1 with a throwaway self-signed certificate made here; callers trust
exactly that certificate (``ca_path``), never a disabled verification.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import shutil
import subprocess
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PROVIDER_DIR = Path(__file__).parent / "oidc_provider"
INSTALL_HINT = (
    "the login-flow test needs Node.js (>= 20) and npm: install them (e.g. `apt-get install nodejs npm`) "
    "and run `make test`, which installs tests/oidc_provider with `npm ci`"
)


def missing_prerequisite() -> str | None:
    """Why the OpenID Provider cannot run here, or None."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return INSTALL_HINT
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        return "tests/oidc_provider/node_modules is missing: run `make test` (or `npm ci --prefix tests/oidc_provider`)"
    return None


def write_throwaway_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, valid for one hour; returns (cert, key) paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubesphere-okta test OpenID Provider")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "provider-cert.pem", directory / "provider-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class OpenIDProvider:
    """A running provider: its ``issuer`` is known at once; ``register_client`` then starts it."""

    def __init__(self, process: subprocess.Popen, issuer: str, ca_path: Path, timeout: float):
        self.process, self.issuer, self.ca_path, self._timeout = process, issuer, ca_path, timeout

    def register_client(self, client: Mapping[str, Any]) -> None:
        self.process.stdin.write(json.dumps(dict(client)) + "\n")
        self.process.stdin.flush()
        if json.loads(_read_line(self.process, self._timeout) or "{}").get("ready") is not True:
            raise RuntimeError(f"the OpenID Provider refused the client: {self.process.stderr.read()[-2000:]}")


def _read_line(process: subprocess.Popen, timeout: float) -> str:
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return line[0].strip() if line else ""


@contextmanager
def openid_provider(directory: Path, account: Mapping[str, Any], startup_timeout: float = 30.0) -> Iterator[OpenIDProvider]:
    """Run the provider on a free port of 127.0.0.1 (it picks the port itself: no race with others)."""
    cert_path, key_path = write_throwaway_certificate(directory)
    settings_path = directory / "provider-settings.json"
    settings_path.write_text(json.dumps({"tls": {"cert": str(cert_path), "key": str(key_path)}, "account": dict(account)}))
    process = subprocess.Popen(
        ["node", str(PROVIDER_DIR / "server.js"), str(settings_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "NODE_NO_WARNINGS": "1"},
    )
    try:
        first = _read_line(process, startup_timeout)
        if not first:
            process.kill()
            raise RuntimeError(f"the OpenID Provider did not start: {process.stderr.read()[-2000:]}")
        yield OpenIDProvider(process, json.loads(first)["issuer"], cert_path, startup_timeout)
    finally:
        if process.poll() is None:
            process.stdin.close()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdout, process.stderr):
            stream.close()
