"""Run Pulumi code under the mock runtime and record what it registers.

``run(fn, ...)`` installs fresh mocks, runs ``fn`` inside the Pulumi runtime, waits for every
registration and returns a ``Recording``: each registered resource with its type, name, parent,
dependencies, inputs (camelCase, as the engine sees them), which inputs are secret, and the
options that matter (protect). Invokes are recorded too, so tests can count Okta reads.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

SECRET_SIG = rpc._special_secret_sig  # the marker the engine uses for secret values


@dataclass
class Registered:
    type: str
    name: str
    urn: str
    parent_urn: str
    dependencies: list[str]
    inputs: dict[str, Any]
    secret_inputs: set[str]
    protect: bool
    additional_secret_outputs: list[str]
    retain_on_delete: bool = False

    @property
    def parent_name(self) -> str | None:
        return self.parent_urn.rsplit("::", 1)[-1] if self.parent_urn else None


@dataclass
class Recording:
    resources: list[Registered] = field(default_factory=list)
    invokes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

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


def _unwrap_secrets(value: Any) -> Any:
    """The plain value the provider would receive, with the engine's secret wrappers removed."""
    if isinstance(value, Mapping):
        if value.get(rpc._special_sig_key) == SECRET_SIG:
            return _unwrap_secrets(value.get("value"))
        return {k: _unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap_secrets(v) for v in value]
    return value


def _secret_paths(value: Any, path: str = "") -> set[str]:
    found: set[str] = set()
    if isinstance(value, Mapping):
        if value.get(rpc._special_sig_key) == SECRET_SIG:
            return {path}
        for k, v in value.items():
            found |= _secret_paths(v, f"{path}.{k}" if path else k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found |= _secret_paths(v, f"{path}[{i}]")
    return found


class OktaAndKubernetesMocks(pulumi.runtime.Mocks):
    """Answers like the Okta and Kubernetes providers would, for what this project registers.

    ``groups`` maps Okta group names to ids for ``getGroup`` (an unknown name answers with the
    first name that starts with it, as Okta's prefix search does); ``group_members`` maps group
    ids to lists of user dicts for ``getUsers``.
    """

    def __init__(self, groups: Mapping[str, str] | None = None, group_members: Mapping[str, list] | None = None):
        self.groups = dict(groups or {})
        self.group_members = dict(group_members or {})
        self.recording = Recording()

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        outputs = copy.deepcopy(args.inputs)
        if args.typ == "okta:app/oAuth:OAuth":
            outputs.update(clientId=f"0oa{abs(hash(args.name)) % 10**17:017d}", clientSecret="mock-client-secret")
        return [f"{args.name}-id", outputs]

    def call(self, args: pulumi.runtime.MockCallArgs):
        self.recording.invokes.append((args.token, dict(args.args)))
        if args.token == "okta:group/getGroup:getGroup":
            asked = args.args.get("name")
            if asked in self.groups:
                return {"id": self.groups[asked], "name": asked, "description": "", "type": "OKTA_GROUP", "users": []}
            prefix_hit = next((n for n in self.groups if n.startswith(asked or "")), None)
            if prefix_hit:
                return {"id": self.groups[prefix_hit], "name": prefix_hit, "description": "", "type": "OKTA_GROUP", "users": []}
            raise Exception(f"group with name {asked!r} does not exist")
        if args.token == "okta:user/getUsers:getUsers":
            return {"id": "users", "users": list(self.group_members.get(args.args.get("groupId"), []))}
        return {}


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The stock mock monitor, also keeping what the engine would see of each registration."""

    def __init__(self, mocks: OktaAndKubernetesMocks):
        super().__init__(mocks)
        self.recording = mocks.recording

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.recording.resources.append(Registered(
                type=request.type,
                name=request.name,
                urn=response.urn,
                parent_urn=request.parent,
                dependencies=list(request.dependencies),
                inputs=_unwrap_secrets(rpc.deserialize_properties(request.object)),
                secret_inputs=_secret_paths(_raw_struct(request.object)),
                protect=bool(request.protect),
                additional_secret_outputs=list(request.additionalSecretOutputs),
                retain_on_delete=bool(request.retainOnDelete),
            ))
        return response


def _raw_struct(struct) -> Any:
    from google.protobuf.json_format import MessageToDict

    return MessageToDict(struct)


def run(
    fn: Callable[[], Any],
    *,
    stack: str = "dev",
    config: Mapping[str, str] | None = None,
    preview: bool = False,
    mocks: OktaAndKubernetesMocks | None = None,
) -> Recording:
    """Run ``fn`` under fresh mocks (with the given Pulumi config) and return what it registered.

    ``fn`` may return a dict of Outputs; their resolved values land in ``Recording.outputs``.
    """
    mocks = mocks or OktaAndKubernetesMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_all_config(dict(config or {}), secret_keys=[])
    pulumi.runtime.set_mocks(mocks, project="kubesphere-okta", stack=stack, preview=preview, monitor=monitor)
    recording = mocks.recording

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
