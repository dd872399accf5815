"""Policy ``admin-roles-require-mfa``: no Okta group is mapped to platform-admin or cluster-admin in a
stack whose Okta sign-in does not require two factors (on any stack, not only prod)."""

from __future__ import annotations

import pytest

from kubesphere_okta import KubeSphereOktaIntegration
from policy import kubesphere_okta_policies as pack
from tests.policy_args import stack_args, violations
from tests.test_workspace_and_project_roles import GROUPS, SRE, TEAM_A, plan


@pytest.fixture(autouse=True)
def no_v3_cluster_configuration(monkeypatch):
    monkeypatch.setattr(KubeSphereOktaIntegration, "_kubesphere_v3", lambda self, *args: None)


def found(**args):
    return violations(pack.admin_roles_require_mfa, stack_args(plan("4.1.3", **args).resources))


def test_cluster_admin_with_two_factor_sign_in_passes():
    assert found(cluster_role_bindings={SRE: "cluster-admin"}, require_mfa=True) == []


def test_cluster_admin_without_two_factors_is_caught_naming_the_group():
    problems = found(cluster_role_bindings={SRE: "cluster-admin"}, require_mfa=False)
    messages = [m for m, _ in problems]
    assert any(m.startswith("Okta group 'KS SRE' is mapped to cluster role 'cluster-admin', but signing in") for m in messages)
    assert all("kubesphere-okta:requireMfa true" in m for m in messages)
    assert any("ClusterRoleBinding gives KubeSphere user 'dan.acme.com' 'cluster-admin'" in m for m in messages)


def test_cluster_admin_mapping_of_an_empty_group_is_caught_too():
    problems = found(cluster_role_bindings={SRE: "cluster-admin"}, require_mfa=False,
                     members={gid: [] for gid in GROUPS.values()})
    assert [m for m, _ in problems] == [
        "Okta group 'KS SRE' is mapped to cluster role 'cluster-admin', but signing in to KubeSphere does not require "
        "two factors: set kubesphere-okta:requireMfa true (component argument require_mfa, with sign_on_policy), or "
        "map the group to a lesser role"]


def test_platform_admin_without_a_sign_on_policy_is_caught():
    problems = found(role_bindings={TEAM_A: "platform-admin"}, sign_on_policy=False, require_mfa=False)
    assert any("GlobalRoleBinding gives KubeSphere user 'ann.acme.com' 'platform-admin'" in m for m, _ in problems)


def test_lesser_roles_need_no_second_factor():
    assert found(role_bindings={TEAM_A: "platform-regular"}, require_mfa=False) == []  # cluster-viewer in ARGS


def test_the_policy_is_in_the_pack():
    assert pack.admin_roles_require_mfa in pack.POLICIES
