"""The serialized dynamic providers cached between processes (``provider_cache``, ``dynamic_registration``).

What the engine stores as ``__provider`` must be the same text whether it came from the cache or
was pickled in this process, in any process; a cache written for other sources is never used;
a cache that cannot be read or written changes nothing but the time it takes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubesphere_okta import cluster_guard, dynamic_registration, kubesphere_role_check, kubesphere_v3
from kubesphere_okta import membership_resources, provider_cache

ROOT = Path(__file__).resolve().parent.parent
PROVIDERS = (cluster_guard.PROVIDER, kubesphere_role_check.PROVIDER, membership_resources.PROVIDER, kubesphere_v3.PROVIDER)
MODULE = st.sampled_from(["cluster_access", "cluster_binding", "cluster_check", "cluster_guard", "kubesphere_roles",
                         "kubeconfig_loading", "dynamic_registration", "membership_model"])


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache directory for this test, and no provider serialized yet in this process."""
    monkeypatch.setattr(dynamic_registration, "cache_directory", lambda provider: tmp_path)
    dynamic_registration.serialized_provider.cache_clear()
    yield tmp_path
    dynamic_registration.serialized_provider.cache_clear()


@pytest.fixture(scope="module")
def fresh() -> dict[str, str]:
    """Every provider pickled in this process, without the cache."""
    return {p.name: dynamic_registration.serialize(p) for p in PROVIDERS}


@pytest.fixture
def pickled(fresh, monkeypatch) -> list[str]:
    """``serialize`` answers what it answered in ``fresh`` (pickling again takes seconds); the names it was asked for."""
    asked: list[str] = []
    monkeypatch.setattr(dynamic_registration, "serialize", lambda p: asked.append(p.name) or fresh[p.name])
    return asked


# -- import lines and the modules a copy carries ----------------------------------------------------

def test_imported_modules_reads_every_form_of_package_import():
    source = ("from __future__ import annotations\nimport json\nfrom . import cluster_binding as binding\n"
              "from . import cluster_check, kubesphere_roles  # the checks\n"
              "from .cluster_access import Session, _plain\nfrom .. import elsewhere\n"
              "    from .indented import skipped\nfrom kubernetes import client\n")
    assert provider_cache.imported_modules(source) == ["cluster_binding", "cluster_check", "kubesphere_roles",
                                                       "cluster_access"]


@settings(max_examples=50)
@given(st.dictionaries(MODULE, st.lists(MODULE, max_size=4), min_size=1, max_size=8), st.data())
def test_carried_modules_are_those_reachable_through_import_lines(graph, data):
    """With any import graph (cycles included): the root and what its imports reach, each read once,
    modules bound by reference not followed."""
    root = data.draw(st.sampled_from(sorted(graph)))
    by_reference = data.draw(st.sets(st.sampled_from(sorted(graph)))) - {root}
    sources = {m: "".join(f"from . import {i}\n" for i in graph.get(m, [])) for m in set(graph).union(*graph.values())}
    reads: list[str] = []

    def read(module: str) -> str:
        reads.append(module)
        return sources[module]

    carried = provider_cache.carried_modules(root, read, by_reference)
    reachable, todo = set(), [root]
    while todo:
        module = todo.pop()
        if module not in reachable and module not in by_reference:
            reachable.add(module)
            todo += graph.get(module, [])
    assert set(carried) == reachable
    assert sorted(reads) == sorted(reachable)
    assert carried == {m: sources[m] for m in sorted(reachable)}


# -- the key ------------------------------------------------------------------------------------------

SOURCES = st.dictionaries(MODULE.map(lambda m: f"/src/kubesphere_okta/{m}.py"),
                          st.tuples(st.sampled_from(["carried", "copier"]), st.text(max_size=40)), min_size=1, max_size=5)
ENVIRONMENT = st.dictionaries(st.sampled_from(["python", "dill", "pulumi", "optimize"]), st.text(max_size=10))


@settings(max_examples=50)
@given(SOURCES, ENVIRONMENT, st.data())
def test_the_key_changes_with_any_source_path_or_environment_value(sources, environment, data):
    key = provider_cache.cache_key("m.Provider", sources, environment)
    path = data.draw(st.sampled_from(sorted(sources)))
    role, text = sources[path]
    edited = data.draw(st.text(max_size=40).filter(lambda t: t != text))
    assert provider_cache.cache_key("m.Provider", {**sources, path: (role, edited)}, environment) != key
    moved = {(p if p != path else p + "x"): v for p, v in sources.items()}
    assert provider_cache.cache_key("m.Provider", moved, environment) != key
    name = data.draw(st.sampled_from(["python", "dill", "pulumi", "optimize"]))
    other = {**environment, name: environment.get(name, "") + "1"}
    assert provider_cache.cache_key("m.Provider", sources, other) != key
    assert provider_cache.cache_key("m.Other", sources, environment) != key


@settings(max_examples=50)
@given(SOURCES, ENVIRONMENT)
def test_the_key_does_not_depend_on_the_order_of_the_mappings(sources, environment):
    assert (provider_cache.cache_key("m.Provider", dict(reversed(sources.items())), dict(reversed(environment.items())))
            == provider_cache.cache_key("m.Provider", sources, environment))


def test_the_key_covers_every_module_whose_code_the_provider_carries(fresh):
    """Each code object dill carries names its file: every such file of the package is hashed into the key."""
    for provider in PROVIDERS:
        pickled = base64.b64decode(fresh[provider.name])
        in_pickle = set(re.findall(rb"/kubesphere_okta/(\w+)\.py", pickled))
        carried = provider_cache.carried_modules(provider.module, dynamic_registration.module_source,
                                                 dynamic_registration._BY_REFERENCE)
        assert in_pickle and {m.decode() for m in in_pickle} <= set(carried), provider.name


# -- the files ----------------------------------------------------------------------------------------

@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", max_size=200))
def test_an_entry_gives_back_what_was_written(serialized):
    assert provider_cache.entry_value(provider_cache.entry_text(serialized)) == serialized


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", min_size=1, max_size=200),
       st.data())
def test_a_truncated_or_altered_entry_is_not_used(serialized, data):
    text = provider_cache.entry_text(serialized)
    cut = data.draw(st.integers(0, len(text) - 1))
    assert provider_cache.entry_value(text[:cut]) is None
    at = data.draw(st.integers(len(text) - len(serialized), len(text) - 1))
    altered = text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1:]
    assert provider_cache.entry_value(altered) is None


def test_write_then_read_under_the_same_key_only(tmp_path):
    key, other = "a" * 64, "b" * 64
    assert provider_cache.write(tmp_path, "m.Provider", key, "c2VyaWFsaXplZA==")
    assert provider_cache.read(tmp_path, "m.Provider", key) == "c2VyaWFsaXplZA=="
    assert provider_cache.read(tmp_path, "m.Provider", other) is None
    assert provider_cache.read(tmp_path, "m.Another", key) is None


def test_writing_a_key_removes_the_same_providers_other_keys_only(tmp_path):
    provider_cache.write(tmp_path, "m.Provider", "a" * 64, "old")
    provider_cache.write(tmp_path, "m.ProviderTwo", "a" * 64, "neighbour")
    provider_cache.write(tmp_path, "m.Provider", "b" * 64, "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == [provider_cache.entry_name("m.Provider", "b" * 64),
                                                          provider_cache.entry_name("m.ProviderTwo", "a" * 64)]


def test_a_directory_that_cannot_be_written_or_read_is_no_error(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    assert provider_cache.write(blocked / "cache", "m.Provider", "a" * 64, "text") is False
    assert provider_cache.read(blocked / "cache", "m.Provider", "a" * 64) is None
    assert list(tmp_path.iterdir()) == [blocked]


# -- the serialized providers ---------------------------------------------------------------------------

def test_cached_and_fresh_serializations_are_identical_in_any_process(cache, fresh, pickled):
    """Pickled here (pytest, this hash seed, these imports), pickled in another process (another hash
    seed, another import order, no cache), written to the cache and read back: one text each."""
    script = ("import hashlib, json, pulumi.dynamic\n"
              "from kubesphere_okta import kubesphere_v3, membership_resources, kubesphere_role_check, cluster_guard\n"
              "from kubesphere_okta import dynamic_registration as d\n"
              "print(json.dumps({p.name: hashlib.sha256(d.serialize(p).encode()).hexdigest() for p in\n"
              "    (kubesphere_v3.PROVIDER, membership_resources.PROVIDER, kubesphere_role_check.PROVIDER,"
              " cluster_guard.PROVIDER)}))\n")
    seed = "4242" if os.environ.get("PYTHONHASHSEED") != "4242" else "4243"
    env = {**os.environ, "PYTHONHASHSEED": seed}
    elsewhere = json.loads(subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, check=True,
                                          capture_output=True, text=True, timeout=120).stdout)
    assert elsewhere == {name: digest(text) for name, text in fresh.items()}
    written = {p.name: dynamic_registration.serialized_provider(p) for p in PROVIDERS}  # empty cache: pickled, written
    assert len(list(cache.glob(f"*{provider_cache.SUFFIX}"))) == len(PROVIDERS) == len(pickled)
    dynamic_registration.serialized_provider.cache_clear()
    read = {p.name: dynamic_registration.serialized_provider(p) for p in PROVIDERS}
    assert len(pickled) == len(PROVIDERS)  # all four read from the cache
    assert written == read == fresh


def test_the_cache_is_read_under_the_current_key(cache, monkeypatch):
    provider = cluster_guard.PROVIDER
    provider_cache.write(cache, provider.name, dynamic_registration.cache_key(provider), "from-the-cache")
    monkeypatch.setattr(dynamic_registration, "serialize", lambda p: pytest.fail("pickled despite the cache"))
    assert dynamic_registration.serialized_provider(provider) == "from-the-cache"


def test_a_cache_written_for_other_sources_is_never_used(cache, monkeypatch, fresh, pickled):
    """The guard carries cluster_access: an entry keyed by another cluster_access (as before an
    upgrade or an edit) is not the guard of this source."""
    provider = cluster_guard.PROVIDER
    real_source = dynamic_registration.module_source
    monkeypatch.setattr(dynamic_registration, "module_source",
                        lambda module: real_source(module) + ("\n# edited\n" if module == "cluster_access" else ""))
    stale_key = dynamic_registration.cache_key(provider)
    monkeypatch.setattr(dynamic_registration, "module_source", real_source)
    assert stale_key != dynamic_registration.cache_key(provider)
    provider_cache.write(cache, provider.name, stale_key, "a-stale-provider")
    assert dynamic_registration.serialized_provider(provider) == fresh[provider.name]
    assert pickled == [provider.name]
    assert not (cache / provider_cache.entry_name(provider.name, stale_key)).exists()  # replaced by the current one


def test_a_corrupt_cache_entry_is_pickled_again_and_replaced(cache, fresh, pickled):
    provider = kubesphere_role_check.PROVIDER
    entry = cache / provider_cache.entry_name(provider.name, dynamic_registration.cache_key(provider))
    entry.write_text(provider_cache.entry_text(fresh[provider.name])[:-10])
    assert dynamic_registration.serialized_provider(provider) == fresh[provider.name]
    assert pickled == [provider.name]
    assert provider_cache.entry_value(entry.read_text()) == fresh[provider.name]


def test_without_a_writable_cache_the_provider_is_still_serialized(tmp_path, monkeypatch, fresh, pickled):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    monkeypatch.setattr(dynamic_registration, "cache_directory", lambda provider: blocked / "__pycache__")
    dynamic_registration.serialized_provider.cache_clear()
    try:
        assert dynamic_registration.serialized_provider(kubesphere_v3.PROVIDER) == fresh[kubesphere_v3.PROVIDER.name]
    finally:
        dynamic_registration.serialized_provider.cache_clear()


def test_a_source_that_cannot_be_read_means_no_cache_not_an_error(cache, monkeypatch, fresh, pickled):
    def unreadable(module):
        raise OSError("could not get source code")

    monkeypatch.setattr(dynamic_registration, "cache_key", lambda provider: unreadable(provider.module))
    assert dynamic_registration.serialized_provider(cluster_guard.PROVIDER) == fresh[cluster_guard.PROVIDER.name]
    assert pickled == [cluster_guard.PROVIDER.name]
    assert list(cache.iterdir()) == []


def test_sets_pickle_sorted_and_unpickle_equal():
    import dill

    value = {"versions": frozenset({"4.1", "3.3", "3.2", "3.4"}), "kinds": {"User", "Role", 3}}
    with dynamic_registration.stable_pickling():
        pickled = dill.dumps(value)
    assert dill.loads(pickled) == value
    assert [pickled.index(v.encode()) for v in ("3.2", "3.3", "3.4", "4.1")] == sorted(
        pickled.index(v.encode()) for v in ("3.2", "3.3", "3.4", "4.1"))
    assert dynamic_registration.stable_order({"b", "a", "c"}) == ["a", "b", "c"]
    assert dynamic_registration.stable_order({"a", 3}) == [3, "a"]  # no order between them: by type, then value


def test_stable_pickling_leaves_the_picklers_as_it_found_them():
    import pickle

    import dill
    import pulumi.dynamic

    before = (dict(vars(pickle._Pickler)), dict(dill.Pickler.dispatch), dill.Pickler.__dict__["save"])
    for _ in range(3):
        with dynamic_registration.stable_pickling():
            pulumi.dynamic.dynamic.serialize_provider(pulumi.dynamic.ResourceProvider())
    assert (dict(vars(pickle._Pickler)), dict(dill.Pickler.dispatch), dill.Pickler.__dict__["save"]) == before
