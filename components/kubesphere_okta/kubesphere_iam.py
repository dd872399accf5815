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

from typing import TYPE_CHECKING, Any, Iterable, Mapping

from . import kubesphere_versions

if TYPE_CHECKING:  # the preview check's provider carries this module by value: no import it does not call
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


# --- One identity, one User (read during preview by kubesphere_role_check) ----------------------


def identity_read(kubesphere_version: str, provider_name: str) -> dict[str, str]:
    """The LIST that finds every User bound to an identity of ``provider_name``: by label selector
    where the binding is a label (the API server filters), all Users where it is an annotation."""
    labels, _annotations = kubesphere_versions.identity_keys(kubesphere_version, provider_name)
    return {
        "group": IAM_GROUP,
        "version": iam_api_version(kubesphere_version).rpartition("/")[2],
        "plural": "users",
        "label_selector": f"{IDENTIFY_PROVIDER_LABEL}={provider_name}" if labels else "",
    }


def duplicate_identity_problems(
    kubesphere_version: str, provider_name: str, planned: Iterable[tuple[str, str]], users: Iterable[Mapping[str, Any]]
) -> list[str]:
    """One line per User on the cluster that carries the identity of an Okta user this stack plans
    as a User of another name (``planned``: (username, Okta id)), with the fix; [] when none.

    ``mapping_method: lookup`` needs exactly one User per identity: a second one (made earlier by
    ``auto`` mode, or left behind when a name changed) makes that person's logins fail (3.x,
    4.1.0-4.1.2) or land in either User (4.1.3), see ``kubesphere_versions.DUPLICATE_IDENTITY_EFFECT``.
    """
    ours = {okta_id: username for username, okta_id in planned}
    labels, annotations = kubesphere_versions.identity_keys(kubesphere_version, provider_name)
    if labels:
        keys = f"labels {IDENTIFY_PROVIDER_LABEL}={provider_name}, {ORIGIN_UID_LABEL}"
        release = f"kubectl label users.iam.kubesphere.io {{name}} {IDENTIFY_PROVIDER_LABEL}- {ORIGIN_UID_LABEL}-"
    else:
        keys = f"annotation {annotations[0]}"
        release = f"kubectl annotate users.iam.kubesphere.io {{name}} {annotations[0]}-"
    problems: list[str] = []
    for user in users:
        metadata = user.get("metadata") or {}
        name = metadata.get("name", "")
        sub = kubesphere_versions.identity_of(kubesphere_version, provider_name, metadata.get("labels") or {},
                                              metadata.get("annotations") or {})
        if sub is None or sub not in ours or ours[sub] == name:
            continue
        problems.append(
            f"User {name!r} carries the identity of Okta user {sub} ({keys}), whom this stack declares as User "
            f"{ours[sub]!r}: with two Users for one identity, {kubesphere_versions.duplicate_identity_effect(kubesphere_version)}. "
            f"Fix: delete it (KubeSphere then deletes its role bindings too): kubectl delete users.iam.kubesphere.io {name}; "
            f"or keep it as an account without this identity: {release.format(name=name)}"
        )
    return problems
