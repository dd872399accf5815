"""The emulator of `pulumi config set/rm [--path]` (infra/config_set.py) follows pulumi/pulumi's rules."""

from __future__ import annotations

import pytest

from infra.config_set import ConfigSetError, apply_commands, coerce, config_key, config_rm, config_set, parse_path

P = "proj"


@pytest.mark.parametrize("path, expected", [
    ("a", ["a"]), ("a.b", ["a", "b"]), ("a[0]", ["a", 0]), ('a["K S"][1]', ["a", "K S", 1]),
    ('a["say \\"hi\\""]', ["a", 'say "hi"']), ('a["back\\slash"]', ["a", "back\\slash"]), ("a.[0]", ["a", 0]),
    ('a["x.y"]', ["a", "x.y"]), ("a[*]", ["a", "*"]),
])
def test_paths_parse_as_parse_property_path_does(path, expected):
    assert parse_path(path) == expected


@pytest.mark.parametrize("path", [".a", "a.", 'a["x]', 'a["x"', "a[x]", "a[0"])
def test_malformed_paths_are_refused(path):
    with pytest.raises(ConfigSetError):
        parse_path(path)


def test_only_the_top_segment_is_the_config_key_and_it_is_namespaced_with_the_project():
    assert config_key('roleBindings["a:b.c"]', P, path=True) == ("proj:roleBindings", ["a:b.c"])
    assert config_key("okta:orgName", P, path=False) == ("okta:orgName", [])
    assert config_key('x["a"]', P, path=False) == ('proj:x["a"]', [])


@pytest.mark.parametrize("text, value", [("true", True), ("false", False), ("True", "True"), ("12", 12),
                                         ("-3", -3), ("012", "012"), ("0", 0), ("1.5", "1.5"), ("x", "x")])
def test_deep_values_are_coerced_as_value_go_does(text, value):
    assert coerce(text) == value
    assert config_set({}, "k[0]", text, project=P, path=True) == {"proj:k": [value]}


def test_a_top_level_value_stays_text_even_with_path():
    assert config_set({}, "k", "true", project=P, path=True) == {"proj:k": "true"}
    assert config_set({}, "k", "12", project=P) == {"proj:k": "12"}


def test_containers_are_created_as_the_accessor_asks_and_an_index_may_append_but_not_skip():
    assert config_set({}, "k[2]", "x", project=P, path=True) == {"proj:k": [None, None, "x"]}
    assert config_set({"proj:k": ["a"]}, "k[1]", "b", project=P, path=True) == {"proj:k": ["a", "b"]}
    with pytest.raises(ConfigSetError, match="out of range"):
        config_set({"proj:k": ["a"]}, "k[3]", "b", project=P, path=True)


def test_a_scalar_is_replaced_at_the_top_and_refused_deeper():
    assert config_set({"proj:k": "text"}, 'k["a"]', "x", project=P, path=True) == {"proj:k": {"a": "x"}}
    with pytest.raises(ConfigSetError, match="expected a map"):
        config_set({"proj:k": {"g": "role"}}, 'k["g"]["w"]', "x", project=P, path=True)
    with pytest.raises(ConfigSetError, match="key for an array must be an int"):
        config_set({"proj:k": ["x"]}, 'k["g"]', "x", project=P, path=True)


def test_rm_with_path_removes_what_it_reaches_and_ignores_what_is_absent():
    config = {"proj:k": {"g": {"a": 1, "b": 2}}, "proj:l": ["x", "y", "z"]}
    assert config_rm(config, 'k["g"]["a"]', project=P, path=True)["proj:k"] == {"g": {"b": 2}}
    assert config_rm(config, "l[1]", project=P, path=True)["proj:l"] == ["x", "z"]
    assert config_rm(config, 'k["nope"]["a"]', project=P, path=True) == config
    assert "proj:k" not in config_rm(config, "k", project=P)


def test_commands_chained_with_and_run_in_order_and_type_string_keeps_text():
    result = apply_commands({}, "pulumi config set --path 'k[0]' a && pulumi config rm --path 'k[0]' && "
                                "pulumi config set --type string --path 'k[0]' true", project=P)
    assert result == {"proj:k": ["true"]}
    with pytest.raises(ConfigSetError):
        apply_commands({}, "pulumi config edit", project=P)
