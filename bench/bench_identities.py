"""Time the component with role_bindings under Pulumi mocks for 10, 100 and 2,000 Okta members.

    .venv/bin/python bench/bench_identities.py [members ...]

Prints, per size: wall time of the whole program (Okta reads, planning, registering every User and
GlobalRoleBinding), Okta getUsers reads, and resources registered. Mocks answer instantly, so
this measures the program's own cost, not Okta's or Kubernetes' latency.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kubesphere_okta import KubeSphereOktaIntegration  # noqa: E402
from tests.pulumi_harness import OktaAndKubernetesMocks, run  # noqa: E402

GROUPS = ["00gbenchadminsabcdef", "00gbenchusersabcdefg"]


def members(count: int) -> dict[str, list[dict]]:
    people = [{"id": f"00u{i:017d}", "login": f"user{i}@acme.com", "email": f"user{i}@acme.com", "status": "ACTIVE"}
              for i in range(count)]
    return {GROUPS[0]: people[: max(1, count // 10)], GROUPS[1]: people}


def program():
    KubeSphereOktaIntegration("bench", {
        "console_url": "https://console.example.com",
        "issuer": "https://example.okta.com",
        "kubesphere_version": "4.1.3",
        "group_ids": GROUPS,
        "mapping_method": "lookup",
        "role_bindings": {GROUPS[0]: "platform-admin", GROUPS[1]: "platform-regular"},
    })


def main(sizes: list[int]) -> None:
    print(f"{'members':>8} {'seconds':>8} {'okta reads':>10} {'resources':>9}")
    for size in sizes:
        mocks = OktaAndKubernetesMocks(group_members=members(size))
        start = time.perf_counter()
        rec = run(program, mocks=mocks, preview=True)
        elapsed = time.perf_counter() - start
        reads = sum(1 for token, _ in rec.invokes if token == "okta:user/getUsers:getUsers")
        print(f"{size:>8} {elapsed:>8.2f} {reads:>10} {len(rec.resources):>9}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10, 100, 2000])
