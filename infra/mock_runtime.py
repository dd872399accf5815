"""Run Pulumi code under the mock runtime and record what it registers.

``run(fn, ...)`` installs fresh mocks, runs ``fn`` inside the Pulumi runtime, waits for every
registration and returns a ``Recording``: each registered resource with its type, name, parent,
dependencies, inputs (camelCase, as the engine sees them), which inputs are secret, and the
options that decide what ``pulumi destroy`` does (protect, retain_on_delete); and the warnings
the program logged. Invokes are recorded too, so tests can count Okta reads.

The offline plan (``infra.plan``), the tests and the bench all run on this one implementation.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import pulumi
from google.protobuf import struct_pb2
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, resource_pb2
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from kubesphere_okta import membership_model

SECRET_SIG = rpc._special_secret_sig  # the marker the engine uses for secret values
SECRET_PLACEHOLDER = "[secret]"


@dataclass
class Registered:
    type: str
    name: str
    urn: str
    parent_urn: str
    dependencies: list[str]
    inputs: dict[str, Any]
    """Inputs as the provider would receive them: camelCase, secrets unwrapped."""
    secret_inputs: set[str]
    protect: bool
    additional_secret_outputs: list[str]
    shown_inputs: dict[str, Any] = field(default_factory=dict)
    """The same inputs with every value the engine marks secret replaced by ``[secret]``."""
    retain_on_delete: bool = False
    provider_version: str = ""
    """The provider plugin version the SDK asked the engine for."""
    provider_ref: str = ""
    """The explicit provider (``urn::id``) the resource is registered with; empty for the default one."""
    stack_frames: int = 0
    """Frames of the stack trace the SDK sent (where in the program the resource was declared)."""

    @property
    def parent_name(self) -> str | None:
        return self.parent_urn.rsplit("::", 1)[-1] if self.parent_urn else None


@dataclass
class Recording:
    resources: list[Registered] = field(default_factory=list)
    invokes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    """What the program logged as warnings (``pulumi.log.warn``), in order: the CLI would show them."""
    registered_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    """What each resource passed to ``register_outputs``, by URN (known values only)."""

    def of_type(self, typ: str) -> list[Registered]:
        return [r for r in self.resources if r.type == typ]

    def one(self, typ: str) -> Registered:
        found = self.of_type(typ)
        assert len(found) == 1, f"expected one {typ}, registered {[r.name for r in found]}"
        return found[0]

    def named(self, name: str) -> Registered:
        return next(r for r in self.resources if r.name == name)

    def urn_of(self, name: str) -> str:
        return self.named(name).urn

    def objects(self, typ: str) -> list[Registered]:
        """Every KubeSphere object of type ``typ`` (``kubernetes:<apiVersion>:<kind>``) the program
        declares, whichever resource writes it: a pulumi-kubernetes resource of that type, or one
        member of a keyed membership resource (``membership_model.declared_objects``), shown as a
        ``Registered`` named by its object key, with its body as inputs and the keyed resource's
        parent, dependencies and options."""
        return [r for r in self.kubesphere_objects(with_others=True) if r.type == typ]

    def kubesphere_objects(self, *, with_others: bool = False) -> list[Registered]:
        """Every KubeSphere User and role binding the program declares (see ``objects``); with
        ``with_others``, every other ``kubernetes:`` resource too."""
        found = []
        for r in self.resources:
            if r.type.startswith("kubernetes:") and (with_others or r.inputs.get("kind") in membership_model.KINDS):
                found.append(r)
            for key, body in membership_model.declared_objects(r.type, r.inputs).items():
                found.append(dataclasses.replace(r, type=f"kubernetes:{body['apiVersion']}:{body['kind']}", name=key,
                                                 inputs=body, shown_inputs=body, secret_inputs=set()))
        return found


def _is_secret(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get(rpc._special_sig_key) == SECRET_SIG


def _unwrap_secrets(value: Any) -> Any:
    """The plain value the provider would receive, with the engine's secret wrappers removed."""
    return _split_secrets(value)[0]


def _hide_secrets(value: Any) -> Any:
    """The value with everything the engine marks secret replaced by ``[secret]``."""
    return _split_secrets(value)[1]


def _secret_paths(value: Any, path: str = "") -> set[str]:
    found: set[str] = set()
    _split_secrets(value, path, found)
    return found


def _split_secrets(value: Any, path: str = "", found: set[str] | None = None) -> tuple[Any, Any]:
    """(plain value, value with secrets shown as ``[secret]``) in one walk; adds the path of each
    secret to ``found``. A part without secrets is one object in both results (recordings are
    never mutated), so a recording does not hold two copies of what is not secret."""
    if _is_secret(value):
        if found is not None:
            found.add(path)
        return _split_secrets(value.get("value"))[0], SECRET_PLACEHOLDER
    if isinstance(value, Mapping):
        plain: dict[str, Any] = {}
        shown: dict[str, Any] = {}
        same = True
        for k, v in value.items():
            plain[k], shown[k] = _split_secrets(v, f"{path}.{k}" if path else k, found)
            same = same and shown[k] is plain[k]
        return plain, plain if same else shown
    if isinstance(value, list):
        pairs = [_split_secrets(v, f"{path}[{i}]", found) for i, v in enumerate(value)]
        plain_list = [p for p, _ in pairs]
        return plain_list, plain_list if all(p is h for p, h in pairs) else [h for _, h in pairs]
    return value, value


class OktaAndKubernetesMocks(pulumi.runtime.Mocks):
    """Answers like the Okta and Kubernetes providers would, for what this project registers.

    ``groups`` maps Okta group names to ids for ``getGroup`` (an unknown name answers with the
    first name that starts with it, as Okta's prefix search does); ``group_members`` maps group
    ids to lists of user dicts for ``getUsers``. Subclasses change the answers by overriding
    ``resource_id``, ``app_credentials`` and ``group_lookup``.
    """

    def __init__(self, groups: Mapping[str, str] | None = None, group_members: Mapping[str, list] | None = None):
        self.groups = dict(groups or {})
        self.group_members = dict(group_members or {})
        self.recording = Recording()

    def resource_id(self, args: pulumi.runtime.MockResourceArgs) -> str:
        return f"{args.name}-id"

    def app_credentials(self, args: pulumi.runtime.MockResourceArgs) -> dict[str, str]:
        """``clientId`` and ``clientSecret`` of a newly created Okta OAuth app."""
        return {"clientId": f"0oa{abs(hash(args.name)) % 10**17:017d}", "clientSecret": "mock-client-secret"}

    def group_lookup(self, asked: str) -> dict[str, Any]:
        """``getGroup``'s answer for a name, with Okta's prefix matching."""
        found = asked if asked in self.groups else next((n for n in self.groups if n.startswith(asked or "")), None)
        if found is None:
            raise Exception(f"group with name {asked!r} does not exist")
        return {"id": self.groups[found], "name": found, "description": "", "type": "OKTA_GROUP", "users": []}

    def added_outputs(self, args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
        """What the provider answers beyond the inputs: an OAuth app's credentials."""
        return self.app_credentials(args) if args.typ == "okta:app/oAuth:OAuth" else {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        outputs = copy.deepcopy(args.inputs)
        outputs.update(self.added_outputs(args))
        return [self.resource_id(args), outputs]

    def call(self, args: pulumi.runtime.MockCallArgs):
        self.recording.invokes.append((args.token, dict(args.args)))
        if args.token == "okta:group/getGroup:getGroup":
            return self.group_lookup(args.args.get("name"))
        if args.token == "okta:user/getUsers:getUsers":
            return {"id": "users", "users": list(self.group_members.get(args.args.get("groupId"), []))}
        return {}


class _WarningCollector(logging.Handler):
    """Keeps the warnings the program logs through the (mock) engine, instead of printing them."""

    def __init__(self, recording: Recording):
        super().__init__(level=logging.WARNING)
        self.recording = recording

    def emit(self, record: logging.LogRecord) -> None:
        self.recording.warnings.append(record.getMessage())


def _engine_logger(recording: Recording) -> logging.Logger:
    logger = logging.Logger("pulumi-mock-engine", level=logging.WARNING)  # not registered: one per run
    logger.propagate = False
    logger.addHandler(_WarningCollector(recording))
    return logger


#: Markers in a serialized property Struct of values that a deserialize/serialize round trip can
#: change: unknowns (dropped), assets, archives, resource references and output values (rebuilt as
#: objects). A secret comes back as the same ``{<sig key>: <secret sig>, "value": ...}`` mapping it
#: was sent as, so secrets (every dynamic resource's serialized provider) take the fast path.
_NOT_ECHOED = (rpc.UNKNOWN.encode(), rpc._special_asset_sig.encode(), rpc._special_archive_sig.encode(),
               rpc._special_resource_sig.encode(), rpc._special_output_value_sig.encode())


_SPECIAL = rpc._special_sig_key.encode()


def _plain_value(value: struct_pb2.Value) -> Any:
    """A Value holding no special object (no signature key, no unknown) as ``rpc.deserialize_property``
    reads it: numbers as floats, ``None`` left out of mappings and kept in lists."""
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "struct_value":
        return {k: v for k, v in ((k, _plain_value(v)) for k, v in value.struct_value.fields.items()) if v is not None}
    if kind == "list_value":
        return [_plain_value(v) for v in value.list_value.values]
    if kind == "number_value":
        return value.number_value
    if kind == "bool_value":
        return value.bool_value
    return None


def _recorded_inputs(struct: struct_pb2.Struct) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], set[str]]:
    """(inputs as ``rpc.deserialize_properties`` gives them, plain, shown, secret paths), as
    ``_split_secrets`` makes the last three. A property whose bytes hold no signature key (no
    secret inside: a keyed resource's map of 10,000 members) is read once, with the Value accessors,
    and is the same object in all three (half the time of the SDK's reader and no second walk).
    Only for structs without unknowns (the caller's ``_NOT_ECHOED`` check)."""
    inputs: dict[str, Any] = {}
    plain: dict[str, Any] = {}
    shown: dict[str, Any] = {}
    found: set[str] = set()
    for key, value in struct.fields.items():
        if _SPECIAL in value.SerializeToString():
            item = rpc.deserialize_property(struct[key])
            if item is None:
                continue
            inputs[key] = item
            plain[key], shown[key] = _split_secrets(item, key, found)
        else:
            item = _plain_value(value)
            if item is not None:
                inputs[key] = plain[key] = shown[key] = item
    return inputs, plain, (plain if all(shown[k] is plain[k] for k in plain) else shown), found


def invoke_answer(answer: Mapping[str, Any]) -> struct_pb2.Struct:
    """``answer`` as the Struct the stock mock monitor sends (``rpc.serialize_properties``): built
    with ``Struct.update`` when it holds only plain values, by the SDK otherwise. Top-level ``None``
    is left out, as the SDK leaves it out."""
    returned = struct_pb2.Struct()
    try:
        returned.update({k: v for k, v in answer.items() if v is not None})
        return returned
    except (TypeError, ValueError, AttributeError):  # an Output, a resource, an asset: not plain
        return _sync_await(rpc.serialize_properties(answer, {}))


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The stock mock monitor, also keeping what the engine would see of each registration.

    Answers a registration the way the stock monitor does (outputs = the inputs plus what
    ``OktaAndKubernetesMocks.added_outputs`` adds), but without its round trip: the stock one
    deserializes the inputs, deep-copies them and serializes them again on a private event loop,
    which at 20,000 resources was a fifth of the run, and for a keyed membership resource of
    10,000 members about a second. Inputs that the round trip could change (unknowns, assets,
    resource references, see ``_NOT_ECHOED``) and mocks that override ``new_resource`` still take
    the stock path.

    An invoke's answer is put into the response with ``Struct.update`` when it holds only plain
    values (what ``call`` returns here: Okta's ``getUsers`` lists every member of a group), not
    with the SDK's asynchronous ``serialize_properties``: the same Struct, a quarter of the time.
    """

    def __init__(self, mocks: OktaAndKubernetesMocks):
        super().__init__(mocks)
        self.recording = mocks.recording
        self._echo = type(mocks).new_resource is OktaAndKubernetesMocks.new_resource

    def RegisterResource(self, request):
        if request.type == "pulumi:pulumi:Stack":
            return super().RegisterResource(request)
        wire = request.object.SerializeToString()
        if not self._echo or any(marker in wire for marker in _NOT_ECHOED):
            response = super().RegisterResource(request)
            self._record(request, response.urn, rpc.deserialize_properties(request.object))
            return response
        inputs, plain, shown, secret_inputs = _recorded_inputs(request.object)
        args = pulumi_mocks.MockResourceArgs(
            typ=request.type, name=request.name, inputs=inputs, provider=request.provider,
            resource_id=request.importId, custom=request.custom or False,
        )
        urn = self.make_urn(request.parent, request.type, request.name)
        resource_id = self.mocks.resource_id(args)
        added = self.mocks.added_outputs(args)
        outputs = struct_pb2.Struct()
        outputs.MergeFromString(wire)
        outputs.update(added)
        self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, resource_id, {**inputs, **added})
        self._record(request, urn, inputs, split=(plain, shown, secret_inputs))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id, object=outputs)

    def Invoke(self, request):
        if request.tok == "pulumi:pulumi:getResource":
            return super().Invoke(request)
        _ensure_event_loop()  # as the stock monitor: deserializing a resource reference needs one
        args = rpc.deserialize_properties(request.args)
        answer = self.mocks.call(pulumi_mocks.MockCallArgs(token=request.tok, args=args, provider=request.provider))
        failures = None
        if not isinstance(answer, dict):
            answer, failures = answer[0], [provider_pb2.CheckFailure(property=p, reason=r) for p, r in answer[1]]
        return resource_pb2.ResourceInvokeResponse(failures=failures, **{"return": invoke_answer(answer)})

    def RegisterResourceOutputs(self, request):
        outputs = rpc.deserialize_properties(request.outputs) if request.outputs else {}
        self.recording.registered_outputs[request.urn] = _unwrap_secrets(outputs)
        return super().RegisterResourceOutputs(request)

    def _record(self, request, urn: str, inputs: dict[str, Any],
                split: tuple[dict[str, Any], dict[str, Any], set[str]] | None = None) -> None:
        if split is None:
            secret_inputs: set[str] = set()
            plain, shown = _split_secrets(inputs, "", secret_inputs)
        else:
            plain, shown, secret_inputs = split
        self.recording.resources.append(Registered(
            type=request.type,
            name=request.name,
            urn=urn,
            parent_urn=request.parent,
            dependencies=list(request.dependencies),
            inputs=plain,
            secret_inputs=secret_inputs,
            protect=bool(request.protect),
            additional_secret_outputs=list(request.additionalSecretOutputs),
            shown_inputs=shown,
            retain_on_delete=bool(request.retainOnDelete),
            provider_version=request.version,
            provider_ref=request.provider,
            stack_frames=len(request.stackTrace.frames),
        ))


def run(
    fn: Callable[[], Any],
    *,
    project: str = "kubesphere-okta",
    stack: str = "dev",
    config: Mapping[str, str] | None = None,
    secret_keys: list[str] | None = None,
    preview: bool = False,
    mocks: OktaAndKubernetesMocks | None = None,
) -> Recording:
    """Run ``fn`` under fresh mocks (with the given Pulumi config) and return what it registered.

    ``config`` maps full keys (``project:key``) to strings, as the CLI passes them; keys in
    ``secret_keys`` are secret. ``fn`` may return a dict of Outputs; their resolved values land
    in ``Recording.outputs``.
    """
    mocks = mocks or OktaAndKubernetesMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_all_config(dict(config or {}), secret_keys=list(secret_keys or []))
    recording = mocks.recording
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor,
                             logger=_engine_logger(recording))

    @pulumi.runtime.test
    def body():
        result = fn()
        if isinstance(result, Mapping):
            keys = list(result)
            return pulumi.Output.all(*[result[k] for k in keys]).apply(
                lambda values: recording.outputs.update(dict(zip(keys, values)))
            )
        return None

    body()
    return recording
