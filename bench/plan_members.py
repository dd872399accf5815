"""``python -m bench.plan_members DIR REPORT``: ``make plan`` of the bench member stack in DIR.

Runs exactly ``python -m infra.plan --stack bench --project-dir DIR --okta-members DIR/members.json``
(output to stdout, which the bench discards) and writes to REPORT what the run asked Okta and
registered, so the bench can show the reads beside the time.
"""

from __future__ import annotations

import gc

if __name__ == "__main__":  # as `python -m infra.plan` does: no collections while importing
    gc.disable()

import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from infra import plan  # noqa: E402
from bench.workloads import MEMBER_STACK, MEMBERS_FILE, peak_rss  # noqa: E402
from kubesphere_okta import membership_model  # noqa: E402


def state_bytes(recording) -> int:
    """The registered inputs of every resource, serialized as JSON (what the engine stores as each
    resource's inputs, and again as its outputs for the dynamic ones; pickled providers included)."""
    return sum(len(json.dumps(r.inputs, separators=(",", ":"), default=str)) for r in recording.resources)


def main(directory: str, report: str) -> int:
    recordings = []
    run_program = plan.run_program

    def recorded(*args, **kwargs):
        recordings.append(run_program(*args, **kwargs))
        return recordings[-1]

    plan.run_program = recorded
    try:
        status = plan.main(["--stack", MEMBER_STACK, "--project-dir", directory,
                            "--okta-members", str(Path(directory) / MEMBERS_FILE)])
    finally:
        plan.run_program = run_program
    (recording,) = recordings
    tokens = [token for token, _ in recording.invokes]
    Path(report).write_text(json.dumps({
        "status": status,
        "group_reads": tokens.count(plan.GET_GROUP),
        "member_reads": tokens.count(plan.GET_USERS),
        "resources": len(recording.resources),
        "users": sum(len(r.inputs.get("users") or {}) for r in recording.of_type(membership_model.USERS_TYPE)),
        "state_bytes": state_bytes(recording),
        "peak_rss": peak_rss(),
    }))
    return status


if __name__ == "__main__":
    import infra.program  # noqa: F401  the config model too, as infra.plan's entry point does
    gc.freeze()  # as infra.plan's entry point: what the imports made is never scanned again
    gc.enable()
    status = main(*sys.argv[1:])
    plan.close_event_loop()
    plan.exit_now(status)  # as infra.plan's entry point ends
