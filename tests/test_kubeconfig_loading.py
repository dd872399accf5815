"""kubeconfig_loading.resolve_kubeconfig reaches the cluster client-go reaches, with kubectl as the oracle.

``kubectl config view --minify --flatten`` (with ``KUBECONFIG=a:b:c`` and ``--context``) is
client-go's own answer: its loading rules merge the files and choose the context; ``--minify``
keeps that context with its cluster and user; ``--flatten`` inlines the files an entry names,
read from the folder of the file that defined it, so it also shows how relative paths resolved.
The generated kubeconfigs share context, cluster and user names across files, point at missing
and empty files, name contexts, clusters and users that nobody defines, and leave current-context
unset, so every rule of the merge is exercised. kubectl comes from Debian's kubernetes-client
package (.ci/run installs it): without it the oracle tests skip, except in CI (CI=true), where
they fail.

Where client-go goes on and ``kubectl config view`` stops (a context naming a user no file
defines: client-go sends anonymous requests), or the other way round (a cluster without a
server: ``view`` prints it, client-go refuses to build a client), the tests say so case by case.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Optional

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubesphere_okta.kubeconfig_loading import (
    KubeconfigError,
    decode_problem,
    exec_credential,
    exec_info,
    id_token_usable,
    resolve_kubeconfig,
)

KUBECTL_PACKAGE = "kubernetes-client"
NAMES = ("a", "b", "c")
#: Names nobody defines in the generated files (a reference to them is dangling).
DANGLING = "z"


def kubectl() -> str:
    found = shutil.which("kubectl")
    if found:
        return found
    message = f"kubectl not found: install Debian's {KUBECTL_PACKAGE} package (apt-get install {KUBECTL_PACKAGE})"
    if os.environ.get("CI") == "true":
        pytest.fail(message + "; .ci/run installs it in CI")
    pytest.skip(message)


def kubectl_view(kubeconfig_list: str, context: Optional[str], cwd: Path, home: Path,
                 *, minify: bool = True) -> tuple[Optional[dict], str]:
    """client-go's answer: the (minified) flattened kubeconfig, or kubectl's error."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "KUBECONFIG": kubeconfig_list}
    argv = [kubectl(), "config", "view", "--flatten", "-o", "json"] + (["--minify"] if minify else [])
    if context:
        argv += ["--context", context]
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        return None, done.stderr.strip()
    return json.loads(done.stdout), ""


def _nonzero(value: Any) -> Any:
    """A value without the fields client-go treats as unset (zero values), recursively."""
    if isinstance(value, dict):
        kept = {k: _nonzero(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, "", False, [], {})}
    if isinstance(value, list):
        return [_nonzero(v) for v in value]
    return value


def flattened(resolved_entry: dict) -> dict:
    """Our entry as ``--flatten`` shows one: a file it names read and inlined as base64."""
    entry = dict(resolved_entry)
    for path_key, data_key in (("certificate-authority", "certificate-authority-data"),
                               ("client-certificate", "client-certificate-data"), ("client-key", "client-key-data")):
        if entry.get(path_key):
            entry[data_key] = base64.b64encode(Path(entry.pop(path_key)).read_bytes()).decode()
    return _nonzero(entry)


def single(view: dict, section: str) -> tuple[str, dict]:
    """The one entry of a section of a minified view ("", {} when the context names none)."""
    items = view.get(section) or [{"name": ""}]
    (item,) = items
    inner = {"clusters": "cluster", "users": "user", "contexts": "context"}[section]
    return item["name"], _nonzero(item.get(inner) or {})


def named(view: dict, section: str, name: str) -> dict:
    """One entry of a full (merged, not minified) view."""
    inner = {"clusters": "cluster", "users": "user", "contexts": "context"}[section]
    (item,) = [i for i in view.get(section) or [] if i["name"] == name]
    return _nonzero(item.get(inner) or {})


# --- generated multi-file kubeconfigs ----------------------------------------------------------------


@st.composite
def a_file(draw, index: int) -> Optional[dict]:
    """One kubeconfig file's document (None: an empty file)."""
    if draw(st.integers(0, 9)) == 0:
        return None
    reference = st.sampled_from(NAMES + (DANGLING,))
    clusters = []
    for name in draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=3)):
        body: dict = {}
        if draw(st.integers(0, 7)):
            body["server"] = f"https://file{index}-{name}.example:6443"
        if draw(st.booleans()):
            body["certificate-authority"] = "ca.pem"  # relative: resolved against this file's folder
        clusters.append({"name": name, "cluster": body})
    users = []
    for name in draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=3)):
        kind = draw(st.sampled_from(["token", "certificate", "exec", "oidc", "none"]))
        body = {
            "token": {"token": f"token-{index}-{name}"},
            "certificate": {"client-certificate": "client.crt", "client-key-data": base64.b64encode(b"key").decode()},
            "exec": {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": f"credential-plugin-{index}",
                              "args": ["get-token", name], "interactiveMode": "Never"}},
            "oidc": {"auth-provider": {"name": "oidc", "config": {"idp-issuer-url": f"https://idp{index}.example",
                                                                   "client-id": name, "id-token": f"id-{index}"}}},
            "none": {},
        }[kind]
        users.append({"name": name, "user": body})
    contexts = []
    for name in draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=3)):
        body = {"cluster": draw(reference)}
        if draw(st.integers(0, 5)):
            body["user"] = draw(reference)
        if draw(st.booleans()):
            body["namespace"] = f"ns-{index}"
        contexts.append({"name": name, "context": body})
    document: dict = {"apiVersion": "v1", "kind": "Config", "clusters": clusters, "users": users, "contexts": contexts}
    current = draw(st.one_of(st.none(), reference))
    if current is not None:
        document["current-context"] = current
    return document


@st.composite
def a_setup(draw) -> tuple[list, list[str], Optional[str]]:
    count = draw(st.integers(1, 3))
    files = [draw(a_file(i)) for i in range(count)]
    # KUBECONFIG: the files in any order, some twice, with missing files and empty entries among them
    entries = draw(st.lists(st.sampled_from([f"f{i}/config" for i in range(count)] + ["missing/config", ""]),
                            min_size=1, max_size=5))
    if not any(e.startswith("f") for e in entries):
        entries.append("f0/config")
    context = draw(st.one_of(st.none(), st.sampled_from(NAMES + (DANGLING,))))
    return files, entries, context


def lay_out(root: Path, files: list) -> None:
    for index, document in enumerate(files):
        folder = root / f"f{index}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "ca.pem").write_text(f"certificate authority of file {index}\n")
        (folder / "client.crt").write_text(f"client certificate of file {index}\n")
        (folder / "config").write_text("" if document is None else yaml.safe_dump(document))


def relative_or_absolute(root: Path, entries: list[str], absolute: bool) -> str:
    return ":".join(str(root / e) if absolute and e else e for e in entries)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(setup=a_setup(), absolute=st.booleans())
def test_the_resolved_context_cluster_and_user_are_kubectls(tmp_path_factory, setup, absolute):
    kubectl()
    files, entries, context = setup
    root = tmp_path_factory.mktemp("kubeconfigs")
    lay_out(root, files)
    listed = relative_or_absolute(root, entries, absolute)
    view, error = kubectl_view(listed, context, cwd=root, home=root / "home")
    dangling_user = view is None and error.startswith("error: cannot locate user")
    if dangling_user:
        # `view --minify` stops at a user no file defines, where client-go goes on without
        # credentials: take the context and its cluster from the merged (not minified) view.
        merged, error = kubectl_view(listed, None, cwd=root, home=root / "home", minify=False)
        chosen = context or merged["current-context"]
        contexts = [chosen, named(merged, "contexts", chosen)]
        view = {"current-context": chosen, "contexts": [{"name": chosen, "context": contexts[1]}],
                "clusters": [{"name": contexts[1]["cluster"], "cluster": named(merged, "clusters", contexts[1]["cluster"])}],
                "users": [{"name": contexts[1]["user"], "user": {}}]}
    try:
        ours = resolve_kubeconfig(None, context, {"KUBECONFIG": listed}, str(root / "home"), cwd=str(root))
    except KubeconfigError as refused:
        # client-go refuses too: kubectl could not minify (no context, or a context naming a missing
        # cluster), or the chosen cluster has no server (client-go's ConfirmUsable).
        if view is not None:
            _name, cluster = single(view, "clusters")
            assert not cluster.get("server"), f"kubectl reached {cluster}, we refused: {refused}"
        return
    assert not ours.in_cluster
    assert view is not None, f"kubectl refused ({error}), we reached {ours.server}"
    assert ours.context == view["current-context"]
    assert single(view, "contexts") == (ours.context, _nonzero(ours.kubeconfig["contexts"][0]["context"]))
    cluster_name, cluster = single(view, "clusters")
    assert (ours.cluster, flattened(ours.cluster_entry)) == (cluster_name, cluster)
    assert ours.server == cluster["server"]
    user_name, user = single(view, "users")
    assert (ours.user, flattened(ours.user_entry)) == (user_name, user)


# --- the cases that matter most, named --------------------------------------------------------------


def kubeconfig(current: Optional[str], *, server: str, context: str = "ctx", user: Optional[dict] = None) -> str:
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "cluster", "cluster": {"server": server}}],
        "users": [{"name": "user", "user": user or {"token": "t"}}],
        "contexts": [{"name": context, "context": {"cluster": "cluster", "user": "user"}}],
        **({"current-context": current} if current else {}),
    })


def test_with_two_files_each_with_its_own_current_context_the_first_file_wins(tmp_path):
    (tmp_path / "a.yaml").write_text(kubeconfig("ctx", server="https://a.example"))
    (tmp_path / "b.yaml").write_text(kubeconfig("ctx", server="https://b.example"))
    env = {"KUBECONFIG": f"{tmp_path}/a.yaml:{tmp_path}/b.yaml"}
    assert resolve_kubeconfig(None, None, env, str(tmp_path)).server == "https://a.example"
    assert resolve_kubeconfig(None, None, {"KUBECONFIG": f"{tmp_path}/b.yaml:{tmp_path}/a.yaml"},
                              str(tmp_path)).server == "https://b.example"


def test_the_first_file_that_sets_current_context_wins_even_when_a_later_file_defines_it(tmp_path):
    (tmp_path / "a.yaml").write_text(kubeconfig(None, server="https://a.example", context="a"))
    (tmp_path / "b.yaml").write_text(kubeconfig("b", server="https://b.example", context="b")
                                     .replace("current-context: b", "current-context: a"))
    resolved = resolve_kubeconfig(None, None, {"KUBECONFIG": f"{tmp_path}/a.yaml:{tmp_path}/b.yaml"}, str(tmp_path))
    # b.yaml says current-context a; a.yaml defines context a and its cluster (first file wins).
    assert (resolved.context, resolved.server) == ("a", "https://a.example")


def test_without_kubeconfig_the_home_file_is_read(tmp_path):
    (tmp_path / ".kube").mkdir()
    (tmp_path / ".kube" / "config").write_text(kubeconfig("ctx", server="https://home.example"))
    for env in ({}, {"KUBECONFIG": ""}):
        assert resolve_kubeconfig(None, None, env, str(tmp_path)).server == "https://home.example"


def test_kubernetes_context_overrides_current_context_and_must_exist(tmp_path):
    text = kubeconfig("ctx", server="https://a.example").replace("contexts:\n", "contexts:\n- name: other\n"
                                                                  "  context: {cluster: cluster, user: user}\n")
    assert resolve_kubeconfig(text, "other", {}, str(tmp_path)).context == "other"
    with pytest.raises(KubeconfigError, match=r"context 'nope' \(kube_context / kubernetes:context\) does not exist "
                                               r"\(contexts: 'ctx', 'other'\)"):
        resolve_kubeconfig(text, "nope", {}, str(tmp_path))


def test_kubernetes_kubeconfig_is_a_path_when_a_file_is_there_else_contents(tmp_path):
    path = tmp_path / "given.yaml"
    path.write_text(kubeconfig("ctx", server="https://from-file.example"))
    assert resolve_kubeconfig(str(path), None, {}, str(tmp_path)).server == "https://from-file.example"
    (tmp_path / "home-relative.yaml").write_text(kubeconfig("ctx", server="https://tilde.example"))
    assert resolve_kubeconfig("~/home-relative.yaml", None, {}, str(tmp_path)).server == "https://tilde.example"
    contents = kubeconfig("ctx", server="https://contents.example")
    assert resolve_kubeconfig(contents, None, {}, str(tmp_path)).server == "https://contents.example"
    with pytest.raises(KubeconfigError, match="neither the path of an existing file nor kubeconfig contents"):
        resolve_kubeconfig(str(tmp_path / "missing.yaml"), None, {}, str(tmp_path))


def test_a_given_kubeconfig_never_falls_back_to_the_ambient_one_or_the_pod(tmp_path):
    (tmp_path / ".kube").mkdir()
    (tmp_path / ".kube" / "config").write_text(kubeconfig("ctx", server="https://home.example"))
    token = tmp_path / "token"
    token.write_text("t")
    env = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    with pytest.raises(KubeconfigError, match="has no current-context and no context was given"):
        resolve_kubeconfig(kubeconfig(None, server="https://x"), None, env, str(tmp_path),
                           is_file=lambda p: p.endswith("serviceaccount/token"))


def test_in_cluster_only_when_no_kubeconfig_gives_a_context_and_the_pod_has_a_service_account(tmp_path):
    env = {"KUBECONFIG": str(tmp_path / "none"), "KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"}
    resolved = resolve_kubeconfig(None, None, env, str(tmp_path), is_file=lambda p: p.endswith("serviceaccount/token"))
    assert resolved.in_cluster and resolved.server == "https://[fd00::1]:443" and resolved.kubeconfig is None
    with pytest.raises(KubeconfigError, match="not a pod with a service account"):
        resolve_kubeconfig(None, None, env, str(tmp_path), is_file=lambda p: False)
    # a named context that does not exist is an error, never the pod's own cluster
    with pytest.raises(KubeconfigError, match="does not exist"):
        resolve_kubeconfig(None, "prod", env, str(tmp_path), is_file=lambda p: True)


def test_relative_paths_resolve_against_the_folder_of_the_file_that_defined_the_entry(tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "config").write_text(yaml.safe_dump({
        "clusters": [{"name": "c", "cluster": {"server": "https://x", "certificate-authority": "pki/ca.pem"}}],
        "users": [{"name": "u", "user": {"tokenFile": "token", "exec": None,
                                         "client-certificate": "/abs/crt", "client-key": "k"}},
                  {"name": "e", "user": {"exec": {"command": "./bin/plugin", "apiVersion": "v1"}}},
                  {"name": "p", "user": {"exec": {"command": "plugin-on-path", "apiVersion": "v1"}}}],
        "contexts": [{"name": n, "context": {"cluster": "c", "user": n}} for n in ("u", "e", "p")],
    }))
    env = {"KUBECONFIG": "one/config"}

    def resolved(context):
        return resolve_kubeconfig(None, context, env, str(tmp_path), cwd=str(tmp_path))

    assert resolved("u").cluster_entry["certificate-authority"] == f"{tmp_path}/one/pki/ca.pem"
    assert {k: resolved("u").user_entry[k] for k in ("tokenFile", "client-certificate", "client-key")} == {
        "tokenFile": f"{tmp_path}/one/token", "client-certificate": "/abs/crt", "client-key": f"{tmp_path}/one/k"}
    assert resolved("e").user_entry["exec"]["command"] == f"{tmp_path}/one/bin/plugin"
    assert resolved("p").user_entry["exec"]["command"] == "plugin-on-path"


def test_paths_in_a_given_kubeconfig_are_left_as_pulumi_kubernetes_leaves_them(tmp_path):
    path = tmp_path / "given.yaml"
    path.write_text(kubeconfig("ctx", server="https://x").replace("server: https://x",
                                                                  "server: https://x\n    certificate-authority: ca.pem"))
    assert resolve_kubeconfig(str(path), None, {}, str(tmp_path)).cluster_entry["certificate-authority"] == "ca.pem"


def test_a_context_naming_a_user_nobody_defines_reaches_the_cluster_without_credentials(tmp_path):
    text = kubeconfig("ctx", server="https://x").replace("user: user", "user: ghost")
    resolved = resolve_kubeconfig(text, None, {}, str(tmp_path))
    assert (resolved.user, resolved.user_entry) == ("ghost", {})


MESSAGES = {
    "no server": (kubeconfig("ctx", server=""), "cluster 'cluster' (of context 'ctx') has no server"),
    "missing cluster": (kubeconfig("ctx", server="https://x").replace("    cluster: cluster\n", "    cluster: gone\n"),
                        "context 'ctx' (current-context) names cluster 'gone', which no kubeconfig file defines"),
    "token and password": (kubeconfig("ctx", server="https://x", user={"token": "s3cret", "username": "u"}),
                           "user 'user' has both a token and a username/password"),
    "certificate without key": (kubeconfig("ctx", server="https://x", user={"client-certificate-data": "YQ=="}),
                                "user 'user' has a client certificate but no client-key or client-key-data"),
    "exec without apiVersion": (kubeconfig("ctx", server="https://x", user={"exec": {"command": "aws"}}),
                                "exec (command 'aws') has no apiVersion"),
    "exec and auth-provider": (kubeconfig("ctx", server="https://x",
                                          user={"exec": {"command": "a", "apiVersion": "v1"}, "auth-provider": {"name": "oidc"}}),
                               "user 'user' has both exec and auth-provider"),
}


@pytest.mark.parametrize("case", sorted(MESSAGES))
def test_what_client_go_refuses_is_one_message_naming_the_entry_and_never_a_credential(case, tmp_path):
    text, expected = MESSAGES[case]
    with pytest.raises(KubeconfigError) as raised:
        resolve_kubeconfig(text, None, {}, str(tmp_path))
    assert expected in str(raised.value)
    assert "s3cret" not in str(raised.value)


def test_an_error_in_a_merged_file_names_that_file(tmp_path):
    (tmp_path / "a.yaml").write_text(kubeconfig("ctx", server="https://a", user={"token": "t", "password": "p"}))
    with pytest.raises(KubeconfigError, match=rf"^kubeconfig file {tmp_path}/a.yaml: user 'user' has both"):
        resolve_kubeconfig(None, None, {"KUBECONFIG": f"{tmp_path}/missing:{tmp_path}/a.yaml"}, str(tmp_path))


def test_a_folder_or_an_unreadable_file_in_kubeconfig_is_named(tmp_path):
    (tmp_path / "dir").mkdir()
    with pytest.raises(KubeconfigError, match=rf"the kubeconfig path {tmp_path}/dir is a folder"):
        resolve_kubeconfig(None, None, {"KUBECONFIG": f"{tmp_path}/dir"}, str(tmp_path))

    def unreadable(path):
        raise PermissionError(13, "Permission denied", path)

    with pytest.raises(KubeconfigError, match=rf"cannot read the kubeconfig file {tmp_path}/x: Permission denied"):
        resolve_kubeconfig(None, None, {"KUBECONFIG": f"{tmp_path}/x"}, str(tmp_path), read_file=unreadable)


# --- files client-go cannot load: kubectl refuses them too -------------------------------------------

BROKEN = {
    "not YAML": "clusters: [\n  - name: a\n  cluster: {",
    "a list": "- a\n- b\n",
    "clusters not a list": "clusters: {a: b}\n",
    "bad base64": kubeconfig("ctx", server="https://x").replace("server: https://x",
                                                                 "server: https://x\n    certificate-authority-data: aGVsbG8"),
    "a number for a string": kubeconfig("ctx", server="https://x").replace("server: https://x", "server: 6443"),
    "a string for a boolean": kubeconfig("ctx", server="https://x").replace(
        "server: https://x", "server: https://x\n    insecure-skip-tls-verify: 'yes'"),
    "a name twice": kubeconfig("ctx", server="https://x").replace("users:\n", "users:\n- name: user\n  user: {}\n"),
    "a user that is a string": kubeconfig("ctx", server="https://x").replace("user:\n    token: t", "user: t"),
    "exec env not a list": kubeconfig("ctx", server="https://x", user={"exec": {"command": "a", "env": "X=1"}}),
    "another kind": "kind: Pod\napiVersion: v1\n",
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_file_client_go_cannot_load_is_refused_as_kubectl_refuses_it(case, tmp_path):
    (tmp_path / "config").write_text(BROKEN[case])
    view, error = kubectl_view(str(tmp_path / "config"), "ctx", cwd=tmp_path, home=tmp_path)
    assert view is None and error, f"kubectl accepted {case}"
    with pytest.raises(KubeconfigError, match=rf"^kubeconfig file {tmp_path}/config"):
        resolve_kubeconfig(None, "ctx", {"KUBECONFIG": str(tmp_path / "config")}, str(tmp_path))
    assert decode_problem(BROKEN[case]) is not None


# --- the checks of the chosen user and of each file, one branch each ----------------------------------

USER_PROBLEMS = {
    "certificate file and data": ({"client-certificate": "/c", "client-certificate-data": "YQ==", "client-key": "/k"},
                                  "both client-certificate and client-certificate-data"),
    "certificate file without a key": ({"client-certificate": "/c"}, "has a client certificate but no client-key"),
    "key file and data": ({"client-certificate-data": "YQ==", "client-key": "/k", "client-key-data": "YQ=="},
                          "both client-key and client-key-data"),
    "exec without command": ({"exec": {"apiVersion": "v1"}}, "exec has no command"),
    "exec with an unknown mode": ({"exec": {"command": "a", "apiVersion": "v1", "interactiveMode": "Sometimes"}},
                                  "interactiveMode 'Sometimes' is not Never, IfAvailable or Always"),
    "exec env without a name": ({"exec": {"command": "a", "apiVersion": "v1", "env": [{"value": "x"}]}},
                                "an exec env entry has no name"),
    "groups without a user": ({"token": "t", "as-groups": ["admins"]}, "without impersonating a user"),
    "uid without a user": ({"token": "t", "as-uid": "1"}, "without impersonating a user"),
    "extra without a user": ({"token": "t", "as-user-extra": {"team": ["a"]}}, "without impersonating a user"),
    "password alone with a token": ({"token": "t", "password": "p"}, "both a token and a username/password"),
}


@pytest.mark.parametrize("case", sorted(USER_PROBLEMS))
def test_each_check_client_go_makes_of_the_chosen_user(case, tmp_path):
    user, expected = USER_PROBLEMS[case]
    with pytest.raises(KubeconfigError, match=re.escape(f"user 'user' {expected}") + "|" + re.escape(expected)):
        resolve_kubeconfig(kubeconfig("ctx", server="https://x", user=user), None, {}, str(tmp_path))


@pytest.mark.parametrize("user", [
    {"client-certificate-data": "YQ==", "client-key-data": "YQ=="},
    {"client-certificate": "/c", "client-key": "/k"},
    {"username": "u", "password": "p"},
    {"exec": {"command": "a", "apiVersion": "v1", "interactiveMode": "Always", "env": [{"name": "A", "value": "1"}]}},
    {"token": "t", "as": "jane", "as-groups": ["admins"], "as-uid": "1"},
    {"auth-provider": {"name": "oidc", "config": {"client-id": "k"}}},
])
def test_users_client_go_accepts_are_accepted_as_they_are(user, tmp_path):
    assert resolve_kubeconfig(kubeconfig("ctx", server="https://x", user=user), None, {}, str(tmp_path)).user_entry == user


def test_a_user_on_a_context_that_is_not_chosen_is_not_checked(tmp_path):
    text = kubeconfig("ctx", server="https://x").replace("users:\n", "users:\n- name: broken\n  user: {token: t, password: p}\n")
    assert resolve_kubeconfig(text, None, {}, str(tmp_path)).user == "user"


FILE_PROBLEMS = {
    "current-context not a string": ("current-context: [a]\n", "current-context must be a string"),
    "an entry that is not a mapping": ("clusters: [5]\n", "clusters[0] must be a mapping with name and cluster"),
    "a name that is not a string": ("clusters: [{name: 5, cluster: {}}]\n", "clusters[0].name must be a string"),
    "a body that is not a mapping": ("users: [{name: u, user: 5}]\n", "user 'u' (users[0].user) must be a mapping"),
    "another apiVersion": ("apiVersion: v2\n", "has apiVersion 'v2': a kubeconfig has apiVersion: v1"),
    "groups not strings": ("users: [{name: u, user: {as-groups: [1]}}]\n", "as-groups must be a list of strings"),
    "extra not lists": ("users: [{name: u, user: {as-user-extra: {a: b}}}]\n", "as-user-extra must map names to lists"),
    "auth-provider not a mapping": ("users: [{name: u, user: {auth-provider: x}}]\n", "auth-provider must be a mapping"),
    "auth-provider name not a string": ("users: [{name: u, user: {auth-provider: {name: 5}}}]\n",
                                        "auth-provider: name must be a string"),
    "auth-provider config not strings": ("users: [{name: u, user: {auth-provider: {name: oidc, config: {a: 1}}}}]\n",
                                         "auth-provider.config must map names to strings"),
    "exec not a mapping": ("users: [{name: u, user: {exec: ls}}]\n", "exec must be a mapping"),
    "exec args not strings": ("users: [{name: u, user: {exec: {command: a, args: [1]}}}]\n",
                              "exec: args must be a list of strings"),
    "exec env values not strings": ("users: [{name: u, user: {exec: {command: a, env: [{name: A, value: 1}]}}}]\n",
                                    "exec.env must be a list of {name, value} strings"),
    "a boolean as a string": ("clusters: [{name: c, cluster: {disable-compression: 'no'}}]\n",
                              "disable-compression must be a boolean"),
    "not UTF-8": (b"clusters: [{name: \xff}]\n", "is not UTF-8 text"),
}


@pytest.mark.parametrize("case", sorted(FILE_PROBLEMS))
def test_each_decoding_check_names_the_field(case, tmp_path):
    text, expected = FILE_PROBLEMS[case]
    path = tmp_path / "config"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(KubeconfigError) as raised:
        resolve_kubeconfig(None, None, {"KUBECONFIG": str(path)}, str(tmp_path))
    assert expected in str(raised.value) and str(raised.value).startswith(f"kubeconfig file {path}")


@pytest.mark.parametrize("text", ["", "# only a comment\n", "clusters:\nusers:\ncontexts:\n",
                                  "clusters: [null]\nusers: [{name: u}]\ncontexts: [{name: c, context: null}]\n"])
def test_empty_files_and_null_entries_load_as_client_go_loads_them(text, tmp_path):
    (tmp_path / "empty").write_text(text)
    (tmp_path / "real").write_text(kubeconfig("ctx", server="https://real.example"))
    listed = f"{tmp_path}/empty:{tmp_path}/real"
    assert resolve_kubeconfig(None, None, {"KUBECONFIG": listed}, str(tmp_path)).server == "https://real.example"
    assert decode_problem(text) is None


def test_a_context_that_names_no_cluster_says_so(tmp_path):
    text = kubeconfig("ctx", server="https://x").replace("    cluster: cluster\n", "")
    with pytest.raises(KubeconfigError, match=r"context 'ctx' \(current-context\) names no cluster"):
        resolve_kubeconfig(text, None, {}, str(tmp_path))


def test_a_kubeconfig_without_contexts_in_the_environment_says_what_to_set(tmp_path):
    (tmp_path / "config").write_text("clusters: []\n")
    with pytest.raises(KubeconfigError, match=rf"^kubeconfig file {tmp_path}/config: no kubeconfig context to use"):
        resolve_kubeconfig(None, None, {"KUBECONFIG": f"{tmp_path}/config"}, str(tmp_path))
    with pytest.raises(KubeconfigError, match=r"defines no context: give a kubeconfig with a context"):
        resolve_kubeconfig("clusters: []\n", None, {}, str(tmp_path))


def test_kubeconfig_as_the_home_folder_itself(tmp_path):
    # "~" alone is the home folder (pulumi-kubernetes expands it too): a folder, not a kubeconfig
    with pytest.raises(KubeconfigError, match="neither the path of an existing file nor kubeconfig contents"):
        resolve_kubeconfig("~", None, {}, str(tmp_path))
    assert resolve_kubeconfig("~", None, {}, str(tmp_path), is_file=lambda p: p == str(tmp_path),
                              read_file=lambda p: kubeconfig("ctx", server="https://home").encode()).server == "https://home"


def test_a_one_line_json_kubeconfig_is_contents(tmp_path):
    text = json.dumps(yaml.safe_load(kubeconfig("ctx", server="https://json.example")))
    assert resolve_kubeconfig(text, None, {}, str(tmp_path)).server == "https://json.example"


def test_the_resolved_kubeconfig_is_one_context_for_the_client(tmp_path):
    text = kubeconfig("ctx", server="https://x", user={"token": "t"}).replace(
        "clusters:\n", "clusters:\n- name: other\n  cluster: {server: https://other}\n")
    resolved = resolve_kubeconfig(text, None, {}, str(tmp_path))
    assert resolved.kubeconfig == {
        "apiVersion": "v1", "kind": "Config", "current-context": "ctx",
        "contexts": [{"name": "ctx", "context": {"cluster": "cluster", "user": "user"}}],
        "clusters": [{"name": "cluster", "cluster": {"server": "https://x"}}],
        "users": [{"name": "user", "user": {"token": "t"}}],
    }
    assert (resolved.origin, resolved.files, resolved.in_cluster) == (
        "the kubeconfig contents given (kubeconfig / kubernetes:kubeconfig)", (), False)


# --- credentials: what a plugin answered, whether an id-token is still good ------------------------------

PLUGIN = {"command": "aws", "apiVersion": "client.authentication.k8s.io/v1"}


def test_exec_info_says_not_interactive_and_gives_the_cluster_only_when_asked():
    cluster = {"server": "https://x", "certificate-authority-data": "Y2E=", "tls-server-name": "k", "proxy-url": "",
               "insecure-skip-tls-verify": False}
    assert json.loads(exec_info(PLUGIN, cluster)) == {
        "apiVersion": PLUGIN["apiVersion"], "kind": "ExecCredential", "spec": {"interactive": False}}
    assert json.loads(exec_info({**PLUGIN, "provideClusterInfo": True}, cluster))["spec"]["cluster"] == {
        "server": "https://x", "certificate-authority-data": "Y2E=", "tls-server-name": "k", "config": None}


def test_a_plugins_client_certificate_becomes_base64_data():
    answer = {"apiVersion": PLUGIN["apiVersion"], "kind": "ExecCredential",
              "status": {"clientCertificateData": "CERT", "clientKeyData": "KEY"}}
    assert exec_credential(json.dumps(answer).encode(), PLUGIN) == {
        "client-certificate-data": base64.b64encode(b"CERT").decode(), "client-key-data": base64.b64encode(b"KEY").decode()}
    answer["status"]["token"] = "tok"
    assert exec_credential(json.dumps(answer).encode(), PLUGIN) == {"token": "tok"}
    for status in ({"clientCertificateData": "CERT"}, {"clientKeyData": "KEY"}, {"token": ""}, {"token": 5}):
        with pytest.raises(KubeconfigError, match="neither a token nor a client certificate and key"):
            exec_credential(json.dumps({**answer, "status": status}).encode(), PLUGIN)
    for broken, expected in ((b"\xff", "printed no ExecCredential JSON"), (b"[]", "something other than an ExecCredential"),
                             (json.dumps({**answer, "status": None}).encode(), "answered without a status")):
        with pytest.raises(KubeconfigError, match=expected):
            exec_credential(broken, PLUGIN)


def token_with(payload: Any) -> str:
    return "h." + base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=") + ".s"


def test_an_id_token_is_good_until_ten_seconds_before_it_expires():
    assert id_token_usable(token_with({"exp": 1000}), 989.9)
    assert not id_token_usable(token_with({"exp": 1000}), 990)
    assert not id_token_usable(token_with({"exp": 1000}), 2000)
    assert id_token_usable(token_with({"exp": 1000.5}), 980)
    for payload in ({}, {"exp": "1000"}, {"exp": True}, [1000]):
        assert not id_token_usable(token_with(payload), 0)
    assert not id_token_usable("", 0) and not id_token_usable(None, 0)
    with pytest.raises(KubeconfigError, match="is not a JWT"):
        id_token_usable("opaque-token", 0)
    with pytest.raises(KubeconfigError, match="unreadable payload"):
        id_token_usable("h.!!!.s", 0)


def test_the_files_read_are_listed_once_in_kubeconfig_order_without_the_missing_ones(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).write_text(kubeconfig("ctx", server=f"https://{name}.example"))
    listed = f"{tmp_path}/b::{tmp_path}/missing:{tmp_path}/a:{tmp_path}/b"
    resolved = resolve_kubeconfig(None, None, {"KUBECONFIG": listed}, str(tmp_path))
    assert resolved.files == (f"{tmp_path}/b", f"{tmp_path}/a") and resolved.server == "https://b.example"
    assert resolved.origin == f"kubeconfig files {tmp_path}/b, {tmp_path}/a"


@pytest.mark.parametrize("env", [{"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, {"KUBERNETES_SERVICE_PORT": "443"},
                                 {"KUBERNETES_SERVICE_HOST": "", "KUBERNETES_SERVICE_PORT": "443"}])
def test_in_cluster_needs_both_service_variables(env, tmp_path):
    with pytest.raises(KubeconfigError, match="not a pod with a service account"):
        resolve_kubeconfig(None, None, {"KUBECONFIG": str(tmp_path / "none"), **env}, str(tmp_path),
                           is_file=lambda p: True)


# --- what client-go decodes, many files at once: kubectl names every file it cannot load ------------


def kubectl_refuses(texts: list[str], folder: Path) -> list[bool]:
    """For each kubeconfig text, whether client-go refuses to load it, asked in ONE kubectl call:
    its loader reads every file of ``KUBECONFIG`` and reports each one it cannot load
    (kubernetes/client-go@v0.35.7:tools/clientcmd/loader.go, ``Load`` collects the errors)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"case{index}" for index in range(len(texts))]
    for path, text in zip(paths, texts):
        path.write_text(text)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(folder), "KUBECONFIG": ":".join(map(str, paths))}
    done = subprocess.run([kubectl(), "config", "view", "--raw", "-o", "json"], env=env, cwd=folder,
                          capture_output=True, text=True, timeout=60)
    refused = set(re.findall(r'error loading config file "([^"]+)"', done.stderr))
    assert done.returncode == 0 or refused, f"kubectl failed for another reason: {done.stderr[-500:]}"
    return [str(path) in refused for path in paths]


def with_base64(value: str) -> str:
    """A kubeconfig whose cluster and user carry ``value`` as certificate and key data."""
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://x", "certificate-authority-data": value}}],
        "users": [{"name": "u", "user": {"client-certificate-data": "YQ==", "client-key-data": value}}],
    })


#: Base64 as Go's encoding/json reads []byte (standard alphabet, padded, \r and \n ignored anywhere,
#: nothing after the padding) meets these at least once whatever hypothesis draws.
BASE64_EDGES = ["", "YQ==", "YWJj", "YR==", "YQ=", "YQ", "=", "==", "YQ==YQ==", "YQ==\n", "Y\r\nQ==", "YQ=\n=",
                "YWJj\nZGVm\n", "Y Q==", " YQ==", "YQ==\t", "!!!!", "YQ-_", "YQ\x00=", "\n", "\r\n\r\n", "YWJj====", "Y==="]


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.text(alphabet="YQWJjZGV+/=\r\n -_", max_size=10), min_size=30, max_size=30))
def test_certificate_and_key_data_are_base64_exactly_as_client_go_reads_it(tmp_path_factory, values):
    kubectl()
    values = BASE64_EDGES + values
    texts = [with_base64(value) for value in values]
    refused = kubectl_refuses(texts, tmp_path_factory.mktemp("base64"))
    ours = [decode_problem(text) is not None for text in texts]
    assert ours == refused, [(v, o, k) for v, o, k in zip(values, ours, refused) if o != k]


def _set_at(document: dict, location: tuple, value: Any) -> dict:
    """``document`` with ``value`` put at ``location`` (keys and list indexes), creating what is missing."""
    document = json.loads(json.dumps(document))
    node = document
    for key, following in zip(location, location[1:]):
        node = node[key] if isinstance(key, int) else node.setdefault(key, [{}] if isinstance(following, int) else {})
    node[location[-1]] = value
    return document


#: Every field client-go decodes, where it sits in a file (tools/clientcmd/api/v1/types.go).
BASE_DOCUMENT = {"apiVersion": "v1", "kind": "Config",
                 "clusters": [{"name": "c", "cluster": {"server": "https://x"}}],
                 "users": [{"name": "u", "user": {"token": "t"}}],
                 "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}]}
FIELD_LOCATIONS = (
    [("clusters", 0, "cluster", key) for key in ("server", "tls-server-name", "insecure-skip-tls-verify",
                                                   "certificate-authority", "proxy-url", "disable-compression")]
    + [("users", 0, "user", key) for key in ("client-certificate", "client-key", "tokenFile", "as", "as-uid",
                                             "as-groups", "username", "as-user-extra", "auth-provider", "exec")]
    + [("contexts", 0, "context", key) for key in ("cluster", "user", "namespace")]
    + [("users", 0, "user", "exec", key) for key in ("command", "args", "apiVersion", "installHint",
                                                     "provideClusterInfo", "interactiveMode", "env")]
    + [("users", 0, "user", "exec", "env", 0, key) for key in ("name", "value")]
    + [("users", 0, "user", "auth-provider", key) for key in ("name", "config")]
    + [("users", 0, "user", "as-user-extra", "k"), ("users", 0, "user", "auth-provider", "config", "k")]
    + [(*place, "extensions") for place in ((), ("preferences",), ("clusters", 0, "cluster"), ("users", 0, "user"),
                                            ("contexts", 0, "context"))]
    + [("preferences",), ("preferences", "colors"), ("current-context",), ("clusters", 0, "name"), ("clusters", 0),
       ("clusters",), ("apiVersion",), ("kind",)]
)
#: Values of every JSON type (and YAML's null), each put at every location above.
FIELD_VALUES = ["x", "", 5, True, None, ["x"], [1], [None], {"k": "x"}, {"k": 1}, {"k": [None]}, [{"name": 5}],
                [{"name": "x", "extension": 1}], [None, None], [{"name": "x", "value": 5}]]


def test_every_field_decodes_exactly_as_client_go_decodes_it(tmp_path):
    kubectl()
    cases = [(location, value) for location in FIELD_LOCATIONS for value in FIELD_VALUES]
    texts = [json.dumps(_set_at(BASE_DOCUMENT, location, value)) for location, value in cases]  # JSON is YAML
    refused = kubectl_refuses(texts, tmp_path / "fields")
    ours = [decode_problem(text) is not None for text in texts]
    assert ours == refused, [(c, o, k) for c, o, k in zip(cases, ours, refused) if o != k]


@pytest.mark.parametrize("extensions, accepted", [
    ([{"name": "a", "extension": 1}, {"name": "a", "extension": 2}], False),
    ([{"name": "a", "extension": 1}, {"name": "a"}], False),
    ([{"name": "a"}, {"name": "a", "extension": 2}], True),
    ([None, None], True),
    ([{"name": "a", "extension": None}, {"name": "a", "extension": None}, {"name": "b", "extension": {}}], True),
    ([{"extension": 1}, None], False),
    ([{"name": "", "extension": 1}, {"extension": 2}], False),  # no name is the name ""
])
def test_an_extension_name_may_come_again_only_after_null_extensions(extensions, accepted, tmp_path):
    kubectl()
    texts = [yaml.safe_dump(_set_at(BASE_DOCUMENT, place + ("extensions",), extensions))
             for place in ((), ("preferences",), ("clusters", 0, "cluster"), ("users", 0, "user"), ("contexts", 0, "context"))]
    assert kubectl_refuses(texts, tmp_path / "extensions") == [not accepted] * len(texts)
    assert [decode_problem(text) is None for text in texts] == [accepted] * len(texts)


def test_a_null_in_a_list_is_the_zero_value_client_go_decodes_it_as(tmp_path):
    kubectl()
    user = {"as": "x", "as-groups": [None, "g"], "as-user-extra": {"k": [None, "v"], "j": None},
            "exec": {"command": "a", "apiVersion": "v1", "args": [None, "b"], "env": [{"name": "A", "value": None}]}}
    text = kubeconfig("ctx", server="https://x", user=user)
    (tmp_path / "config").write_text(text)
    view, error = kubectl_view(str(tmp_path / "config"), None, cwd=tmp_path, home=tmp_path)
    assert view is not None, error
    assert _nonzero(resolve_kubeconfig(text, None, {}, str(tmp_path)).user_entry) == single(view, "users")[1]
    # a null env entry is one without a name, which client-go's validation refuses
    nameless = kubeconfig("ctx", server="https://x", user={"exec": {"command": "a", "apiVersion": "v1", "env": [None]}})
    with pytest.raises(KubeconfigError, match="an exec env entry has no name"):
        resolve_kubeconfig(nameless, None, {}, str(tmp_path))


# --- what a credential plugin is told about the cluster: kubectl runs the plugin, so does client-go ------


def a_ca_certificate() -> bytes:
    """A self-signed CA certificate (PEM): client-go parses the CA before it runs a plugin."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubeconfig-loading test CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    return certificate.public_bytes(serialization.Encoding.PEM)


def _wrapped(data: bytes) -> str:
    """Base64 in 60-character lines, with a CRLF at the end: client-go ignores the breaks."""
    text = base64.b64encode(data).decode()
    return "\n".join(text[i:i + 60] for i in range(0, len(text), 60)) + "\r\n"


EXEC_EXTENSION = "client.authentication.k8s.io/exec"
#: Clusters as a credential plugin with provideClusterInfo sees them (None: the CA file next to the kubeconfig).
PLUGIN_CLUSTERS = {
    "CA file, proxy, compression off, the exec extension": {
        "certificate-authority": "ca.pem", "tls-server-name": "kube.example", "proxy-url": "http://127.0.0.1:1",
        "disable-compression": True,
        "extensions": [{"name": EXEC_EXTENSION, "extension": {"audience": "kube", "nested": {"list": [1, "two", None]}}},
                       {"name": "other", "extension": "x"}]},
    "CA data with line breaks": {"certificate-authority-data": None, "disable-compression": False, "proxy-url": ""},
    "TLS unchecked, a null exec extension before the real one": {
        "insecure-skip-tls-verify": True, "tls-server-name": "",
        "extensions": [{"name": EXEC_EXTENSION, "extension": None}, {"name": EXEC_EXTENSION, "extension": ["a"]}]},
    "nothing but the server": {"insecure-skip-tls-verify": False, "extensions": [None, {"name": EXEC_EXTENSION}]},
}


@pytest.mark.parametrize("case", sorted(PLUGIN_CLUSTERS))
def test_a_credential_plugin_is_told_what_client_go_tells_it(case, tmp_path):
    kubectl()
    authority = a_ca_certificate()
    (tmp_path / "ca.pem").write_bytes(authority)
    cluster = {"server": "https://127.0.0.1:1", **PLUGIN_CLUSTERS[case]}
    if "certificate-authority-data" in cluster:
        cluster["certificate-authority-data"] = _wrapped(authority)
    script = tmp_path / "plugin"
    script.write_text('#!/bin/sh\nprintf %s "$KUBERNETES_EXEC_INFO" > "$INFO_FILE"\n'
                      'echo \'{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", '
                      '"status": {"token": "t"}}\'\n')
    script.chmod(0o755)
    told = tmp_path / "told.json"
    plugin = {"apiVersion": "client.authentication.k8s.io/v1", "command": str(script), "interactiveMode": "Never",
              "provideClusterInfo": True, "env": [{"name": "INFO_FILE", "value": str(told)}]}
    (tmp_path / "config").write_text(kubeconfig("ctx", server="", user={"exec": plugin}).replace(
        "cluster:\n    server: ''\n", "cluster: " + json.dumps(cluster) + "\n"))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "KUBECONFIG": str(tmp_path / "config")}
    # the plugin runs before the request, which 127.0.0.1:1 refuses
    subprocess.run([kubectl(), "get", "--raw", "/"], env=env, cwd=tmp_path, capture_output=True, timeout=60)
    assert told.exists(), "kubectl did not run the plugin"
    resolved = resolve_kubeconfig(None, None, {"KUBECONFIG": str(tmp_path / "config")}, str(tmp_path / "home"))
    ours = json.loads(exec_info(resolved.user_entry["exec"], resolved.cluster_entry))
    assert ours == json.loads(told.read_text())
    quiet = json.loads(exec_info({**plugin, "provideClusterInfo": False}, resolved.cluster_entry))
    assert quiet == {**ours, "spec": {"interactive": False}}


@pytest.mark.parametrize("body", [{}, {"insecure-skip-tls-verify": False, "proxy-url": ""}, {"extensions": []}])
def test_in_a_pod_a_cluster_a_file_defines_without_a_server_is_an_error_not_the_pods_cluster(body, tmp_path):
    # client-go falls back to the service account only on ErrEmptyConfig, a cluster equal to an empty
    # one; an entry read from a file carries that file as its LocationOfOrigin, so it never is
    # (kubernetes/client-go@v0.35.7:tools/clientcmd/loader.go LoadFromFile, validation.go validateClusterInfo).
    (tmp_path / "config").write_text(kubeconfig("ctx", server="").replace("cluster:\n    server: ''\n",
                                                                          "cluster: " + json.dumps(body) + "\n"))
    pod = {"KUBECONFIG": str(tmp_path / "config"), "KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    with pytest.raises(KubeconfigError, match=rf"^kubeconfig file {tmp_path}/config: cluster 'cluster' \(of context 'ctx'\) "
                                               "has no server"):
        resolve_kubeconfig(None, None, pod, str(tmp_path), is_file=lambda p: True)
    # a context naming a cluster no file defines is client-go's empty configuration: the pod's own
    (tmp_path / "config").write_text(kubeconfig("ctx", server="https://x").replace("cluster: cluster", "cluster: gone"))
    assert resolve_kubeconfig(None, None, pod, str(tmp_path), is_file=lambda p: True).in_cluster


# --- names nobody set, and what each message and result names ------------------------------------------


def test_entries_named_nothing_are_the_ones_client_go_uses_when_nothing_names_one(tmp_path):
    kubectl()
    documents = {
        # no current-context: the context named "" (client_config.go getContext looks "" up)
        "nameless context": {"contexts": [{"name": "", "context": {"cluster": "c"}}],
                             "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:1"}}]},
        # a context naming no cluster and no user: the cluster and user named ""
        "context naming nothing": {"current-context": "ctx", "contexts": [{"name": "ctx", "context": {"namespace": "n1"}}],
                                   "clusters": [{"cluster": {"server": "http://127.0.0.1:1"}}],
                                   "users": [{"user": {"token": "nameless"}}]},
    }
    for case, document in documents.items():
        path = tmp_path / case.replace(" ", "-")
        path.write_text(json.dumps({"apiVersion": "v1", "kind": "Config", **document}))
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "KUBECONFIG": str(path)}
        done = subprocess.run([kubectl(), "get", "--raw", "/"], env=env, cwd=tmp_path, capture_output=True, text=True,
                              timeout=60)
        assert "127.0.0.1:1" in done.stderr, (case, done.stderr)  # not localhost:8080, client-go's default
        ours = resolve_kubeconfig(None, None, {"KUBECONFIG": str(path)}, str(tmp_path))
        assert ours.server == "http://127.0.0.1:1", case
    assert (ours.context, ours.cluster, ours.user, ours.user_entry) == ("ctx", "", "", {"token": "nameless"})
    assert ours.kubeconfig["contexts"] == [{"name": "ctx", "context": {"namespace": "n1", "user": ""}}]


def test_without_current_context_the_message_lists_the_contexts_to_choose_from(tmp_path):
    text = kubeconfig(None, server="https://x", context="b").replace("contexts:\n", "contexts:\n- name: a\n  context: {}\n")
    with pytest.raises(KubeconfigError, match=r"set kube_context \(kubernetes:context\) to one of its contexts \('a', 'b'\)$"):
        resolve_kubeconfig(text, None, {}, str(tmp_path))


def test_a_missing_named_context_says_which_exist_or_that_none_do(tmp_path):
    text = kubeconfig("ctx", server="https://x")
    with pytest.raises(KubeconfigError, match=r"\(contexts: 'ctx'\); set kube_context \(kubernetes:context\) to one of those$"):
        resolve_kubeconfig(text, "nope", {}, str(tmp_path))
    (tmp_path / "empty").write_text("")
    with pytest.raises(KubeconfigError, match=rf"^kubeconfig file {tmp_path}/empty: context 'nope' .* \(contexts: none\); "
                                               "point KUBECONFIG or kubernetes:kubeconfig at a kubeconfig that defines it$"):
        resolve_kubeconfig(None, "nope", {"KUBECONFIG": str(tmp_path / "empty")}, str(tmp_path))


def test_a_read_error_without_a_reason_names_its_kind(tmp_path):
    def failing(path):
        raise OSError()

    with pytest.raises(KubeconfigError, match=rf"cannot read the kubeconfig file {tmp_path}/x: OSError\. Make it readable"):
        resolve_kubeconfig(None, None, {"KUBECONFIG": f"{tmp_path}/x"}, str(tmp_path), read_file=failing)


def test_a_given_kubeconfig_file_is_named_as_the_origin_and_in_every_message(tmp_path):
    path = tmp_path / "given.yaml"
    path.write_text(kubeconfig("ctx", server="https://x"))
    resolved = resolve_kubeconfig(str(path), None, {}, str(tmp_path))
    assert (resolved.origin, resolved.files) == (f"kubeconfig file {path} (kubernetes:kubeconfig)", (str(path),))
    path.write_text("apiVersion: v2\n")
    with pytest.raises(KubeconfigError, match=rf"^kubeconfig file {path} \(kubernetes:kubeconfig\) has apiVersion 'v2'"):
        resolve_kubeconfig(str(path), None, {}, str(tmp_path))
    with pytest.raises(KubeconfigError, match=rf"^the kubeconfig file {path} \(kubernetes:kubeconfig\) disappeared"):
        resolve_kubeconfig(str(path), None, {}, str(tmp_path), read_file=lambda p: None)


@pytest.mark.parametrize("contents, expected", [
    ("current-context: x", r"context 'x' \(current-context\) does not exist"),  # one line, with a colon
    ("- a\n- b\n", "its top level must be a mapping"),  # several lines, no colon
    ("{}", "defines no context"),
    ("  {}", "defines no context"),
    ("apiVersion: v2", "has apiVersion 'v2'"),
])
def test_any_text_that_is_not_a_file_is_read_as_kubeconfig_contents(contents, expected, tmp_path):
    with pytest.raises(KubeconfigError, match=r"^the kubeconfig contents given \(kubeconfig / kubernetes:kubeconfig\)"
                                              rf"(: | ).*{expected}"):
        resolve_kubeconfig(contents, None, {}, str(tmp_path))


def test_in_cluster_the_server_is_the_service_address_and_the_files_read_are_kept(tmp_path):
    (tmp_path / "config").write_text("clusters: []\n")
    env = {"KUBECONFIG": str(tmp_path / "config"), "KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "6443"}
    resolved = resolve_kubeconfig(None, None, env, str(tmp_path), is_file=lambda p: p == "/var/run/secrets/kubernetes.io/serviceaccount/token")
    assert (resolved.server, resolved.files, resolved.origin, resolved.user_entry, resolved.cluster_entry) == (
        "https://10.0.0.1:6443", (str(tmp_path / "config"),),
        "the in-cluster service account (no kubeconfig context to use)", {}, {})


def test_a_users_error_names_the_file_that_defined_the_user(tmp_path):
    (tmp_path / "a").write_text(kubeconfig("ctx", server="https://a").replace("name: user", "name: other"))
    (tmp_path / "b").write_text(kubeconfig("ctx", server="https://b", user={"token": "t", "password": "p"}))
    with pytest.raises(KubeconfigError, match=rf"^kubeconfig file {tmp_path}/b: user 'user' has both"):
        resolve_kubeconfig(None, None, {"KUBECONFIG": f"{tmp_path}/a:{tmp_path}/b"}, str(tmp_path))


def test_decode_problem_names_where_the_text_came_from():
    assert decode_problem("apiVersion: v2\n") == "the kubeconfig has apiVersion 'v2': a kubeconfig has apiVersion: v1"
    assert decode_problem("kind: Pod\n", "kubeconfig (stack config)") == (
        "kubeconfig (stack config) has kind 'Pod': a kubeconfig has kind: Config")


def test_a_plugin_answer_that_is_refused_names_the_plugin_and_the_api_version_asked_for():
    answer = {"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential", "status": {"token": "t"}}
    with pytest.raises(KubeconfigError, match=r"^the kubeconfig's credential plugin 'aws' answered with apiVersion "
                                              r"'client.authentication.k8s.io/v1beta1', the kubeconfig asks for "
                                              r"'client.authentication.k8s.io/v1': make exec.apiVersion match"):
        exec_credential(json.dumps(answer).encode(), PLUGIN)


def test_a_plugin_that_asks_for_the_cluster_needs_its_ca_file_to_exist(tmp_path):
    plugin = {**PLUGIN, "provideClusterInfo": True}
    cluster = {"server": "https://x", "certificate-authority": str(tmp_path / "ca.pem")}
    with pytest.raises(KubeconfigError, match=rf"certificate-authority file {tmp_path}/ca.pem .* does not exist"):
        exec_info(plugin, cluster)
    told = json.loads(exec_info(plugin, cluster, read_file=lambda path: b"ca of " + path.encode()))
    assert base64.b64decode(told["spec"]["cluster"]["certificate-authority-data"]) == f"ca of {tmp_path}/ca.pem".encode()
    assert json.loads(exec_info(PLUGIN, cluster))["spec"] == {"interactive": False}  # not asked: the file is not read


def test_when_no_kubeconfig_file_exists_the_message_names_the_kubeconfig_setting(tmp_path):
    listed = f"{tmp_path}/a:{tmp_path}/b"
    with pytest.raises(KubeconfigError, match=rf"^KUBECONFIG={listed} \(no such file\): no kubeconfig context to use"):
        resolve_kubeconfig(None, None, {"KUBECONFIG": listed}, str(tmp_path))
    with pytest.raises(KubeconfigError, match=rf"^{tmp_path}/.kube/config \(no such file\): no kubeconfig context"):
        resolve_kubeconfig(None, None, {}, str(tmp_path))


@pytest.mark.parametrize("text, at", [
    ("apiVersion: v1\nkind: Config\ncurrent-context: a: b\n", " at line 3"),
    ("apiVersion: v1\n\n\nclusters:\n- name: c\n  cluster: {server: [\n", " at line 7"),  # the stream ends there
    ("\tkind: Config\n", " at line 1"),
    ("kind: \x07\n", ""),  # PyYAML's reader refuses the character before any parsing: it has no line to name
])
def test_a_yaml_error_names_the_line_it_is_on(text, at):
    assert decode_problem(text) == (f"the kubeconfig is not valid YAML{at}: fix the file "
                                    "(`kubectl config view` shows what kubectl makes of it)")


@pytest.mark.parametrize("section, inner, name", [("clusters", "cluster", "prod"), ("users", "user", "alice"),
                                                  ("contexts", "context", "")])
def test_an_extension_problem_names_the_entry_it_is_in(section, inner, name):
    twice = [{"name": "a", "extension": 1}, {"name": "a", "extension": 2}]
    for extensions, problem in ((5, "extensions must be a list of {name, extension} entries"),
                                ([5], "extensions[0] must be a mapping with name and extension"),
                                ([{"name": 5}], "extensions[0].name must be a string")):
        document = _set_at(BASE_DOCUMENT, (section, 0), {"name": name, inner: {"extensions": extensions}})
        assert decode_problem(json.dumps(document)) == f"the kubeconfig: {inner} {name!r}: {problem}"
    document = _set_at(BASE_DOCUMENT, (section, 0), {"name": name, inner: {"extensions": twice}})
    assert decode_problem(json.dumps(document)) == (
        f"the kubeconfig: {inner} {name!r} has extension 'a' twice: keep one extensions entry of that name")


@pytest.mark.parametrize("extra, problem", [
    ({"extensions": 5}, "extensions must be a list of {name, extension} entries"),
    ({"preferences": {"colors": "x"}}, "preferences: colors must be a boolean"),
    ({"preferences": {"extensions": [5]}}, "preferences: extensions[0] must be a mapping with name and extension"),
])
def test_a_top_level_problem_names_the_file_it_is_in(extra, problem):
    document = {"apiVersion": "v1", "kind": "Config", **extra}
    assert decode_problem(json.dumps(document), "kubeconfig (stack config)") == f"kubeconfig (stack config): {problem}"


def test_a_kubeconfig_nothing_can_be_reached_with_says_what_to_set_in_full(tmp_path):
    path = tmp_path / "config"
    path.write_text("apiVersion: v1\nkind: Config\n")
    with pytest.raises(KubeconfigError) as raised:
        resolve_kubeconfig(None, None, {"KUBECONFIG": str(path)}, str(tmp_path))
    assert str(raised.value) == (f"kubeconfig file {path}: no kubeconfig context to use (no contexts at all), and this "
                                 "is not a pod with a service account: set KUBECONFIG or kubernetes:kubeconfig to a "
                                 "kubeconfig for the cluster")
    path.write_text(kubeconfig("x", server="", context="x"))
    with pytest.raises(KubeconfigError) as raised:
        resolve_kubeconfig(None, None, {"KUBECONFIG": str(path)}, str(tmp_path))
    assert str(raised.value) == (f"kubeconfig file {path}: cluster 'cluster' (of context 'x') has no server: set its "
                                 "clusters[].cluster.server to the API server's URL")
