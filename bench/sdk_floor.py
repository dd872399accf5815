"""``python -m bench.sdk_floor COUNT REPORT``: the Pulumi SDK's own cost for COUNT resources, no program.

What no program built on the Python SDK can go below on this machine: one component and COUNT - 1
bare ``pulumi.CustomResource``s (KubeSphere Users and GlobalRoleBindings, alternately, with bodies
of the size the member plan registers, each a child of the component), registered under the same
mock runtime (``infra.mock_runtime.run``) and the same collector settings as ``make plan``
(``infra.collector``: no collections while importing, ``registering()`` around the run), in a
fresh process that imports the same SDKs. No names are planned, no options beyond the parent,
no dependencies, nothing printed: the bench sets the member plan's time beside this one.

Writes to REPORT how many resources were registered, of which types, and the CPU seconds of the
registration alone (``workloads.floor_program``; ``tests/test_bench.py`` checks what it registers).
"""

from __future__ import annotations

import gc

if __name__ == "__main__":  # as `make plan` does: a process of its own, collections resume below
    gc.disable()

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

import pulumi  # noqa: E402,F401
import pulumi_kubernetes  # noqa: E402,F401  the plan's process imports the same SDKs
import pulumi_okta  # noqa: E402,F401

from bench import workloads  # noqa: E402
from infra import collector  # noqa: E402
from infra.mock_runtime import run  # noqa: E402


def main(count: str, report: str) -> int:
    program = workloads.floor_program(int(count))
    with collector.registering():
        start = time.process_time()
        recording = run(program)
        seconds = time.process_time() - start
    Path(report).write_text(json.dumps({
        "resources": len(recording.resources),
        "types": Counter(r.type for r in recording.resources),
        "registration_cpu": seconds,
        "peak_rss": workloads.peak_rss(),
    }))
    return 0


if __name__ == "__main__":
    gc.enable()
    status = main(*sys.argv[1:])
    import asyncio

    asyncio.get_event_loop_policy().get_event_loop().close()  # as infra.plan.close_event_loop does
    sys.exit(status)
