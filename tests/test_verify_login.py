"""``verify_login`` wired into the component: checked during ``pulumi up`` only, after the KubeSphere write."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kubesphere_okta import IntegrationArgsError, KubeSphereOktaIntegration, readiness
from tests.openid_provider import write_throwaway_certificate
from tests.pulumi_harness import run
from tests.readiness_servers import FakeOktaAndKubeSphere, serve


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """Okta and the console on one HTTPS server on 127.0.0.1; the check trusts exactly its certificate.

    The check skips itself under Pulumi mocks (nothing deployed); these tests stand in for a real
    engine, so they say it is not mocked.
    """
    monkeypatch.setattr(readiness, "deployment_is_mocked", lambda: False)
    cert, key = write_throwaway_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with serve(FakeOktaAndKubeSphere(), tls=(cert, key)) as server:
        yield server


def build(fake: FakeOktaAndKubeSphere, **args):
    def program():
        integration = KubeSphereOktaIntegration("ks", {
            "console_url": fake.base_url, "issuer": fake.base_url, "kubesphere_version": "4.1",
            "group_ids": ["00g1abcdefghijklmnop"], **args,
        })
        return {"login_ready": integration.login_ready}
    return program


def test_up_with_verify_login_finishes_once_kubesphere_lists_the_provider(fake):
    rec = run(build(fake, verify_login=True, verify_login_timeout=10))
    assert rec.outputs["login_ready"].startswith("login ready:")
    assert "/kapis/config.kubesphere.io/v1alpha2/configs/oauth" in fake.requests


def test_preview_never_checks(fake):
    rec = run(build(fake, verify_login=True), preview=True)
    assert rec.outputs["login_ready"] == "not checked during preview"
    assert fake.requests == []


def test_verify_login_is_off_by_default(fake):
    rec = run(build(fake))
    assert rec.outputs["login_ready"] == "not checked (verify_login is off)"
    assert fake.requests == []


def test_up_fails_with_the_diagnosis_when_the_provider_never_appears(fake):
    fake.ready_after = None
    with pytest.raises(Exception, match=r"was not ready after 1 s: KubeSphere does not list identity provider 'Okta'"):
        run(build(fake, verify_login=True, verify_login_timeout=1))


def test_under_pulumi_mocks_the_check_is_not_run(tmp_path):
    cert, key = write_throwaway_certificate(tmp_path)
    with serve(FakeOktaAndKubeSphere(), tls=(cert, key)) as server:
        rec = run(build(server, verify_login=True))
    assert rec.outputs["login_ready"] == "not checked under Pulumi mocks (nothing was deployed)"
    assert server.requests == []


def test_verify_login_timeout_must_be_positive():
    with pytest.raises(IntegrationArgsError, match=r"- verify_login_timeout: verify_login_timeout must be a positive"):
        KubeSphereOktaIntegration("ks", {
            "console_url": "https://console.example.com", "issuer": "https://example.okta.com",
            "kubesphere_version": "4.1", "group_ids": ["00g1abcdefghijklmnop"], "verify_login_timeout": 0,
        })


def test_config_keys_reach_the_component_as_verify_login_args():
    from infra.config import load

    model, _ = load({"consoleUrl": "https://console.example.com", "kubesphereVersion": "4.1", "groupNames": '["Ops"]',
                     "verifyLogin": "true", "verifyLoginTimeout": "600"}, stack="dev", okta={"orgName": "acme"})
    args = model.component_args(stack="dev")
    assert args["verify_login"] is True and args["verify_login_timeout"] == 600


def test_config_timeout_that_is_not_positive_names_the_key_and_the_fix():
    from infra.config import ConfigError, load

    with pytest.raises(ConfigError) as raised:
        load({"consoleUrl": "https://console.example.com", "kubesphereVersion": "4.1", "groupNames": '["Ops"]',
              "verifyLoginTimeout": "-5"}, stack="dev", okta={"orgName": "acme"})
    [(key, message, fix)] = raised.value.problems
    assert key == "kubesphere-okta:verifyLoginTimeout" and "positive number of seconds" in message
    assert fix == "pulumi config rm kubesphere-okta:verifyLoginTimeout"  # the default, 900, applies


@pytest.mark.parametrize("path", sorted(Path(__file__).resolve().parent.parent.glob("Pulumi.*.yaml")), ids=lambda p: p.name)
def test_example_stacks_verify_login(path):
    assert yaml.safe_load(path.read_text())["config"]["kubesphere-okta:verifyLogin"] == "true"
