"""What the 3.x entry holds on a cluster, and what to put back: pure decisions, no Pulumi, no I/O.

The 3.x entry (``kubesphere_v3``) writes into ks-installer's ClusterConfiguration, which belongs
to the cluster and often to other teams. What it took there, and what was there before, is kept ON
THE CLUSTER, in one annotation of that object (``ANNOTATION``) written in the same PUT as the
change it describes, so a lost answer, a lost checkpoint or a rename in between can never make it
forget. This module reads and writes that annotation (the *ledger*) and makes every decision from
it; the provider only reads, calls these functions and writes. No function changes its arguments;
values (token lifetimes) are never changed in place, so a ledger may share them with its inputs.

The ledger, as JSON::

    {"version": 2,
     "entries": {"<owner>": {"name": "Okta",
                             "identity": {"type": "OIDCIdentityProvider", "issuer": "...", "clientID": "..."},
                             "adopted": "<the entry we replaced, as JSON text>"}},
     "options": {"accessTokenMaxAge": {"layers": [{"owner": null, "value": "2h"},
                                                  {"owner": "<owner>", "value": "1h"}]}}}

* ``<owner>`` is the resource's id (``kubesphere-system/ks-installer/<name at creation>``): it
  stays the same across renames, so the entry a lost rename left under its new name is still
  found by the resource that wrote it.
* ``identity`` is what makes an entry with our name ours: its ``type``, issuer and client id as
  we last wrote them. An entry under our name that matches neither this nor what we want now is
  someone else's, refused at every write unless we adopt it.
* ``adopted`` is the entry we replaced, as the JSON text it was read as, so it comes back byte
  for byte: ``null`` values, integers and key order survive (Pulumi's state keeps numbers as
  floats, drops nulls and sorts keys, so the state is not the place for it).
* ``options`` keeps, per token lifetime, a stack of layers: the cluster's own value at the
  bottom (``owner`` null; no ``value`` when the key was absent), then each integration that set
  it, the last one on top (its value is the one in force). A value found on the cluster that the
  top layer did not write is someone else's change and becomes a layer of its own (owner null).
  When an integration leaves, its layer goes; if it was on top, the value below it comes back.
  When the last integration leaves, the record goes. So with ``Okta`` setting 1h and ``Okta2``
  30m over a cluster's 2h, destroying them in either order leaves 2h.

The format of releases up to 0.3 (``{"<name>": {"keys": [...], "before": {...}}}``) is read and
converted on the next write. Anything in the annotation that is neither raises
``LedgerError`` with a message naming the object, the annotation and the field, never a Python
exception.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Iterable, Mapping, Optional

#: The annotation of the ClusterConfiguration holding the ledger.
ANNOTATION = "kubesphere-okta.io/oauth-options-before"
VERSION = 2
OBJECT = "ClusterConfiguration kubesphere-system/ks-installer"
#: The fields of an entry that decide whose it is.
IDENTITY_FIELDS = ("type", "issuer", "clientID")
#: The key of the identity-provider list inside oauthOptions, never a token lifetime.
PROVIDERS_KEY = "identityProviders"


class LedgerError(ValueError):
    """The annotation or the object is not what kubesphere-okta wrote (message is safe to show)."""


class _Absent:
    """A token lifetime that is not set (the key is absent from oauthOptions)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = _Absent()


def _fix() -> str:
    return (f"It was not written by kubesphere-okta, or was edited by hand. Correct it, or remove it with "
            f"`kubectl -n kubesphere-system annotate clusterconfiguration ks-installer {ANNOTATION}-` "
            "(what it records is then not put back on destroy). Nothing was written.")


def _bad(field: str, problem: str) -> LedgerError:
    return LedgerError(f"{OBJECT}: annotation {ANNOTATION}, {field} {problem}. {_fix()}")


def empty() -> dict:
    return {"entries": {}, "options": {}}


# --- reading ------------------------------------------------------------------------------------


def annotations_of(obj: Any) -> dict:
    """The object's annotations (a copy), refusing shapes the API server would never return."""
    if not isinstance(obj, Mapping):
        raise LedgerError(f"{OBJECT} must be an object, got {type(obj).__name__}. Nothing was written.")
    metadata = obj.get("metadata")
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise LedgerError(f"{OBJECT}: metadata must be a mapping. Nothing was written.")
    annotations = metadata.get("annotations")
    if annotations is None:
        return {}
    if not isinstance(annotations, Mapping):
        raise LedgerError(f"{OBJECT}: metadata.annotations must be a mapping of strings. Nothing was written.")
    return dict(annotations)


def read(obj: Any, *, owner: str, name: str) -> dict:
    """The ledger of ``obj`` (empty when there is none).

    ``owner`` and ``name`` are the resource reading it and the entry name its state records: a
    record of the old format under ``name`` is that resource's.
    """
    text = annotations_of(obj).get(ANNOTATION)
    if text is None:
        return empty()
    if not isinstance(text, str):
        raise _bad("the value", "must be a string of JSON")
    try:
        document = json.loads(text)
    except ValueError:
        raise _bad("the value", "is not valid JSON") from None
    if not isinstance(document, dict):
        raise _bad("the value", "must be a JSON object")
    if "version" in document and not isinstance(document.get("version"), dict):
        if document["version"] != VERSION:
            raise _bad("version", f"is {document['version']!r}; this release reads version {VERSION}")
        return _read_current(document)
    return _read_old(document, owner=owner, name=name)


def _read_current(document: dict) -> dict:
    entries = document.get("entries", {})
    options = document.get("options", {})
    if not isinstance(entries, dict):
        raise _bad("entries", "must be an object")
    if not isinstance(options, dict):
        raise _bad("options", "must be an object")
    for owner, record in entries.items():
        field = f"entries[{owner!r}]"
        if not isinstance(record, dict):
            raise _bad(field, "must be an object")
        if not isinstance(record.get("name"), str) or not record["name"]:
            raise _bad(f"{field}.name", "must be a non-empty string")
        identity = record.get("identity")
        if not isinstance(identity, dict) or any(
                not isinstance(v, (str, type(None))) for v in identity.values()):
            raise _bad(f"{field}.identity", "must be an object of strings")
        if "adopted" in record:
            _adopted_from_text(record["adopted"], f"{field}.adopted")
    for key, record in options.items():
        _check_option(key, record)
    return {"entries": entries, "options": options}  # parsed just now: nothing else holds them


def _check_option(key: str, record: Any) -> None:
    field = f"options[{key!r}]"
    if key == PROVIDERS_KEY:
        raise _bad(field, "names the identity-provider list, not a token lifetime")
    layers = record.get("layers") if isinstance(record, dict) else None
    if not isinstance(layers, list) or not layers:
        raise _bad(f"{field}.layers", "must be a non-empty list")
    for index, layer in enumerate(layers):
        if not isinstance(layer, dict) or not isinstance(layer.get("owner"), (str, type(None))):
            raise _bad(f"{field}.layers[{index}]", "must be an object with an owner (a string or null)")
    if layers[0]["owner"] is not None:
        raise _bad(f"{field}.layers[0]", "must be the cluster's own value (owner null)")


def _adopted_from_text(text: Any, field: str) -> dict:
    if not isinstance(text, str):
        raise _bad(field, "must be the adopted entry as a string of JSON")
    try:
        entry = json.loads(text)
    except ValueError:
        raise _bad(field, "is not valid JSON") from None
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
        raise _bad(field, "must be an entry with a name")
    return entry


def _read_old(document: dict, *, owner: str, name: str) -> dict:
    """Releases up to 0.3 kept, per provider name, the keys they set and the values before."""
    ledger = empty()
    for record_name, record in document.items():
        field = f"[{record_name!r}]"
        if not isinstance(record, dict):
            raise _bad(field, "must be an object with keys and before")
        keys = record.get("keys")  # those releases always wrote both
        before = record.get("before")
        if not isinstance(keys, list) or not all(isinstance(k, str) and k != PROVIDERS_KEY for k in keys):
            raise _bad(f"{field}.keys", "must be a list of oauthOptions keys")
        if not isinstance(before, dict):
            raise _bad(f"{field}.before", "must be an object")
        holder = owner if record_name == name else owner_for(record_name)
        for key in keys:
            bottom = _layer(None, before[key] if key in before else ABSENT)
            layers = ledger["options"].setdefault(key, {"layers": [bottom]})["layers"]
            layers.append({"owner": holder, "unknown": True})
    return ledger


def owner_for(name: str) -> str:
    """The owner (resource id) of an entry created under ``name``."""
    return f"kubesphere-system/ks-installer/{name}"


# --- writing ------------------------------------------------------------------------------------


def render(ledger: Mapping[str, Any]) -> Optional[str]:
    """The annotation's value, or None when the ledger holds nothing (the annotation goes).

    One text per ledger (keys sorted): a ledger equal to the one on the cluster renders the text
    already there, whatever order its records were built in, so a run that changes nothing writes
    nothing (``cluster_configuration.needs_write``). The adopted entry is a string inside it, so
    its own key order is kept."""
    entries, options = ledger["entries"], ledger["options"]
    if not entries and not options:
        return None
    return json.dumps({"version": VERSION, "entries": entries, "options": options}, sort_keys=True)


def with_ledger(obj: dict, ledger: Mapping[str, Any]) -> dict:
    """A copy of ``obj`` carrying ``ledger`` (its annotation removed when the ledger is empty)."""
    result = copy.deepcopy(obj)
    annotations = annotations_of(result)
    text = render(ledger)
    if text is None:
        annotations.pop(ANNOTATION, None)
    else:
        annotations[ANNOTATION] = text
    metadata = result.setdefault("metadata", {})
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)
    return result


# --- token lifetimes ----------------------------------------------------------------------------


def _value_of(layer: Mapping[str, Any]) -> Any:
    return layer["value"] if "value" in layer else ABSENT


def _layer(owner: Optional[str], value: Any) -> dict:
    return {"owner": owner} if value is ABSENT else {"owner": owner, "value": value}


def _observe(layers: list, current: Any) -> None:
    """A value on the cluster that the top layer did not write is someone else's: a layer of its own.
    A layer of the old format (``unknown``: its value was not recorded) takes the value found."""
    top = layers[-1]
    if top.get("unknown"):
        top.pop("unknown")
        if current is not ABSENT:
            top["value"] = current
        return
    if _value_of(top) != current:
        layers.append(_layer(None, current))


def _current(options: Mapping[str, Any], key: str) -> Any:
    return options[key] if key in options else ABSENT


def set_options(ledger: Mapping[str, Any], owner: str, current: Mapping[str, Any],
                wanted: Mapping[str, Any]) -> tuple[dict, dict]:
    """``owner`` sets ``wanted`` (token lifetimes) over the cluster's ``current`` oauthOptions and
    stops setting the keys it held but no longer wants.

    Returns the new ledger and the changes to make to oauthOptions (key -> value, or ``ABSENT`` to
    remove the key).
    """
    result = copy.deepcopy(dict(ledger))
    changes: dict = {}
    for key in sorted(set(held_keys(result, owner)) - set(wanted)):
        result, change = _leave(result, owner, key, _current(current, key))
        changes.update(change)
    for key, value in wanted.items():
        if key == PROVIDERS_KEY:
            raise ValueError("oauth options must not hold identityProviders")
        record = result["options"].setdefault(key, {"layers": [_layer(None, _current(current, key))]})
        layers = record["layers"]
        _observe(layers, _current(current, key))
        layers[:] = [layer for layer in layers if layer["owner"] != owner]
        layers.append(_layer(owner, value))
        if _current(current, key) != value:
            changes[key] = value
    return result, changes


def leave_options(ledger: Mapping[str, Any], owner: str, current: Mapping[str, Any]) -> tuple[dict, dict]:
    """``owner`` leaves: every token lifetime it set goes back to the value below its layer."""
    result = copy.deepcopy(dict(ledger))
    changes: dict = {}
    for key in sorted(held_keys(result, owner)):
        result, change = _leave(result, owner, key, _current(current, key))
        changes.update(change)
    return result, changes


def held_keys(ledger: Mapping[str, Any], owner: str) -> list[str]:
    return sorted(key for key, record in ledger["options"].items()
                  if any(layer["owner"] == owner for layer in record["layers"]))


def _leave(ledger: dict, owner: str, key: str, current: Any) -> tuple[dict, dict]:
    layers = ledger["options"][key]["layers"]
    _observe(layers, current)
    changes: dict = {}
    if layers[-1]["owner"] == owner:
        layers.pop()
        while layers[-1]["owner"] == owner:  # never two of one owner, but be sure
            layers.pop()
        below = _value_of(layers[-1])
        if below != current:
            changes[key] = below
    layers[:] = [layer for layer in layers if layer["owner"] != owner]
    if not any(layer["owner"] is not None for layer in layers):
        del ledger["options"][key]
    return ledger, changes


def seed(ledger: Mapping[str, Any], owner: str, current: Mapping[str, Any], written: Mapping[str, Any],
         before: Mapping[str, Any]) -> dict:
    """The ledger with the token lifetimes a release before the ledger (0.1.0, whose state alone
    kept them) wrote: each key ``written`` that has no record yet and still holds the value the
    state says ``owner`` wrote gets the record that release would have kept (``before``: the values
    before it, absent keys absent)."""
    result = copy.deepcopy(dict(ledger))
    for key, value in written.items():
        if key == PROVIDERS_KEY or key in result["options"] or _current(current, key) != value:
            continue
        bottom = _layer(None, before[key] if key in before else ABSENT)
        result["options"][key] = {"layers": [bottom, _layer(owner, value)]}
    return result


def restore_values(ledger: Mapping[str, Any], key: str) -> list:
    """The values of a recorded ``key`` (one of ``held_keys``) from the bottom (the cluster's own)
    to the top (in force)."""
    return [_value_of(layer) for layer in ledger["options"][key]["layers"]]


# --- entries ------------------------------------------------------------------------------------


def identity(entry: Any) -> dict:
    """What decides whose an entry is: its type, issuer and client id."""
    if not isinstance(entry, Mapping):
        return {field: None for field in IDENTITY_FIELDS}
    provider = entry.get("provider")
    provider = provider if isinstance(provider, Mapping) else {}
    found = {"type": entry.get("type"), "issuer": provider.get("issuer"), "clientID": provider.get("clientID")}
    return {k: (v if isinstance(v, str) else None) for k, v in found.items()}


def same_identity(entry: Any, other: Any, *, client_id_known: bool = True) -> bool:
    mine, theirs = identity(entry), identity(other)
    fields = IDENTITY_FIELDS if client_id_known else IDENTITY_FIELDS[:2]
    return all(mine[f] == theirs[f] for f in fields)


def differences(existing: Any, desired: Any, *, client_id_known: bool = True) -> list[str]:
    """How ``existing`` differs from ``desired`` in what decides ownership (for messages)."""
    theirs, mine = identity(existing), identity(desired)
    labels = {"type": "type", "issuer": "issuer", "clientID": "client id"}
    fields = IDENTITY_FIELDS if client_id_known else IDENTITY_FIELDS[:2]
    return [f"{labels[f]} {theirs[f]!r}" for f in fields if theirs[f] != mine[f]]


def owned_name(ledger: Mapping[str, Any], owner: str, state_name: Optional[str]) -> Optional[str]:
    """The entry name ``owner`` holds on the cluster: the ledger's (written with the entry), else
    the state's (releases before the ledger, or nothing written yet)."""
    record = ledger["entries"].get(owner)
    return record["name"] if record else state_name


def whose(ledger: Mapping[str, Any], owner: str, existing: Optional[Mapping[str, Any]], desired: Any, *,
          trusted_identity: Any = None, client_id_known: bool = True) -> str:
    """Whose the entry ``existing`` (the one under the name we want, as
    ``cluster_configuration.find_identity_provider`` gives it: a mapping, or None) is: ``"none"``
    (there is none), ``"ours"`` or ``"foreign"``.

    Ours: it has the identity we want, or the identity we last wrote under that name (the ledger's;
    else ``trusted_identity``, the state's record of what we wrote, for entries written before the
    ledger and only when the state is bound to this cluster).
    """
    if existing is None:
        return "none"
    if desired is not None and same_identity(existing, desired, client_id_known=client_id_known):
        return "ours"
    record = ledger["entries"].get(owner)
    name = existing.get("name")
    if record is not None:
        written = record["identity"] if record["name"] == name else None
    else:
        written = trusted_identity
    written = {f: written.get(f) for f in IDENTITY_FIELDS} if isinstance(written, Mapping) else {}
    if any(written.values()) and identity(existing) == written:
        return "ours"
    return "foreign"


def adopted(ledger: Mapping[str, Any], owner: str) -> Optional[dict]:
    """The entry ``owner`` replaced when it adopted its name (exactly as read), or None."""
    record = ledger["entries"].get(owner)
    if not record or "adopted" not in record:
        return None
    return json.loads(record["adopted"])  # checked by read; record_entry writes only entries


def adopted_text(ledger: Mapping[str, Any], owner: str) -> Optional[str]:
    record = ledger["entries"].get(owner)
    return record.get("adopted") if record else None


def record_entry(ledger: Mapping[str, Any], owner: str, entry: Mapping[str, Any], *,
                 adopting: Any = None, keep_adopted: bool = True) -> dict:
    """The ledger after ``owner`` wrote ``entry`` (replacing ``adopting``, an entry it adopts now)."""
    result = copy.deepcopy(dict(ledger))
    previous = result["entries"].get(owner) or {}
    record: dict = {"name": entry["name"], "identity": identity(entry)}
    if adopting is not None:
        record["adopted"] = json.dumps(adopting)
    elif keep_adopted and "adopted" in previous:
        record["adopted"] = previous["adopted"]
    result["entries"][owner] = record
    return result


def owner_named(ledger: Mapping[str, Any], name: Optional[str]) -> Optional[str]:
    """The owner whose entry is named ``name`` (None when none or several): for a preview, which
    is not told the resource's id."""
    found = [owner for owner, record in ledger["entries"].items() if record["name"] == name]
    return found[0] if len(found) == 1 else None


def forget_entry(ledger: Mapping[str, Any], owner: str) -> dict:
    result = copy.deepcopy(dict(ledger))
    result["entries"].pop(owner, None)
    return result


def adopted_from_state(value: Any) -> Optional[str]:
    """The adopted entry as the state of a release before the ledger kept it (a mapping), as JSON
    text; None when there is none or it is not an entry."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("name"), str):
        return json.dumps(dict(value))
    return None
