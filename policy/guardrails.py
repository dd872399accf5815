"""What the policy pack decides: pure functions over resources as Pulumi registers them.

No Pulumi, no I/O. Properties are camelCase, as the engine hands them to a policy pack. They may be
plain dicts/lists or the policy SDK's read-only proxies, so only ``Mapping``/``Sequence`` are
assumed. Each function returns the problems it found as sentences (empty: nothing wrong); the
policies in ``kubesphere_okta_policies`` only report them. The facts behind each check are in
docs/kubesphere-okta-facts.md; the redirect-URI shape is the project's own
``identity_provider.redirect_url``, so the policy and the component cannot disagree.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from kubesphere_okta import membership_model, rules
from kubesphere_okta.identity_provider import (
    V4_CONFIGURATION_KEY,
    V4_SECRET_TYPE,
    redirect_url,
)

OKTA_APP = "okta:app/oAuth:OAuth"
OKTA_APP_GROUP_ASSIGNMENTS = "okta:index/appGroupAssignments:AppGroupAssignments"
#: The one-group-at-a-time resource: a second owner of the app's assignments that never converges.
OKTA_APP_GROUP_ASSIGNMENT = "okta:app/groupAssignment:GroupAssignment"
OKTA_SIGN_ON_POLICY = "okta:index/appSignonPolicy:AppSignonPolicy"
OKTA_SIGN_ON_POLICY_RULE = "okta:index/appSignonPolicyRule:AppSignonPolicyRule"
KUBERNETES_SECRET = "kubernetes:core/v1:Secret"
KUBERNETES_CONFIG_MAPS = frozenset({"kubernetes:core/v1:ConfigMap", "kubernetes:core/v1:ConfigMapPatch"})
#: KubeSphere 3.x: the ClusterConfiguration entry is a Python dynamic resource with input ``entry``.
DYNAMIC_RESOURCE = "pulumi-python:dynamic:Resource"

_REDIRECT_PATH = re.compile(r"^(?P<console>.*)/oauth/redirect/(?P<provider>[^/]*)$")
#: KubeSphere decodes provider keys case-insensitively (docs/kubesphere-okta-facts.md, "A login"), so ``InsecureSkipVerify`` counts too.
_INSECURE_SKIP_VERIFY = "insecureskipverify"
_CLIENT_SECRET_KEY = re.compile(r"clientsecret", re.IGNORECASE)


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if _is_list(value) else []


# --- The Okta app --------------------------------------------------------------------------------

def okta_app_compatibility_problems(app: Mapping[str, Any]) -> list[str]:
    """A web app KubeSphere can log in with: authorization code, response type code, no PKCE (docs/kubesphere-okta-facts.md, "A login")."""
    problems: list[str] = []
    if app.get("type") != "web":
        problems.append(
            f"type is {app.get('type')!r}: KubeSphere authenticates with a client secret, which only a 'web' app has"
        )
    grants = _strings(app.get("grantTypes"))
    if "implicit" in grants:
        problems.append("grantTypes contains 'implicit': KubeSphere never uses the implicit grant; remove it")
    if grants != ["authorization_code"]:
        problems.append(f"grantTypes must be exactly ['authorization_code'] (got {grants}): the only grant KubeSphere uses")
    responses = _strings(app.get("responseTypes"))
    if responses != ["code"]:
        problems.append(f"responseTypes must be exactly ['code'] (got {responses}): the console asks for response_type=code")
    if app.get("pkceRequired") is True:
        problems.append("pkceRequired is true: KubeSphere sends no PKCE challenge, so every login would fail")
    method = app.get("tokenEndpointAuthMethod")
    if method not in (None, "client_secret_basic", "client_secret_post"):
        problems.append(
            f"tokenEndpointAuthMethod is {method!r}: KubeSphere exchanges the code with client_secret_basic "
            "or client_secret_post only"
        )
    return problems


def redirect_uri_problems(app: Mapping[str, Any]) -> list[str]:
    """Every sign-in redirect URI is exactly ``<console>/oauth/redirect/<provider>``, https, no wildcard."""
    problems: list[str] = []
    wildcard = app.get("wildcardRedirect")
    if wildcard not in (None, "", "DISABLED"):
        problems.append(f"wildcardRedirect is {wildcard!r}: must be DISABLED, KubeSphere needs one exact redirect URI")
    uris = _strings(app.get("redirectUris"))
    if not uris:
        problems.append("redirectUris is empty: add <console>/oauth/redirect/<provider name>")
    for uri in uris:
        problem = redirect_uri_problem(uri)
        if problem:
            problems.append(problem)
    return problems


def redirect_uri_problem(uri: str) -> str | None:
    """Why ``uri`` is not a KubeSphere callback, or None. The console part obeys the component's own rule."""
    if any(c.isspace() or not c.isprintable() for c in uri):
        return f"redirect URI {uri!r} contains whitespace or control characters"
    match = _REDIRECT_PATH.fullmatch(uri)
    if not match:
        return f"redirect URI {uri!r} is not of the form <console>/oauth/redirect/<provider name>"
    try:
        console = rules.check_console_url(match["console"])
        provider = rules.check_provider_name(match["provider"])
    except ValueError as error:
        return f"redirect URI {uri!r}: {error}"
    if redirect_url(console, provider) != uri:
        return f"redirect URI {uri!r} should be {redirect_url(console, provider)!r} (KubeSphere compares it byte for byte)"
    return None


def open_to_whole_org_problems(app: Mapping[str, Any]) -> list[str]:
    """Implicit assignment (federation broker mode) gives the app to every user of the org."""
    if app.get("implicitAssignment") is True:
        return ["implicitAssignment is true: every user in the Okta org could sign in; assign groups instead"]
    return []


# --- The KubeSphere identity-provider entry ------------------------------------------------------

def kubesphere_identity_provider(resource_type: str, props: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The identity-provider entry this resource writes into KubeSphere, or None if it writes none.

    4.1: a Secret of type config.kubesphere.io/identityprovider, YAML under ``configuration.yaml``
    in stringData (or base64 in data). 3.x: the dynamic resource whose input ``entry`` is the entry.
    """
    if resource_type == KUBERNETES_SECRET and props.get("type") == V4_SECRET_TYPE:
        text = _secret_configuration_text(props)
        if text is None:
            return {}
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError:
            return {}
        return loaded if isinstance(loaded, Mapping) else {}
    if resource_type == DYNAMIC_RESOURCE and isinstance(props.get("entry"), Mapping):
        return props["entry"]
    return None


def _secret_configuration_text(props: Mapping[str, Any]) -> str | None:
    string_data = props.get("stringData")
    if isinstance(string_data, Mapping) and isinstance(string_data.get(V4_CONFIGURATION_KEY), str):
        return string_data[V4_CONFIGURATION_KEY]
    data = props.get("data")
    if isinstance(data, Mapping) and isinstance(data.get(V4_CONFIGURATION_KEY), str):
        try:
            return base64.b64decode(data[V4_CONFIGURATION_KEY], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
    return None


def _walk(value: Any, path: str = "") -> Iterable[tuple[str, Any, Any]]:
    """(path, key, value) for every key of every mapping inside ``value``."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            yield where, key, item
            yield from _walk(item, where)
    elif _is_list(value):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")


def insecure_skip_verify_problems(entry: Mapping[str, Any]) -> list[str]:
    """KubeSphere must verify Okta's TLS certificate: ``insecureSkipVerify`` is never set."""
    return [
        f"{path} is set to {value!r}: KubeSphere would accept any certificate for the issuer, and with it "
        "forged ID tokens; remove it (fix the cluster's CA bundle instead)"
        for path, key, value in _walk(entry)
        if str(key).lower() == _INSECURE_SKIP_VERIFY and value not in (False, None, "false", "False")
    ]


def client_secret_in_config_map_problems(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """A ConfigMap is stored and shown in plain text: an identity provider's client secret never goes there."""
    if resource_type not in KUBERNETES_CONFIG_MAPS:
        return []
    found: list[str] = []
    for field_name in ("data", "binaryData"):
        data = props.get(field_name)
        if not isinstance(data, Mapping):
            continue
        for key, value in data.items():
            if isinstance(value, str) and _CLIENT_SECRET_KEY.search(value):
                found.append(
                    f"{field_name}.{key} holds a clientSecret: an identity provider belongs in a Secret "
                    "(KubeSphere 4.1) or the ks-installer ClusterConfiguration entry (3.x), never in a ConfigMap"
                )
    return found


def client_secret_in_metadata_problems(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Labels and annotations are never encrypted: the client secret must not be copied into them."""
    entry = kubesphere_identity_provider(resource_type, props)
    provider = entry.get("provider") if isinstance(entry, Mapping) else None
    secret = provider.get("clientSecret") if isinstance(provider, Mapping) else None
    metadata = props.get("metadata")
    if not secret or not isinstance(secret, str) or not isinstance(metadata, Mapping):
        return []
    return [
        f"metadata.{part} contains the client secret: labels and annotations are stored in plain text"
        for part in ("labels", "annotations")
        if isinstance(metadata.get(part), Mapping) and any(secret in str(v) for v in metadata[part].values())
    ]


def secret_carrying_inputs(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """The inputs through which this resource hands the client secret to KubeSphere."""
    if kubesphere_identity_provider(resource_type, props) is None:
        return []
    if resource_type == KUBERNETES_SECRET:
        return [name for name in ("stringData", "data") if name in props]
    return ["entry"]


# --- Stack names --------------------------------------------------------------------------------

def is_prod_stack(stack: str) -> bool:
    """``prod``, ``prod-eu``, ``production``, and ``org/project/prod``: the last segment starts with prod."""
    return stack.rsplit("/", 1)[-1].lower().startswith("prod")


def protect_problems(stack: str, protect: bool) -> list[str]:
    if is_prod_stack(stack) and not protect:
        return [
            f"stack {stack!r} is a prod stack but the Okta app is not protected: deleting or replacing it "
            "rotates the client id and secret and logs every user out (set protect_app / protectApp)"
        ]
    return []


# --- Stack-wide checks ----------------------------------------------------------------------------

@dataclass(frozen=True)
class StackResource:
    """What a stack check needs of one resource, with its links as URNs."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    protect: bool = False
    parent: str | None = None
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def refers_to(self, prop: str, urn: str) -> bool:
        """Whether input ``prop`` comes from resource ``urn`` (falls back to any dependency when
        the engine gave no per-property dependencies)."""
        if prop in self.property_dependencies:
            return urn in self.property_dependencies[prop]
        return urn in self.dependencies


def with_member_objects(resources: Iterable[StackResource]) -> list[StackResource]:
    """``resources`` and, for each keyed membership resource, every User and binding it writes, as a
    ``StackResource`` of type ``kubernetes:<apiVersion>:<kind>`` named by its object key, with the
    keyed resource's URN (what a policy violation points at)."""
    found: list[StackResource] = []
    for r in resources:
        found.append(r)
        for key, body in membership_model.declared_objects(r.type, r.props).items():
            found.append(StackResource(f"kubernetes:{body['apiVersion']}:{body['kind']}", key, r.urn, body,
                                       parent=r.parent, dependencies=r.dependencies))
    return found


def _of_type(resources: Iterable[StackResource], resource_type: str) -> list[StackResource]:
    return [r for r in resources if r.type == resource_type]


def group_assignment_problems(
    resources: Sequence[StackResource], everyone_group_ids: Iterable[str] = ()
) -> list[tuple[str, str]]:
    """Every Okta app has exactly one authoritative AppGroupAssignments with at least one group,
    none of them the org's Everyone group, and no second owner of its assignments (docs/kubesphere-okta-facts.md, "Okta")."""
    everyone = set(everyone_group_ids)
    problems: list[tuple[str, str]] = []
    for app in _of_type(resources, OKTA_APP):
        owners = [r for r in _of_type(resources, OKTA_APP_GROUP_ASSIGNMENTS) if r.refers_to("appId", app.urn)]
        singles = [r for r in _of_type(resources, OKTA_APP_GROUP_ASSIGNMENT) if r.refers_to("appId", app.urn)]
        if not owners:
            problems.append((app.urn, f"Okta app {app.name!r} has no AppGroupAssignments: say which groups may use it"))
        if len(owners) > 1:
            names = ", ".join(r.name for r in owners)
            problems.append((app.urn, f"Okta app {app.name!r} has {len(owners)} AppGroupAssignments ({names}): "
                                      "exactly one may own an app's assignments, else they never converge"))
        for single in singles:
            problems.append((single.urn, f"{single.name!r} assigns a group to {app.name!r} beside its "
                                         "AppGroupAssignments: two owners of the same assignments never converge; "
                                         "list the group in the AppGroupAssignments instead"))
        for owner in owners:
            groups = owner.props.get("groups")
            ids = [g.get("id") for g in groups] if _is_list(groups) else []
            if not ids:
                problems.append((owner.urn, f"{owner.name!r} assigns no group to {app.name!r}"))
            for gid in ids:
                if gid in everyone:
                    problems.append((owner.urn, f"{owner.name!r} assigns the Everyone group ({gid}) to "
                                                f"{app.name!r}: the whole org could sign in to KubeSphere"))
    return problems


def mfa_problems(stack: str, resources: Sequence[StackResource]) -> list[tuple[str, str]]:
    """On prod stacks every Okta app has its own sign-on policy, deny by default, whose allow rules
    all require two factors."""
    if not is_prod_stack(stack):
        return []
    problems: list[tuple[str, str]] = []
    policies = _of_type(resources, OKTA_SIGN_ON_POLICY)
    rules_ = _of_type(resources, OKTA_SIGN_ON_POLICY_RULE)
    for app in _of_type(resources, OKTA_APP):
        own = [p for p in policies if app.refers_to("authenticationPolicy", p.urn)]
        if not own:
            problems.append((app.urn, f"prod stack {stack!r}: Okta app {app.name!r} has no sign-on policy of its own, "
                                      "so the org default applies and may not ask for a second factor"))
            continue
        for policy in own:
            if policy.props.get("catchAll") is not False:
                problems.append((policy.urn, f"prod stack {stack!r}: sign-on policy {policy.name!r} must set "
                                             "catchAll false, so that its default rule denies"))
            allowing = [r for r in rules_ if (r.parent == policy.urn or r.refers_to("policyId", policy.urn))
                        and r.props.get("access", "ALLOW") == "ALLOW"]
            for rule in allowing:
                if rule.props.get("factorMode") != "2FA":
                    problems.append((rule.urn, f"prod stack {stack!r}: sign-on rule {rule.name!r} allows access with "
                                               f"factorMode {rule.props.get('factorMode')!r}; prod requires '2FA'"))
    return problems


def redirect_match_problems(resources: Sequence[StackResource]) -> list[tuple[str, str]]:
    """Each KubeSphere entry's ``redirectURL`` is one of the Okta app's redirect URIs, byte for byte,
    and ends with the entry's name (docs/kubesphere-okta-facts.md, "A login")."""
    apps = _of_type(resources, OKTA_APP)
    problems: list[tuple[str, str]] = []
    for resource in resources:
        entry = kubesphere_identity_provider(resource.type, resource.props)
        if not entry:
            continue
        provider = entry.get("provider") if isinstance(entry.get("provider"), Mapping) else {}
        url, name, client_id = provider.get("redirectURL"), entry.get("name"), provider.get("clientID")
        if not isinstance(url, str) or not url.endswith(f"/oauth/redirect/{name}"):
            problems.append((resource.urn, f"KubeSphere entry {name!r}: redirectURL {url!r} must end with "
                                           f"/oauth/redirect/{name} (the provider name)"))
        candidates = [a for a in apps if a.props.get("clientId") == client_id] or apps
        if apps and not any(url in _strings(a.props.get("redirectUris")) for a in candidates):
            registered = sorted({u for a in candidates for u in _strings(a.props.get("redirectUris"))})
            problems.append((resource.urn, f"KubeSphere entry {name!r}: redirectURL {url!r} is not a sign-in "
                                           f"redirect URI of its Okta app ({registered}); Okta would refuse the login"))
    return problems


def exposes_client_secret(value: Any, is_secret: Any) -> bool:
    """Whether ``value`` carries a client secret outside a Pulumi secret.

    ``is_secret(v)`` tells whether ``v`` is wrapped as a secret (the policy SDK's ``Secret`` when it
    remediates); a client secret inside a wrapped value is safe, anywhere else it is exposed.
    """
    if is_secret(value):
        return False
    if isinstance(value, Mapping):
        return any(
            (_CLIENT_SECRET_KEY.fullmatch(str(key)) is not None and not is_secret(item))
            or exposes_client_secret(item, is_secret)
            for key, item in value.items()
        )
    if _is_list(value):
        return any(exposes_client_secret(item, is_secret) for item in value)
    if isinstance(value, str):
        return _CLIENT_SECRET_KEY.search(value) is not None
    return False


GLOBAL_ROLE_BINDINGS = frozenset(
    f"kubernetes:iam.kubesphere.io/{v}:GlobalRoleBinding" for v in ("v1alpha2", "v1beta1")
)
GLOBAL_ROLES = frozenset(f"kubernetes:iam.kubesphere.io/{v}:GlobalRole" for v in ("v1alpha2", "v1beta1"))


def global_role_binding_problems(
    resources: Sequence[StackResource], kubesphere_version: str | None = None
) -> list[tuple[str, str]]:
    """Every GlobalRoleBinding names a global role the cluster has: a built-in role of its
    KubeSphere version (``kubesphere_iam.built_in_global_roles``) unless the stack declares a
    GlobalRole of that name. ``kubesphere_version`` is the pack's config; without it, the newest
    release of the binding's API version (v1alpha2: 3.4, v1beta1: 4.1) is assumed."""
    declared = {
        (r.props.get("metadata") or {}).get("name") for r in resources if r.type in GLOBAL_ROLES
    }
    problems: list[tuple[str, str]] = []
    for binding in with_member_objects(resources):
        if binding.type not in GLOBAL_ROLE_BINDINGS:
            continue
        role = (binding.props.get("roleRef") or {}).get("name")
        if not isinstance(role, str) or role in declared:
            continue
        version = kubesphere_version or ("3.4" if ":v1alpha2:" in binding.type else "4.1")
        for message in rules.missing_built_in_role_problems([role], version):
            problems.append((binding.urn, f"GlobalRoleBinding {binding.name!r}: {message}"))
    return problems


#: The roles that make a member an administrator of the whole platform or cluster, by binding kind.
ADMIN_ROLES = {"GlobalRoleBinding": "platform-admin", "ClusterRoleBinding": "cluster-admin"}


def _allows_only_two_factor_sign_in(resources: Sequence[StackResource]) -> bool:
    """Every Okta app has its own deny-by-default sign-on policy whose allow rules all ask for 2FA."""
    policies = _of_type(resources, OKTA_SIGN_ON_POLICY)
    rules_ = _of_type(resources, OKTA_SIGN_ON_POLICY_RULE)
    apps = _of_type(resources, OKTA_APP)
    if not apps:
        return False
    for app in apps:
        own = [p for p in policies if app.refers_to("authenticationPolicy", p.urn)]
        if not own or any(p.props.get("catchAll") is not False for p in own):
            return False
        for policy in own:
            allowing = [r for r in rules_ if (r.parent == policy.urn or r.refers_to("policyId", policy.urn))
                        and r.props.get("access", "ALLOW") == "ALLOW"]
            if any(rule.props.get("factorMode") != "2FA" for rule in allowing):
                return False
    return True


def admin_role_mappings(resources: Sequence[StackResource]) -> list[tuple[str, str]]:
    """(urn, what) for each Okta group mapping that makes members platform or cluster admins: the
    component's role-reference check lists every cluster-role mapping (even of an empty group);
    each GlobalRoleBinding/ClusterRoleBinding to an admin role shows a mapped member."""
    found: list[tuple[str, str]] = []
    for r in with_member_objects(resources):
        if r.type == DYNAMIC_RESOURCE and _is_list(r.props.get("references")):
            for ref in r.props["references"]:
                if isinstance(ref, Mapping) and ref.get("scope") == "cluster" and ref.get("role_name") == "cluster-admin":
                    found.append((r.urn, f"Okta group {ref.get('group')!r} is mapped to cluster role 'cluster-admin'"))
        elif r.type.startswith("kubernetes:") and r.props.get("kind") in ADMIN_ROLES:
            role = (r.props.get("roleRef") or {}).get("name")
            if role == ADMIN_ROLES[r.props["kind"]]:
                user = ((r.props.get("metadata") or {}).get("labels") or {}).get("iam.kubesphere.io/user-ref", "?")
                found.append((r.urn, f"{r.props['kind']} gives KubeSphere user {user!r} {role!r} from an Okta group"))
    return found


def admin_without_mfa_problems(resources: Sequence[StackResource]) -> list[tuple[str, str]]:
    """No Okta group is mapped to ``platform-admin`` or ``cluster-admin`` in a stack whose Okta sign-in
    does not require two factors, on any stack: a stolen password must not be a cluster takeover."""
    mappings = admin_role_mappings(resources)
    if not mappings or _allows_only_two_factor_sign_in(resources):
        return []
    return [(urn, f"{what}, but signing in to KubeSphere does not require two factors: set "
                  "kubesphere-okta:requireMfa true (component argument require_mfa, with sign_on_policy), or map "
                  "the group to a lesser role") for urn, what in mappings]
