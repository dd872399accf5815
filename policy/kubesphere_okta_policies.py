"""The kubesphere-okta policy pack's policies: each wires one decision of ``guardrails`` to the
Pulumi policy SDK. ``__main__.py`` serves them; tests call ``validate``/``remediate`` directly.

What a policy sees (read from pulumi-policy 1.21's ``policy.py``): ``args.props`` are the resource's
inputs (stack policies: its outputs) with every secret already unwrapped, and unknown values
raising ``UnknownValueError`` when read during a preview (the SDK then reports "can't run policy
during preview" as advisory). Only ``remediate`` sees which inputs are secret (as ``Secret``).
"""

from __future__ import annotations

import os
from typing import Any, Mapping

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Secret,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy import guardrails


def current_stack() -> str:
    """The stack being previewed or updated: the Pulumi CLI gives it to a policy pack as PULUMI_STACK."""
    return os.environ.get("PULUMI_STACK", "")


def _report_all(problems: list[str], report_violation: ReportViolation) -> None:
    for problem in problems:
        report_violation(problem, None)


def _report_all_at(problems: list[tuple[str, str]], report_violation: ReportViolation) -> None:
    for urn, problem in problems:
        report_violation(problem, urn)


def _stack_resources(args: StackValidationArgs) -> list[guardrails.StackResource]:
    return [
        guardrails.StackResource(
            type=r.resource_type,
            name=r.name,
            urn=r.urn,
            props=r.props,
            protect=bool(r.opts.protect),
            parent=r.parent.urn if r.parent is not None else r.opts.parent,
            dependencies=tuple(d.urn for d in r.dependencies),
            property_dependencies={k: tuple(d.urn for d in v) for k, v in r.property_dependencies.items()},
        )
        for r in args.resources
    ]


def _on_okta_app(check):
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type == guardrails.OKTA_APP:
            _report_all(check(args), report_violation)
    return validate


okta_app_kubesphere_compatible = ResourceValidationPolicy(
    name="okta-app-kubesphere-compatible",
    description="The Okta app is a web app KubeSphere can log in with: authorization code only, response type code, no PKCE requirement.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_on_okta_app(lambda args: guardrails.okta_app_compatibility_problems(args.props)),
)

okta_app_redirect_uris = ResourceValidationPolicy(
    name="okta-app-redirect-uris-kubesphere-shaped",
    description="Every sign-in redirect URI of the Okta app is exactly https://<console>/oauth/redirect/<provider>, with no wildcard.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_on_okta_app(lambda args: guardrails.redirect_uri_problems(args.props)),
)

okta_app_not_open_to_whole_org = ResourceValidationPolicy(
    name="okta-app-not-open-to-whole-org",
    description="The Okta app is not implicitly assigned to every user of the org.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_on_okta_app(lambda args: guardrails.open_to_whole_org_problems(args.props)),
)

prod_stacks_protect_okta_app = ResourceValidationPolicy(
    name="prod-stacks-protect-okta-app",
    description="On stacks named prod*, the Okta app is protected: replacing it rotates the client secret and logs everyone out.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_on_okta_app(lambda args: guardrails.protect_problems(current_stack(), bool(args.opts.protect))),
)


def _validate_tls(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    entry = guardrails.kubesphere_identity_provider(args.resource_type, args.props)
    if entry:
        _report_all(guardrails.insecure_skip_verify_problems(entry), report_violation)


kubesphere_entry_verifies_tls = ResourceValidationPolicy(
    name="kubesphere-entry-verifies-tls",
    description="The KubeSphere identity-provider entry never sets insecureSkipVerify: Okta's certificate is always verified.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_tls,
)


def _validate_client_secret_placement(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    _report_all(
        guardrails.client_secret_in_config_map_problems(args.resource_type, args.props)
        + guardrails.client_secret_in_metadata_problems(args.resource_type, args.props),
        report_violation,
    )


def _unproxied(value: Any) -> Any:
    """``value`` as plain dicts and lists with its ``Secret`` wrappers kept.

    For ``remediate`` the SDK wraps every mapping and list in a secrets-preserving proxy whose
    items come out already unwrapped; its ``"__target"`` item is the raw container.
    """
    if isinstance(value, Secret):
        return Secret(_unproxied(value.value))
    if isinstance(value, (str, bytes)):
        return value
    try:
        target = value["__target"]
    except (KeyError, TypeError, IndexError):
        target = value
    if isinstance(target, Mapping):
        return {key: _unproxied(item) for key, item in target.items()}
    if isinstance(target, (list, tuple)):
        return [_unproxied(item) for item in target]
    return target


def _remediate_client_secret(args: ResourceValidationArgs) -> Mapping[str, Any] | None:
    """Wrap, as a Pulumi secret, each input that hands KubeSphere the client secret in the clear."""
    inputs = _unproxied(args.props)
    exposed = [
        name for name in guardrails.secret_carrying_inputs(args.resource_type, args.props)
        if guardrails.exposes_client_secret(inputs.get(name), lambda v: isinstance(v, Secret))
    ]
    if not exposed:
        return None
    return {**inputs, **{name: Secret(inputs[name]) for name in exposed}}


client_secret_only_as_secret = ResourceValidationPolicy(
    name="client-secret-reaches-kubesphere-only-as-secret",
    description="The Okta client secret reaches KubeSphere only as a Pulumi secret, never in a ConfigMap, label or annotation.",
    enforcement_level=EnforcementLevel.REMEDIATE,
    validate=_validate_client_secret_placement,
    remediate=_remediate_client_secret,
)


okta_app_group_assignments = StackValidationPolicy(
    name="okta-app-group-assignments",
    description="Each Okta app has exactly one AppGroupAssignments, with at least one group and never the org's Everyone group.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=lambda args, report_violation: _report_all_at(
        guardrails.group_assignment_problems(
            _stack_resources(args), args.get_config().get("everyoneGroupIds") or ()
        ),
        report_violation,
    ),
    config_schema=PolicyConfigSchema(
        properties={
            "everyoneGroupIds": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Id(s) of the Okta org's built-in Everyone group (00g...), which must never be assigned.",
            }
        }
    ),
)

prod_stacks_require_mfa = StackValidationPolicy(
    name="prod-stacks-require-mfa",
    description="On stacks named prod*, each Okta app has its own deny-by-default sign-on policy whose allow rules require 2FA.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=lambda args, report_violation: _report_all_at(
        guardrails.mfa_problems(current_stack(), _stack_resources(args)), report_violation
    ),
)

admin_roles_require_mfa = StackValidationPolicy(
    name="admin-roles-require-mfa",
    description="No Okta group is mapped to platform-admin or cluster-admin unless signing in requires two factors.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=lambda args, report_violation: _report_all_at(
        guardrails.admin_without_mfa_problems(_stack_resources(args)), report_violation
    ),
)

okta_redirect_matches_kubesphere_entry = StackValidationPolicy(
    name="okta-redirect-uri-matches-kubesphere-entry",
    description="The KubeSphere entry's redirectURL is one of its Okta app's redirect URIs, byte for byte, ending in the provider name.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=lambda args, report_violation: _report_all_at(
        guardrails.redirect_match_problems(_stack_resources(args)), report_violation
    ),
)

global_role_bindings_name_shipped_roles = StackValidationPolicy(
    name="global-role-bindings-name-shipped-roles",
    description="Every GlobalRoleBinding names a global role the KubeSphere version ships (its role templates) or one the stack declares.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=lambda args, report_violation: _report_all_at(
        guardrails.global_role_binding_problems(
            _stack_resources(args), args.get_config().get("kubesphereVersion") or None
        ),
        report_violation,
    ),
    config_schema=PolicyConfigSchema(
        properties={
            "kubesphereVersion": {
                "type": "string",
                "description": "The stack's kubesphere-okta:kubesphereVersion (e.g. 3.2); default: the newest release of each binding's API version.",
            }
        }
    ),
)

POLICIES = [
    okta_app_kubesphere_compatible,
    okta_app_redirect_uris,
    okta_redirect_matches_kubesphere_entry,
    okta_app_not_open_to_whole_org,
    okta_app_group_assignments,
    prod_stacks_require_mfa,
    admin_roles_require_mfa,
    prod_stacks_protect_okta_app,
    kubesphere_entry_verifies_tls,
    client_secret_only_as_secret,
    global_role_bindings_name_shipped_roles,
]
