"""Which cluster a stack writes to, and what it may take there: pure decisions, no Pulumi, no I/O.

A stack is bound to the cluster it first wrote to. The binding is a small mapping recorded in the
state of every resource that writes to the cluster (the 3.x ClusterConfiguration entry and the
cluster guards that stand before and after the pulumi-kubernetes objects)::

    {"server": "https://10.0.0.1:6443", "kube_system_uid": "4f0c...", "cluster_configuration_uid": "9a1e..."}

``kube_system_uid`` (the ``metadata.uid`` of the ``kube-system`` Namespace) is what identifies the
cluster: it is set once when the cluster is created and never changes, whatever the API server's
address, load balancer or credentials. ``server`` is kept to name the cluster in messages; a new
address with the same uid is the same cluster. ``cluster_configuration_uid`` names the object the
3.x entry was written to; ks-installer may re-create that object on upgrade, so it is reported,
never used to refuse.

Also here: who owns an identity-provider entry with our name (3.x), which other 4.1 Secrets define
our provider name (KubeSphere's webhook refuses a second one), and which combinations of cluster
selectors are ambiguous. The dynamic provider in ``kubesphere_v3`` carries this module by value
into Pulumi's state, so it imports nothing of this package.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Iterable, Mapping, Optional

import yaml

from .kubeconfig_loading import KubeconfigError, resolve_kubeconfig

#: The config key and argument that accept a rebuilt cluster (docs/cluster-binding.md).
REBIND_CONFIG_KEY = "kubesphere-okta:rebindCluster"
#: The config key and argument that let a stack take over a provider entry it did not create.
ADOPT_CONFIG_KEY = "kubesphere-okta:adoptExistingProvider"
DOCS = "docs/cluster-binding.md"
#: The Secret type KubeSphere 4.1 reads identity providers from (kubesphere/kubesphere@v4.1.3:
#: pkg/apiserver/authentication/identityprovider/configuration.go, ``SecretTypeIdentityProvider``).
IDENTITY_PROVIDER_SECRET_TYPE = "config.kubesphere.io/identityprovider"


class ClusterMismatch(Exception):
    """The cluster reached now is not the one this stack wrote to (message is safe to show)."""


def describe(identity: Optional[Mapping[str, Any]]) -> str:
    """A cluster as a person recognises it: its API server and its kube-system uid."""
    if not identity:
        return "an unknown cluster"
    return f"{identity.get('server') or '?'} (kube-system uid {identity.get('kube_system_uid') or '?'})"


def is_identity(value: Any) -> bool:
    return isinstance(value, Mapping) and isinstance(value.get("kube_system_uid"), str) and bool(value["kube_system_uid"])


def binding_changed(recorded: Any, planned: Any) -> bool:
    """True when ``planned`` (the binding check put in the new inputs) is a cluster identity that
    ``recorded`` (the old one) is not: a first binding, or a rebind. ``diff`` then reports a change,
    so that ``update`` records it."""
    return is_identity(planned) and (not is_identity(recorded) or recorded["kube_system_uid"] != planned["kube_system_uid"])


def decide(recorded: Any, live: Mapping[str, Any], rebind: Any = None) -> str:
    """How a write to the ``live`` cluster relates to the ``recorded`` binding.

    ``"first"``: nothing recorded yet (first write, or state written before bindings existed);
    ``"same"``: the same cluster (maybe at a new address); ``"rebind"``: another cluster whose
    kube-system uid the stack explicitly accepted (``rebind``); ``"mismatch"``: anything else.
    """
    if not is_identity(recorded):
        return "first"
    if recorded["kube_system_uid"] == live.get("kube_system_uid"):
        return "same"
    if isinstance(rebind, str) and rebind and rebind == live.get("kube_system_uid"):
        return "rebind"
    return "mismatch"


def mismatch_message(what: str, verb: str, recorded: Mapping[str, Any], live: Mapping[str, Any]) -> str:
    """One message naming both clusters, the likely cause and the ways out."""
    return (
        f"refusing to {verb} {what}: this stack wrote it to the cluster at {describe(recorded)}, but the "
        f"kubeconfig now reaches {describe(live)}. Nothing was written or deleted. Most likely the "
        "kubeconfig or its context points at another cluster: check `kubectl config current-context`, "
        "KUBECONFIG, and this stack's kubernetes:kubeconfig / kubernetes:context. If the old cluster was "
        "really rebuilt and this one replaces it, accept it once with `pulumi config set "
        f"{REBIND_CONFIG_KEY} {live.get('kube_system_uid') or '<kube-system uid>'}` and run `pulumi up`; "
        f"if it is gone for good and you only want to forget it, see {DOCS} (pulumi state delete)."
    )


def check(what: str, verb: str, recorded: Any, live: Mapping[str, Any], rebind: Any = None) -> str:
    """``decide``, raising ``ClusterMismatch`` with the full message on a mismatch."""
    decision = decide(recorded, live, rebind)
    if decision == "mismatch":
        raise ClusterMismatch(mismatch_message(what, verb, recorded, live))
    return decision


def updated(recorded: Any, live: Mapping[str, Any]) -> dict:
    """The binding to store after a write to ``live`` (same cluster: its current address and object uid)."""
    return {k: live.get(k) for k in ("server", "kube_system_uid", "cluster_configuration_uid") if live.get(k)}


# --- a 3.x entry that is not ours -------------------------------------------------------------


def foreign_entry_message(name: str, differences: Iterable[str], *, renaming_from: Optional[str] = None) -> str:
    what = ", ".join(differences)
    if renaming_from:
        return (
            f"cannot rename identity provider {renaming_from!r} to {name!r}: the ClusterConfiguration already "
            f"holds another provider named {name!r} ({what}), which this stack did not create and would "
            "otherwise overwrite and later delete. Choose another provider_name, or remove that entry first."
        )
    return (
        f"the ClusterConfiguration already holds an identity provider named {name!r} that this stack did "
        f"not create ({what}). Nothing was written. Choose another provider_name, or take it over with "
        f"`pulumi config set {ADOPT_CONFIG_KEY} true` (argument adopt_existing_provider): the entry is then "
        f"replaced by ours, kept in state, and put back as it was on `pulumi destroy` ({DOCS})."
    )


# --- 4.1: identity-provider Secrets ---------------------------------------------------------------


def secret_provider_name(secret: Mapping[str, Any], key: str = "configuration.yaml") -> Optional[str]:
    """The provider name a KubeSphere 4.1 identity-provider Secret defines (None when unreadable)."""
    text = None
    string_data = secret.get("stringData")
    if isinstance(string_data, Mapping) and isinstance(string_data.get(key), str):
        text = string_data[key]
    data = secret.get("data")
    if text is None and isinstance(data, Mapping) and isinstance(data.get(key), str):
        try:
            text = base64.b64decode(data[key], validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return None
    if text is None:
        return None
    return _configuration_name(text)


def _configuration_name(text: str) -> Optional[str]:
    """The ``name`` of a ``configuration.yaml`` as KubeSphere 4.1 reads it: gopkg.in/yaml.v3's
    ``Unmarshal`` into configuration.go's ``Configuration``
    (kubesphere/kubesphere@v4.1.3:pkg/apiserver/authentication/identityprovider/configuration.go,
    ``UnmarshalFrom``). Only the first document counts. A document yaml.v3 cannot unmarshal (see
    ``_decodes``) defines none: KubeSphere skips that Secret (``ListConfigurations``). ``name`` is
    a string field, so any scalar is its text (``name: 123`` names provider "123", not the number
    PyYAML would make of it), and a null is the empty name, which is none."""
    try:
        document = next(iter(yaml.compose_all(text, Loader=yaml.SafeLoader)), None)
    except (yaml.YAMLError, RecursionError):  # nested deeper than PyYAML reads: unreadable here
        return None
    if not isinstance(document, yaml.MappingNode) or not _decodes(document):
        return None
    name = next((value for key, value in document.value if key.value == "name"), None)
    if name is None or name.tag == _NULL_TAG:
        return None
    return name.value or None


_NULL_TAG = "tag:yaml.org,2002:null"
_BOOL_TAG = "tag:yaml.org,2002:bool"
#: configuration.go's string fields (``MappingMethod`` is a string type) and bool fields.
_TEXT_FIELDS = frozenset({"name", "mappingMethod", "type", "displayName"})
_FLAG_FIELDS = frozenset({"hidden", "disabled"})
#: What yaml.v3 puts in a bool field: YAML 1.2's true and false (untagged or ``!!bool``), and as
#: text (quoted too) YAML 1.1's words.
_BOOL_LITERALS = frozenset({"true", "True", "TRUE", "false", "False", "FALSE"})
_BOOL_WORDS = frozenset({"y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "n", "N", "no", "No", "NO", "off", "Off", "OFF"})


def _decodes(document: yaml.MappingNode) -> bool:
    """Whether yaml.v3 unmarshals ``document`` into ``Configuration`` without an error: text keys,
    each given once; each field null or of its kind (a scalar for a string, a bool for a bool, a
    mapping for ``provider``, a map of anything whose mappings have text keys given once).
    Other keys are not decoded, so nothing under them matters."""
    if not _distinct_text_keys(document):
        return False
    for key, value in document.value:
        if isinstance(value, yaml.ScalarNode) and value.tag == _NULL_TAG:
            continue
        if key.value in _TEXT_FIELDS and not isinstance(value, yaml.ScalarNode):
            return False
        if key.value in _FLAG_FIELDS and not _is_bool(value):
            return False
        if key.value == "provider" and not (isinstance(value, yaml.MappingNode) and _maps_decode(value)):
            return False
    return True


def _is_bool(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and (
        node.value in _BOOL_WORDS or (node.tag == _BOOL_TAG and node.value in _BOOL_LITERALS))


def _distinct_text_keys(mapping: yaml.MappingNode) -> bool:
    keys = [key.value for key, _value in mapping.value if isinstance(key, yaml.ScalarNode)]
    return len(keys) == len(mapping.value) and len(set(keys)) == len(keys)


def _maps_decode(node: yaml.Node) -> bool:
    """Whether every mapping within ``node`` has distinct text keys and no node holds itself
    (yaml.v3: "anchor ... value contains itself"). A loop, not recursion: a deeply nested document
    is read, never a crash; a node met again through an alias is checked once."""
    pending: list = [(node, False)]
    within, checked = set(), set()
    while pending:
        current, leaving = pending.pop()
        if leaving:
            within.discard(id(current))
            checked.add(id(current))
            continue
        if id(current) in within:
            return False
        if id(current) in checked or isinstance(current, yaml.ScalarNode):
            continue
        if isinstance(current, yaml.MappingNode) and not _distinct_text_keys(current):
            return False
        within.add(id(current))
        pending.append((current, True))
        children = [value for _key, value in current.value] if isinstance(current, yaml.MappingNode) else current.value
        pending.extend((child, False) for child in children)
    return True


def conflicting_secrets(secrets: Iterable[Mapping[str, Any]], provider_name: str, our_secret: str) -> list[str]:
    """Names of the other identity-provider Secrets that define ``provider_name``.

    KubeSphere 4.1's admission webhook refuses to create a second Secret defining a provider name
    that one already defines (kubesphere/kubesphere@v4.1.3:pkg/controller/config/identityprovider/webhook.go,
    ``ValidateCreate``), so such a Secret makes our create fail. It looks among the Secrets of type
    ``IDENTITY_PROVIDER_SECRET_TYPE`` only (configuration.go, ``ListConfigurations``): one of
    another type, even with the label, defines nothing.
    """
    found = []
    for secret in secrets:
        name = (secret.get("metadata") or {}).get("name")
        if secret.get("type") != IDENTITY_PROVIDER_SECRET_TYPE:
            continue
        if name != our_secret and secret_provider_name(secret) == provider_name:
            found.append(name)
    return sorted(found)


def conflicting_secret_message(provider_name: str, our_secret: str, others: list[str], namespace: str) -> str:
    listed = ", ".join(f"{namespace}/{n}" for n in others)
    return (
        f"KubeSphere already has an identity provider named {provider_name!r}, defined by Secret {listed}. "
        f"Its webhook refuses a second Secret ({namespace}/{our_secret}) with the same provider name, so "
        "`pulumi up` would fail there. Choose another provider_name, or delete that Secret (or import it "
        "into this stack) first."
    )


def rename_in_place_message(old: str, new: str, secret: str, namespace: str) -> str:
    return (
        f"cannot rename identity provider {old!r} to {new!r}: both live in Secret {namespace}/{secret}, and "
        "KubeSphere's webhook refuses to change the provider name inside an existing Secret "
        "(\"the provider name is immutable\"). Choose a name that differs by more than upper/lower case, "
        "'_' or '.', so the rename becomes a new Secret (a replace)."
    )


# --- selecting the cluster ------------------------------------------------------------------------


def selection_problems(*, has_kubernetes_provider: bool, kubeconfig_given: bool, kube_context_given: bool) -> list[tuple[str, str]]:
    """Refuse combinations that could send KubeSphere objects to two clusters."""
    if not has_kubernetes_provider:
        return []
    also = [n for n, given in (("kubeconfig", kubeconfig_given), ("kube_context", kube_context_given)) if given]
    if also:
        detail = f"and {' and '.join(also)}: two selectors that may name different clusters"
    else:
        detail = (
            "alone: the ks-installer entry and the cluster guards are written by this component's own "
            "client, which cannot read which cluster a provider object reaches"
        )
    return [(
        "opts",
        f"a kubernetes provider in opts {detail}. Pass kubeconfig= and kube_context= (the values you "
        "would give the kubernetes provider) and no kubernetes provider: the component builds its one "
        "provider from them, so every KubeSphere object reaches the same cluster.",
    )]


def default_provider_warnings(*, explicit: bool, cluster_override: Optional[str]) -> list[str]:
    """What the default-provider path (no kubeconfig/kube_context arguments) cannot follow: the
    default provider honours ``kubernetes:cluster`` (a kubeconfig cluster other than the context's),
    the component's own client does not."""
    if explicit or not cluster_override:
        return []
    return [
        f"kubernetes:cluster is set ({cluster_override!r}): the default kubernetes provider writes the "
        "KubeSphere objects to that kubeconfig cluster, but the cluster guards, the 3.x entry and the "
        "role check reach the cluster of the context. Unset kubernetes:cluster and point "
        "kubernetes:context at a context for that cluster instead."
    ]


# --- kubeconfig contents --------------------------------------------------------------------------


def kubeconfig_problem(contents: Any, context: Optional[str] = None) -> Optional[str]:
    """Why client-go could not use kubeconfig CONTENTS with ``context`` (None when it can), naming
    the key at fault and never a value. ``kubeconfig_loading`` is the one truth; this only asks it."""
    if not isinstance(contents, str) or not contents.strip():
        return "kubeconfig is empty: give the file's contents or its path"
    try:
        resolve_kubeconfig(contents, context, {}, "/", is_file=lambda _path: False)
    except KubeconfigError as error:
        return str(error)
    return None
