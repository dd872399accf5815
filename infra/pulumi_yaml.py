"""Read a Pulumi.yaml or Pulumi.<stack>.yaml as the Pulumi CLI reads it, and say each config value
as the CLI hands it to the program. Pure functions, no Pulumi import, no I/O.

The CLI parses project and stack files with gopkg.in/yaml.v3 (pulumi/pulumi@v3.259.0:
sdk/go/common/encoding/marshal.go), which follows YAML 1.2 and not PyYAML's YAML 1.1:

* Only ``true``/``True``/``TRUE`` and ``false``/``False``/``FALSE`` are booleans; ``yes``, ``no``,
  ``on``, ``off``, ``y``, ``n`` are strings (go-yaml/yaml@v3.0.1: resolve.go, ``resolveMapList``).
  So ``requireMfa: no`` reaches the program as the text ``no``, which it refuses, exactly as it
  refuses ``--config kubesphere-okta:requireMfa=no``.
* Integers as Go's ``strconv.ParseInt(s, 0, 64)`` reads them once ``_`` is removed (``0x1F``,
  ``0o17``, ``017`` = 15, ``+5``), else floats by YAML 1.2's pattern; timestamps become Go times.
* A key that appears twice in one mapping is an error (decode.go: "mapping key ... already defined"),
  and so is a document that expands aliases out of proportion (decode.go: "document contains
  excessive aliasing"), an anchor that contains itself, and a ``\\u`` escape of a lone surrogate
  (scannerc.go: "found invalid Unicode character escape code").

The CLI then keeps each top-level config value as a ``config.Value``: a string stays the string; a
boolean or number becomes its JSON text; a list or mapping becomes JSON (Go's ``json.Marshal``:
mapping keys sorted, ``<``, ``>``, ``&`` escaped), and a null becomes ``""`` with a warning
(pulumi/pulumi@v3.259.0: sdk/go/common/resource/config/object.go ``MarshalString``, plaintext.go
``marshalText``, sdk/go/common/workspace/loaders.go ``checkForEmptyConfig``). That text is what the
program finds in ``PULUMI_CONFIG`` (sdk/python/lib/pulumi/runtime/config.py ``get_config_env``).
"""

from __future__ import annotations

import base64
import datetime
import json
import math
import re
from decimal import Decimal
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

#: yaml.v3 refuses a document once alias expansion dominates it (decode.go ``allowedAliasRatio``);
#: on top of that rule, no stack file needs this many values: refuse well before memory or time matter.
MAX_DECODED_NODES = 100_000


class PulumiYamlError(ValueError):
    """A file the Pulumi CLI would refuse to load (or would load into something else than it says)."""


class _Timestamp(str):
    """A plain scalar yaml.v3 resolves to a Go ``time.Time``; the text is what ``Time.String()`` prints."""


_PLAIN = "<plain>"
_STR, _BOOL, _INT, _FLOAT, _NULL = "tag:yaml.org,2002:str", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", \
    "tag:yaml.org,2002:float", "tag:yaml.org,2002:null"
_TIMESTAMP, _BINARY, _MERGE = "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary", "tag:yaml.org,2002:merge"
_RESOLVABLE = {_PLAIN, _STR, _BOOL, _INT, _FLOAT, _NULL, _TIMESTAMP}


class _Loader(yaml.SafeLoader):
    """PyYAML's parser and composer only: plain scalars keep a marker tag, resolved below as yaml.v3 does."""

    def resolve(self, kind, value, implicit):  # noqa: D401 - PyYAML's hook
        if kind is ScalarNode and implicit[0]:
            return _PLAIN
        return super().resolve(kind, value, (False, False)) if kind is ScalarNode else super().resolve(kind, value, implicit)


_RESOLVE_MAP: dict[str, tuple[str, Any]] = {
    **{s: (_BOOL, True) for s in ("true", "True", "TRUE")},
    **{s: (_BOOL, False) for s in ("false", "False", "FALSE")},
    **{s: (_NULL, None) for s in ("", "~", "null", "Null", "NULL")},
    **{s: (_FLOAT, math.nan) for s in (".nan", ".NaN", ".NAN")},
    **{s: (_FLOAT, math.inf) for s in (".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF")},
    **{s: (_FLOAT, -math.inf) for s in ("-.inf", "-.Inf", "-.INF")},
    "<<": (_MERGE, "<<"),
}
_YAML_STYLE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_INT64 = (-(2 ** 63), 2 ** 63 - 1)
_DIGITS = {2: "01", 8: "01234567", 10: "0123456789", 16: "0123456789abcdefABCDEF"}


def go_parse_int(text: str, *, unsigned: bool = False) -> int | None:
    """Go's ``strconv.ParseInt(text, 0, 64)`` (or ``ParseUint``): None where Go reports an error."""
    sign, body = 1, text
    if not unsigned and body[:1] in "+-" and body:
        sign, body = (-1 if body[0] == "-" else 1), body[1:]
    base, digits = 10, body
    if body[:2].lower() in ("0x", "0o", "0b"):
        base, digits = {"x": 16, "o": 8, "b": 2}[body[1].lower()], body[2:]
    elif len(body) > 1 and body[0] == "0":
        base, digits = 8, body[1:]
    if not digits or any(c not in _DIGITS[base] for c in digits):
        return None
    value = sign * int(digits, base)
    low, high = (0, 2 ** 64 - 1) if unsigned else _INT64
    return value if low <= value <= high else None


def _go_timestamp(text: str) -> _Timestamp | None:
    """yaml.v3 ``parseTimestamp`` for the layouts whose Go ``Time.String()`` does not depend on the
    machine's time zone; a numeric offset is refused by the caller (see ``_resolve``)."""
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt ](\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?)?", text)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if hour is not None and match.group(0)[10] == " " and zone is not None:
        return None  # "2006-1-2 15:4:5.999999999" has no zone in yaml.v3's layouts
    if hour is not None and match.group(0)[10] in "Tt" and zone is None:
        return None  # the T layouts need a zone
    try:
        datetime.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:
        return None
    if zone not in (None, "Z"):
        raise PulumiYamlError(
            f"{text!r} is a timestamp with a numeric offset: Pulumi turns it into Go time text that depends on the "
            f"time zone of the machine running pulumi; quote it to keep it as written"
        )
    frac = (fraction or "").rstrip("0").rstrip(".") if fraction else ""
    return _Timestamp(f"{int(year):04d}-{int(month):02d}-{int(day):02d} {int(hour or 0):02d}:{int(minute or 0):02d}:"
                      f"{int(second or 0):02d}{frac} +0000 UTC")


def _hint(text: str) -> str | None:
    """yaml.v3's ``resolveTable``: which kinds of value a plain scalar's first character allows."""
    if not text:
        return "N"
    first = text[0]
    if first in "+-":
        return "S"
    if first.isascii() and first.isdigit():
        return "D"
    if first in "yYnNtTfFoO~":
        return "M"
    return "." if first == "." else None


def _resolve(tag: str, text: str) -> tuple[str, Any]:
    """yaml.v3 ``resolve(tag, in)`` for a scalar: the resolved tag and value (resolve.go)."""
    if tag not in _RESOLVABLE:
        return tag, text  # a custom tag: yaml.v3 keeps the text
    rtag, value = _STR, text
    hint = _hint(text)
    if hint and tag != _STR:
        if text in _RESOLVE_MAP:
            rtag, value = _RESOLVE_MAP[text]
        elif hint == "." and _YAML_STYLE_FLOAT.fullmatch(text):
            rtag, value = _FLOAT, float(text)
        elif hint in "DS":
            stamp = _go_timestamp(text) if tag in (_PLAIN, _TIMESTAMP) else None
            digits = text.replace("_", "")
            number = go_parse_int(digits)
            if number is None:
                number = go_parse_int(digits, unsigned=True)
            if stamp is not None:
                rtag, value = _TIMESTAMP, stamp
            elif number is not None:
                rtag, value = _INT, number
            elif _YAML_STYLE_FLOAT.fullmatch(digits):
                rtag, value = _FLOAT, float(digits)
    if tag in (_PLAIN, _STR) or rtag == tag:
        return rtag, value
    if tag == _FLOAT and rtag == _INT:
        return _FLOAT, float(value)
    raise PulumiYamlError(f"cannot decode {text!r} as {tag.rsplit(':', 1)[-1]} (it reads as {rtag.rsplit(':', 1)[-1]})")


_SURROGATE = re.compile(r"[\ud800-\udfff]")


class _Decoder:
    """Build Python values from PyYAML's node graph with yaml.v3's rules (see the module docstring)."""

    def __init__(self, name: str):
        self.name = name
        self.decoded = 0
        self.aliased = 0
        self.alias_depth = 0
        self.seen: dict[int, int] = {}  # node id -> times entered (aliases share nodes)
        self.active: set[int] = set()

    def _where(self, node: Node) -> str:
        return f"{self.name}, line {node.start_mark.line + 1}"

    def _count(self, node: Node) -> None:
        self.decoded += 1
        if self.alias_depth:
            self.aliased += 1
        ratio = 0.99 if self.decoded <= 400_000 else max(0.10, 0.99 - 0.89 * (self.decoded - 400_000) / 3_600_000)
        if (self.aliased > 100 and self.decoded > 1000 and self.aliased / self.decoded > ratio) or self.decoded > MAX_DECODED_NODES:
            raise PulumiYamlError(
                f"{self.name}: the document contains excessive aliasing (its anchors and * aliases expand to far more "
                "values than it holds): Pulumi refuses it; write the values out instead of aliasing them"
            )

    def decode(self, node: Node, path: str = "") -> Any:
        self._count(node)
        key = id(node)
        if key in self.active:
            raise PulumiYamlError(f"{self._where(node)}: an anchor's value contains itself ({path or 'the document'})")
        entered = self.seen.get(key, 0)
        self.seen[key] = entered + 1
        self.alias_depth += entered > 0  # the second and later uses of a node are alias expansions
        self.active.add(key)
        try:
            if isinstance(node, ScalarNode):
                return self._scalar(node, path)
            if isinstance(node, SequenceNode):
                return [self.decode(item, f"{path}[{i}]") for i, item in enumerate(node.value)]
            return self._mapping(node, path)
        finally:
            self.active.discard(key)
            self.alias_depth -= entered > 0

    def _scalar(self, node: ScalarNode, path: str) -> Any:
        if _SURROGATE.search(node.value):
            raise PulumiYamlError(
                f"{self._where(node)}: {path or 'the value'} holds a \\u escape of a lone surrogate, which is not a "
                "Unicode character: Pulumi refuses the file; write the character itself or remove it"
            )
        if node.tag == _BINARY:
            try:
                return base64.b64decode(node.value.replace("\n", ""), validate=True).decode("utf-8", "replace")
            except ValueError:
                raise PulumiYamlError(f"{self._where(node)}: {path}: !!binary value contains invalid base64 data") from None
        try:
            return _resolve(node.tag, node.value)[1]
        except PulumiYamlError as error:
            raise PulumiYamlError(f"{self._where(node)}: {path or 'value'}: {error}") from None

    def _mapping(self, node: MappingNode, path: str) -> dict[Any, Any]:
        first: dict[tuple[type, str], int] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, ScalarNode):
                raw = (ScalarNode, key_node.value)
                if raw in first:
                    raise PulumiYamlError(
                        f"{self._where(key_node)}: key {key_node.value!r}{f' in {path}' if path else ''} is already "
                        f"defined at line {first[raw]}: Pulumi refuses a file with a duplicate key; keep one of them"
                    )
                first[raw] = key_node.start_mark.line + 1
        result: dict[Any, Any] = {}
        merged: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.decode(key_node, path)
            if isinstance(key_node, ScalarNode) and key_node.tag in (_PLAIN, _MERGE) and key == "<<" and key_node.style is None:
                value = self.decode(value_node, path)
                for source in (value if isinstance(value, list) else [value]):
                    if not isinstance(source, dict):
                        raise PulumiYamlError(f"{self._where(value_node)}: map merge requires a map or a sequence of maps")
                    for k, v in source.items():
                        merged.setdefault(k, v)
                continue
            if isinstance(key, (list, dict)):
                raise PulumiYamlError(f"{self._where(key_node)}: a mapping key must be a scalar")
            label = key if isinstance(key, str) else json_text(key)
            result[key] = self.decode(value_node, f"{path}.{label}" if path else str(label))
        return {**{k: v for k, v in merged.items() if k not in result}, **result}


def load(text: str, name: str) -> Any:
    """The first YAML document of ``text`` as yaml.v3 decodes it into ``any``; ``name`` is the file's name."""
    try:
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.composer.ComposerError as error:
        if "expected a single document" in str(error):
            raise PulumiYamlError(
                f"{name} holds more than one YAML document: Pulumi reads only the first and ignores the rest; "
                "remove the '---' and everything after it, or merge it into the first"
            ) from None
        raise PulumiYamlError(f"{name} is not valid YAML: {error}") from None
    except yaml.YAMLError as error:
        raise PulumiYamlError(f"{name} is not valid YAML: {error}") from None
    if root is None:
        return None
    return _Decoder(name).decode(root)


def load_bytes(data: bytes, name: str) -> Any:
    """``load`` for a file's bytes: a UTF-8 byte-order mark is dropped (loaders.go ``readFileStripUTF8BOM``),
    bytes that are not UTF-8 are refused with where they are."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise PulumiYamlError(f"{name}, line {line}: byte {data[error.start]:#04x} is not UTF-8: Pulumi refuses the file; "
                              "save it as UTF-8") from None
    return load(text, name)


def go_float(value: float) -> str:
    """A float64 as Go's ``encoding/json`` writes it (``strconv`` shortest form, 'e' only below 1e-6 or from 1e21)."""
    if math.isnan(value) or math.isinf(value):
        raise PulumiYamlError(f"json: unsupported value: {value!r}")
    if value != 0 and (abs(value) < 1e-6 or abs(value) >= 1e21):
        text = repr(value)
        return re.sub(r"e([-+])0(\d)$", r"e\g<1>\2", text)
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _go_json(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
                .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    if isinstance(value, list):
        return "[" + ",".join(_go_json(v) for v in value) + "]"
    if isinstance(value, dict):
        items = sorted((json_key(k), v) for k, v in value.items())
        return "{" + ",".join(f"{_go_json(k)}:{_go_json(v)}" for k, v in items) + "}"
    raise PulumiYamlError(f"unsupported value {value!r}")


def json_key(key: Any) -> str:
    """A mapping key as Pulumi's config keeps it: Go's ``fmt.Sprintf("%v", key)`` (object.go ``unmarshalObject``)."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "<nil>"
    if isinstance(key, float):
        return format(key, "g") if not key.is_integer() or abs(key) >= 1e21 else go_float(key)
    return str(key)


def json_text(value: Any) -> str:
    """``value`` as Go's ``json.Marshal`` writes it (object keys sorted)."""
    return _go_json(value)


def config_text(value: Any) -> str:
    """One top-level config value as the CLI passes it to the program (object.go ``MarshalString``)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return str(value)
    return _go_json(value)
