"""The examples the README and docs/ show, read as a test runs them.

A fenced block is an example. How it is run depends on its language and on an optional marker,
an HTML comment on the last non-blank line before the fence:

* ``console``: every line is a command (``$ ...``). ``make plan`` and ``python -m infra.plan``
  run the plan; ``pulumi config set`` is applied to the stack file (``--path`` and ``--secret``
  as the CLI reads them) and the result is planned, which must succeed; other ``pulumi``
  commands, which need the CLI, must be ones the CLI has. ``<!-- example: stack NAME -->`` names
  the stack the commands start from when the block does not (``pulumi stack init NAME`` or ``-s``).
* ``python``: run under Pulumi's mock runtime; it must register resources.
* ``<!-- example: output of COMMAND -->``: COMMAND is run and the block must be an excerpt of its
  output: consecutive lines, where a line ``...`` stands for any number of lines.
* ``<!-- example: layout -->``: every path the block names exists.
* ``<!-- example: file PATH -->``: the block is the file PATH of this repository, byte for byte,
  and a test under tests/ names PATH (that test runs the file).
* ``<!-- example: run by tests/TEST.py -->``: that test reads this block from the document and
  runs it (e.g. installing the package into a fresh virtualenv); it must name the document.

Anything else fails the test: a doc shows nothing that is not run.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```(\S*)\s*$")
MARKER = re.compile(r"^<!--\s*example:\s*(.*?)\s*-->$")


@dataclass(frozen=True)
class Example:
    path: Path
    line: int
    language: str
    marker: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def documents(root: Path = ROOT) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def examples(path: Path) -> list[Example]:
    lines = path.read_text().splitlines()
    found: list[Example] = []
    index = 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if not fence:
            index += 1
            continue
        previous = next((lines[i].strip() for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        marker = MARKER.match(previous)
        end = next((i for i in range(index + 1, len(lines)) if lines[i].startswith("```")), None)
        if end is None:
            raise AssertionError(f"{path.name}:{index + 1}: unclosed code block")
        found.append(Example(path, index + 1, fence.group(1), marker.group(1) if marker else "",
                             "\n".join(lines[index + 1:end])))
        index = end + 1
    return found


def commands(example: Example) -> list[str]:
    """The commands of a console block; every line must be one."""
    result = []
    for line in example.text.splitlines():
        if not line.startswith("$ "):
            raise AssertionError(f"{example.where}: a console block holds only commands ($ ...), got {line!r}")
        result.append(line[2:])
    return result


def make_recipe(target: str, root: Path = ROOT) -> list[str]:
    """The command lines of a Makefile target, with $(PY) as the virtualenv's python."""
    lines = (root / "Makefile").read_text().splitlines()
    start = next((i for i, line in enumerate(lines) if re.match(rf"^{re.escape(target)}:", line)), None)
    if start is None:
        raise AssertionError(f"Makefile has no target {target!r}")
    recipe = []
    for line in lines[start + 1:]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip().replace("$(PY)", ".venv/bin/python"))
    return recipe


def make_targets(root: Path = ROOT) -> set[str]:
    return {m.group(1) for m in re.finditer(r"^([A-Za-z][\w-]*):", (root / "Makefile").read_text(), re.M)}


#: Pulumi CLI commands a doc may show (the CLI is not installed here, so they are not run).
PULUMI_COMMANDS = {
    ("login",), ("stack", "init"), ("stack", "select"), ("stack", "change-secrets-provider"),
    ("preview",), ("up",), ("destroy",), ("refresh",), ("state", "unprotect"), ("config", "set"),
    ("package", "add"),
}


def pulumi_command(argv: list[str]) -> tuple[str, ...]:
    words = tuple(a for a in argv[1:] if not a.startswith("-"))
    for size in (2, 1):
        if words[:size] in PULUMI_COMMANDS:
            return words[:size]
    raise AssertionError(f"not a pulumi command this project documents: {shlex.join(argv)}")


def split(command: str) -> list[str]:
    return shlex.split(command, comments=True)


_PATH_PART = re.compile(r'\[(\d+)\]|\["([^"]*)"\]|\.([A-Za-z_][\w-]*)')


def config_path(key: str) -> tuple[str, list[Any]]:
    """``ns:key[0]`` / ``ns:key["a b"]`` / ``ns:key.sub`` as ``pulumi config set --path`` reads it."""
    head = re.match(r"^[^\[.]+(?:\.[^\[.:]+)*?(?=\[|$|\.)", key)
    name = head.group(0) if head else key
    rest = key[len(name):]
    parts: list[Any] = []
    while rest:
        match = _PATH_PART.match(rest)
        if not match:
            raise AssertionError(f"cannot read config path {key!r}")
        index, quoted, field = match.groups()
        parts.append(int(index) if index is not None else quoted if quoted is not None else field)
        rest = rest[match.end():]
    return name, parts


def set_config(config: dict[str, Any], argv: list[str], project: str) -> None:
    """Apply ``pulumi config set [--path] [--secret] KEY VALUE`` to a stack file's ``config``."""
    flags = {a for a in argv if a.startswith("-")}
    unknown = flags - {"--path", "--secret", "--plaintext"}
    if unknown:
        raise AssertionError(f"pulumi config set: flags this test does not model: {sorted(unknown)}")
    positional = [a for a in argv[3:] if not a.startswith("-")]
    if len(positional) != 2:
        raise AssertionError(f"pulumi config set needs KEY VALUE here (the test cannot answer a prompt): {shlex.join(argv)}")
    key, value = positional
    stored: Any = {"secure": "v1:ZG9jLWV4YW1wbGUtY2lwaGVydGV4dA=="} if "--secret" in flags else value
    if "--path" not in flags:
        config[key if ":" in key else f"{project}:{key}"] = stored
        return
    name, parts = config_path(key)
    name = name if ":" in name else f"{project}:{name}"
    if not parts:
        config[name] = stored
        return
    container = config.setdefault(name, [] if isinstance(parts[0], int) else {})
    for part, following in zip(parts, parts[1:] + [None]):
        if following is None:
            if isinstance(part, int):
                while len(container) <= part:
                    container.append(None)
            container[part] = stored
        else:
            if isinstance(part, int):
                while len(container) <= part:
                    container.append(None)
                if container[part] is None:
                    container[part] = [] if isinstance(following, int) else {}
            else:
                container.setdefault(part, [] if isinstance(following, int) else {})
            container = container[part]


def output_matches(shown: str, output: str) -> str | None:
    """None when the lines shown are an excerpt of ``output``: the first may be anywhere, each next
    one follows it directly, and a line ``...`` skips any number of lines. Else, why not."""
    produced = [line.rstrip() for line in output.splitlines()]
    position = 0
    skipping = True
    for wanted in (line.rstrip() for line in shown.splitlines()):
        if wanted.strip() == "...":
            skipping = True
            continue
        if skipping:
            try:
                position = produced.index(wanted, position) + 1
            except ValueError:
                return f"line not in the output (after line {position}): {wanted!r}"
            skipping = False
        else:
            if position >= len(produced) or produced[position] != wanted:
                got = produced[position] if position < len(produced) else "<end of output>"
                return f"line {position + 1} of the output is {got!r}, the doc shows {wanted!r}"
            position += 1
    return None


_PATH_TOKEN = re.compile(r"^[\w.<>/-]*[./][\w.<>/-]*$")


def layout_paths(text: str) -> list[str]:
    """Paths a layout block names: the leading path-like words of each line (a description
    follows them); directories end in ``/``, indented names are inside the last directory."""
    found: list[str] = []
    directory = ""
    for line in text.splitlines():
        indented = line.startswith(" ")
        for token in re.split(r"[,\s]+", line.strip()):
            if not token or not _PATH_TOKEN.match(token):
                break
            if "<" in token:
                continue
            path = directory + token if indented else token
            if token.endswith("/") and not indented:
                directory = token
            found.append(path)
    return found
