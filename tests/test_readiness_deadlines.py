"""verify_login against servers that misbehave: one total deadline, no https->http redirect, bounded reads."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kubesphere_okta import readiness
from kubesphere_okta.readiness_rules import ExpectedLogin
from tests.openid_provider import write_throwaway_certificate


class Misbehaving:
    """A server on 127.0.0.1 that answers every GET with ``handle(handler)``; TLS when given a cert."""

    def __init__(self, handle, tls=None):
        stop = self.stop = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                handle(self, stop)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        scheme = "http"
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


def trickle(handler, stop):
    """Headers at once, then one byte of body every 0.1 s, for ever."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", "100000")
    handler.end_headers()
    try:
        while not stop.wait(0.1):
            handler.wfile.write(b" ")
            handler.wfile.flush()
    except OSError:
        pass


def fetched_within(seconds: float, *args, **kwargs):
    """``fetch_json(*args)`` run in a thread: (result or None if still running, elapsed)."""
    box = {}
    started = time.monotonic()
    worker = threading.Thread(target=lambda: box.update(value=readiness.fetch_json(*args, **kwargs)), daemon=True)
    worker.start()
    worker.join(seconds)
    return box.get("value"), time.monotonic() - started


def test_a_body_trickled_for_ever_is_cut_off_at_the_total_deadline():
    with Misbehaving(trickle) as server:
        result, elapsed = fetched_within(5, server.url + "/.well-known/openid-configuration", 1.0)
    assert result is not None, "fetch_json was still reading a trickled body after 5 s (timeout 1 s)"
    assert elapsed < 2 and result.document is None and "within" in result.error


def test_the_whole_check_keeps_one_deadline_with_a_trickling_console():
    with Misbehaving(trickle) as server:
        expected = ExpectedLogin(server.url, server.url, "Okta", "4.1")
        started = time.monotonic()
        box = {}
        worker = threading.Thread(target=lambda: box.update(error=_wait(expected)), daemon=True)
        worker.start()
        worker.join(6)
    assert "error" in box, "wait_until_login_ready overran its 1.5 s timeout by more than 4 s"
    assert time.monotonic() - started < 4 and isinstance(box["error"], readiness.LoginNotReady)


def _wait(expected):
    try:
        readiness.wait_until_login_ready(expected, 1.5, first_delay=0.1, max_delay=0.2, request_timeout=1.0)
    except readiness.LoginNotReady as error:
        return error
    return None


def test_a_redirect_from_https_to_plain_http_is_not_followed(tmp_path, monkeypatch):
    cert, key = write_throwaway_certificate(tmp_path)
    context = ssl.create_default_context(cafile=str(cert))
    seen = []

    def plain(handler, _stop):
        seen.append(handler.path)
        handler.send_response(200)
        handler.send_header("Content-Length", "2")
        handler.end_headers()
        handler.wfile.write(b"{}")

    with Misbehaving(plain) as http_target:
        def redirect(handler, _stop):
            handler.send_response(302)
            handler.send_header("Location", http_target.url + handler.path)
            handler.send_header("Content-Length", "0")
            handler.end_headers()

        with Misbehaving(redirect, tls=(cert, key)) as https_server:
            result, _ = fetched_within(5, https_server.url + "/.well-known/openid-configuration", 2.0, context)
    assert result is not None and result.document is None
    assert "plain-http" in result.error and seen == []


def test_an_endless_body_is_read_only_up_to_the_limit(monkeypatch):
    monkeypatch.setattr(readiness, "MAX_BODY_BYTES", 64 * 1024)

    def endless(handler, stop):
        handler.send_response(200)
        handler.end_headers()
        try:
            while not stop.is_set():
                handler.wfile.write(b"[" * 65536)
        except OSError:
            pass

    with Misbehaving(endless) as server:
        result, elapsed = fetched_within(5, server.url + "/x", 3.0)
    assert result is not None and "larger than" in result.error and elapsed < 3
