"""The recording monitor answers as the SDK's stock mock monitor does, only faster (infra/mock_runtime.py)."""

from __future__ import annotations

import asyncio

import pulumi
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

from infra import mock_runtime
from infra.mock_runtime import RecordingMonitor, invoke_answer, run

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=20)


def stock(answer):
    return asyncio.new_event_loop().run_until_complete(rpc.serialize_properties(answer, {}))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=6), json_values, max_size=5))
def test_an_invoke_answer_is_the_struct_the_sdk_would_send(answer):
    assert invoke_answer(answer) == stock(answer)


def test_an_answer_that_is_not_plain_values_is_serialized_by_the_sdk():
    asset = pulumi.StringAsset("text")
    assert invoke_answer({"a": asset, "b": None}) == stock({"a": asset, "b": None})


class StockMonitor(RecordingMonitor):
    """The SDK's own registration answer (deserialize, deep copy, serialize), recorded as ours records."""

    def RegisterResource(self, request):
        response = pulumi_mocks.MockMonitor.RegisterResource(self, request)
        if request.type != "pulumi:pulumi:Stack":
            self._record(request, response.urn, rpc.deserialize_properties(request.object))
        return response


def test_secret_inputs_are_echoed_as_the_stock_monitor_echoes_them(monkeypatch):
    def program():
        thing = pulumi.CustomResource("test:index:Thing", "thing", {
            "plain": {"a": [1, "b", None], "c": True, "d": 2.5},
            "secret": pulumi.Output.secret({"key": "value", "n": 20}),
            "nested": {"inner": pulumi.Output.secret("hidden"), "list": [pulumi.Output.secret(1), 2]},
        })
        return {"all": pulumi.Output.all(thing.plain, thing.secret, thing.nested),
                "secret": pulumi.Output.from_input(asyncio.ensure_future(thing.secret.is_secret())),
                "plain_secret": pulumi.Output.from_input(asyncio.ensure_future(thing.plain.is_secret()))}

    ours = run(program)
    monkeypatch.setattr(mock_runtime, "RecordingMonitor", StockMonitor)
    stock_run = run(program)
    assert ours.outputs == stock_run.outputs
    assert ours.outputs["all"][1] == {"key": "value", "n": 20}
    assert (ours.outputs["secret"], ours.outputs["plain_secret"]) == (True, False)
    assert [(r.inputs, r.secret_inputs) for r in ours.resources] == [(r.inputs, r.secret_inputs) for r in stock_run.resources]


secret_or_plain = st.recursive(
    json_values, lambda inner: inner.map(lambda v: {rpc._special_sig_key: rpc._special_secret_sig, "value": v})
    | st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=6), secret_or_plain, max_size=5))
def test_recorded_inputs_are_what_the_sdk_reader_and_the_secret_split_make(inputs):
    struct = stock(inputs)
    expected = rpc.deserialize_properties(struct)
    paths: set[str] = set()
    plain, shown = mock_runtime._split_secrets(expected, "", paths)
    assert mock_runtime._recorded_inputs(struct) == (expected, plain, shown, paths)
