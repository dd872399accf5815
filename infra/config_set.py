"""``pulumi config set [--path]`` and ``pulumi config rm [--path]`` applied to a stack file's config map,
as the Pulumi CLI applies them. Pure functions, no Pulumi import, no I/O.

The map holds full keys (``kubesphere-okta:roleBindings``) to values as the stack file holds them
(infra/pulumi_yaml.py decodes them): strings, booleans, numbers, lists, mappings. The rules, from
pulumi/pulumi@v3.259.0:

* pkg/cmd/pulumi/config/io.go ``parseConfigKey``: with ``--path`` only the part before the first
  ``[`` or ``.`` is a config key (namespaced with the project when it has no ``:``); the rest is a path.
* sdk/go/common/resource/properties_path.go ``parsePropertyPath``: ``name``, ``.name``, ``[0]``,
  ``["key"]`` (inside quotes only ``\\"`` is an escape).
* sdk/go/common/resource/config/map.go ``Map.Set``/``Map.Remove`` and object.go ``object.Set``/
  ``object.Delete``: without ``--path``, or with a one-segment path, the key is set to the text as a
  string. Deeper, the value is coerced (``true``/``false`` to booleans, decimal integers without a
  leading 0 to integers; value.go ``coerce``), containers are created as the next accessor asks
  (``x[2]`` on nothing makes ``[null, null, value]``), an index may append (``len``) but not skip,
  a scalar at the top level is replaced by a container, a scalar deeper is an error ("expected a map"),
  and a list never takes a string key. ``rm --path`` of something absent does nothing.
* pkg/cmd/pulumi/config/config.go: ``--type string`` keeps the text a string where it would be coerced.
"""

from __future__ import annotations

import copy
import re
import shlex
from typing import Any, Mapping

_DECIMAL = re.compile(r"[+-]?[0-9]+")


class ConfigSetError(ValueError):
    """What the CLI would answer instead of changing the stack file."""


def parse_path(path: str) -> list[str | int]:
    """``parsePropertyPath(path, false)``: the accessors of ``path``."""
    if path.startswith("."):
        raise ConfigSetError("expected property path to start with a name or index")
    elements: list[str | int] = []
    while path:
        if path[0] == ".":
            path = path[1:]
            if not path:
                raise ConfigSetError("expected property path to end with a name or index")
        elif path[0] == "[":
            if len(path) > 1 and path[1] == '"':
                key, i = [], 2
                while True:
                    if i >= len(path):
                        raise ConfigSetError("missing closing quote in property name")
                    if path[i] == '"':
                        i += 1
                        break
                    if path[i] == "\\" and i + 1 < len(path) and path[i + 1] == '"':
                        key.append('"')
                        i += 2
                    else:
                        key.append(path[i])
                        i += 1
                if i >= len(path) or path[i] != "]":
                    raise ConfigSetError("missing closing bracket in property access")
                elements.append("".join(key))
                path = path[i + 1:]
            else:
                end = path.find("]")
                if end == -1:
                    raise ConfigSetError("missing closing bracket in array index")
                segment = path[1:end]
                if segment == "*":
                    elements.append("*")
                elif not _DECIMAL.fullmatch(segment):
                    raise ConfigSetError(f"invalid array index: {segment!r}")
                else:
                    elements.append(int(segment, 10))
                path = path[end + 1:]
        else:
            end = min([i for i in (path.find("."), path.find("[")) if i != -1] or [len(path)])
            elements.append(path[:end])
            path = path[end:]
    return elements


def config_key(key: str, project: str, *, path: bool) -> tuple[str, list[str | int]]:
    """(full config key, accessors below it) as ``parseConfigKey`` and ``parseKeyPath`` read ``key``."""
    rest = ""
    if path:
        cut = min([i for i in (key.find("["), key.find(".")) if i > 0] or [len(key)])
        key, rest = key[:cut], key[cut:]
    if ":" not in key:
        key = f"{project}:{key}"
    namespace, sep, name = key.partition(":")
    if ":" in name:
        raise ConfigSetError(f"could not parse {key} as a configuration key")
    if not path:
        return key, []
    accessors = parse_path(name + rest)
    if not accessors or not isinstance(accessors[0], str) or not accessors[0]:
        raise ConfigSetError("config key is empty")
    return f"{namespace}:{accessors[0]}", accessors[1:]


def coerce(text: str) -> Any:
    """value.go ``coerce``: what a ``--path`` value below the top level becomes."""
    if text in ("true", "false"):
        return text == "true"
    if len(text) > 1 and text[0] == "0":
        return text
    if _DECIMAL.fullmatch(text):
        number = int(text, 10)
        if -(2 ** 63) <= number < 2 ** 64:
            return number
    return text


def _new_container(accessor: str | int) -> Any:
    return [None] * (accessor + 1) if isinstance(accessor, int) else {}


def _set(container: Any, depth: int, accessors: list[str | int], new: Any, where: list[Any]) -> Any:
    """object.Set: ``container`` with ``new`` at ``accessors``; ``depth`` 1 is the config key's own value."""
    if not accessors:
        return new
    head = accessors[0]
    if container is None or (not isinstance(container, (list, dict)) and depth == 1):
        container = _new_container(head)
    elif not isinstance(container, (list, dict)):
        raise ConfigSetError(f"{where}: expected {'an array' if isinstance(head, int) else 'a map'}")
    where = [*where, head]
    if isinstance(container, list):
        if not isinstance(head, int):
            raise ConfigSetError(f"{where}: key for an array must be an int")
        if head < 0 or head > len(container):
            raise ConfigSetError(f"{where}: array index out of range")
        if head == len(container):
            container.append(None)
        container[head] = _set(container[head], depth + 1, accessors[1:], new, where)
        return container
    if not isinstance(head, str):
        raise ConfigSetError(f"{where}: key for a map must be a string")
    container[head] = _set(container.get(head), depth + 1, accessors[1:], new, where)
    return container


def _delete(container: Any, accessors: list[str | int]) -> None:
    """object.Delete: remove what ``accessors`` reach, if anything."""
    head = accessors[0]
    if isinstance(container, list):
        if not isinstance(head, int) or not 0 <= head < len(container):
            return
        if len(accessors) == 1:
            del container[head]
        else:
            _delete(container[head], accessors[1:])
    elif isinstance(container, dict):
        if not isinstance(head, str) or head not in container:
            return
        if len(accessors) == 1:
            del container[head]
        else:
            _delete(container[head], accessors[1:])


def config_set(config: Mapping[str, Any], key: str, value: str, *, project: str, path: bool = False,
               as_string: bool = False) -> dict[str, Any]:
    """The config map after ``pulumi config set [--path] [--type string] key value`` (map.go ``Map.Set``;
    a typed value is not coerced: value.go ``coerceObject``)."""
    full, accessors = config_key(key, project, path=path)
    result = copy.deepcopy(dict(config))
    if not accessors:
        result[full] = value
        return result
    result[full] = _set(result.get(full), 1, accessors, value if as_string else coerce(value), [full.split(":", 1)[1]])
    return result


def config_rm(config: Mapping[str, Any], key: str, *, project: str, path: bool = False) -> dict[str, Any]:
    """The config map after ``pulumi config rm [--path] key`` (map.go ``Map.Remove``)."""
    full, accessors = config_key(key, project, path=path)
    result = copy.deepcopy(dict(config))
    if not accessors:
        result.pop(full, None)
    elif full in result:
        _delete(result[full], accessors)
    return result


def apply_commands(config: Mapping[str, Any], commands: str, *, project: str) -> dict[str, Any]:
    """``commands`` (``pulumi config ...`` joined by ``&&``, shell-quoted) applied in order, as a shell runs them."""
    words = shlex.split(commands)
    result = dict(config)
    while words:
        try:
            end = words.index("&&")
        except ValueError:
            end = len(words)
        command, words = words[:end], words[end + 1:]
        if command[:2] != ["pulumi", "config"] or len(command) < 4 or command[2] not in ("set", "rm"):
            raise ConfigSetError(f"not a pulumi config set/rm command: {shlex.join(command)}")
        flags, operands, typed, rest = [], [], None, command[3:]
        while rest:
            word, rest = rest[0], rest[1:]
            if word == "--type" and rest:
                typed, rest = rest[0], rest[1:]
            elif word.startswith("--type="):
                typed = word.split("=", 1)[1]
            elif word.startswith("--"):
                flags.append(word)
            else:
                operands.append(word)
        if set(flags) - {"--path", "--secret", "--plaintext"} or typed not in (None, "string"):
            raise ConfigSetError(f"unknown flag in {shlex.join(command)}")
        path = "--path" in flags
        if command[2] == "set":
            if len(operands) != 2:
                raise ConfigSetError(f"config set takes a key and a value: {shlex.join(command)}")
            result = config_set(result, operands[0], operands[1], project=project, path=path, as_string=typed == "string")
        else:
            if len(operands) != 1:
                raise ConfigSetError(f"config rm takes a key: {shlex.join(command)}")
            result = config_rm(result, operands[0], project=project, path=path)
    return result
