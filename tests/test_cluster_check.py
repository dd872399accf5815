"""What a check does when it cannot read the cluster (cluster_check): never a silent pass."""

from kubesphere_okta import cluster_check

BOUND = {"server": "https://10.0.0.1:6443", "kube_system_uid": "4f0c"}


def test_an_unverified_check_keeps_the_binding_and_marks_the_inputs():
    news = {"provider_name": "Okta", "cluster": None}
    checked = cluster_check.unverified_inputs(news, BOUND, "the API server at https://x did not answer")
    assert checked == {"provider_name": "Okta", "cluster": BOUND,
                       cluster_check.UNVERIFIED: "the API server at https://x did not answer"}
    assert news == {"provider_name": "Okta", "cluster": None}  # never mutated
    assert cluster_check.unverified(checked)
    assert cluster_check.unverified_inputs(news, None, "")[cluster_check.UNVERIFIED] == "the cluster could not be read"
    assert cluster_check.unverified_inputs(news, None, "x")["cluster"] is None


def test_a_verified_check_records_the_cluster_and_drops_the_marker():
    marked = {"provider_name": "Okta", cluster_check.UNVERIFIED: "earlier"}
    assert cluster_check.verified_inputs(marked, BOUND) == {"provider_name": "Okta", "cluster": BOUND}
    assert cluster_check.cleared(marked) == {"provider_name": "Okta"}
    assert not cluster_check.unverified({"provider_name": "Okta"})
    assert not cluster_check.unverified({cluster_check.UNVERIFIED: None})


def test_the_messages_name_what_and_say_what_happens_next():
    warning = cluster_check.preview_warning("the KubeSphere objects of identity provider 'Okta'", "HTTP 403.")
    assert warning.startswith("the KubeSphere objects of identity provider 'Okta': the cluster could not be checked")
    assert "HTTP 403." in warning and "`pulumi up` reads it again before anything is written" in warning
    refused = cluster_check.unreadable_message("the entry", "update", "HTTP 403.")
    assert refused.startswith("refusing to update the entry: ") and "Nothing was written. HTTP 403." in refused
    assert "Nothing was deleted." in cluster_check.unreadable_message("the entry", "delete", "x")


def test_only_a_first_write_to_a_cluster_that_answered_fails_at_check():
    assert cluster_check.fails_at_check(first_write=True, unreachable=False)
    assert not cluster_check.fails_at_check(first_write=True, unreachable=True)
    assert not cluster_check.fails_at_check(first_write=False, unreachable=False)
    assert not cluster_check.fails_at_check(first_write=False, unreachable=True)
