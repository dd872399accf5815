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
from typing import Callable, Optional

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


def skip_under_mutation(*, module: bool = False) -> None:
    """``make mutation`` cannot test through another process: the providers travel there
    serialized by value, so a mutant's code would run without mutmut's runner around it and the
    process never answers (docs/mutation-testing.md). The tests that start one check the engine's
    call order, not the pure modules mutation testing covers; there they are skipped. ``module``:
    skip the whole test module, called at its top (one that serializes providers when imported)."""
    if os.environ.get("KUBESPHERE_OKTA_HYPOTHESIS_PROFILE") == "mutation":
        import pytest

        pytest.skip("runs providers in another process, which mutated code cannot reach", allow_module_level=module)


class DynamicProviderProcess:
    """``python`` (default: this interpreter) runs ``-m pulumi.dynamic``, as the plugin script
    does with ``$PULUMI_RUNTIME_VIRTUALENV/bin/python`` or ``${PULUMI_PYTHON_CMD:-python3}``."""

    def __init__(self, cwd: Path, env: dict[str, str], python: str = sys.executable):
        skip_under_mutation()
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

# --- the engine's call order, resource by resource ----------------------------------------------
#
# What pulumi/pulumi's engine calls, read in pkg/resource/deploy/step_generator.go (``generateSteps``:
# Check with the OLD INPUTS and the program's inputs, then ``diff``: Diff with the old OUTPUTS, the
# checked inputs and the old inputs) and pkg/resource/deploy/step.go / step_executor.go (Create,
# Update, Delete, Read; a failed step halts the deployment, and a resource the program registers
# only after a failed one is never registered), and in sdk/go/common/resource/plugin/provider_plugin.go:
# during a PREVIEW ``Create`` and ``Update`` are not sent to a provider that does not support
# previews, and ``python -m pulumi.dynamic`` does not (its Configure answers no ``supportsPreview``
# and it has no Handshake; sdk/python/lib/pulumi/dynamic/__main__.py). Its Configure also answers
# ``acceptSecrets: False``, so the engine sends every value plain. A step whose Diff reports no
# change is a "same" step: the state keeps the old outputs and takes the CHECKED inputs.
# ``pulumi refresh`` sends Read with the old outputs and inputs and keeps the old inputs unless Read
# returns some; ``pulumi destroy`` deletes dependents before what they depend on, each with Delete
# and the state's outputs.


class StepFailed(Exception):
    """A step the engine would report as failed (the deployment halts there)."""


class EngineProcess:
    """``python -m pulumi.dynamic`` from ``cwd``, as the engine's plugin starts it; ``stderr`` is what
    the engine shows as the provider's diagnostics."""

    def __init__(self, cwd: Path, env: dict[str, str], python: str = sys.executable):
        skip_under_mutation()
        full_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KUBECONFIG")}
        full_env["HOME"] = str(cwd)  # never the ~/.kube/config of the machine running the tests
        full_env.update(env)
        self._process = subprocess.Popen([python, "-u", "-m", "pulumi.dynamic"], cwd=cwd, env=full_env,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        port = self._process.stdout.readline().strip()
        assert port.isdigit(), f"python -m pulumi.dynamic printed {port!r}, not its port"
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self._channel)
        self.calls: list[str] = []

    def close(self) -> str:
        """Stop the process; what it printed on stderr."""
        self._channel.close()
        self._process.kill()
        _, err = self._process.communicate(timeout=10)
        return err

    def _call(self, method: str, request, timeout: float):
        self.calls.append(method)
        try:
            return getattr(self.stub, method)(request, timeout=timeout)
        except grpc.RpcError as error:
            raise StepFailed(f"{method}: {error.details()}") from None


class State:
    """One resource in the stack's state, as the engine keeps it."""

    def __init__(self, id_: str, inputs: dict, outputs: dict):
        self.id, self.inputs, self.outputs = id_, inputs, outputs


def _plain_props(struct) -> dict:
    return rpc.deserialize_properties(struct)


class Resource:
    """A dynamic resource of the program: its provider process and the inputs the program gives it."""

    def __init__(self, name: str, process: EngineProcess, inputs: dict, depends_on: tuple[str, ...] = ()):
        self.name, self.process, self.inputs, self.depends_on = name, process, inputs, depends_on


class KubernetesObject:
    """An object pulumi-kubernetes writes (``write``) or deletes (``delete``); the harness only
    decides WHETHER the engine gets that far, as the engine would."""

    def __init__(self, name: str, write, delete=None, depends_on: tuple[str, ...] = ()):
        self.name, self.write, self.delete, self.depends_on = name, write, delete, depends_on
        self.inputs: dict = {}


class Stack:
    """A stack's state and the engine's runs over it (``preview``, ``up``, ``refresh``, ``destroy``).

    Each run returns the steps taken, ``name: kind`` (``create``, ``update``, ``same``, ``read``,
    ``delete``, ``failed``); a failed step raises ``StepFailed`` after the state of the steps before
    it was saved, as the engine saves it.
    """

    def __init__(self) -> None:
        self.state: dict[str, State] = {}
        self.steps: list[str] = []
        #: Called with a resource's name after its Check passed and before its Diff or Create:
        #: what others may change on the cluster in between (the engine does not read it again).
        self.after_check: Optional[Callable[[str], None]] = None

    @staticmethod
    def _fail(name: str, why: str) -> None:
        raise StepFailed(f"Check failures: {why}")

    def _plan(self, resource: Resource, *, apply: bool) -> None:
        old = self.state.get(resource.name)
        process = resource.process
        checked = process._call("Check", provider_pb2.CheckRequest(
            olds=_struct(old.inputs if old else {}), news=_struct(resource.inputs)), 60)
        failures = [f"{f.property}: {f.reason}" for f in checked.failures]
        if failures:
            self._fail(resource.name, "; ".join(failures))
        inputs = _plain_props(checked.inputs)
        if apply and self.after_check is not None:
            self.after_check(resource.name)
        if old is None:
            self.steps.append(f"{resource.name}: create")
            if apply:  # never during a preview (see above)
                created = process._call("Create", provider_pb2.CreateRequest(properties=checked.inputs), 60)
                self.state[resource.name] = State(created.id, inputs, _plain_props(created.properties))
            return
        diff = process._call("Diff", provider_pb2.DiffRequest(
            id=old.id, olds=_struct(old.outputs), news=checked.inputs, old_inputs=_struct(old.inputs)), 60)
        if diff.changes != provider_pb2.DiffResponse.DIFF_SOME:
            self.steps.append(f"{resource.name}: same")
            if apply:
                self.state[resource.name] = State(old.id, inputs, old.outputs)
            return
        self.steps.append(f"{resource.name}: update")
        if apply:
            updated = process._call("Update", provider_pb2.UpdateRequest(
                id=old.id, olds=_struct(old.outputs), news=checked.inputs, old_inputs=_struct(old.inputs)), 60)
            self.state[resource.name] = State(old.id, inputs, _plain_props(updated.properties))

    def _run(self, program: list, *, apply: bool) -> list[str]:
        self.steps = []
        for resource in program:
            taken = len(self.steps)
            try:
                if isinstance(resource, KubernetesObject):
                    self.steps.append(f"{resource.name}: write")
                    if apply:
                        resource.write()
                        self.state[resource.name] = State(resource.name, {}, {})
                else:
                    self._plan(resource, apply=apply)
            except StepFailed as error:
                self.steps[taken:] = [f"{resource.name}: failed"]
                raise StepFailed(f"{resource.name}: {error}") from None
        return self.steps

    def preview(self, program: list) -> list[str]:
        """``pulumi preview``: Check and Diff of every resource, in registration order."""
        return self._run(program, apply=False)

    def up(self, program: list) -> list[str]:
        """``pulumi up``: Check, Diff, then Create or Update, in registration order (the program
        registers a resource only after those it depends on)."""
        return self._run(program, apply=True)

    def refresh(self, program: list) -> list[str]:
        """``pulumi refresh``: Read of every dynamic resource in the state."""
        self.steps = []
        for resource in program:
            old = self.state.get(resource.name)
            if old is None or isinstance(resource, KubernetesObject):
                continue
            try:
                read = resource.process._call("Read", provider_pb2.ReadRequest(
                    id=old.id, properties=_struct(old.outputs), inputs=_struct(old.inputs)), 60)
            except StepFailed as error:
                self.steps.append(f"{resource.name}: failed")
                raise StepFailed(f"{resource.name}: {error}") from None
            inputs = _plain_props(read.inputs) if read.HasField("inputs") else old.inputs
            self.state[resource.name] = State(read.id or old.id, inputs, _plain_props(read.properties))
            self.steps.append(f"{resource.name}: read")
        return self.steps

    def destroy(self, program: list) -> list[str]:
        """``pulumi destroy``: dependents before what they depend on (reverse registration order),
        each with Delete and the state's outputs (and so the provider pickled in the state)."""
        self.steps = []
        for resource in reversed(program):
            old = self.state.get(resource.name)
            if old is None:
                continue
            try:
                if isinstance(resource, KubernetesObject):
                    if resource.delete is not None:
                        resource.delete()
                else:
                    resource.process._call("Delete", provider_pb2.DeleteRequest(
                        id=old.id, properties=_struct(old.outputs)), 60)
            except StepFailed as error:
                self.steps.append(f"{resource.name}: failed")
                raise StepFailed(f"{resource.name}: {error}") from None
            del self.state[resource.name]
            self.steps.append(f"{resource.name}: delete")
        return self.steps
