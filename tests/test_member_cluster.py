"""Host only: a 3.x member cluster's ClusterConfiguration never takes our entry.

ks-installer renders ``kubesphere-config`` from the ClusterConfiguration: at v3.2.1 a member's
``oauthOptions`` become ``accessTokenMaxAge: 0`` (identity providers dropped); at v3.3.2 and v3.4.1
they are copied, identity providers included, and ``accessTokenMaxAge: 0`` is appended after them
(kubesphere/ks-installer@<tag>:roles/ks-core/config/templates/kubesphere-config.yaml.j2). Each
release reads ``spec.multicluster.clusterRole`` for it; ``member`` is refused at preview, on write
and in the offline plan, ``host`` and ``none`` are not. (4.1: tests/test_preview_cluster_check.py.)
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from infra import plan
from kubesphere_okta import cluster_configuration as cc
from kubesphere_okta.kubesphere_v3 import ClusterConfigurationProvider
from tests.kubernetes_api_double import KubernetesApiDouble
from tests.test_kubesphere_v3 import entry

FIXTURE = Path(__file__).parent / "fixtures" / "kubesphere-v3.4.1" / "cluster-configuration.yaml"


def with_role(role: str | None) -> dict:
    cluster_configuration = yaml.safe_load(FIXTURE.read_text())
    if role is None:
        del cluster_configuration["spec"]["multicluster"]
    else:
        cluster_configuration["spec"]["multicluster"]["clusterRole"] = role
    return cluster_configuration


def test_a_member_s_cluster_configuration_is_refused_naming_the_host():
    # The same object and key on 3.2, 3.3 and 3.4: one check serves them all.
    with pytest.raises(cc.MemberCluster) as refused:
        cc.check(with_role("member"), "Okta")
    message = str(refused.value)
    assert "spec.multicluster.clusterRole: member" in message and "host cluster" in message
    assert "changed nothing" in message


@pytest.mark.parametrize("role", ["host", "none", None])
def test_a_host_or_standalone_cluster_configuration_passes(role):
    cc.check(with_role(role), "Okta")
    assert cc.member_cluster_problem(with_role(role)) is None


def test_preview_and_create_refuse_a_member_cluster_and_write_nothing():
    provider = ClusterConfigurationProvider()
    provider.retry_delays = (0.0, 0.0, 0.0)
    with KubernetesApiDouble(with_role("member")) as double:
        props = {"provider_name": "Okta", "entry": entry(), "oauth_options": {"accessTokenMaxAge": "1h"},
                 "kubeconfig": double.kubeconfig()}
        failures = provider.check({}, copy.deepcopy(props)).failures
        assert [f.property for f in failures] == ["entry"]
        assert "clusterRole: member" in failures[0].reason
        with pytest.raises(Exception, match="clusterRole: member"):
            provider.create(copy.deepcopy(props))
        assert double.writes == []


@pytest.mark.parametrize("version", ["3.2", "3.3", "3.4"])
def test_the_offline_plan_refuses_a_member_s_cluster_configuration(capsys, tmp_path, version):
    member = tmp_path / "member.yaml"
    member.write_text(yaml.safe_dump(with_role("member")))
    code = plan.main(["--stack", "staging", "--cluster-configuration", str(member),
                      "--config", f"kubesphere-okta:kubesphereVersion={version}"])
    _out, err = capsys.readouterr()
    assert code == 1
    assert "spec.multicluster.clusterRole: member" in err and "host cluster" in err
    # Removing an entry a member still holds stays possible.
    assert plan.main(["--stack", "staging", "--destroy", "--cluster-configuration", str(member),
                      "--config", f"kubesphere-okta:kubesphereVersion={version}"]) == 0
