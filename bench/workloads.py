"""What ``make bench`` registers: the component, the same resources written by hand with the SDKs,
and a stack whose ``roleBindings`` groups hold many Okta members. No timing here.

``tests/test_bench.py`` checks that the two sides register identical resource sets and that the
member stack plans with one group read and one member read per group.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import yaml

GROUP_ID = "00g1abcdefghijklmnop"
ARGS: dict[str, Any] = {"console_url": "https://console.example.com", "issuer": "https://example.okta.com",
                        "kubesphere_version": "4.1", "group_ids": [GROUP_ID]}

#: The member stack: five roleBindings groups, by name (so each costs a group read), overlapping.
MEMBER_GROUPS = ("KubeSphere Admins", "KubeSphere Operators", "KubeSphere Developers", "KubeSphere Viewers",
                 "KubeSphere Auditors")
MEMBER_ROLES = ("platform-admin", "platform-self-provisioner", "platform-regular", "platform-regular",
                "platform-regular")
MEMBER_STACK = "bench"
MEMBERS_FILE = "members.json"


def component_program(n: int) -> Callable[[], None]:
    """N integrations, as a user of the component writes them."""
    from kubesphere_okta import KubeSphereOktaIntegration

    def program() -> None:
        for i in range(n):
            KubeSphereOktaIntegration(f"ks{i}", dict(ARGS))

    return program


def direct_program(n: int) -> Callable[[], None]:
    """The custom resources the component registers for ``ARGS``, written by hand with the SDK
    classes (pulumi_okta, pulumi_kubernetes, and for the two cluster guards the dynamic resource
    ``pulumi.dynamic.Resource`` registers): same types, names, inputs, secrets, parents and
    dependencies, only without the component resource around them.

    The guards' provider is serialized once per process, as the component does and as anyone
    writing them by hand would (``pulumi.dynamic.Resource`` pickles it again for every resource,
    about 0.17 s CPU each): both sides do the same registration work, so the ratio is the
    component's own cost."""
    import pulumi
    import pulumi_kubernetes as k8s
    import pulumi_okta as okta

    from kubesphere_okta import cluster_access, cluster_guard, dynamic_registration
    from kubesphere_okta.identity_provider import (
        V4_NAMESPACE,
        IdentityProviderSettings,
        dump_v4_configuration,
        okta_app_settings,
        render_v4_configuration,
        v4_secret_name,
    )

    settings = IdentityProviderSettings(console_url=ARGS["console_url"], issuer=ARGS["issuer"], kubesphere_version="4.1")
    secret_name = v4_secret_name(settings.provider_name)
    serialized_guard = dynamic_registration.serialized_provider(cluster_guard.PROVIDER)

    class Guard(pulumi.CustomResource):
        """``pulumi.dynamic.Resource(provider, name, props, opts)`` less the pickling: its ``__init__``
        adds the serialized provider as a secret and registers under this type token. A class, as
        that one is: the SDK sends the stack trace of where a resource class was instantiated, and
        finds it by counting ``__init__`` frames (a bare ``pulumi.CustomResource(...)`` call sends none)."""

        def __init__(self, name: str, props: dict, opts: pulumi.ResourceOptions) -> None:
            props = {**props, pulumi.dynamic.dynamic.PROVIDER_KEY: pulumi.Output.secret(serialized_guard)}
            super().__init__("pulumi-python:dynamic:Resource", name, props, opts)

    def guard(name: str, role: str, depends_on: list) -> pulumi.CustomResource:
        props = {"role": role, "provider_name": settings.provider_name, "kubeconfig": None, "kube_context": None,
                 "secret_name": secret_name if role == "before" else None,
                 "namespace": V4_NAMESPACE if role == "before" else None, "rebind_cluster": None,
                 "request_timeout": cluster_access.REQUEST_TIMEOUT_SECONDS, "cluster": None}
        return Guard(name, props, pulumi.ResourceOptions(depends_on=depends_on, additional_secret_outputs=["kubeconfig"]))

    def program() -> None:
        for i in range(n):
            label = f"KubeSphere (ks{i})"
            policy = okta.AppSignonPolicy(f"ks{i}-signon-policy", name=f"{label} sign-on",
                                          description=f"Who may sign in to {label}: managed by kubesphere-okta, edit in code.",
                                          catch_all=False)
            okta.AppSignonPolicyRule(f"ks{i}-signon-rule", policy_id=policy.id, name="Allowed groups", access="ALLOW",
                                     groups_included=[GROUP_ID], factor_mode="2FA",
                                     opts=pulumi.ResourceOptions(parent=policy))
            app = okta.app.OAuth(f"ks{i}-app", label=label, authentication_policy=policy.id, **okta_app_settings(settings))
            okta.AppGroupAssignments(f"ks{i}-groups", app_id=app.id,
                                     groups=[okta.AppGroupAssignmentsGroupArgs(id=GROUP_ID, profile="{}", priority=0)])
            configuration = pulumi.Output.secret(pulumi.Output.all(app.client_id, app.client_secret).apply(
                lambda pair: dump_v4_configuration(render_v4_configuration(settings, pair[0], pair[1]))))
            before = guard(f"ks{i}-cluster", "before", [])
            secret = k8s.core.v1.Secret(f"ks{i}-identity-provider",
                                        metadata=k8s.meta.v1.ObjectMetaArgs(
                                            name=secret_name, namespace="kubesphere-system",
                                            labels={"config.kubesphere.io/type": "identityprovider"}),
                                        type="config.kubesphere.io/identityprovider",
                                        string_data={"configuration.yaml": configuration},
                                        opts=pulumi.ResourceOptions(depends_on=[before]))
            guard(f"ks{i}-cluster-release", "after", [secret])

    return program


FLOOR_TYPES = ("kubernetes:iam.kubesphere.io/v1beta1:User", "kubernetes:iam.kubesphere.io/v1beta1:GlobalRoleBinding")


def floor_program(count: int) -> Callable[[], None]:
    """The Pulumi SDK's floor for ``count`` resources: one component and ``count - 1`` bare custom
    resources under it, Users and GlobalRoleBindings alternately, with bodies the size of the
    member plan's (``bench/sdk_floor.py``). No program work: no planning, options, dependencies."""
    import pulumi

    def program() -> None:
        parent = pulumi.ResourceOptions(parent=pulumi.ComponentResource("bench:index:Floor", "floor", None))
        for i in range(count - 1):
            name = f"user{i}.acme.com"
            if i % 2 == 0:
                body = {"apiVersion": "iam.kubesphere.io/v1beta1", "kind": "User",
                        "metadata": {"name": name,
                                     "annotations": {"iam.kubesphere.io/identity-provider.Okta": f"00u{i:017d}"}},
                        "spec": {"email": f"user{i}@acme.com"}}
            else:
                body = {"apiVersion": "iam.kubesphere.io/v1beta1", "kind": "GlobalRoleBinding",
                        "metadata": {"name": f"{name}-platform-regular",
                                     "labels": {"iam.kubesphere.io/user-ref": name,
                                                "iam.kubesphere.io/role-ref": "platform-regular"}},
                        "roleRef": {"apiGroup": "iam.kubesphere.io", "kind": "GlobalRole", "name": "platform-regular"},
                        "subjects": [{"apiGroup": "iam.kubesphere.io", "kind": "User", "name": name}]}
            pulumi.CustomResource(FLOOR_TYPES[i % 2], f"floor-{i}", body, parent)

    return program


def peak_rss() -> int:
    """This process's own peak resident set size, bytes: ``VmHWM`` of /proc/self/status (Linux).

    Not ``ru_maxrss`` from ``wait4``: the kernel carries the peak of the memory a child had before
    ``exec`` into it, and a child spawned by the bench starts as a copy of the bench's own memory.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def members(count: int) -> dict[str, list[dict[str, str]]]:
    """``--okta-members`` for ``count`` distinct people in five overlapping groups.

    Every hundredth person's login derives the same dns-safe name as the person before (upper
    case), so collision suffixes are part of the work, as in a real org.
    """
    def person(i: int) -> dict[str, str]:
        login = f"user{i - 1}@acme.com".upper() if i % 100 == 99 else f"user{i}@acme.com"
        return {"id": f"00u{i:017d}", "login": login, "email": f"user{i}@acme.com"}

    people = [person(i) for i in range(count)]
    spans = [people[: max(1, count // 20)], people[: count * 4 // 10], people[count * 3 // 10: count * 7 // 10],
             people[count * 6 // 10:], people[::3]]
    return dict(zip(MEMBER_GROUPS, spans))


def write_member_stack(directory: Path, count: int) -> Path:
    """A project directory with ``Pulumi.bench.yaml`` and ``members.json``; returns the members file."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Pulumi.yaml").write_text("name: kubesphere-okta\nruntime: python\nmain: infra/\n")
    config = {
        "okta:orgName": "example",
        "kubesphere-okta:consoleUrl": "https://kubesphere.example.com",
        "kubesphere-okta:kubesphereVersion": "4.1.3",
        "kubesphere-okta:groupNames": list(MEMBER_GROUPS),
        "kubesphere-okta:mappingMethod": "lookup",
        "kubesphere-okta:usernameFormat": "dns-safe",
        "kubesphere-okta:roleBindings": dict(zip(MEMBER_GROUPS, MEMBER_ROLES)),
    }
    (directory / f"Pulumi.{MEMBER_STACK}.yaml").write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    # JSON, as a script exporting Okta's groups would write it (Okta's API answers JSON): the plan
    # reads it with the JSON parser; the same members as YAML cost ~0.35 s more at 10,000.
    members_file = directory / MEMBERS_FILE
    members_file.write_text(json.dumps(members(count)))
    return members_file
