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

from . import kubesphere_versions
from .usernames import PlannedUser

IAM_GROUP = kubesphere_versions.IAM_GROUP
IDENTIFY_PROVIDER_LABEL = kubesphere_versions.IDENTIFY_PROVIDER_LABEL  # sic: KubeSphere's spelling
ORIGIN_UID_LABEL = kubesphere_versions.ORIGIN_UID_LABEL
IDENTITY_PROVIDER_ANNOTATION = kubesphere_versions.IDENTITY_PROVIDER_ANNOTATION
USER_REFERENCE_LABEL = "iam.kubesphere.io/user-ref"
ROLE_REFERENCE_LABEL = "iam.kubesphere.io/role-ref"
binds_identity_by_annotation = kubesphere_versions.binds_identity_by_annotation


def built_in_global_roles(kubesphere_version: str) -> tuple[str, ...]:
    """The GlobalRoles KubeSphere ``kubesphere_version`` ships for people (``kubesphere_versions``)."""
    return kubesphere_versions.assignable_global_roles(kubesphere_version)


def iam_api_version(kubesphere_version: str) -> str:
    return f"{IAM_GROUP}/v1alpha2" if kubesphere_versions.is_v3(kubesphere_version) else f"{IAM_GROUP}/v1beta1"


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
    if not kubesphere_versions.is_v3(kubesphere_version):
        labels[ROLE_REFERENCE_LABEL] = role
    subject_group = "rbac.authorization.k8s.io" if kubesphere_versions.is_v3(kubesphere_version) else IAM_GROUP
    return {
        "apiVersion": iam_api_version(kubesphere_version),
        "kind": "GlobalRoleBinding",
        "metadata": {"name": global_role_binding_name(username, role), "labels": labels},
        "roleRef": {"apiGroup": IAM_GROUP, "kind": "GlobalRole", "name": role},
        "subjects": [{"apiGroup": subject_group, "kind": "User", "name": username}],
    }
