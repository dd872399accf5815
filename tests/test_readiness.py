"""The readiness check's polling against local servers answering as Okta and KubeSphere would."""

from __future__ import annotations

import time

import pytest

from kubesphere_okta.readiness import LoginNotReady, check_login_once, wait_until_login_ready
from kubesphere_okta.readiness_rules import ExpectedLogin
from tests.readiness_servers import FakeOktaAndKubeSphere, serve

FAST = {"first_delay": 0.1, "max_delay": 0.3, "request_timeout": 2.0}


def expected_for(fake: FakeOktaAndKubeSphere, **overrides) -> ExpectedLogin:
    values = {"console_url": fake.base_url, "issuer": fake.base_url, "provider_name": "Okta", "kubesphere_version": "4.1"}
    return ExpectedLogin(**{**values, **overrides})


def test_ready_at_once_returns_after_a_single_check():
    with serve(FakeOktaAndKubeSphere()) as fake:
        summary = wait_until_login_ready(expected_for(fake), timeout=5, **FAST)
    assert summary.startswith("login ready:") and "after 1 check(s)" in summary


def test_slow_readiness_is_waited_for_with_backoff():
    # Timed from before the fake exists: it counts its ready_after from its own start.
    started = time.monotonic()
    with serve(FakeOktaAndKubeSphere(ready_after=1.0)) as fake:
        summary = wait_until_login_ready(expected_for(fake), timeout=10, **FAST)
        elapsed = time.monotonic() - started
    assert summary.startswith("login ready:")
    assert 1.0 <= elapsed < 5
    assert fake.requests.count("/kapis/config.kubesphere.io/v1alpha2/configs/oauth") >= 3


def test_provider_never_listed_fails_after_the_timeout_naming_where_to_look():
    with serve(FakeOktaAndKubeSphere(ready_after=None)) as fake:
        started = time.monotonic()
        with pytest.raises(LoginNotReady) as failure:
            wait_until_login_ready(expected_for(fake), timeout=1.0, **FAST)
        elapsed = time.monotonic() - started
    message = str(failure.value)
    assert message.startswith("KubeSphere login through 'Okta' was not ready after 1 s: KubeSphere does not list identity provider 'Okta'")
    assert "failed to create identity provider Okta" in message and "ks-apiserver" in message
    assert 1.0 <= elapsed < 3


def test_provider_never_listed_on_3x_points_at_the_ks_installer_logs():
    with serve(FakeOktaAndKubeSphere(ready_after=None, v3_shape=True)) as fake:
        with pytest.raises(LoginNotReady, match=r"logs deploy/ks-installer"):
            wait_until_login_ready(expected_for(fake, kubesphere_version="3.4"), timeout=0.5, **FAST)


def test_provider_listed_without_auth_url_reports_that_ks_apiserver_discovery_failed():
    with serve(FakeOktaAndKubeSphere(discovered=False, v3_shape=True)) as fake:
        with pytest.raises(LoginNotReady, match=r"without provider\.endpoint\.authURL: ks-apiserver's OIDC discovery"):
            wait_until_login_ready(expected_for(fake, kubesphere_version="3.4"), timeout=0.5, **FAST)


def test_issuer_mismatch_fails_at_once_without_waiting_for_the_timeout():
    with serve(FakeOktaAndKubeSphere()) as fake:
        fake.published_issuer = fake.base_url + "/"
        started = time.monotonic()
        with pytest.raises(LoginNotReady) as failure:
            wait_until_login_ready(expected_for(fake), timeout=30, **FAST)
    assert time.monotonic() - started < 3
    assert "cannot work: the issuer Okta publishes is" in str(failure.value)
    assert "must match byte for byte" in str(failure.value)


def test_console_that_does_not_answer_is_reported_with_its_url():
    with serve(FakeOktaAndKubeSphere()) as fake:
        problem = check_login_once(expected_for(fake, console_url="http://127.0.0.1:9"), request_timeout=1)
    assert problem is not None and not problem.permanent
    assert problem.message.startswith("the KubeSphere console http://127.0.0.1:9/kapis/config.kubesphere.io/v1alpha2/configs/oauth did not answer")


def test_console_url_that_is_not_the_console_answers_404_and_says_so():
    with serve(FakeOktaAndKubeSphere()) as fake:
        problem = check_login_once(expected_for(fake, console_url=fake.base_url + "/not-the-console"), request_timeout=1)
    assert problem is not None and "answered HTTP 404 instead of its OAuth configuration" in problem.message
