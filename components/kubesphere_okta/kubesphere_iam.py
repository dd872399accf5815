"""The KubeSphere IAM objects for Okta group members: pure, no Pulumi, no I/O.

Shapes read from KubeSphere's source (docs/kubesphere-okta-facts.md, "Usernames and Users"):

* ``User`` (cluster-scoped): 3.x ``iam.kubesphere.io/v1alpha2``, 4.1 ``iam.kubesphere.io/v1beta1``;
  ``spec.email`` (required by the CRD), no password: the user controller then marks it Active (3.x
  only when the ``identify-provider`` label is set, 4.1 for any User without a password).
* The identity binding that ``mapping_method: lookup`` finds: 3.x and 4.1.0-4.1.2 list Users by the
  labels ``iam.kubesphere.io/identify-provider`` (sic) and ``iam.kubesphere.io/origin-uid`` and
  need exactly one match (pkg/models/auth mapper); 4.1.3 reads the annotation
  ``iam.kubesphere.io/identity-provider.<provider name>``.
* ``GlobalRoleBinding`` as KubeSphere's own ``CreateOrUpdateGlobalRoleBinding`` writes it
  (pkg/models/iam/am/am.go): named ``<user>-<role>``, labelled ``iam.kubesphere.io/user-ref`` (4.1
  adds ``iam.kubesphere.io/role-ref``), roleRef ``iam.kubesphere.io`` ``GlobalRole``, one subject
  ``User``, whose apiGroup is ``rbac.authorization.k8s.io`` on 3.x and ``iam.kubesphere.io`` on 4.1.
"""

from __future__ import annotations

from typing import Any

from . import rules
from .usernames import PlannedUser

IAM_GROUP = "iam.kubesphere.io"
IDENTIFY_PROVIDER_LABEL = "iam.kubesphere.io/identify-provider"  # sic: KubeSphere's spelling
ORIGIN_UID_LABEL = "iam.kubesphere.io/origin-uid"
IDENTITY_PROVIDER_ANNOTATION = "iam.kubesphere.io/identity-provider"
USER_REFERENCE_LABEL = "iam.kubesphere.io/user-ref"
ROLE_REFERENCE_LABEL = "iam.kubesphere.io/role-ref"

#: Global roles some supported KubeSphere ships; any other name must be a GlobalRole that exists.
BUILT_IN_GLOBAL_ROLES = ("platform-admin", "platform-regular", "platform-self-provisioner")

#: The release each built-in global role first ships in. ``platform-self-provisioner`` is in
#: kubesphere/ks-installer@v3.3.2:roles/ks-core/prepare/files/ks-init/role-templates.yaml and not
#: in the same file at v3.2.1.
_GLOBAL_ROLE_SINCE = {"platform-admin": (3, 2), "platform-regular": (3, 2), "platform-self-provisioner": (3, 3)}


def _major_minor(kubesphere_version: str) -> tuple[int, int]:
    major, minor = str(kubesphere_version).split(".")[:2]
    return int(major), int(minor)


def built_in_global_roles(kubesphere_version: str) -> tuple[str, ...]:
    """The global roles KubeSphere ``kubesphere_version`` ships (the one place that knows this)."""
    version = _major_minor(kubesphere_version)
    return tuple(role for role in BUILT_IN_GLOBAL_ROLES if _GLOBAL_ROLE_SINCE[role] <= version)


def global_role_first_version(role: str) -> str | None:
    """The first supported release that ships built-in global role ``role``; None if not built in."""
    since = _GLOBAL_ROLE_SINCE.get(role)
    return None if since is None else f"{since[0]}.{since[1]}"


def iam_api_version(kubesphere_version: str) -> str:
    return f"{IAM_GROUP}/v1alpha2" if rules.is_v3(kubesphere_version) else f"{IAM_GROUP}/v1beta1"


def binds_identity_by_annotation(kubesphere_version: str) -> bool:
    """4.1.3 (and plain "4.1", the newest 4.1) use the annotation; earlier versions the labels."""
    return kubesphere_version in rules.IDENTITY_ANNOTATION_VERSIONS


def identity_binding(kubesphere_version: str, provider_name: str, okta_id: str) -> tuple[dict[str, str], dict[str, str]]:
    """(labels, annotations) that tie a User to the Okta identity whose ``sub`` is ``okta_id``."""
    if binds_identity_by_annotation(kubesphere_version):
        return {}, {f"{IDENTITY_PROVIDER_ANNOTATION}.{provider_name}": okta_id}
    return {IDENTIFY_PROVIDER_LABEL: provider_name, ORIGIN_UID_LABEL: okta_id}, {}


def render_user(kubesphere_version: str, provider_name: str, user: PlannedUser) -> dict[str, Any]:
    """The User object: bound to the Okta identity, with its email and no password."""
    labels, annotations = identity_binding(kubesphere_version, provider_name, user.okta_id)
    metadata: dict[str, Any] = {"name": user.username}
    if labels:
        metadata["labels"] = labels
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": iam_api_version(kubesphere_version),
        "kind": "User",
        "metadata": metadata,
        "spec": {"email": user.email},
    }


def global_role_binding_name(username: str, role: str) -> str:
    return f"{username}-{role}"


def render_global_role_binding(kubesphere_version: str, username: str, role: str) -> dict[str, Any]:
    """The GlobalRoleBinding KubeSphere itself would write for ``username`` and ``role``."""
    labels = {USER_REFERENCE_LABEL: username}
    if not rules.is_v3(kubesphere_version):
        labels[ROLE_REFERENCE_LABEL] = role
    subject_group = "rbac.authorization.k8s.io" if rules.is_v3(kubesphere_version) else IAM_GROUP
    return {
        "apiVersion": iam_api_version(kubesphere_version),
        "kind": "GlobalRoleBinding",
        "metadata": {"name": global_role_binding_name(username, role), "labels": labels},
        "roleRef": {"apiGroup": IAM_GROUP, "kind": "GlobalRole", "name": role},
        "subjects": [{"apiGroup": subject_group, "kind": "User", "name": username}],
    }
