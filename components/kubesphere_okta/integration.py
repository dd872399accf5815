"""``KubeSphereOktaIntegration``: the Okta app, who may use it, and the KubeSphere identity provider.

This module only wires resources together; every decision is made by the pure modules
(``rules``, ``identity_provider``) and every resource is declared in its own module.
"""

from typing import Any, Optional

import pulumi

from . import (
    authorization_server,
    cluster_binding,
    identities,
    kubesphere_roles,
    kubesphere_v3,
    kubesphere_versions,
    kubesphere_v4,
    okta_app,
    readiness,
    rules,
)
from .args import IntegrationArgsError, KubeSphereOktaIntegrationArgs, resolve_args
from .cluster import KubeSphereCluster, kubernetes_provider_in
from .okta_directory import OktaDirectory
from .usernames import IdentityPlan
from .identity_provider import (
    IdentityProviderSettings,
    redact,
    render_v3_entry,
    render_v4_configuration,
    v3_oauth_options,
)

TYPE_TOKEN = "kubesphere-okta:index:KubeSphereOktaIntegration"
#: Outputs that are credentials: always Pulumi secrets, and marked secret in the component schema.
SECRET_OUTPUTS = ("client_secret",)


class KubeSphereOktaIntegration(pulumi.ComponentResource):
    """Puts a KubeSphere console behind Okta single sign-on (OIDC)."""

    # The annotated attributes are the outputs other languages see, through the schema inferred
    # from them (provider.py); hence no ``from __future__ import annotations`` in this module.

    client_id: pulumi.Output[str]
    """The Okta app's client id (also ``provider.clientID`` in KubeSphere)."""

    client_secret: pulumi.Output[str]
    """The Okta app's client secret; always a Pulumi secret."""

    redirect_url: pulumi.Output[str]
    """``<console_url>/oauth/redirect/<provider_name>``: Okta's only sign-in redirect URI."""

    issuer: pulumi.Output[str]
    """The issuer KubeSphere validates ID tokens against."""

    okta_app_id: pulumi.Output[str]
    """The Okta app's id (``0oa...``)."""

    identity_provider: pulumi.Output[dict[str, Any]]
    """The KubeSphere identity-provider entry as written, with the client secret redacted."""

    skipped_members: pulumi.Output[list[dict[str, str]]]
    """Okta group members of ``role_bindings`` who got no User this run: ``{oktaId, login, reason}``
    each (also one warning). Empty when everyone is provisioned; ``strict_identities`` fails instead."""

    skipped_objects: pulumi.Output[list[dict[str, str]]]
    """Role bindings planned but not declared because a KubeSphere controller creates and owns that
    very object (3.x: a platform-admin's ``<user>-cluster-admin``): ``{kind, apiGroup, namespace,
    name, user, reason}`` each."""

    logout: pulumi.Output[str]
    """What logging out of the console does on the configured KubeSphere version (docs/logout.md)."""

    login_ready: pulumi.Output[str]
    """With ``verify_login``: a summary once KubeSphere and Okta are ready for logins (``pulumi up``
    fails otherwise); "not checked ..." during preview or when ``verify_login`` is off."""

    def __init__(
        self,
        name: str,
        args: KubeSphereOktaIntegrationArgs,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        # Validate before registering anything: a bad argument must not leave half a graph.
        settings, access = resolve_args(args)
        # One component, one cluster: a kubernetes provider in opts would govern only some objects.
        problems = cluster_binding.selection_problems(
            has_kubernetes_provider=kubernetes_provider_in(opts),
            kubeconfig_given=access.get("kubeconfig") is not None,
            kube_context_given=access.get("kube_context") is not None,
        )
        if problems:
            raise IntegrationArgsError(problems)
        super().__init__(TYPE_TOKEN, name, None, opts)
        for warning in rules.integration_warnings(args) + kubesphere_roles.role_warnings(identities.scoped_maps(access)):
            pulumi.log.warn(rules.in_terms(warning), resource=self)
        # Every Okta read of this run goes through one directory: each group is looked up once,
        # whoever needs it (assignments, policies, role bindings), before any child is registered.
        self.okta_directory = OktaDirectory(parent=self)
        group_ids = okta_app.allowed_group_ids(access, self.okta_directory)
        # Decide every User and binding of the mapped groups' members before any child is registered.
        identity_plan = (
            identities.planned_users(access, self.okta_directory, settings.mapping_method)
            if identities.has_member_maps(access) else IdentityPlan()
        )
        if identity_plan.skipped:
            pulumi.log.warn(rules.in_terms(identity_plan.warning()), resource=self)
        skipped_members = [s.as_output() for s in identity_plan.skipped]
        self.skipped_members = pulumi.Output.from_input(skipped_members)
        memberships = (
            identities.planned_memberships(access, identity_plan.users, self.okta_directory) if identity_plan.users else []
        )
        # Never declare what a KubeSphere controller creates and owns (two owners of one object).
        memberships, skipped_objects = kubesphere_roles.declarable_memberships(
            settings.kubesphere_version, memberships, [(u.username, u.role) for u in identity_plan.users if u.role])
        for skipped in skipped_objects:
            pulumi.log.info(f"not declared: {skipped.key.describe()}: {skipped.reason}", resource=self)
        skipped_objects = [s.as_output() for s in skipped_objects]
        self.skipped_objects = pulumi.Output.from_input(skipped_objects)
        logout = kubesphere_versions.logout_summary(settings.kubesphere_version)
        self.logout = pulumi.Output.from_input(logout)

        app, self.group_assignments = okta_app.okta_app(name, settings, access, group_ids, parent=self)
        self.okta_app = app
        self.client_id = app.client_id
        self.client_secret = pulumi.Output.secret(app.client_secret)
        self.redirect_url = pulumi.Output.from_input(settings.redirect_url)
        self.issuer = pulumi.Output.from_input(settings.issuer)
        self.okta_app_id = app.id

        v3 = rules.is_v3(settings.kubesphere_version)
        # Every KubeSphere object reaches its cluster through this one object (cluster.py).
        self.cluster = KubeSphereCluster(name, settings, access, parent=self,
                                         writes_kubernetes_objects=not v3 or bool(identity_plan.users))
        if v3:
            self.kubesphere_resource = self._kubesphere_v3(name, settings, access)
            render = render_v3_entry
        else:
            self.kubesphere_resource = kubesphere_v4.identity_provider_secret(
                name, settings, self.client_id, self.client_secret, parent=self, cluster=self.cluster
            )
            render = render_v4_configuration
        if access["authorization_server_id"]:
            self.access_policy = authorization_server.access_policy(
                name, settings, access, app.label, self.client_id, group_ids, parent=self,
            )
        references_check = identities.role_references_check(name, settings, access, parent=self,
                                                            cluster=self.cluster, users=identity_plan.users,
                                                            memberships=memberships)
        self.kubesphere_identities = identities.kubesphere_identities(
            name, settings, access, identity_plan.users, parent=self, memberships=memberships,
            references_check=references_check, cluster=self.cluster,
        )
        kubernetes_objects = list(self.kubesphere_identities.values())
        if not v3:
            kubernetes_objects.insert(0, self.kubesphere_resource)
        self.cluster.seal(kubernetes_objects)
        self.login_ready = self._login_ready(settings, access)
        # Built from the client id only, so the output carries no secret at all.
        self.identity_provider = self.client_id.apply(lambda cid: redact(render(settings, cid, "")))

        # What is known now goes in as the plain value (the same output for the engine, without an
        # Output to await per value: docs/performance.md, "Startup and registration").
        self.register_outputs({
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "redirect_url": settings.redirect_url,
            "issuer": settings.issuer,
            "okta_app_id": self.okta_app_id,
            "identity_provider": self.identity_provider,
            "login_ready": self.login_ready,
            "skipped_members": skipped_members,
            "skipped_objects": skipped_objects,
            "logout": logout,
        })

    def _login_ready(self, settings: IdentityProviderSettings, access: dict[str, Any]) -> pulumi.Output[str]:
        """``verify_login``: ``pulumi up`` waits for this output, so it finishes only once login is ready."""
        if not access["verify_login"]:
            return pulumi.Output.from_input("not checked (verify_login is off)")
        expected = readiness.ExpectedLogin(
            settings.console_url, settings.issuer, settings.provider_name, settings.kubesphere_version
        )
        deployed = [self.kubesphere_resource, self.group_assignments]
        return readiness.login_ready_during_up(
            expected, self.client_id, deployed, access["verify_login_timeout"], log_resource=self
        )

    def _kubesphere_v3(self, name: str, settings: IdentityProviderSettings, access: dict[str, Any]) -> Any:
        """KubeSphere 3.x: our entry merged by name into the ks-installer ClusterConfiguration."""
        entry = pulumi.Output.secret(
            pulumi.Output.all(self.client_id, self.client_secret).apply(
                lambda pair: render_v3_entry(settings, pair[0], pair[1])
            )
        )
        return kubesphere_v3.ClusterConfigurationIdentityProvider(
            f"{name}-identity-provider",
            provider_name=settings.provider_name,
            entry=entry,
            oauth_options=v3_oauth_options(settings),
            **self.cluster.dynamic_inputs(),
            opts=pulumi.ResourceOptions(parent=self),
        )
