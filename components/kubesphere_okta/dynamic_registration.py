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

import contextlib
import dataclasses
import functools
import importlib
import importlib.metadata
import importlib.util
import inspect
import pickle
import re
import sys
import threading
import types
from pathlib import Path
from typing import Any, Iterator, Optional

import dill
import pulumi
import pulumi.dynamic

from . import provider_cache

#: Modules bound by reference (program-side machinery no provider code may call).
_BY_REFERENCE = frozenset({__name__.rpartition(".")[2], "provider_cache"})


@dataclasses.dataclass(frozen=True)
class PortableProvider:
    """A (stateless) provider class of this package, by the module that defines it and its name."""

    module: str
    class_name: str

    @property
    def name(self) -> str:
        return f"{self.module}.{self.class_name}"

    def instance(self) -> pulumi.dynamic.ResourceProvider:
        """The provider, its class from the module's ``__main__`` copy (``provider_namespace``)."""
        return provider_namespace(self.module)[self.class_name]()


def register_dynamic(resource: pulumi.dynamic.Resource, provider: PortableProvider, name: str, props: dict,
                     opts: Optional[pulumi.ResourceOptions]) -> None:
    """``pulumi.dynamic.Resource.__init__``, with the provider serialized once per process at most.

    Our providers carry no state, so every instance of one class serializes to the same text;
    ``pulumi.dynamic`` pickles it again (dill, by value: 0.3-0.5 s CPU) for every resource.
    Registered as ``pulumi.dynamic.Resource.__init__`` registers it (pulumi 3.272,
    pulumi/pulumi:sdk/python/lib/pulumi/dynamic/dynamic.py): the same type token, inputs plus
    ``__provider`` as a secret, the same options; ``tests/test_component_v3.py`` pins that.
    """
    if pulumi.dynamic.dynamic.PROVIDER_KEY in props:
        raise ValueError("A dynamic resource must not define the __provider key")
    serialized = pulumi.Output.secret(serialized_provider(provider))
    pulumi.CustomResource.__init__(resource, f"pulumi-python:{type(resource)._resource_type_name}", name,
                                   {**props, pulumi.dynamic.dynamic.PROVIDER_KEY: serialized}, opts)


@functools.lru_cache(maxsize=None)
def serialized_provider(provider: PortableProvider) -> str:
    """``serialize(provider)``, once per process: from the cache when it holds the text under
    this provider's key (``provider_cache``), else pickled now and cached for the next process."""
    try:
        key = cache_key(provider)
        directory = cache_directory(provider)
    except (OSError, NotImplementedError, importlib.metadata.PackageNotFoundError):
        return serialize(provider)  # nothing to key on (no source or version) or no byte-code directory
    cached = provider_cache.read(directory, provider.name, key)
    if cached is not None:
        return cached
    serialized = serialize(provider)
    provider_cache.write(directory, provider.name, key, serialized)
    return serialized


def serialize(provider: PortableProvider) -> str:
    """``pulumi.dynamic.serialize_provider(provider.instance())`` under ``stable_pickling``, now (no cache)."""
    instance = provider.instance()
    with stable_pickling():
        return pulumi.dynamic.dynamic.serialize_provider(instance)


def cache_key(provider: PortableProvider) -> str:
    """``provider_cache.cache_key`` of everything that decides ``serialize(provider)``'s bytes.

    Raises OSError when a source cannot be read (an install of byte code only)."""
    carried = provider_cache.carried_modules(provider.module, module_source, _BY_REFERENCE)
    sources = {_module_file(module): ("carried", source) for module, source in carried.items()}
    for role, module in (("copier", sys.modules[__name__]), ("copier", provider_cache),
                         ("serializer", pulumi.dynamic.dynamic)):
        sources[module.__file__] = (role, inspect.getsource(module))
    environment = {"python": sys.version, "cache_tag": str(sys.implementation.cache_tag),
                   "optimize": str(sys.flags.optimize), "pickle_protocol": str(pickle.DEFAULT_PROTOCOL),
                   "dill": importlib.metadata.version("dill"), "pulumi": importlib.metadata.version("pulumi")}
    return provider_cache.cache_key(provider.name, sources, environment)


def cache_directory(provider: PortableProvider) -> Path:
    """Where Python keeps the byte code of ``provider``'s module (``__pycache__``, or under
    ``sys.pycache_prefix``): the cache is trusted as that byte code is."""
    return Path(importlib.util.cache_from_source(_module_file(provider.module))).parent


def module_source(module: str) -> str:
    """The source of the package module ``module``, as its copy runs it."""
    return inspect.getsource(importlib.import_module(f"{__package__}.{module}"))


def _module_file(module: str) -> str:
    return importlib.import_module(f"{__package__}.{module}").__file__


def sdk_register_dynamic(resource: pulumi.dynamic.Resource, provider: PortableProvider, name: str, props: dict,
                         opts: Optional[pulumi.ResourceOptions]) -> None:
    """``pulumi.dynamic.Resource.__init__`` itself (sets pickled as ``serialize`` pickles them),
    undoing what it leaves behind in ``pickle``."""
    instance = provider.instance()
    with stable_pickling():
        pulumi.dynamic.Resource.__init__(resource, instance, name, props, opts)


@contextlib.contextmanager
def stable_pickling() -> Iterator[None]:
    """Pickling inside: bytes that depend only on what is pickled; ``pickle._Pickler`` as it was afterwards.

    Two things made dill's bytes differ between processes for the same provider. A set pickles
    in iteration order, which follows the process's string hash seed (``PYTHONHASHSEED``, random
    by default): a provider carrying ``frozenset({"3.2", "3.3", "3.4"})`` pickled differently
    every time. And pickle shares (memoizes) an object by identity: whether two equal strings
    are one object (``pulumi.__name__`` and the name ``pulumi`` in a module's globals, say)
    depends on what the process imported first, so the test runner, ``make plan`` and
    ``pulumi up`` wrote different bytes. Here sets are pickled sorted and equal strings and
    bytes are shared by value, so the engine sees no ``__provider`` change between runs and a
    cached text (``provider_cache``) is the one the process would have made.

    ``pulumi.dynamic.serialize_provider`` (pulumi 3.272) sorts dicts but not sets; it also wraps
    ``pickle._Pickler._batch_setitems`` and replaces ``save_dict`` on every call and never
    restores them, so each dynamic resource a process registers nests one more wrapper, until
    pickling overflows the stack.
    """
    with _LOCK:
        saved = {k: pickle._Pickler.__dict__[k] for k in ("_batch_setitems", "save_dict") if k in pickle._Pickler.__dict__}
        dispatch = dill.Pickler.dispatch
        saved_dispatch = {t: dispatch[t] for t in (set, frozenset) if t in dispatch}
        save = dill.Pickler.__dict__["save"]

        def save_by_value(pickler: Any, obj: Any, save_persistent_id: bool = True) -> None:
            if type(obj) in (str, bytes):  # the first of equal values: the memo finds it by identity
                obj = pickler.__dict__.setdefault("_kubesphere_okta_values", {}).setdefault((type(obj), obj), obj)
            save(pickler, obj, save_persistent_id)

        dispatch[set] = _save_sorted_set
        dispatch[frozenset] = _save_sorted_set
        dill.Pickler.save = save_by_value
        try:
            yield
        finally:
            dill.Pickler.save = save
            for key, value in saved.items():
                setattr(pickle._Pickler, key, value)
            for t in (set, frozenset):
                if t in saved_dispatch:
                    dispatch[t] = saved_dispatch[t]
                else:
                    dispatch.pop(t, None)


def _save_sorted_set(pickler: Any, obj: Any) -> None:
    # set(...) / frozenset(...) of a list in a stable order (as pickle itself writes sets below
    # protocol 4): it unpickles to an equal set; save_reduce memoizes it, recursion included.
    pickler.save_reduce(type(obj), (stable_order(obj),), obj=obj)


def stable_order(items: Any) -> list:
    """The items of a set in an order that does not depend on the hash seed."""
    try:
        return sorted(items)
    except TypeError:  # of types that do not compare: by type, then by representation
        return sorted(items, key=lambda item: (type(item).__module__, type(item).__qualname__, repr(item)))


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
    source = module_source(module)
    if re.search(r"^from \.\w* import \(", source, re.MULTILINE) or re.search(r"^from \.\.", source, re.MULTILINE):
        raise RuntimeError(f"{module} must import the package one line per import (no parentheses), as "
                           "dynamic_registration.provider_namespace reads them")
    namespace: dict[str, Any] = {"__name__": "__main__"}
    _COPIES[module] = namespace
    _RUNNING.add(module)

    def bind(match: re.Match) -> str:
        origin = match.group(1)
        for imported, alias in provider_cache.imported_names(match.group(2)):
            if origin:
                namespace[alias] = _module_copy(origin)[imported]
            else:
                namespace[alias] = _stand_in(imported, attributes=set(re.findall(rf"\b{alias}\.(\w+)", source)))
        return ""  # the line stays (empty), so line numbers in tracebacks are the file's own

    try:
        exec(compile(provider_cache.PACKAGE_IMPORT.sub(bind, source), real.__file__, "exec"), namespace)  # noqa: S102 - our own source
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
