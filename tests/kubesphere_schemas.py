"""Validate declared objects against KubeSphere's own CRDs (tests/fixtures/kubesphere-crds) and, for
plain ``rbac.authorization.k8s.io/v1`` objects, against the Kubernetes API's shape.

``problems(version, body)`` returns every way ``body`` would be refused or silently changed by the
API server of that KubeSphere version:

* the CRD's ``openAPIV3Schema`` for the object's apiVersion (served) rejects it (JSON-schema check);
* a field the schema does not declare, outside ``x-kubernetes-preserve-unknown-fields``, which the
  API server would prune without an error;
* ObjectMeta: a name that is not a DNS-1123 subdomain, or a label that is not a valid key/value.

3.x project and cluster bindings are ``rbac.authorization.k8s.io/v1``, built into Kubernetes (no
CRD): they are checked by a round trip through the Kubernetes Python client's generated models
(from the Kubernetes OpenAPI spec), which refuse missing required fields and drop unknown ones.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml

CRDS = Path(__file__).resolve().parent / "fixtures" / "kubesphere-crds"
#: The KubeSphere tag whose CRDs describe each supported version.
TAG_OF_VERSION = {"3.2": "v3.4.1", "3.3": "v3.4.1", "3.4": "v3.4.1", "4.1.0": "v4.1.2", "4.1.1": "v4.1.2",
                  "4.1.2": "v4.1.2", "4.1.3": "v4.1.3", "4.1": "v4.1.3"}
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_RBAC_MODELS = {"RoleBinding": "V1RoleBinding", "ClusterRoleBinding": "V1ClusterRoleBinding"}
_METADATA_FIELDS = {"name", "namespace", "labels", "annotations"}


@functools.lru_cache(maxsize=None)
def schemas(tag: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> openAPIV3Schema, for every served version of every CRD of ``tag``."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted((CRDS / tag).glob("*.yaml")):
        for crd in yaml.safe_load_all(path.read_text()):
            if not crd:
                continue
            spec = crd["spec"]
            for version in spec["versions"]:
                if version.get("served"):
                    found[(f"{spec['group']}/{version['name']}", spec["names"]["kind"])] = version["schema"]["openAPIV3Schema"]
    return found


def _metadata_problems(metadata: dict[str, Any]) -> list[str]:
    problems = [f"metadata.{k}: not set by this project's objects" for k in metadata if k not in _METADATA_FIELDS]
    name = metadata.get("name", "")
    if len(name) > 253 or not _SUBDOMAIN.fullmatch(name):
        problems.append(f"metadata.name {name!r} is not a DNS-1123 subdomain")
    for key, value in (metadata.get("labels") or {}).items():
        prefix, _, label = key.rpartition("/")
        if (prefix and (len(prefix) > 253 or not _SUBDOMAIN.fullmatch(prefix))) or len(label) > 63 or not _LABEL_NAME.fullmatch(label):
            problems.append(f"label key {key!r} is invalid")
        if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.fullmatch(value):
            problems.append(f"label {key}={value!r}: not a label value (at most 63 characters)")
    return problems


def pruned_fields(value: Any, schema: dict[str, Any], path: str = "") -> list[str]:
    """Paths in ``value`` that the API server's structural pruning would drop."""
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return []
    found: list[str] = []
    if isinstance(value, dict):
        properties = schema.get("properties")
        additional = schema.get("additionalProperties")
        for key, item in value.items():
            here = f"{path}.{key}" if path else key
            if here == "metadata":
                continue  # ObjectMeta is never pruned by the CRD schema; checked on its own
            if properties is not None and key in properties:
                found += pruned_fields(item, properties[key], here)
            elif isinstance(additional, dict):
                found += pruned_fields(item, additional, here)
            elif additional is True:
                continue
            else:
                found.append(here)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            found += pruned_fields(item, schema["items"], f"{path}[{index}]")
    return found


def _rbac_problems(body: dict[str, Any]) -> list[str]:
    from kubernetes import client

    model = _RBAC_MODELS.get(body.get("kind"))
    if model is None:
        return [f"{body.get('kind')!r} is not a rbac.authorization.k8s.io/v1 binding this project declares"]
    api = client.ApiClient()
    try:
        parsed = api._ApiClient__deserialize(body, model)  # the generated model checks required fields
    except ValueError as error:
        return [f"refused by the Kubernetes {model} model: {error}"]
    round_trip = api.sanitize_for_serialization(parsed)
    dropped = _dropped(body, round_trip)
    return [f"{path}: not a field of {model} (dropped)" for path in dropped]


def _dropped(sent: Any, kept: Any, path: str = "") -> list[str]:
    if isinstance(sent, dict):
        out: list[str] = []
        for key, value in sent.items():
            here = f"{path}.{key}" if path else key
            if not isinstance(kept, dict) or key not in kept:
                out.append(here)
            else:
                out += _dropped(value, kept[key], here)
        return out
    if isinstance(sent, list):
        return [p for i, v in enumerate(sent) for p in _dropped(v, kept[i] if isinstance(kept, list) and i < len(kept) else None, f"{path}[{i}]")]
    return []


def problems(kubesphere_version: str, body: dict[str, Any]) -> list[str]:
    """Every reason the API server of ``kubesphere_version`` would refuse or change ``body``."""
    found = _metadata_problems(body.get("metadata") or {})
    if body.get("apiVersion") == "rbac.authorization.k8s.io/v1":
        return found + _rbac_problems(body)
    tag = TAG_OF_VERSION[kubesphere_version]
    schema = schemas(tag).get((body.get("apiVersion"), body.get("kind")))
    if schema is None:
        return found + [f"KubeSphere {tag} serves no {body.get('kind')} in {body.get('apiVersion')}"]
    validator = jsonschema.Draft7Validator(schema)
    found += [f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in validator.iter_errors(body)]
    found += [f"{path}: not declared by the {tag} CRD, the API server would prune it" for path in pruned_fields(body, schema)]
    return found
