"""The serialized dynamic providers, kept between processes: what decides their bytes, and the files.

Pickling a provider by value (``dynamic_registration``) costs about 0.3-0.5 s of CPU per provider
class, as much as a third of what ``make plan`` adds to the SDK imports. The text it produces is
decided by: the source (and file name, which the pickled code objects carry) of every package module
the provider's copy runs, the code that makes the copies (``dynamic_registration``, this module),
the Python that compiles and pickles them (version, optimization level), and dill and pulumi
(``pulumi.dynamic.serialize_provider``). ``cache_key`` hashes all of it; a cached text is used only
under the key it was written with, so a changed source, Python, dill or pulumi is never served an
old provider. Sets are pickled in a sorted order (``dynamic_registration``), so the text does not
depend on the process's string hash seed either: a cached text is byte-identical to what the
process would have pickled itself, and the engine sees no ``__provider`` change.

The files live where Python keeps the modules' byte code (``__pycache__`` beside the source, or under
``sys.pycache_prefix``), one per provider class, and are trusted as the byte code there is: the
provider process unpickles (runs) what they hold. A file that cannot be read, is corrupt or is for
another key is ignored; a directory that cannot be written leaves every run pickling again, with
no error. No Pulumi import here.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Callable, Iterable, Mapping, Optional

#: One package import line of a provider module: ``from .<module> import <names>`` or
#: ``from . import <modules>`` (``dynamic_registration`` binds each to a copy of the module).
PACKAGE_IMPORT = re.compile(r"^from \.(\w*) import ([^\n]+)$", re.MULTILINE)
#: What a cache file's name ends with.
SUFFIX = ".provider"


def imported_names(names: str) -> list[tuple[str, str]]:
    """``(imported, bound as)`` for each item of the names part of a package import line."""
    items = []
    for item in names.split("#")[0].split(","):
        imported, _, alias = item.strip().partition(" as ")
        items.append((imported.strip(), alias.strip() or imported.strip()))
    return items


def imported_modules(source: str) -> list[str]:
    """The package modules a module's source imports, in the order of its import lines."""
    modules: list[str] = []
    for match in PACKAGE_IMPORT.finditer(source):
        origin, names = match.group(1), match.group(2)
        for module in ([origin] if origin else [imported for imported, _ in imported_names(names)]):
            if module not in modules:
                modules.append(module)
    return modules


def carried_modules(module: str, read_source: Callable[[str], str], by_reference: Iterable[str] = ()) -> dict[str, str]:
    """``module`` and every package module its copy runs (transitively), name -> source.

    ``by_reference`` are modules bound by reference (not copied, so not followed)."""
    skipped = frozenset(by_reference)
    carried: dict[str, str] = {}
    todo = [module]
    while todo:
        name = todo.pop()
        if name in carried or name in skipped:
            continue
        carried[name] = read_source(name)
        todo.extend(imported_modules(carried[name]))
    return dict(sorted(carried.items()))


def cache_key(provider: str, sources: Mapping[str, tuple[str, str]], environment: Mapping[str, str]) -> str:
    """A sha256 hex digest of everything that decides a serialized provider's bytes.

    ``provider``: ``module.Class``; ``sources``: file name -> (its role, its text) for every file
    whose text decides the bytes (the carried modules and the code that copies them);
    ``environment``: the Python, dill and pulumi versions and anything else that does."""
    document = {"provider": provider,
                "sources": {path: [role, hashlib.sha256(text.encode()).hexdigest()]
                            for path, (role, text) in sorted(sources.items())},
                "environment": dict(sorted(environment.items()))}
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def entry_name(provider: str, key: str) -> str:
    """The cache file of ``provider`` (``module.Class``) under ``key``."""
    return f"{provider}.{key}{SUFFIX}"


def entry_text(serialized: str) -> str:
    """What a cache file holds: the sha256 of the serialized provider, a newline, the text itself."""
    return f"{hashlib.sha256(serialized.encode()).hexdigest()}\n{serialized}"


def entry_value(text: str) -> Optional[str]:
    """The serialized provider in a cache file's text, or None when the text is not whole."""
    digest, newline, serialized = text.partition("\n")
    if not newline or hashlib.sha256(serialized.encode()).hexdigest() != digest:
        return None
    return serialized


def read(directory: Path, provider: str, key: str) -> Optional[str]:
    """The serialized provider cached under ``key``, or None (no file, unreadable or corrupt)."""
    try:
        text = (directory / entry_name(provider, key)).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return None
    return entry_value(text)


def write(directory: Path, provider: str, key: str, serialized: str) -> bool:
    """Cache ``serialized`` under ``key`` (atomically: a reader sees no file or the whole file) and
    remove ``provider``'s files under other keys. False, and nothing raised, when it cannot."""
    name = entry_name(provider, key)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    except OSError:
        return False
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(entry_text(serialized))
        os.replace(temporary, directory / name)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        return False
    others = re.compile(rf"{re.escape(provider)}\.[0-9a-f]{{64}}{re.escape(SUFFIX)}")
    for stale in directory.glob(f"{provider}.*{SUFFIX}"):
        if stale.name != name and others.fullmatch(stale.name):
            with contextlib.suppress(OSError):
                stale.unlink()
    return True
