"""Plays the engine's side of a dynamic resource's lifecycle against the real dynamic-provider process.

``DynamicProviderProcess`` starts ``python -m pulumi.dynamic`` (what the engine's
``pulumi-resource-pulumi-python`` plugin runs) in a directory outside this checkout, without
PYTHONPATH, reads the port it prints and sends it the engine's protobuf requests. The process
unpickles the provider the engine's request carries: Check, Diff and Update the one in the NEW
inputs, Delete the one stored in the state.
"""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import grpc
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc


def _struct(props: dict):
    # Not asyncio.run: it would unset the event loop that tests running the mock runtime later use.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()


class DynamicProviderProcess:
    """``python`` (default: this interpreter) runs ``-m pulumi.dynamic``, as the plugin script
    does with ``$PULUMI_RUNTIME_VIRTUALENV/bin/python`` or ``${PULUMI_PYTHON_CMD:-python3}``."""

    def __init__(self, cwd: Path, env: dict[str, str], python: str = sys.executable):
        full_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        full_env.update(env)
        self._process = subprocess.Popen(
            [python, "-m", "pulumi.dynamic"], cwd=cwd, env=full_env,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        port = self._process.stdout.readline().strip()
        assert port.isdigit(), f"python -m pulumi.dynamic printed {port!r}, not its port"
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self._channel)

    def __enter__(self) -> "DynamicProviderProcess":
        return self

    def __exit__(self, *exc) -> None:
        self._channel.close()
        self._process.kill()
        self._process.wait()

    def update(self, id_: str, old_inputs: dict, old_outputs: dict, new_inputs: dict) -> dict:
        """``pulumi up`` over existing state: Check, Diff, then Update when Diff reports changes."""
        olds_in, olds_out = _struct(old_inputs), _struct(old_outputs)
        checked = self.stub.Check(provider_pb2.CheckRequest(olds=olds_in, news=_struct(new_inputs)), timeout=60)
        answer: dict = {"check_failures": [f"{f.property}: {f.reason}" for f in checked.failures]}
        if answer["check_failures"]:
            return answer
        diff = self.stub.Diff(
            provider_pb2.DiffRequest(id=id_, olds=olds_out, news=checked.inputs, old_inputs=olds_in), timeout=60
        )
        answer["changes"] = provider_pb2.DiffResponse.DiffChanges.Name(diff.changes)
        answer["replaces"] = list(diff.replaces)
        answer["delete_before_replace"] = diff.deleteBeforeReplace
        if diff.changes == provider_pb2.DiffResponse.DIFF_SOME:
            updated = self.stub.Update(
                provider_pb2.UpdateRequest(id=id_, olds=olds_out, news=checked.inputs, old_inputs=olds_in), timeout=60
            )
            answer["outputs"] = rpc.deserialize_properties(updated.properties)
        return answer

    def check(self, olds: dict, news: dict) -> tuple[dict, list[str]]:
        """``Check``: the checked inputs and the failures (``property: reason``)."""
        checked = self.stub.Check(provider_pb2.CheckRequest(olds=_struct(olds), news=_struct(news)), timeout=60)
        return (rpc.deserialize_properties(checked.inputs),
                [f"{f.property}: {f.reason}" for f in checked.failures])

    def diff(self, id_: str, old_inputs: dict, old_outputs: dict, new_inputs: dict) -> str:
        """``Diff``: DIFF_NONE, DIFF_SOME or DIFF_UNKNOWN."""
        diff = self.stub.Diff(provider_pb2.DiffRequest(id=id_, olds=_struct(old_outputs), news=_struct(new_inputs),
                                                       old_inputs=_struct(old_inputs)), timeout=60)
        return provider_pb2.DiffResponse.DiffChanges.Name(diff.changes)

    def create(self, inputs: dict) -> tuple[str, dict]:
        """``Create`` (``pulumi up`` of a new resource): its id and outputs."""
        created = self.stub.Create(provider_pb2.CreateRequest(properties=_struct(inputs)), timeout=60)
        return created.id, rpc.deserialize_properties(created.properties)

    def delete(self, id_: str, outputs: dict) -> None:
        """``pulumi destroy``: Delete with the state's outputs (and so the state's pickled provider)."""
        self.stub.Delete(provider_pb2.DeleteRequest(id=id_, properties=_struct(outputs)), timeout=60)

    def read(self, id_: str, inputs: dict, outputs: dict) -> dict:
        """``Read`` (``pulumi refresh``): the outputs as the provider finds them."""
        answer = self.stub.Read(provider_pb2.ReadRequest(id=id_, properties=_struct(outputs), inputs=_struct(inputs)),
                                timeout=60)
        return rpc.deserialize_properties(answer.properties)

    def update_outputs(self, id_: str, old_inputs: dict, old_outputs: dict, new_inputs: dict) -> dict:
        """``Update`` alone (after a Check the caller made): the new outputs."""
        updated = self.stub.Update(provider_pb2.UpdateRequest(id=id_, olds=_struct(old_outputs), news=_struct(new_inputs),
                                                              old_inputs=_struct(old_inputs)), timeout=60)
        return rpc.deserialize_properties(updated.properties)
