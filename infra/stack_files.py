"""What ``pulumi`` would hand the program as config, read from Pulumi.yaml and Pulumi.<stack>.yaml.

Pure functions, no Pulumi, no I/O: the offline plan parses the two YAML files and passes the
documents in. ``secure:`` values are never decrypted: the program gets ``[secret]`` in their place
and the key is marked secret, as the CLI marks it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from infra.pulumi_yaml import PulumiYamlError, config_text

SECRET_PLACEHOLDER = "[secret]"
#: Where a value given with ``--config KEY=VALUE`` comes from, as messages name it.
COMMAND_LINE = "--config"


class StackFileError(ValueError):
    """A project or stack file that cannot be read as Pulumi reads it."""


@dataclass(frozen=True)
class StackConfig:
    project: str
    stack: str
    config: dict[str, str] = field(default_factory=dict)
    """Full keys (``namespace:key``) to strings, as the CLI passes them to the program."""
    secret_keys: tuple[str, ...] = ()
    sources: dict[str, str] = field(default_factory=dict)
    """Full key to where its value comes from: ``Pulumi.<stack>.yaml``, ``Pulumi.yaml`` or ``--config``."""
    warnings: tuple[str, ...] = ()
    """What the CLI warns about while reading the files (a key without a value)."""


#: The top-level keys of a Pulumi stack file (Pulumi's ProjectStack); nothing under any other key
#: (a `configuration:` section meant as `config:`) reaches the program.
STACK_FILE_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")


def _did_you_mean(key: str) -> str:
    close = difflib.get_close_matches(key.lower(), STACK_FILE_KEYS, n=1, cutoff=0.5)
    if not close and key.lower().startswith("config"):
        close = ["config"]
    return f" (did you mean {close[0]!r}?)" if close else ""


_SURROGATE = re.compile(r"[\ud800-\udfff]")


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


def _as_config_string(value: Any, key: str, file: str) -> str:
    """The string the CLI gives the program: strings as they are, everything else as Go's JSON."""
    try:
        return config_text(value)
    except PulumiYamlError as error:
        raise StackFileError(f"{file}: {key}: {error}: Pulumi cannot pass it to the program") from None


def _full_key(project: str, key: str, file: str = "Pulumi.yaml") -> str:
    """``key`` as Pulumi's ``config.ParseKey`` reads it, after namespacing a bare key with the project
    (pulumi/pulumi@v3.259.0: sdk/go/common/resource/config/key.go, workspace/loaders.go
    ``stackConfigNamespacedWithProject``): ``ns:name``, or the old ``ns:config:name``."""
    if ":" not in key:
        return f"{project}:{key}"
    parts = key.split(":")
    if len(parts) == 2:
        return key
    if len(parts) == 3 and parts[1] == "config" and re.fullmatch(r"[A-Za-z_][\w.-]*", parts[0] or "-") and parts[2]:
        return f"{parts[0]}:{parts[2]}"
    raise StackFileError(f"{file}: config key {key!r} is not of the form <namespace>:<name> (Pulumi cannot parse it); "
                         f"use {parts[0]}:{parts[-1]}")


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
    sources: dict[str, str] = {}
    for key, spec in declared.items():
        full = _full_key(project, str(key))
        if isinstance(spec, Mapping) and not _is_secure(spec):
            if "value" in spec:
                values[full] = spec["value"]
            elif "default" in spec:
                values[full] = spec["default"]
            else:
                continue
        else:
            values[full] = spec
        sources[full] = "Pulumi.yaml"

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
    stack_file = f"Pulumi.{stack}.yaml"
    empty: list[str] = []
    for key, value in given.items():
        if not isinstance(key, str):
            raise StackFileError(f"{stack_file}: config key {key!r} is not a string: quote it")
        full = _full_key(project, key, stack_file)
        if full in values and sources.get(full) == stack_file:
            raise StackFileError(f"{stack_file}: config keys {key!r} and another spelling of it both set {full}: keep one")
        values[full] = value
        sources[full] = stack_file
        if value is None:
            empty.append(full)

    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in values.items():
        plain, secret = _without_secure(value)
        config[key] = _as_config_string(plain, key, sources[key])
        if secret:
            secret_keys.append(key)
    warnings = tuple(
        f"{stack_file}: {key} has no value, which Pulumi passes to the program as an empty string \"\" "
        "(and will pass as null in a future version): give it a value or remove the key"
        for key in empty
    )
    return StackConfig(project=project, stack=stack, config=config, secret_keys=tuple(secret_keys), sources=sources,
                       warnings=warnings)


def with_overrides(config: StackConfig, overrides: list[str]) -> StackConfig:
    """``config`` with ``KEY=VALUE`` overrides applied, as ``pulumi preview --config KEY=VALUE`` does:
    a key without a namespace belongs to the project; an override is plain text, never secret."""
    values = dict(config.config)
    secret_keys = list(config.secret_keys)
    sources = dict(config.sources)
    for override in overrides:
        key, sep, value = override.partition("=")
        if not sep or not key.strip():
            raise StackFileError(f"--config {override!r}: expected KEY=VALUE, e.g. {config.project}:requireMfa=true")
        key = _full_key(config.project, key.strip(), "--config")
        if _SURROGATE.search(key + value):
            raise StackFileError(f"--config {key}: the value is not valid Unicode (bytes the command line could not "
                                 "decode): Pulumi refuses it; pass the value as UTF-8")
        values[key] = value
        sources[key] = COMMAND_LINE
        if key in secret_keys:
            secret_keys.remove(key)
    return StackConfig(project=config.project, stack=config.stack, config=values, secret_keys=tuple(secret_keys),
                       sources=sources, warnings=config.warnings)
