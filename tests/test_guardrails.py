"""The policy pack's pure decisions (policy/guardrails.py), over many inputs."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kubesphere_okta.identity_provider import redirect_url
from policy import guardrails

HOSTS = st.from_regex(r"[a-z][a-z0-9]{0,15}(\.[a-z][a-z0-9]{0,15}){1,3}", fullmatch=True)
PORTS = st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}"))
PROVIDER_NAMES = st.from_regex(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,40}[A-Za-z0-9])?", fullmatch=True)
CONSOLES = st.builds(lambda host, port: f"https://{host}{port}", HOSTS, PORTS)


@settings(max_examples=150, deadline=None)
@given(CONSOLES, PROVIDER_NAMES)
def test_every_redirect_url_the_component_builds_passes_the_policy(console, name):
    assert guardrails.redirect_uri_problem(redirect_url(console, name)) is None


@settings(max_examples=100, deadline=None)
@given(CONSOLES, PROVIDER_NAMES)
def test_a_double_slash_before_oauth_is_caught(console, name):
    assert guardrails.redirect_uri_problem(f"{console}//oauth/redirect/{name}") is not None


@settings(max_examples=100, deadline=None)
@given(HOSTS, PROVIDER_NAMES)
def test_plain_http_is_caught_except_for_localhost(host, name):
    assert guardrails.redirect_uri_problem(f"http://{host}/oauth/redirect/{name}") is not None
    assert guardrails.redirect_uri_problem(f"http://localhost:30880/oauth/redirect/{name}") is None


@settings(max_examples=100, deadline=None)
@given(CONSOLES, PROVIDER_NAMES, st.sampled_from(["*", "?x=1", "#top", "/extra", "\n", " ", "\t"]))
def test_anything_after_the_provider_name_is_caught(console, name, suffix):
    assert guardrails.redirect_uri_problem(redirect_url(console, name) + suffix) is not None


@settings(max_examples=100, deadline=None)
@given(st.lists(st.booleans(), min_size=18, max_size=18)
       .map(lambda upper: "".join(c.upper() if u else c for c, u in zip("insecureskipverify", upper))),
       st.lists(st.sampled_from(["provider", "endpoint", "extra"]), max_size=3))
def test_insecure_skip_verify_is_caught_in_any_casing_at_any_depth(key, path):
    entry: dict = {key: True}
    for part in reversed(path):
        entry = {part: entry}
    assert len(guardrails.insecure_skip_verify_problems({"name": "Okta", **entry})) == 1


def test_insecure_skip_verify_false_is_allowed():
    assert guardrails.insecure_skip_verify_problems({"provider": {"insecureSkipVerify": False}}) == []


def test_prod_stacks_are_those_whose_name_starts_with_prod():
    assert all(map(guardrails.is_prod_stack, ["prod", "prod-eu", "production", "acme/kubesphere-okta/prod"]))
    assert not any(map(guardrails.is_prod_stack, ["dev", "staging", "preprod", "qa"]))


def test_a_client_secret_inside_a_secret_wrapper_is_not_exposed():
    wrapped = object()
    is_secret = lambda v: v is wrapped  # noqa: E731
    assert not guardrails.exposes_client_secret({"provider": {"clientSecret": wrapped}}, is_secret)
    assert guardrails.exposes_client_secret({"provider": {"clientSecret": "s3cr3t"}}, is_secret)
    assert guardrails.exposes_client_secret({"configuration.yaml": "provider:\n  clientSecret: s3cr3t\n"}, is_secret)
    assert not guardrails.exposes_client_secret({"provider": {"clientID": "0oa1"}}, is_secret)
