"""What a dynamic provider does when its check cannot read the cluster: pure decisions, no Pulumi.

The engine calls a dynamic provider's ``check`` at preview AND at ``pulumi up``, and cannot tell
it which; then ``diff``; and ``update`` only when diff reports a change, never during a preview
(``python -m pulumi.dynamic`` does not support provider previews: pulumi/pulumi
sdk/go/common/resource/plugin/provider_plugin.go, ``Update``). A check that cannot read the
cluster (403, no answer, a kubeconfig that cannot be resolved) must therefore neither fail (a
preview may go on) nor pass as if it had read it (a same step lets every object that depends on
the resource be written). It returns the inputs marked UNVERIFIED instead, with the binding
recorded so far kept as it was: ``diff`` then reports a change, the engine calls ``update`` during
``pulumi up``, and ``update`` reads the identity again and refuses unless it is the bound cluster.
The preview shows that update and a warning naming the API server. The marker never reaches the
state's outputs, and a state's inputs never lose the binding.
"""

from __future__ import annotations

from typing import Any, Mapping

#: The input key ``check`` adds when it could not read the cluster (the reason, for the preview).
UNVERIFIED = "cluster_unverified"


def fails_at_check(first_write: bool, unreachable: bool) -> bool:
    """Whether a check that could not read the cluster fails (rather than mark its inputs): only a
    first write (no state at all) to a cluster that answered, or whose kubeconfig cannot be
    resolved, fails at once; a resource with state (even one whose inputs lost the binding) and a
    cluster that does not answer go on to update, which reads again."""
    return first_write and not unreachable


def unverified_inputs(news: Mapping[str, Any], recorded: Any, reason: str) -> dict:
    """The inputs ``check`` returns when it could not read the cluster: the binding recorded so far
    (``recorded``, from the old inputs) kept, and the reason, so ``diff`` reports a change."""
    checked = dict(news)
    if recorded is not None:
        checked["cluster"] = recorded
    checked[UNVERIFIED] = reason or "the cluster could not be read"
    return checked


def verified_inputs(news: Mapping[str, Any], cluster: Any) -> dict:
    """The inputs ``check`` returns after reading the cluster: its identity, no marker."""
    checked = cleared(news)
    checked["cluster"] = cluster
    return checked


def cleared(news: Mapping[str, Any]) -> dict:
    """The inputs without the marker (a check that read the cluster)."""
    return {k: v for k, v in news.items() if k != UNVERIFIED}


def unverified(news: Mapping[str, Any]) -> bool:
    """True when ``check`` could not read the cluster: ``diff`` must report a change."""
    return bool(news.get(UNVERIFIED))


def preview_warning(what: str, reason: str) -> str:
    """The warning a check prints when it could not read the cluster (the reason names the API server)."""
    return (f"{what}: the cluster could not be checked during this preview: {reason} "
            "`pulumi up` reads it again before anything is written and fails unless it can read it and it is "
            "this stack's cluster.")


def unreadable_message(what: str, verb: str, reason: str) -> str:
    """Why an update, create or delete refuses: it could not read which cluster it would change."""
    done = "deleted" if verb == "delete" else "written"
    return (f"refusing to {verb} {what}: the identity of the cluster the kubeconfig reaches could not be read, "
            f"so it cannot be told apart from another cluster. Nothing was {done}. {reason}")
