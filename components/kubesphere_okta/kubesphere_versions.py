"""Everything that differs between the KubeSphere releases this project supports, in one place.

Pure data and small functions: no Pulumi, no I/O, and no import of any other module of this package,
so that ``rules``, ``kubesphere_iam`` and ``kubesphere_roles`` can all depend on it without
depending on each other. Each table names the upstream file it was read from
(``repository@tag:path``); docs/kubesphere-okta-facts.md says the same in prose.

A version here is the ``kubesphere_version`` setting: ``3.2``, ``3.3``, ``3.4`` (read at the last
patch of each line: v3.2.1, v3.3.2, v3.4.1), ``4.1.0``-``4.1.3``, and plain ``4.1``, which means
the newest 4.1 (4.1.3). There is no v4.1.0 tag upstream; 4.1.0 is taken to behave as 4.1.1.
"""

from __future__ import annotations

#: KubeSphere versions whose identity-provider storage this project knows.
SUPPORTED_VERSIONS: tuple[str, ...] = ("3.2", "3.3", "3.4", "4.1", "4.1.0", "4.1.1", "4.1.2", "4.1.3")
V3_VERSIONS: frozenset[str] = frozenset({"3.2", "3.3", "3.4"})
V4_VERSIONS: frozenset[str] = frozenset(SUPPORTED_VERSIONS) - V3_VERSIONS
#: Versions that bind an identity by the annotation ``iam.kubesphere.io/identity-provider.<name>``
#: (kubesphere/kubesphere@v4.1.3:pkg/models/auth/mapper.go ``FindMappedUser``); the others by two
#: labels (kubesphere/kubesphere@v4.1.2:pkg/models/auth/mapper.go,
#: kubesphere/kubesphere@v3.4.1:pkg/models/auth/authenticator.go ``findMappedUser``).
IDENTITY_ANNOTATION_VERSIONS: frozenset[str] = frozenset({"4.1", "4.1.3"})
#: Versions whose OIDC provider block has ``postLogoutRedirectURI``
#: (kubesphere/kubesphere@v4.1.3:pkg/apiserver/authentication/identityprovider/oidc/oidc.go).
POST_LOGOUT_REDIRECT_VERSIONS: frozenset[str] = frozenset({"4.1", "4.1.3"})
#: Versions whose workspacetemplate controller hashes built-in workspace-role names longer than 63
#: characters (kubesphere/kubesphere@v4.1.3:pkg/controller/workspacetemplate/workspacetemplate_controller.go
#: ``ensureWorkspaceRoleName``); v4.1.2's keeps ``<ws>-<role>`` whatever its length.
HASHED_WORKSPACE_ROLE_VERSIONS: frozenset[str] = IDENTITY_ANNOTATION_VERSIONS
#: Versions whose console adds the user's ServiceAccount ``kubesphere-system/kubesphere.users.<user>``
#: to project and cluster bindings (kubesphere/kubesphere@v4.1.3:pkg/models/iam/am/am.go).
SERVICE_ACCOUNT_SUBJECT_VERSIONS: frozenset[str] = IDENTITY_ANNOTATION_VERSIONS

# --- Identity keys (kubesphere/kubesphere@<tag>:staging/src/kubesphere.io/api/iam/...) ------------

IAM_GROUP = "iam.kubesphere.io"
#: sic, KubeSphere's spelling (v1alpha2/types.go at v3.2.1-v4.1.3, v1beta1/constants.go at v4.1.1-v4.1.2).
IDENTIFY_PROVIDER_LABEL = "iam.kubesphere.io/identify-provider"
ORIGIN_UID_LABEL = "iam.kubesphere.io/origin-uid"
#: The annotation key's prefix; the key is ``<prefix>.<provider name>`` (v1beta1/constants.go at v4.1.3).
IDENTITY_PROVIDER_ANNOTATION = "iam.kubesphere.io/identity-provider"


def is_v3(kubesphere_version: str) -> bool:
    """True when the version keeps identity providers in the ks-installer ClusterConfiguration."""
    return isinstance(kubesphere_version, str) and kubesphere_version in V3_VERSIONS


def is_v4(kubesphere_version: str) -> bool:
    """True when the version keeps identity providers in a Secret (4.1 and its patch levels)."""
    return isinstance(kubesphere_version, str) and kubesphere_version in V4_VERSIONS


def binds_identity_by_annotation(kubesphere_version: str) -> bool:
    """4.1.3 (and plain "4.1", the newest 4.1) use the annotation; earlier versions the labels."""
    return kubesphere_version in IDENTITY_ANNOTATION_VERSIONS


def identity_keys(kubesphere_version: str, provider_name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(label keys, annotation keys) whose values tie a User to an identity of ``provider_name``:
    the labels carry the provider name and the Okta ``sub``; the annotation carries the ``sub``."""
    if binds_identity_by_annotation(kubesphere_version):
        return (), (f"{IDENTITY_PROVIDER_ANNOTATION}.{provider_name}",)
    return (IDENTIFY_PROVIDER_LABEL, ORIGIN_UID_LABEL), ()


def identity_of(kubesphere_version: str, provider_name: str, labels: dict, annotations: dict) -> str | None:
    """The Okta ``sub`` a User's metadata binds it to for ``provider_name`` on this version; None
    when it carries no such binding. Read exactly as the version's lookup reads it."""
    labels, annotations = labels or {}, annotations or {}
    if binds_identity_by_annotation(kubesphere_version):
        value = annotations.get(f"{IDENTITY_PROVIDER_ANNOTATION}.{provider_name}")
        return value if isinstance(value, str) and value else None
    if labels.get(IDENTIFY_PROVIDER_LABEL) != provider_name:
        return None
    value = labels.get(ORIGIN_UID_LABEL)
    return value if isinstance(value, str) and value else None


#: What a lookup login does when several Users carry the same identity.
#: 3.x and 4.1.0-4.1.2 list Users by both labels and refuse anything but exactly one match
#: (``len(users) != 1``: not found); 4.1.3 walks the cached list and takes the first User whose
#: annotation matches, so the person lands in whichever User the cache lists first.
DUPLICATE_IDENTITY_EFFECT = {
    "labels": "the login fails: KubeSphere's lookup needs exactly one User with these labels",
    "annotation": "the login lands in whichever of them KubeSphere's cache lists first",
}


def duplicate_identity_effect(kubesphere_version: str) -> str:
    return DUPLICATE_IDENTITY_EFFECT["annotation" if binds_identity_by_annotation(kubesphere_version) else "labels"]


# --- Roles each release ships -------------------------------------------------------------------

#: The upstream file each version's role lists are read from.
ROLE_SOURCES = {
    "3.2": "kubesphere/ks-installer@v3.2.1:roles/ks-core/prepare/files/ks-init/role-templates.yaml",
    "3.3": "kubesphere/ks-installer@v3.3.2:roles/ks-core/prepare/files/ks-init/role-templates.yaml",
    "3.4": "kubesphere/ks-installer@v3.4.1:roles/ks-core/prepare/files/ks-init/role-templates.yaml",
    "4.1.1": "kubesphere/kubesphere@v4.1.1:config/ks-core/templates/{globalroles,builtinroles,clusterroles}.yaml",
    "4.1.2": "kubesphere/kubesphere@v4.1.2:config/ks-core/templates/{globalroles,builtinroles,clusterroles}.yaml",
    "4.1.3": "kubesphere/kubesphere@v4.1.3:config/ks-core/templates/{globalroles,builtinroles,clusterroles}.yaml",
}
#: The release whose source describes each accepted version.
RELEASE_OF = {"3.2": "3.2", "3.3": "3.3", "3.4": "3.4", "4.1.0": "4.1.1", "4.1.1": "4.1.1", "4.1.2": "4.1.2",
              "4.1.3": "4.1.3", "4.1": "4.1.3"}

_SYSTEM_GLOBAL_ROLES = ("anonymous", "authenticated", "pre-registration")
#: GlobalRoles KubeSphere binds itself (to anonymous, authenticated and pre-registration requests,
#: and to its console's ServiceAccount in 4.1.3): shipped, but not what a group is mapped to.
SYSTEM_GLOBAL_ROLES = frozenset({*_SYSTEM_GLOBAL_ROLES, "ks-console"})
#: The GlobalRole objects each release creates at install (kind GlobalRole in ROLE_SOURCES).
SHIPPED_GLOBAL_ROLES: dict[str, tuple[str, ...]] = {
    "3.2": ("platform-admin", "platform-regular", "users-manager", "workspaces-manager", *_SYSTEM_GLOBAL_ROLES),
    "3.3": ("platform-admin", "platform-regular", "platform-self-provisioner", *_SYSTEM_GLOBAL_ROLES),
    "3.4": ("platform-admin", "platform-regular", "platform-self-provisioner", *_SYSTEM_GLOBAL_ROLES),
    "4.1.1": ("platform-admin", "platform-regular", "platform-self-provisioner", *_SYSTEM_GLOBAL_ROLES),
    "4.1.2": ("platform-admin", "platform-regular", "platform-self-provisioner", *_SYSTEM_GLOBAL_ROLES),
    "4.1.3": ("platform-admin", "platform-regular", "platform-self-provisioner", *_SYSTEM_GLOBAL_ROLES, "ks-console"),
}
#: Built-in workspace roles by short name: each workspace gets ``<ws>-<role>`` from the RoleBase
#: (3.x) / BuiltinRole (4.1) templates ``workspace-<role>``; the same four in every release.
SHIPPED_WORKSPACE_ROLES: dict[str, tuple[str, ...]] = {
    release: ("admin", "regular", "viewer", "self-provisioner") for release in ROLE_SOURCES
}
#: Built-in project roles: each namespace gets Roles from the ``project-<role>`` templates.
SHIPPED_PROJECT_ROLES: dict[str, tuple[str, ...]] = {release: ("admin", "operator", "viewer") for release in ROLE_SOURCES}
#: Built-in cluster roles (kind ClusterRole in ROLE_SOURCES; rbac on 3.x, iam.kubesphere.io on 4.1).
SHIPPED_CLUSTER_ROLES: dict[str, tuple[str, ...]] = {release: ("cluster-admin", "cluster-viewer") for release in ROLE_SOURCES}


#: The tag each release was read at.
TAG_OF = {"3.2": "v3.2.1", "3.3": "v3.3.2", "3.4": "v3.4.1", "4.1.1": "v4.1.1", "4.1.2": "v4.1.2", "4.1.3": "v4.1.3"}


def tag(kubesphere_version: str) -> str:
    """The upstream tag whose source describes ``kubesphere_version`` (``v3.4.1`` for ``3.4``)."""
    return TAG_OF[release(kubesphere_version)]


def kubesphere_source(kubesphere_version: str, path: str) -> str:
    """``kubesphere/kubesphere@<tag>:<path>``: where a per-version statement was read."""
    return f"kubesphere/kubesphere@{tag(kubesphere_version)}:{path}"


def release(kubesphere_version: str) -> str:
    """The release (a key of ``ROLE_SOURCES``) whose source describes ``kubesphere_version``."""
    return RELEASE_OF[kubesphere_version]


def shipped_global_roles(kubesphere_version: str) -> tuple[str, ...]:
    """The GlobalRoles KubeSphere ``kubesphere_version`` creates at install."""
    return SHIPPED_GLOBAL_ROLES[release(kubesphere_version)]


def assignable_global_roles(kubesphere_version: str) -> tuple[str, ...]:
    """The shipped GlobalRoles meant for people (not ``anonymous``, ``authenticated``,
    ``pre-registration``, ``ks-console``, which KubeSphere binds itself): what messages offer."""
    return tuple(r for r in shipped_global_roles(kubesphere_version) if r not in SYSTEM_GLOBAL_ROLES)


def releases_shipping_global_role(role: str) -> tuple[str, ...]:
    """The supported releases that ship GlobalRole ``role`` (empty: a custom role)."""
    return tuple(r for r, roles in SHIPPED_GLOBAL_ROLES.items() if role in roles)


def role_source(kubesphere_version: str) -> str:
    return ROLE_SOURCES[release(kubesphere_version)]


# --- Logout -----------------------------------------------------------------------------------

#: What the console's logout does, per line of releases: (what the user sees, what is revoked and
#: what is not, the best available setting, the upstream file).
LOGOUT: dict[str, dict[str, str]] = {
    "3.x": {
        "sees": "the console asks its server for the end-session URL and opens Okta's end_session_endpoint "
                "with no parameters: the user ends on Okta's sign-out page, not back on the console",
        "revoked": "the console's cookies; the Okta session only if Okta accepts a logout without id_token_hint "
                   "(which it documents as required; not verified here); the KubeSphere access token is NOT revoked "
                   "(the console never calls /oauth/logout) and stays valid until accessTokenMaxAge",
        "best": "a short accessTokenMaxAge (e.g. 1h) and bookmark the console",
        "source": "kubesphere/console@v3.4.1:server/controllers/session.js (handleLogout); "
                  "kubesphere/kubesphere@v3.4.1:pkg/apiserver/authentication/identityprovider/oidc/oidc.go",
    },
    "4.1.1-4.1.2": {
        "sees": "the menu item is a plain link to /logout, and for an OIDC login the server answers with a "
                "JSON body and no redirect: the user sees JSON on the console and stays signed in to Okta "
                "(kubesphere/kubesphere issue 6347, fixed in 4.1.3 by kubesphere/console pull request 4454)",
        "revoked": "the console's cookies only; neither the Okta session nor the KubeSphere access token "
                   "is revoked (the token stays valid until it expires)",
        "best": "upgrade to 4.1.3; meanwhile tell users to sign out of Okta themselves, and keep the token "
                "lifetime in kubesphere-config short",
        "source": "kubesphere/console@v4.1.2:server/controllers/session.js (handleLogout)",
    },
    "4.1.3": {
        "sees": "a redirect to Okta's end_session_endpoint with client_id and post_logout_redirect_uri "
                "(the console URL), then back on the console's login page if Okta accepts the request "
                "without id_token_hint (no KubeSphere version sends one)",
        "revoked": "the console's cookies; the Okta session only if Okta accepts a logout without id_token_hint "
                   "(which it documents as required; not verified here); the KubeSphere access token is NOT revoked "
                   "(the console never calls /oauth/logout) and stays valid until it expires",
        "best": "postLogoutRedirectURI (set by this project) and the console URL among the Okta app's "
                "post_logout_redirect_uris (set by this project)",
        "source": "kubesphere/console@v4.1.3:server/controllers/session.js (handleLogout); "
                  "kubesphere/kubesphere@v4.1.3:pkg/apiserver/authentication/identityprovider/oidc/oidc.go",
    },
}


def logout_line(kubesphere_version: str) -> str:
    """The key of ``LOGOUT`` that describes ``kubesphere_version``."""
    if is_v3(kubesphere_version):
        return "3.x"
    return "4.1.3" if release(kubesphere_version) == "4.1.3" else "4.1.1-4.1.2"


def logout_summary(kubesphere_version: str) -> str:
    """One paragraph: what logging out of the console does on ``kubesphere_version``."""
    row = LOGOUT[logout_line(kubesphere_version)]
    return (f"Logout on KubeSphere {kubesphere_version}: {row['sees']}. Revoked: {row['revoked']}. "
            f"Best available: {row['best']}. Source: {row['source']}; see docs/logout.md.")


# --- Multi-cluster -------------------------------------------------------------------------------

#: ks-installer reads ``spec.multicluster.clusterRole`` of the ClusterConfiguration; ``member``
#: clusters take logins from the host (kubesphere/ks-installer@v3.4.1:roles/ks-core/config/templates/kubesphere-config.yaml.j2).
MEMBER_CLUSTER_ROLE = "member"
