"""How this package's dynamic resources are registered, with their providers carried BY VALUE.

Pulumi stores a dynamic resource's provider in the state, pickled with dill (``__provider``), and
runs it in a separate process (``python -m pulumi.dynamic``) started in the PROGRAM's directory
(``infra/`` here), or in the Python a TypeScript/Go/YAML program's dynamic resources run in
(docs/component-package.md); ``pulumi destroy`` runs the provider stored in the state, after the
package may have moved or been uninstalled. So no provider may need ``kubesphere_okta`` to unpickle.

dill pickles classes and functions of importable modules by reference, and those defined in
``__main__`` by value. ``provider_namespace(module)`` therefore re-runs a provider module from its
own source under the module name ``__main__``, each of its package imports (``from . import x``,
``from . import x as y``, ``from .x import a, b``; one line each) bound to the same kind of copy of
the module it names, recursively. dill (``recurse=True``, as ``pulumi.dynamic`` calls it) then
carries the code the provider refers to, and only that; the provider process needs only the
installed packages (requirements-dynamic.txt). A ``from . import x`` is bound to a namespace that
holds only the attributes the importing module names as ``x.<attribute>``, so a stand-in never
drags in code nobody calls. This module itself is bound by reference: only resource classes
(program side) use it, never a provider. ``tests/test_dynamic_providers_portable.py`` runs every
stored provider in a Python without this package.

``register_dynamic`` is ``pulumi.dynamic.Resource.__init__`` with each (stateless) provider class
pickled once per process instead of once per resource.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import re
import threading
import types
from typing import Any, Callable, Optional

import pulumi
import pulumi.dynamic

#: One package import line: ``from .<module> import <names>`` or ``from . import <modules>``.
_PACKAGE_IMPORT = re.compile(r"^from \.(\w*) import ([^\n]+)$", re.MULTILINE)
#: Modules bound by reference (program-side machinery no provider code may call).
_BY_REFERENCE = frozenset({__name__.rpartition(".")[2]})


def register_dynamic(resource: pulumi.dynamic.Resource, provider: Any, name: str, props: dict,
                     opts: Optional[pulumi.ResourceOptions]) -> None:
    """``pulumi.dynamic.Resource.__init__``, with the provider serialized once per process.

    Our providers carry no state (``vars(provider)`` is empty), so every instance of one class
    serializes to the same text; ``pulumi.dynamic`` pickles it again (dill, by value: about 0.17 s
    CPU) for every resource. Registered as ``pulumi.dynamic.Resource.__init__`` registers it (pulumi
    3.272, pulumi/pulumi:sdk/python/lib/pulumi/dynamic/dynamic.py): the same type token, inputs plus
    ``__provider`` as a secret, the same options; ``tests/test_component_v3.py`` pins that. A
    provider with state takes the SDK's own path.
    """
    if vars(provider) or pulumi.dynamic.dynamic.PROVIDER_KEY in props:
        sdk_register_dynamic(resource, provider, name, props, opts)
        return
    serialized = pulumi.Output.secret(serialized_provider(type(provider)))
    pulumi.CustomResource.__init__(resource, f"pulumi-python:{type(resource)._resource_type_name}", name,
                                   {**props, pulumi.dynamic.dynamic.PROVIDER_KEY: serialized}, opts)


@functools.lru_cache(maxsize=None)
def serialized_provider(provider_class: type) -> str:
    """What ``pulumi.dynamic.serialize_provider`` makes of a (stateless) ``provider_class()``, once."""
    restore = pickler_methods()
    try:
        return pulumi.dynamic.dynamic.serialize_provider(provider_class())
    finally:
        restore()


def sdk_register_dynamic(resource: pulumi.dynamic.Resource, provider: Any, name: str, props: dict,
                         opts: Optional[pulumi.ResourceOptions]) -> None:
    """``pulumi.dynamic.Resource.__init__`` itself, undoing what it leaves behind in ``pickle``."""
    restore = pickler_methods()
    try:
        pulumi.dynamic.Resource.__init__(resource, provider, name, props, opts)
    finally:
        restore()


def pickler_methods() -> Callable[[], None]:
    """A function that puts back ``pickle._Pickler``'s methods as they are now.

    ``pulumi.dynamic.serialize_provider`` (pulumi 3.272) wraps ``pickle._Pickler._batch_setitems``
    and replaces ``save_dict`` on every call and never restores them, so each dynamic resource a
    process registers nests one more wrapper, until pickling overflows the stack.
    """
    import pickle

    saved = {k: pickle._Pickler.__dict__[k] for k in ("_batch_setitems", "save_dict") if k in pickle._Pickler.__dict__}

    def restore() -> None:
        for key, value in saved.items():
            setattr(pickle._Pickler, key, value)

    return restore


#: Module name -> its ``__main__`` copy (complete, or still running: imports may be circular).
_COPIES: dict[str, dict[str, Any]] = {}
#: Modules whose copy is running now (an import of one of them is circular).
_RUNNING: set[str] = set()
#: Module name -> the stand-ins of it to fill once its copy has run.
_PENDING: dict[str, list[tuple[types.SimpleNamespace, set[str]]]] = {}


_LOCK = threading.RLock()


def provider_namespace(module: str) -> dict[str, Any]:
    """The package module ``module`` re-run from its own source under the name ``__main__``, its
    package imports bound to such copies too (see the module docstring). One copy per module, so
    every provider shares one class per error and helper."""
    with _LOCK:
        if module not in _COPIES:
            _run_copy(module)
        return _COPIES[module]


def _run_copy(module: str) -> None:
    real = importlib.import_module(f"{__package__}.{module}")
    source = inspect.getsource(real)
    if re.search(r"^from \.\w* import \(", source, re.MULTILINE) or re.search(r"^from \.\.", source, re.MULTILINE):
        raise RuntimeError(f"{module} must import the package one line per import (no parentheses), as "
                           "dynamic_registration.provider_namespace reads them")
    namespace: dict[str, Any] = {"__name__": "__main__"}
    _COPIES[module] = namespace
    _RUNNING.add(module)

    def bind(match: re.Match) -> str:
        origin, names = match.group(1), match.group(2).split("#")[0]
        for item in names.split(","):
            imported, _, alias = item.strip().partition(" as ")
            imported, alias = imported.strip(), (alias.strip() or imported.strip())
            if origin:
                namespace[alias] = _module_copy(origin)[imported]
            else:
                namespace[alias] = _stand_in(imported, attributes=set(re.findall(rf"\b{alias}\.(\w+)", source)))
        return ""  # the line stays (empty), so line numbers in tracebacks are the file's own

    try:
        exec(compile(_PACKAGE_IMPORT.sub(bind, source), real.__file__, "exec"), namespace)  # noqa: S102 - our own source
    except BaseException:
        del _COPIES[module]
        _PENDING.pop(module, None)
        raise
    finally:
        _RUNNING.discard(module)
    for stand_in, attributes in _PENDING.pop(module, []):
        _fill(stand_in, namespace, attributes)


def _module_copy(module: str) -> Any:
    if module in _BY_REFERENCE:
        return vars(importlib.import_module(f"{__package__}.{module}"))
    return provider_namespace(module)


def _stand_in(module: str, *, attributes: set[str]) -> Any:
    """What ``from . import module`` binds: the attributes the importer names, filled once the
    module's copy has run (at once, or when a circular import comes back to it)."""
    if module in _BY_REFERENCE:
        return importlib.import_module(f"{__package__}.{module}")
    stand_in = types.SimpleNamespace()
    if module in _RUNNING:
        _PENDING.setdefault(module, []).append((stand_in, attributes))
    else:
        _fill(stand_in, provider_namespace(module), attributes)
    return stand_in


def _fill(stand_in: types.SimpleNamespace, copy: dict[str, Any], attributes: set[str]) -> None:
    # A name in a comment or docstring that is no attribute is skipped.
    for name in sorted(attributes):
        if name in copy:
            setattr(stand_in, name, copy[name])
