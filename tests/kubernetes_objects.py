"""The part of the stand-in API server (tests/kubernetes_api_double.py) that serves KubeSphere Users
and role bindings: GET, LIST (all namespaces, ``labelSelector``), server-side apply and DELETE.

Server-side apply as the API server does it, reduced to what the membership providers rely on
(kubernetes/kubernetes apiserver, "Server-Side Apply"): a PATCH with ``application/apply-patch+yaml``
and a ``fieldManager`` creates the object when missing; on an existing object it is refused with
409 Conflict when the applied configuration sets a field to a value another manager set, unless
``force=true``, which takes the fields over. Fields the applied configuration does not name are
left as they are. Every object gets a uid and a resourceVersion, and ``metadata.managedFields``
lists its managers. Every DELETE is recorded (``deleted``), so a test can count deletions.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from typing import Any, Optional

MEMBER_PATH = re.compile(
    r"^/(?:api/v1|apis/(?P<group>[^/]+)/(?P<version>[^/]+))(?:/namespaces/(?P<namespace>[^/]+))?"
    r"/(?P<plural>users|globalrolebindings|workspacerolebindings|rolebindings|clusterrolebindings)(?:/(?P<name>[^/]+))?$"
)


def _status(code: int, reason: str, message: str) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


def _conflicts(applied: Any, live: Any, path: str = "") -> list[str]:
    """Fields the applied configuration sets to a value other than the live one."""
    if isinstance(applied, dict) and isinstance(live, dict):
        found = []
        for key, value in applied.items():
            if key in live:
                found += _conflicts(value, live[key], f"{path}.{key}")
        return found
    return [] if applied == live else [path]


def _merge(live: dict, applied: dict) -> dict:
    merged = copy.deepcopy(live)
    for key, value in applied.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _matches(obj: dict, selector: str) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    for part in filter(None, selector.split(",")):
        if "=" in part:
            key, value = part.split("=", 1)
            if labels.get(key) != value:
                return False
        elif part not in labels:
            return False
    return True


class ObjectStore:
    def __init__(self, bump):
        self._bump = bump
        #: (group/version, plural, namespace or "", name) -> object
        self.objects: dict[tuple[str, str, str, str], dict] = {}
        #: Every accepted DELETE: (plural, namespace/name or name).
        self.deleted: list[tuple[str, str]] = []
        #: Every accepted apply: (plural, key, field manager, force).
        self.applied: list[tuple[str, str, str, bool]] = []
        #: Fail the apply of these object names with this status (then forget them).
        self.fail_applies: dict[str, int] = {}

    @staticmethod
    def _group_version(match: re.Match) -> str:
        return f"{match['group']}/{match['version']}" if match["group"] else "v1"

    def put(self, body: dict, manager: str) -> dict:
        """An object as another writer left it (``kubectl apply``, pulumi-kubernetes, the console)."""
        obj = copy.deepcopy(body)
        metadata = obj.setdefault("metadata", {})
        metadata.setdefault("uid", str(uuid.uuid4()))
        metadata["managedFields"] = [{"manager": manager, "operation": "Apply"}]
        self._bump(obj)
        plural = body["kind"].lower() + "s"
        self.objects[(body["apiVersion"], plural, metadata.get("namespace") or "", metadata["name"])] = obj
        return obj

    def of_kind(self, kind: str) -> dict[str, dict]:
        plural = kind.lower() + "s"
        return {(f"{ns}/{name}" if ns else name): obj for (_gv, p, ns, name), obj in self.objects.items() if p == plural}

    def handle(self, method: str, path: str, query: dict, raw: bytes, content_type: str) -> Optional[tuple[int, dict]]:
        """(status, body) for a request this store serves; None for any other path."""
        match = MEMBER_PATH.match(path)
        if not match:
            return None
        gv, plural, namespace, name = self._group_version(match), match["plural"], match["namespace"] or "", match["name"]
        if method == "GET" and name is None:
            selector = (query.get("labelSelector") or [""])[0]
            items = [copy.deepcopy(o) for (g, p, ns, _n), o in sorted(self.objects.items())
                     if g == gv and p == plural and (not namespace or ns == namespace) and _matches(o, selector)]
            return 200, {"apiVersion": gv, "kind": "List", "metadata": {}, "items": items}
        key = (gv, plural, namespace, name or "")
        shown = f"{namespace}/{name}" if namespace else name
        if method == "GET":
            obj = self.objects.get(key)
            return (200, copy.deepcopy(obj)) if obj else (404, _status(404, "NotFound", f'{plural} "{name}" not found'))
        if method == "DELETE":
            if key not in self.objects:
                return 404, _status(404, "NotFound", f'{plural} "{name}" not found')
            del self.objects[key]
            self.deleted.append((plural, shown))
            return 200, _status(200, "Success", "deleted")
        if method == "PATCH":
            if content_type != "application/apply-patch+yaml":
                return 415, _status(415, "UnsupportedMediaType", content_type)
            manager = (query.get("fieldManager") or [""])[0]
            if not manager:
                return 422, _status(422, "Invalid", "fieldManager is required for apply requests")
            force = (query.get("force") or ["false"])[0] == "true"
            if name in self.fail_applies:
                code = self.fail_applies.pop(name)
                return code, _status(code, "InternalError", "injected failure")
            applied = json.loads(raw)
            live = self.objects.get(key)
            if live is None:
                obj = copy.deepcopy(applied)
                obj["metadata"]["uid"] = str(uuid.uuid4())
                obj["metadata"]["managedFields"] = [{"manager": manager, "operation": "Apply"}]
            else:
                others = [m["manager"] for m in live["metadata"].get("managedFields", []) if m["manager"] != manager]
                clashes = _conflicts(applied, live)
                if others and clashes and not force:
                    return 409, _status(409, "Conflict", f"Apply failed with {len(clashes)} conflicts: conflicts with "
                                        f"{others[0]!r}: {', '.join(clashes)}")
                obj = _merge(live, applied)
                fields = [m for m in live["metadata"].get("managedFields", []) if m["manager"] != manager or not force]
                if not any(m["manager"] == manager for m in fields):
                    fields.append({"manager": manager, "operation": "Apply"})
                if force:
                    fields = [m for m in fields if m["manager"] == manager or not clashes]
                obj["metadata"]["managedFields"] = fields
            self._bump(obj)
            self.objects[key] = obj
            self.applied.append((plural, shown, manager, force))
            return 200, copy.deepcopy(obj)
        return 405, _status(405, "MethodNotAllowed", method)
