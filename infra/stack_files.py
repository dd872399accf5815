"""What ``pulumi`` would hand the program as config, read from Pulumi.yaml and Pulumi.<stack>.yaml.

Pure functions, no Pulumi, no I/O: the offline plan parses the two YAML files and passes the
documents in. ``secure:`` values are never decrypted: the program gets ``[secret]`` in their place
and the key is marked secret, as the CLI marks it.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any, Mapping

SECRET_PLACEHOLDER = "[secret]"


class StackFileError(ValueError):
    """A project or stack file that cannot be read as Pulumi reads it."""


@dataclass(frozen=True)
class StackConfig:
    project: str
    stack: str
    config: dict[str, str] = field(default_factory=dict)
    """Full keys (``namespace:key``) to strings, as the CLI passes them to the program."""
    secret_keys: tuple[str, ...] = ()


#: The top-level keys of a Pulumi stack file (Pulumi's ProjectStack); nothing under any other key
#: (a `configuration:` section meant as `config:`) reaches the program.
STACK_FILE_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")


def _did_you_mean(key: str) -> str:
    close = difflib.get_close_matches(key.lower(), STACK_FILE_KEYS, n=1, cutoff=0.5)
    if not close and key.lower().startswith("config"):
        close = ["config"]
    return f" (did you mean {close[0]!r}?)" if close else ""


def _is_secure(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {"secure"}


def _without_secure(value: Any) -> tuple[Any, bool]:
    """``value`` with every ``secure:`` leaf replaced by the placeholder, and whether it had one."""
    if _is_secure(value):
        return SECRET_PLACEHOLDER, True
    if isinstance(value, Mapping):
        pairs = {k: _without_secure(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
    if isinstance(value, list):
        items = [_without_secure(v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


def _as_config_string(value: Any) -> str:
    """The string form the CLI gives the program: strings as they are, everything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _full_key(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def project_name(project_doc: Any) -> str:
    if not isinstance(project_doc, Mapping) or not isinstance(project_doc.get("name"), str):
        raise StackFileError("Pulumi.yaml must be a mapping with a 'name' (the project name)")
    return project_doc["name"]


def stack_config(project_doc: Any, stack_doc: Any, stack: str) -> StackConfig:
    """The config of ``stack``: project-level defaults from Pulumi.yaml, overridden by the stack file."""
    project = project_name(project_doc)
    values: dict[str, Any] = {}
    declared = project_doc.get("config") or {}
    if not isinstance(declared, Mapping):
        raise StackFileError("Pulumi.yaml: 'config' must be a mapping of keys to values or {default: ...}")
    for key, spec in declared.items():
        if isinstance(spec, Mapping) and not _is_secure(spec):
            if "value" in spec:
                values[_full_key(project, key)] = spec["value"]
            elif "default" in spec:
                values[_full_key(project, key)] = spec["default"]
        else:
            values[_full_key(project, key)] = spec

    if stack_doc is None:
        stack_doc = {}
    if not isinstance(stack_doc, Mapping):
        raise StackFileError(f"Pulumi.{stack}.yaml must be a mapping with a 'config' section")
    unknown = [str(k) for k in stack_doc if k not in STACK_FILE_KEYS]
    if unknown:
        raise StackFileError("; ".join(
            f"Pulumi.{stack}.yaml: unknown top-level key {key!r}{_did_you_mean(key)}: not a key of a Pulumi "
            f"stack file, so nothing under it reaches the program (known: {', '.join(STACK_FILE_KEYS)})" for key in unknown
        ))
    given = stack_doc.get("config") or {}
    if not isinstance(given, Mapping):
        raise StackFileError(f"Pulumi.{stack}.yaml: 'config' must be a mapping of keys to values")
    for key, value in given.items():
        values[_full_key(project, str(key))] = value

    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in values.items():
        if value is None:
            continue
        plain, secret = _without_secure(value)
        config[key] = _as_config_string(plain)
        if secret:
            secret_keys.append(key)
    return StackConfig(project=project, stack=stack, config=config, secret_keys=tuple(secret_keys))


def with_overrides(config: StackConfig, overrides: list[str]) -> StackConfig:
    """``config`` with ``KEY=VALUE`` overrides applied, as ``pulumi preview --config KEY=VALUE`` does:
    a key without a namespace belongs to the project; an override is plain text, never secret."""
    values = dict(config.config)
    secret_keys = list(config.secret_keys)
    for override in overrides:
        key, sep, value = override.partition("=")
        if not sep or not key.strip():
            raise StackFileError(f"--config {override!r}: expected KEY=VALUE, e.g. {config.project}:requireMfa=true")
        key = _full_key(config.project, key.strip())
        values[key] = value
        if key in secret_keys:
            secret_keys.remove(key)
    return StackConfig(project=config.project, stack=config.stack, config=values, secret_keys=tuple(secret_keys))
