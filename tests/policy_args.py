"""Build the arguments a policy receives from resources recorded by tests/pulumi_harness.py.

The engine sends a policy pack each resource's properties in wire form, secrets wrapped
(KeepSecrets); pulumi-policy's servicer deserializes them with ``deserialize_properties`` (secrets
dropped for ``validate``, kept as ``Secret`` for ``remediate``) and wraps them in
``unknown_checking_proxy``. These helpers do the same, so the policies see what they see in a run.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Callable, Iterable, Mapping

from pulumi.runtime import rpc
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy

from tests.pulumi_harness import Registered


def _wrap_secret(value: Any) -> dict:
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


def wire_inputs(inputs: Mapping[str, Any], secret_paths: Iterable[str]) -> dict:
    """``inputs`` as the engine sends them, with the values at ``secret_paths`` marked secret."""
    wired = copy.deepcopy(dict(inputs))
    for path in secret_paths:
        steps = [int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", path)]
        holder = wired
        for step in steps[:-1]:
            holder = holder[step]
        holder[steps[-1]] = _wrap_secret(holder[steps[-1]])
    return wired


def options(resource: Registered, protect: bool | None = None) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=resource.protect if protect is None else protect,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=list(resource.additional_secret_outputs),
        parent=resource.parent_urn or None,
    )


def resource_args(
    resource: Registered,
    inputs: Mapping[str, Any] | None = None,
    *,
    secret_paths: Iterable[str] | None = None,
    protect: bool | None = None,
    remediation: bool = False,
    config: Mapping[str, Any] | None = None,
) -> ResourceValidationArgs:
    """Arguments for ``validate`` (or ``remediate``) of one recorded resource, inputs optionally replaced."""
    wired = wire_inputs(resource.inputs if inputs is None else inputs,
                        resource.secret_inputs if secret_paths is None else secret_paths)
    props = unknown_checking_proxy(deserialize_properties(wired, remediation))
    return ResourceValidationArgs(resource.type, props, resource.urn, resource.name,
                                  options(resource, protect), None, config)


def stack_args(resources: list[Registered], config: Mapping[str, Any] | None = None,
               change: Callable[[Registered], dict | None] = lambda r: None) -> StackValidationArgs:
    """Arguments for a stack policy: every resource, parents and dependencies linked as the SDK links them.

    ``change(resource)`` may return replacement inputs for a resource.
    """
    built: dict[str, PolicyResource] = {}
    for r in resources:
        props = unknown_checking_proxy(deserialize_properties(wire_inputs(change(r) or r.inputs, r.secret_inputs)))
        built[r.urn] = PolicyResource(r.type, props, r.urn, r.name, options(r), None, None, [], {})
    for r in resources:
        policy_resource = built[r.urn]
        policy_resource.parent = built.get(r.parent_urn)
        policy_resource.dependencies.extend(built[d] for d in r.dependencies if d in built)
    return StackValidationArgs(list(built.values()), config)


def violations(policy, args) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    policy.validate(args, lambda message, urn=None: found.append((message, urn)))
    return found
