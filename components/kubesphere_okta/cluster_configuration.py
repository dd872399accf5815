"""KubeSphere 3.x: our identity provider inside ks-installer's ClusterConfiguration, as pure functions.

The ``ks-installer`` ClusterConfiguration belongs to the cluster: it holds every KubeSphere
setting and often other identity providers (LDAP, GitHub). These functions take the WHOLE object
as a plain dict (as the Kubernetes API returns it) and return a new one in which only our entry of
``spec.authentication.oauthOptions.identityProviders`` (matched by ``name``) and the
``oauthOptions`` keys we were asked to set differ. Every other entry, key and value, and their
order, is left as it was. Nothing here mutates its input, imports Pulumi or does I/O.

Missing containers (``authentication``, ``oauthOptions``, ``identityProviders``; YAML ``null``
counts as missing) are created on upsert and dropped again on removal when our removal leaves
them empty, so upsert-then-remove gives back the original object. The one exception: a container
that was there but EMPTY before (``identityProviders: []``, ``oauthOptions: {}``) and only ever
held what we put in it is dropped, not kept empty; KubeSphere reads both the same way.

``oauthOptions`` keys we set (``accessTokenMaxAge``, ``accessTokenInactivityTimeout``) are
cluster-wide token lifetimes that other teams may rely on, so they are never simply deleted on
removal unless the caller names them (``remove_identity_provider(..., oauth_option_keys=...)``,
for callers that hold no state). A caller with state records the values that were there before
(``oauth_options_before``) and hands them back to ``restore_oauth_options``, which puts back the
previous value, or removes a key that did not exist, but only where the key still holds the value
we set: a value someone changed after us is theirs and is left alone.

Facts: docs/kubesphere-okta-facts.md, "KubeSphere 3.2-3.4".
"""

from __future__ import annotations

import copy
from typing import Any, Iterable, Mapping

API_VERSION = "installer.kubesphere.io/v1alpha1"
GROUP = "installer.kubesphere.io"
VERSION = "v1alpha1"
PLURAL = "clusterconfigurations"
NAMESPACE = "kubesphere-system"
NAME = "ks-installer"

#: Where the identity providers sit, from the object's root.
PATH = ("spec", "authentication", "oauthOptions", "identityProviders")
_WHERE = "spec.authentication.oauthOptions.identityProviders"


class MalformedClusterConfiguration(ValueError):
    """The ClusterConfiguration is not shaped as KubeSphere reads it; nothing was changed."""


def _kind(value: Any) -> str:
    """What a value is, never the value itself: it may hold someone's credentials."""
    return {dict: "mapping", list: "list", str: "string", bool: "boolean", int: "number", float: "number"}.get(
        type(value), type(value).__name__
    )


def _containers(cluster_configuration: Any) -> tuple[list[Any] | None, dict | None]:
    """Validate the path to the providers; return (providers list or None, oauthOptions or None)."""
    if not isinstance(cluster_configuration, Mapping):
        raise MalformedClusterConfiguration(
            f"the ClusterConfiguration must be an object, got {type(cluster_configuration).__name__}"
        )
    node: Any = cluster_configuration
    walked: list[str] = []
    for key in PATH[:-1]:
        node = node.get(key)
        walked.append(key)
        if node is None:
            return None, None
        if not isinstance(node, Mapping):
            raise MalformedClusterConfiguration(
                f"{'.'.join(walked)} of {NAMESPACE}/{NAME} must be a mapping, but it is a "
                f"{_kind(node)}; fix it with `kubectl -n {NAMESPACE} edit cc {NAME}` "
                "(this project changed nothing)"
            )
    oauth_options = node
    providers = oauth_options.get(PATH[-1])
    if providers is None:
        return None, oauth_options
    if not isinstance(providers, list):
        raise MalformedClusterConfiguration(
            f"{_WHERE} of {NAMESPACE}/{NAME} must be a list, but it is a {_kind(providers)}; "
            f"fix it with `kubectl -n {NAMESPACE} edit cc {NAME}` (this project changed nothing)"
        )
    for index, entry in enumerate(providers):
        if not isinstance(entry, Mapping):
            raise MalformedClusterConfiguration(
                f"{_WHERE}[{index}] of {NAMESPACE}/{NAME} must be a mapping with a name, but it is a "
                f"{_kind(entry)}; KubeSphere cannot load such a list "
                "(this project changed nothing)"
            )
    return providers, oauth_options


def _index_of(providers: list[Any] | None, name: str) -> int | None:
    if not providers:
        return None
    found = [i for i, entry in enumerate(providers) if entry.get("name") == name]
    if len(found) > 1:
        raise MalformedClusterConfiguration(
            f"{_WHERE} of {NAMESPACE}/{NAME} holds {len(found)} entries named {name!r} (at "
            f"{', '.join(map(str, found))}); KubeSphere needs unique names. Remove the extra ones by hand "
            "(this project changed nothing)"
        )
    return found[0] if found else None


#: Where ks-installer reads whether this cluster is a ``host``, a ``member`` or ``none`` (standalone).
CLUSTER_ROLE_PATH = ("spec", "multicluster", "clusterRole")
MEMBER = "member"


class MemberCluster(MalformedClusterConfiguration):
    """The ClusterConfiguration is a member cluster's: identity providers belong on the host."""


def cluster_role(cluster_configuration: Any) -> Any:
    """``spec.multicluster.clusterRole`` as written (None when absent or not reachable)."""
    node: Any = cluster_configuration
    for key in CLUSTER_ROLE_PATH:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def member_cluster_problem(cluster_configuration: Any) -> str | None:
    """Why our entry must not go into a member cluster's ClusterConfiguration; None on a host or a
    standalone cluster.

    ks-installer renders ``kubesphere-config`` from this object: v3.2.1 replaces a member's
    ``oauthOptions`` with ``accessTokenMaxAge: 0``; v3.3.2 and v3.4.1 copy them, identity providers
    included, and then append ``accessTokenMaxAge: 0``, so a member with ``accessTokenMaxAge`` set
    gets the key twice (kubesphere/ks-installer@v3.4.1:roles/ks-core/config/templates/kubesphere-config.yaml.j2).
    Either way a member's console sends logins to the host, so the entry belongs there.
    """
    if cluster_role(cluster_configuration) != MEMBER:
        return None
    return (
        f"{NAMESPACE}/{NAME} has {'.'.join(CLUSTER_ROLE_PATH)}: {MEMBER}: this cluster is a member of a "
        "multi-cluster KubeSphere, whose logins the host cluster serves. Identity providers belong in the "
        "host cluster's ClusterConfiguration (the one with clusterRole: host); on a member, ks-installer "
        "ignores them (3.2) or renders them next to its own accessTokenMaxAge: 0 (3.3, 3.4). Point the "
        "stack's kubeconfig context at the host cluster (this project changed nothing)"
    )


def check(cluster_configuration: dict, name: str) -> None:
    """Raise ``MalformedClusterConfiguration`` when the object cannot be merged into safely, and its
    ``MemberCluster`` kind when the object is a member cluster's (``member_cluster_problem``)."""
    providers, _ = _containers(cluster_configuration)
    _index_of(providers, name)
    problem = member_cluster_problem(cluster_configuration)
    if problem:
        raise MemberCluster(problem)


def find_identity_provider(cluster_configuration: dict, name: str) -> dict | None:
    """Our entry (a copy) as it is in the object, or None when there is none."""
    providers, _ = _containers(cluster_configuration)
    index = _index_of(providers, name)
    return None if index is None else copy.deepcopy(providers[index])


def identity_provider_names(cluster_configuration: dict) -> list[Any]:
    """The names of every entry, in order (entries without a name give None)."""
    providers, _ = _containers(cluster_configuration)
    return [entry.get("name") for entry in providers or []]


def _oauth_options_of(cluster_configuration: dict) -> dict:
    """The oauthOptions mapping of a (deep-copied, validated) object, created where missing."""
    node = cluster_configuration
    for key in PATH[:-1]:
        if node.get(key) is None:
            node[key] = {}
        node = node[key]
    return node


def upsert_identity_provider(cluster_configuration: dict, entry: dict, oauth_options: dict | None = None) -> dict:
    """A new object with ``entry`` in place of the entry of the same name, or appended after the others.

    ``oauth_options`` (e.g. ``{"accessTokenMaxAge": "1h"}``) are set in ``oauthOptions``, existing
    keys keeping their place. Everything else is kept as it was.
    """
    if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str) or not entry["name"]:
        raise ValueError(f"the identity-provider entry must be a mapping with a non-empty name, got a {_kind(entry)}")
    if PATH[-1] in (oauth_options or {}):
        raise ValueError("oauth_options must not hold identityProviders: the entry is merged by name, never replaced as a list")
    providers, _ = _containers(cluster_configuration)
    index = _index_of(providers, entry["name"])
    result = copy.deepcopy(cluster_configuration)
    options = _oauth_options_of(result)
    for key, value in (oauth_options or {}).items():
        options[key] = copy.deepcopy(value)
    if options.get(PATH[-1]) is None:
        options[PATH[-1]] = []
    if index is None:
        options[PATH[-1]].append(copy.deepcopy(dict(entry)))
    else:
        options[PATH[-1]][index] = copy.deepcopy(dict(entry))
    return result


def _prune(result: dict, list_emptied: bool) -> None:
    """Drop the containers on the path that our removal left empty, innermost first (never ``spec``).

    Called only after something of ours was removed from ``oauthOptions`` or its list, so an empty
    container here was emptied by us, except an empty list we did not touch (``list_emptied``).
    """
    authentication = result["spec"]["authentication"]
    options = authentication["oauthOptions"]
    if list_emptied and options.get(PATH[-1]) == []:
        del options[PATH[-1]]
    if options:
        return
    del authentication["oauthOptions"]
    if not authentication:
        del result["spec"]["authentication"]


def remove_identity_provider(cluster_configuration: dict, name: str, oauth_option_keys: Iterable[str] = ()) -> dict:
    """A new object without the entry named ``name`` (absent already: an equal copy) and without
    the ``oauthOptions`` keys named in ``oauth_option_keys``.

    Only the entry and those keys go; containers that their removal left empty go too.
    """
    providers, oauth_options = _containers(cluster_configuration)
    index = _index_of(providers, name)
    keys = [k for k in oauth_option_keys if oauth_options is not None and k in oauth_options and k != PATH[-1]]
    result = copy.deepcopy(cluster_configuration)
    if index is None and not keys:
        return result
    options = _oauth_options_of(result)
    for key in keys:
        del options[key]
    if index is not None:
        del options[PATH[-1]][index]
    _prune(result, list_emptied=index is not None)
    return result


def oauth_options_before(cluster_configuration: dict, keys: Iterable[str]) -> dict:
    """The current values of ``keys`` in ``oauthOptions`` (absent keys are left out): what to put back later."""
    _, oauth_options = _containers(cluster_configuration)
    return {k: copy.deepcopy(oauth_options[k]) for k in keys if oauth_options is not None and k in oauth_options}


def restore_oauth_options(cluster_configuration: dict, set_by_us: Mapping[str, Any], before: Mapping[str, Any]) -> dict:
    """A new object in which each key of ``set_by_us`` that still holds our value gets its ``before``
    value back (or is removed when it had none). Keys someone changed after us are left alone.
    """
    _, oauth_options = _containers(cluster_configuration)
    result = copy.deepcopy(cluster_configuration)
    if oauth_options is None:
        return result
    options = _oauth_options_of(result)
    changed = False
    for key, ours in set_by_us.items():
        if key == PATH[-1] or key not in options or options[key] != ours:
            continue
        if key in before:
            options[key] = copy.deepcopy(before[key])
        else:
            del options[key]
            changed = True
    if changed:
        _prune(result, list_emptied=False)
    return result


def oauth_options_of(cluster_configuration: dict) -> dict:
    """The ``oauthOptions`` mapping as it is (a copy; empty when missing)."""
    _, oauth_options = _containers(cluster_configuration)
    return copy.deepcopy(dict(oauth_options or {}))


def with_oauth_options(cluster_configuration: dict, changes: Mapping[str, Any], absent: Any) -> dict:
    """A new object with each key of ``changes`` set to its value in ``oauthOptions``, or removed
    where the value is ``absent``; containers the removals left empty go too."""
    if PATH[-1] in changes:
        raise ValueError("oauth options must not hold identityProviders: the entry is merged by name, never replaced as a list")
    _, oauth_options = _containers(cluster_configuration)
    present = oauth_options or {}
    effective = {k: v for k, v in changes.items() if v is not absent or k in present}
    result = copy.deepcopy(cluster_configuration)
    if not effective:
        return result
    options = _oauth_options_of(result)
    for key, value in effective.items():
        if value is absent:
            del options[key]
        else:
            options[key] = copy.deepcopy(value)
    # Only containers the removals emptied go; an empty list we did not touch stays.
    _prune(result, list_emptied=False)
    return result


def needs_write(current: dict, desired: dict) -> bool:
    """True when ``desired`` differs from ``current`` as data: ks-installer re-runs on every spec
    write (minutes), so a write that changes nothing must not be made."""
    return current != desired
