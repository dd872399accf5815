"""Stack files are read as the Pulumi CLI reads them (gopkg.in/yaml.v3, config.Value): infra/pulumi_yaml.py."""

from __future__ import annotations

import math
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra import pulumi_yaml
from infra.pulumi_yaml import PulumiYamlError, config_text, go_float, go_parse_int, load, load_bytes
from infra.stack_files import StackFileError, stack_config, with_overrides

PROJECT = {"name": "kubesphere-okta", "runtime": "python"}


def value_of(text: str) -> str:
    """What the program receives for ``key: <text>`` in a stack file."""
    doc = load(f"config:\n  kubesphere-okta:key: {text}\n", "Pulumi.dev.yaml")
    return stack_config(PROJECT, doc, "dev").config["kubesphere-okta:key"]


@pytest.mark.parametrize("text", ["no", "No", "NO", "off", "Off", "yes", "Yes", "on", "ON", "y", "n", "Y", "N"])
def test_yaml_1_1_booleans_are_strings_as_yaml_v3_reads_them(text):
    assert value_of(text) == text


@pytest.mark.parametrize("text, expected", [("true", "true"), ("True", "true"), ("TRUE", "true"), ("false", "false"),
                                            ("FALSE", "false"), ("'true'", "true"), ('"no"', "no")])
def test_yaml_1_2_booleans_and_quoted_text(text, expected):
    assert value_of(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("4.1", "4.1"), ("4.10", "4.1"), ("3.4", "3.4"), ("'4.10'", "4.10"), ("900", "900"), ("900.0", "900"),
    ("0x1F", "31"), ("0o17", "15"), ("017", "15"), ("08", "8"), ("1_000", "1000"), ("+5", "5"), ("-0", "0"),
    ("1e3", "1000"), ("1e21", "1e+21"), ("1e-7", "1e-7"), (".5", "0.5"), ("99999999999999999999", "100000000000000000000"),
    ("18446744073709551615", "18446744073709551615"), ("2001-12-14", "2001-12-14 00:00:00 +0000 UTC"),
    ("2001-12-14T21:59:43.10Z", "2001-12-14 21:59:43.1 +0000 UTC"), ("~", ""), ("null", ""), ("", ""),
    ("!!str 5", "5"), ("!!float 5", "5"), ("!custom text", "text"),
])
def test_scalars_reach_the_program_as_pulumi_passes_them(text, expected):
    assert value_of(text) == expected


def test_structured_values_are_go_json_with_sorted_keys():
    assert value_of("{b: 1, a: '<&>', c: [yes, 1.0, ~]}") == '{"a":"\\u003c\\u0026\\u003e","b":1,"c":["yes",1,null]}'


def test_a_key_without_a_value_is_an_empty_string_with_pulumis_warning():
    doc = load("config:\n  kubesphere-okta:consoleUrl:\n", "Pulumi.dev.yaml")
    config = stack_config(PROJECT, doc, "dev")
    assert config.config["kubesphere-okta:consoleUrl"] == ""
    assert config.warnings and "kubesphere-okta:consoleUrl has no value" in config.warnings[0]


@pytest.mark.parametrize("text, message", [
    ("config:\n  a: 1\n  b: 2\n  a: 3\n", "key 'a' in config is already defined at line 2"),
    ("config:\n  k: {x: 1, 'x': 2}\n", "key 'x' in config.k is already defined at line 2"),
    ("config:\n  k: !!bool yes\n", "cannot decode 'yes' as bool"),
    ("config:\n  k: &a [*a]\n", "contains itself"),
    ("config: {}\n---\nconfig: {}\n", "more than one YAML document"),
    ("config:\n  k: 2001-12-14T21:59:43+05:00\n", "depends on the time zone"),
    ("config: [\n", "is not valid YAML"),
])
def test_what_pulumi_refuses_is_refused_with_where_and_why(text, message):
    with pytest.raises(PulumiYamlError) as raised:
        load(text, "Pulumi.dev.yaml")
    assert message in str(raised.value) and "Pulumi.dev.yaml" in str(raised.value)


def test_a_lone_surrogate_is_refused_naming_the_key():
    with pytest.raises(PulumiYamlError) as raised:
        load('config:\n  kubesphere-okta:consoleUrl: "https://c\\ud800.example.com"\n', "Pulumi.dev.yaml")
    assert "config.kubesphere-okta:consoleUrl" in str(raised.value) and "surrogate" in str(raised.value)
    assert "line 2" in str(raised.value)


def test_a_lone_surrogate_from_the_command_line_is_refused_naming_the_key():
    config = stack_config(PROJECT, {"config": {}}, "dev")
    with pytest.raises(StackFileError) as raised:
        with_overrides(config, ["kubesphere-okta:issuer=https://e\udcff.okta.com"])
    assert "--config kubesphere-okta:issuer" in str(raised.value)


def test_bytes_that_are_not_utf8_are_refused_with_their_line_and_a_bom_is_dropped():
    with pytest.raises(PulumiYamlError) as raised:
        load_bytes(b"config:\n  k: caf\xe9\n", "Pulumi.dev.yaml")
    assert "line 2" in str(raised.value) and "0xe9" in str(raised.value)
    assert load_bytes(b"\xef\xbb\xbfconfig: {k: v}\n", "Pulumi.dev.yaml") == {"config": {"k": "v"}}


BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
)


def test_an_alias_bomb_is_refused_after_bounded_work_and_memory():
    assert len(BOMB) < 1500  # ~9**9 = 387 million values once expanded
    tracemalloc.start()
    try:
        with pytest.raises(PulumiYamlError) as raised:
            load(BOMB, "Pulumi.dev.yaml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "excessive aliasing" in str(raised.value)
    assert peak < 4 * 2 ** 20


def test_aliases_within_yaml_v3s_ratio_are_expanded():
    doc = load("base: &b {x: 1}\nconfig:\n  k: *b\n  m: {<<: *b, y: 2}\n", "Pulumi.dev.yaml")
    assert doc["config"] == {"k": {"x": 1}, "m": {"x": 1, "y": 2}}


@pytest.mark.parametrize("key, full", [("consoleUrl", "kubesphere-okta:consoleUrl"), ("okta:orgName", "okta:orgName"),
                                       ("kubesphere-okta:config:consoleUrl", "kubesphere-okta:consoleUrl")])
def test_keys_are_parsed_as_config_parse_key_does(key, full):
    assert list(stack_config(PROJECT, {"config": {key: "x"}}, "dev").config) == [full]


def test_a_key_pulumi_cannot_parse_and_two_spellings_of_one_key_are_refused():
    with pytest.raises(StackFileError, match="not of the form"):
        stack_config(PROJECT, {"config": {"a:b:c": "x"}}, "dev")
    with pytest.raises(StackFileError, match="both set kubesphere-okta:consoleUrl"):
        stack_config(PROJECT, {"config": {"consoleUrl": "x", "kubesphere-okta:consoleUrl": "y"}}, "dev")


@given(st.floats(allow_nan=False, allow_infinity=False))
@settings(max_examples=300)
def test_go_float_is_the_shortest_text_that_reads_back_and_uses_an_exponent_only_where_go_does(value):
    text = go_float(value)
    assert float(text) == value
    assert not text.endswith(".0")
    assert ("e" in text) == (value != 0 and (abs(value) < 1e-6 or abs(value) >= 1e21))


@given(st.integers(min_value=-(2 ** 63), max_value=2 ** 64 - 1), st.sampled_from(["d", "x", "o", "b"]))
def test_go_parse_int_reads_every_base_prefix(value, base):
    prefix = {"d": "", "x": "0x", "o": "0o", "b": "0b"}[base]
    text = ("-" if value < 0 else "") + prefix + format(abs(value), base)
    signed = go_parse_int(text)
    assert signed == (value if value <= 2 ** 63 - 1 else None)
    if value >= 0:
        assert go_parse_int(text, unsigned=True) == value


def test_nan_cannot_be_passed_to_the_program():
    with pytest.raises(StackFileError, match="unsupported value"):
        stack_config(PROJECT, load("config:\n  k: .nan\n", "Pulumi.dev.yaml"), "dev")
    assert math.isinf(load("k: -.inf\n", "x")["k"])
    assert config_text(True) == "true" and pulumi_yaml.json_text({"b": [1.5], "a": None}) == '{"a":null,"b":[1.5]}'
