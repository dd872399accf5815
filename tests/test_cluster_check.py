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


def test_the_preview_warning_names_what_and_why_and_says_up_reads_again_before_writing():
    # The whole text, as a user reads it in the preview: what could not be checked, the reason (it
    # names the API server), and that `pulumi up` writes nothing unless it reads the bound cluster.
    warning = cluster_check.preview_warning("the KubeSphere objects of identity provider 'Okta'",
                                            "the API server at https://10.0.0.1:6443 answered HTTP 403.")
    assert warning == (
        "the KubeSphere objects of identity provider 'Okta': the cluster could not be checked during this "
        "preview: the API server at https://10.0.0.1:6443 answered HTTP 403. `pulumi up` reads it again before "
        "anything is written and fails unless it can read it and it is this stack's cluster.")


def test_a_refusal_names_the_verb_and_what_and_says_nothing_was_written_or_deleted():
    refused = cluster_check.unreadable_message("the entry", "update", "HTTP 403.")
    assert refused == (
        "refusing to update the entry: the identity of the cluster the kubeconfig reaches could not be read, "
        "so it cannot be told apart from another cluster. Nothing was written. HTTP 403.")
    assert cluster_check.unreadable_message("the entry", "create", "x").endswith("Nothing was written. x")
    assert cluster_check.unreadable_message("the entry", "delete", "x").startswith("refusing to delete the entry: ")
    assert cluster_check.unreadable_message("the entry", "delete", "x").endswith("Nothing was deleted. x")


def test_only_a_first_write_to_a_cluster_that_answered_fails_at_check():
    assert cluster_check.fails_at_check(first_write=True, unreachable=False)
    assert not cluster_check.fails_at_check(first_write=True, unreachable=True)
    assert not cluster_check.fails_at_check(first_write=False, unreachable=False)
    assert not cluster_check.fails_at_check(first_write=False, unreachable=True)
