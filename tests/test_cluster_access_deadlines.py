"""Every deadline holds: credential plugins, OIDC token refreshes and every request, role check included.

``cluster_access.Session`` gives one operation a per-request deadline (``request_timeout``) inside
an operation deadline; these tests pass a short one in and drive the real thing against local
stand-ins on 127.0.0.1: exec credential plugins that sleep, never exit or fail (small shell
scripts), an OpenID provider that accepts connections and never answers, and an API server that
trickles its answer one byte every half second. What is asserted is the outcome: the error and
what it names (the plugin's command, the IdP's issuer URL, the API server), the plugin process
gone, no request sent to the API server when its credential never came, one connection to the
IdP (no retries), and the trickling server still sending when the operation had already given up.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import socket
import stat
import threading
import time
from pathlib import Path
from typing import Any, Optional

import pytest
import yaml

from kubesphere_okta import cluster_access, kubesphere_role_check
from kubesphere_okta.cluster_access import ClusterAccessError, ClusterUnreachable, Session
from tests.dynamic_engine import StepFailed
from tests.kubernetes_api_double import TOKEN, KubernetesApiDouble
from tests.test_fail_closed import CLUSTER_ROLES, Cluster, bound_stack, processes  # noqa: F401 (a fixture)

DEADLINE = 0.5  # seconds: request_timeout passed in, so no test waits long


def kubeconfig(server: str, user: dict) -> str:
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "ctx",
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
    })


def plugin(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def exec_user(command: str, **extra: Any) -> dict:
    return {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": command, "interactiveMode": "Never",
                     **extra}}


def credential(token: str) -> str:
    return json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                       "status": {"token": token}})


@pytest.fixture()
def api():
    with KubernetesApiDouble(None) as double:
        yield double


def test_a_credential_plugin_that_never_exits_is_killed_and_named_and_nothing_is_sent(tmp_path, api):
    pid_file = tmp_path / "pid"
    command = plugin(tmp_path, "hangs", f"echo $$ > {pid_file}\nexec sleep 1000\n")
    props = {"kubeconfig": kubeconfig(api.url, exec_user(command)), "request_timeout": DEADLINE}
    with pytest.raises(ClusterUnreachable) as raised:
        Session(props)
    message = str(raised.value)
    assert f"credential plugin {command!r}" in message and "did not finish within 0.5 s and was stopped" in message
    assert f"No request was sent to the API server at {api.url}" in message and "did not answer" not in message
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)
    assert api.requests == []


def test_a_credential_plugin_that_leaves_a_child_behind_is_killed_with_it(tmp_path, api):
    pid_file = tmp_path / "pid"
    command = plugin(tmp_path, "forks", f"sleep 1000 &\necho $! > {pid_file}\nwait\n")
    with pytest.raises(ClusterUnreachable, match="did not finish within"):
        Session({"kubeconfig": kubeconfig(api.url, exec_user(command)), "request_timeout": DEADLINE})
    child = int(pid_file.read_text())
    for _ in range(100):  # the child is reaped by init once killed; wait for that, not for a time
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        if Path(f"/proc/{child}/stat").read_text().split()[2] == "Z":
            break
        time.sleep(0.02)
    else:
        pytest.fail("the plugin's child is still running")


def test_a_credential_plugins_token_reaches_the_api_server_and_the_plugin_runs_without_a_terminal(tmp_path, api):
    seen = tmp_path / "exec-info"
    command = plugin(tmp_path, "gives", f"echo \"$KUBERNETES_EXEC_INFO\" > {seen}\necho '{credential(TOKEN)}'\n")
    user = exec_user(command, args=["--cluster", "prod"], env=[{"name": "PLUGIN_MODE", "value": "ci"}],
                     provideClusterInfo=True)
    session = Session({"kubeconfig": kubeconfig(api.url, user), "request_timeout": 5})
    assert session.identity()["kube_system_uid"] == api.cluster_uid
    info = json.loads(seen.read_text())
    assert info["kind"] == "ExecCredential" and info["spec"]["interactive"] is False
    assert info["spec"]["cluster"]["server"] == api.url


def test_a_failing_credential_plugin_is_named_with_its_own_last_words(tmp_path, api):
    command = plugin(tmp_path, "fails", "echo 'starting' >&2\necho 'error: login required, run: sso login' >&2\nexit 3\n")
    with pytest.raises(ClusterAccessError) as raised:
        Session({"kubeconfig": kubeconfig(api.url, exec_user(command)), "request_timeout": 5})
    assert str(raised.value) == (f"the kubeconfig's credential plugin {command!r} (user 'u') failed (exit status 3): "
                                 f"error: login required, run: sso login. No request was sent to the API server at {api.url}.")


def test_a_missing_credential_plugin_shows_its_install_hint(api):
    user = exec_user("no-such-plugin-anywhere", installHint="Install it with: apt-get install no-such-plugin")
    with pytest.raises(ClusterAccessError, match="cannot run the kubeconfig's credential plugin 'no-such-plugin-anywhere'"
                                                 r" \(user 'u'\): No such file or directory. Install it with"):
        Session({"kubeconfig": kubeconfig(api.url, user), "request_timeout": 5})


@pytest.mark.parametrize("printed, expected", [
    ("not json", "printed no ExecCredential JSON"),
    (json.dumps({"kind": "ExecCredential", "apiVersion": "client.authentication.k8s.io/v1beta1", "status": {"token": "t"}}),
     "answered with apiVersion 'client.authentication.k8s.io/v1beta1'"),
    (json.dumps({"kind": "ExecCredential", "apiVersion": "client.authentication.k8s.io/v1", "status": {}}),
     "neither a token nor a client certificate"),
])
def test_an_unusable_plugin_answer_is_named(tmp_path, api, printed, expected):
    command = plugin(tmp_path, "odd", f"cat <<'EOF'\n{printed}\nEOF\n")
    with pytest.raises(ClusterAccessError, match=expected):
        Session({"kubeconfig": kubeconfig(api.url, exec_user(command)), "request_timeout": 5})


def test_an_interactive_only_plugin_is_refused_before_it_runs(tmp_path, api):
    ran = tmp_path / "ran"
    command = plugin(tmp_path, "asks", f"touch {ran}\n")
    user = exec_user(command)
    user["exec"]["interactiveMode"] = "Always"
    with pytest.raises(ClusterAccessError, match="interactiveMode: Always"):
        Session({"kubeconfig": kubeconfig(api.url, user), "request_timeout": 5})
    assert not ran.exists()


# --- OIDC auth provider ---------------------------------------------------------------------------


def jwt(exp: float) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")
    return f"{part({'alg': 'none'})}.{part({'exp': exp, 'sub': 'jane'})}.signature"


class RawServer:
    """A TCP server on 127.0.0.1 that hands every accepted connection to ``handle`` (in the accept
    thread: ``handle`` must not block); stopped, with its connections closed, on exit."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        self.sock.settimeout(0.05)
        while not self.stop.is_set():
            try:
                connection, _ = self.sock.accept()
            except OSError:
                continue
            self.connections.append(connection)
            self.handle(connection)

    def handle(self, connection: socket.socket) -> None:
        raise NotImplementedError

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        self.thread.join()
        for connection in self.connections:
            connection.close()
        self.sock.close()


class SilentServer(RawServer):
    """Accepts connections, reads, never answers; counts connections."""

    def handle(self, connection: socket.socket) -> None:
        pass


def oidc_user(issuer: str, id_token: str, refresh_token: Optional[str] = "refresh-me") -> dict:
    config = {"idp-issuer-url": issuer, "client-id": "kubernetes", "client-secret": "client-s3cret", "id-token": id_token}
    if refresh_token:
        config["refresh-token"] = refresh_token
    return {"auth-provider": {"name": "oidc", "config": config}}


def test_a_valid_oidc_id_token_is_sent_without_asking_the_idp(api):
    token = jwt(time.time() + 3600)
    with SilentServer() as idp:
        session = Session({"kubeconfig": kubeconfig(api.url, oidc_user(idp.url, token)), "request_timeout": 5})
        assert session.client.configuration.api_key == {"BearerToken": f"Bearer {token}"}
        assert idp.connections == []


def test_a_silent_idp_fails_the_refresh_once_within_the_deadline_naming_the_issuer(api):
    with SilentServer() as idp:
        with pytest.raises(ClusterUnreachable) as raised:
            Session({"kubeconfig": kubeconfig(api.url, oidc_user(idp.url, jwt(time.time() - 60))),
                     "request_timeout": DEADLINE})
        assert len(idp.connections) == 1  # no retries
    message = str(raised.value)
    assert f"the OpenID provider {idp.url} (the kubeconfig's oidc auth provider) did not answer within 0.5 s" in message
    assert f"No request was sent to the API server at {api.url}" in message
    assert "refresh-me" not in message and "client-s3cret" not in message
    assert api.requests == []


def test_an_expired_oidc_token_is_refreshed_at_the_idp_and_its_id_token_reaches_the_api_server(api):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[tuple[str, str, str]] = []

    class Idp(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _json(self, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            seen.append(("GET", self.path, ""))
            self._json({"issuer": issuer, "token_endpoint": f"{issuer}/token"})

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            seen.append(("POST", self.path, body + " " + self.headers["Authorization"]))
            self._json({"access_token": "a", "token_type": "Bearer", "id_token": TOKEN})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Idp)
    issuer = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        session = Session({"kubeconfig": kubeconfig(api.url, oidc_user(issuer + "/", jwt(time.time() - 60))),
                           "request_timeout": 5})
        assert session.identity()["kube_system_uid"] == api.cluster_uid
    finally:
        server.shutdown()
        server.server_close()
    basic = "Basic " + base64.b64encode(b"kubernetes:client-s3cret").decode()
    assert seen == [("GET", "/.well-known/openid-configuration", ""),
                    ("POST", "/token", f"grant_type=refresh_token&refresh_token=refresh-me {basic}")]


def test_an_expired_oidc_token_without_a_refresh_token_says_to_log_in_again(api):
    with pytest.raises(ClusterAccessError, match="has no valid id-token and no refresh-token to get one: log in again"):
        Session({"kubeconfig": kubeconfig(api.url, oidc_user("https://idp.example", jwt(time.time() - 60), None)),
                 "request_timeout": 5})


# --- requests: one TOTAL deadline, not a per-read timeout ------------------------------------------


class TricklingServer(RawServer):
    """Answers every request with headers at once, then its body one byte every half second."""

    BODY = b'{"kind": "Namespace", "metadata": {"name": "kube-system", "uid": "' + b"0" * 200 + b'"}}'

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[int] = []
        #: Set once a connection was accepted: under load that can come after the client gave up.
        self.accepted = threading.Event()

    def handle(self, connection: socket.socket) -> None:
        threading.Thread(target=self._trickle, args=(connection,), daemon=True).start()

    def _trickle(self, connection: socket.socket) -> None:
        index = len(self.sent)
        self.sent.append(0)
        self.accepted.set()
        try:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                               b"Content-Length: %d\r\n\r\n" % len(self.BODY))
        except OSError:
            return
        for byte in self.BODY:
            if self.stop.wait(0.5):
                return
            try:
                connection.sendall(bytes([byte]))
            except OSError:
                return
            self.sent[index] += 1


#: A request timeout of 1 s: the message names 1 s, or the part of the operation's 3 s still left.
WITHIN_ONE_SECOND = r"(1 s|the (0\.\d{1,2}|1) s left of this operation's 3 s)"


def test_a_trickling_api_server_is_cut_off_by_the_total_deadline_and_named():
    with TricklingServer() as server:
        session = Session({"kubeconfig": kubeconfig(server.url, {"token": "t"}), "request_timeout": 1})
        with pytest.raises(ClusterUnreachable) as raised:
            session.identity()
        assert server.accepted.wait(30), "the client never connected"
        assert server.sent[0] < len(TricklingServer.BODY)  # still sending when we gave up
    # One request's 1 s, or (when setting up the client used some of the operation's 3 s, as under load)
    # what was left of them: never more.
    assert re.match(rf"cannot read Namespace kube-system \(the cluster's identity\): the Kubernetes API server at "
                    rf"{re.escape(server.url)} did not answer within {WITHIN_ONE_SECOND}\. ", str(raised.value))


def test_the_role_check_is_cut_off_by_the_same_total_deadline():
    props = {"kubesphere_version": "4.1", "references": [], "kube_context": None, "request_timeout": 1,
             "read_plan": {"namespaces": ["team-a-dev"], "roles": {}, "workspaces": None, "workspace_roles": None,
                           "cluster_roles": None}}
    with TricklingServer() as server:
        props["kubeconfig"] = kubeconfig(server.url, {"token": "t"})
        with pytest.raises(kubesphere_role_check.ClusterUnreachable) as raised:
            kubesphere_role_check.RoleReferencesProvider().read_cluster(copy.deepcopy(props))
        assert server.accepted.wait(30), "the client never connected"
        assert server.sent[0] < len(TricklingServer.BODY)
    assert re.search(rf"the Kubernetes API server at {re.escape(server.url)} did not answer within {WITHIN_ONE_SECOND}\.",
                     str(raised.value))


def test_the_operation_deadline_bounds_a_sequence_of_requests(api):
    session = Session({"kubeconfig": kubeconfig(api.url, {"token": TOKEN}), "request_timeout": 5})
    session.deadline = time.monotonic() - 1  # the operation's time is used up: nothing more is sent
    with pytest.raises(ClusterUnreachable, match="did not answer within 15 s. Nothing more was sent"):
        session.identity()
    assert api.requests == []
    assert cluster_access.OPERATION_TIMEOUT_REQUESTS == 3


# --- the same deadlines, the providers driven over gRPC in the engine's order ----------------------
#
# A stack bound to its cluster (tests/test_fail_closed.py); then the kubeconfig's user fetches its
# credential from a plugin that never exits or from a silent IdP, or the API server trickles the
# role check's LIST. `up` stops at the guard (or the role check) before anything is written, with
# a message naming what did not answer.

BROKEN_TIMEOUT = 0.5


def gone(pid: int) -> bool:
    """The process has exited (a zombie whose parent is gone counts: nothing runs)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


def bound_through_file(cluster: Cluster, processes, tmp_path: Path):
    """A stack bound to ``cluster`` by one provider process whose ambient kubeconfig is a file
    (``KUBECONFIG``) that the test rewrites later: the stack, the file, the process."""
    path = tmp_path / "kubeconfig"
    path.write_text(cluster.double.kubeconfig())
    process = processes(path)
    stack = bound_stack(cluster, process)
    process.calls.clear()
    return stack, path, process


def test_up_with_a_credential_plugin_that_never_exits_stops_at_the_guard_naming_the_plugin(processes, tmp_path):
    with KubernetesApiDouble(None) as double:
        cluster = Cluster(double, role_check=False)
        stack, path, process = bound_through_file(cluster, processes, tmp_path)
        pids = tmp_path / "pids"
        command = plugin(tmp_path, "hangs", f"echo $$ >> {pids}\nexec sleep 1000\n")
        path.write_text(kubeconfig(double.url, exec_user(command)))  # the same cluster, another user
        program = cluster.program(process, BROKEN_TIMEOUT)
        sent = len(double.requests)

        assert stack.preview(program) == ["before: update", "secret: write", "binding: write", "after: update"]
        with pytest.raises(StepFailed) as stopped:
            stack.up(program)
        assert stack.steps == ["before: failed"]
        message = str(stopped.value)
        assert f"credential plugin {command!r}" in message and "did not finish within 0.5 s and was stopped" in message
        assert "No request was sent to the API server" in message and "did not answer" not in message
        assert "Nothing was written" in message
        with pytest.raises(StepFailed) as stopped:
            stack.destroy(program)
        assert stack.steps == ["after: failed"] and "Nothing was deleted" in str(stopped.value)
        assert cluster.attempted == [] and cluster.deleted == [] and double.requests[sent:] == []
        stderr = process.close()
    assert f"warning: the KubeSphere objects of identity provider 'Okta'" in stderr and repr(command) in stderr
    started = [int(pid) for pid in pids.read_text().split()]
    assert len(started) == len([c for c in process.calls if c != "Diff"])  # one run per operation
    assert all(gone(pid) for pid in started)


def test_up_with_an_oidc_user_whose_idp_is_silent_stops_at_the_guard_naming_the_issuer(processes, tmp_path):
    with KubernetesApiDouble(None) as double, SilentServer() as idp:
        cluster = Cluster(double, role_check=False)
        stack, path, process = bound_through_file(cluster, processes, tmp_path)
        path.write_text(kubeconfig(double.url, oidc_user(idp.url, jwt(time.time() - 60))))
        sent = len(double.requests)
        with pytest.raises(StepFailed) as stopped:
            stack.up(cluster.program(process, BROKEN_TIMEOUT))
        assert stack.steps == ["before: failed"] and process.calls == ["Check", "Diff", "Update"]
        message = str(stopped.value)
        assert f"the OpenID provider {idp.url} (the kubeconfig's oidc auth provider) did not answer within 0.5 s" in message
        assert "No request was sent to the API server" in message and "Nothing was written" in message
        assert "refresh-me" not in message and "client-s3cret" not in message
        assert len(idp.connections) == 2  # one try in Check, one in Update: no retries
        assert cluster.attempted == [] and double.requests[sent:] == []


def test_up_with_a_role_check_against_a_trickling_server_stops_before_any_binding(processes, tmp_path):
    with KubernetesApiDouble(None) as double:
        cluster = Cluster(double)
        stack, _, process = bound_through_file(cluster, processes, tmp_path)
        double.trickle.add(CLUSTER_ROLES)
        with pytest.raises(StepFailed) as stopped:
            stack.up(cluster.program(process, role_timeout=BROKEN_TIMEOUT))
        assert stack.steps == ["before: same", "secret: write", "role-references: failed"]
        assert f"the Kubernetes API server at {double.url} did not answer within 0.5 s" in str(stopped.value)
        assert "binding" not in cluster.attempted
        # Cut off by the total deadline while the server was still sending: it answered (status and
        # headers at once) and never finished the ~300-byte body. Under load a request's deadline may
        # pass before the first body byte (one byte every half second), so 0 bytes is a cut-off too.
        assert double.trickled[CLUSTER_ROLES] and all(n < 300 for n in double.trickled[CLUSTER_ROLES])


@pytest.mark.parametrize(("seconds", "shown"), [(1.0, "1"), (0.5, "0.5"), (0.909311, "0.91"), (0.9, "0.9"), (60.0, "60"),
                                                (0.004, "0")])
def test_a_deadline_is_shown_to_two_decimals_at_most(seconds, shown):
    assert cluster_access._seconds(seconds) == shown


def test_a_request_given_only_what_is_left_of_the_operation_says_so():
    with TricklingServer() as server:
        session = Session({"kubeconfig": kubeconfig(server.url, {"token": "t"}), "request_timeout": 1})
        session.deadline = time.monotonic() + 0.6  # most of the operation's 3 s already used
        with pytest.raises(ClusterUnreachable) as raised:
            session.identity()
    assert re.search(r"did not answer within the 0\.[3-6]\d? s left of this operation's 3 s\. Nothing more was sent",
                     str(raised.value))
