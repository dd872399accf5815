"""``make bench``: what the program and the component cost, measured side by side in pairs.

Every comparison runs A and B alternately, one pair after another (the order inside a pair
alternates too), and reports the median and the range (min-max) of the per-pair ratios B/A:
load from other processes hits both halves of a pair alike, and no side gets a best-of. Times are
CPU seconds (user + system) unless a row says wall-clock.

1. Startup: ``make plan`` (make, which byte-compiles our modules only when one changed, then
   ``python -m infra.plan --stack dev``) against a process that only does
   ``import pulumi, pulumi_okta, pulumi_kubernetes``; fresh processes.
2. Registration: N = 10, 100, 300 ``KubeSphereOktaIntegration`` under the mock runtime against the
   same custom resources written by hand with the SDK classes (``bench/workloads.py``; the test
   suite checks both register identical resources). Both sides run exactly as ``make plan`` runs
   a program: a collected heap, then ``infra.collector.registering()``. Per-integration growth
   pairs the component at N = 300 with the component at N = 10.
3. Members: ``make plan`` of a stack whose five roleBindings groups (by name, overlapping) hold
   1,000, 5,500 and 10,000 Okta members, fresh processes: wall-clock and CPU seconds, peak RSS, Okta
   reads, registered resources and the size of their inputs; beside them the SDK floor
   (``bench/sdk_floor.py``): as many bare ``CustomResource``s as one per User and per binding would
   be (20,008 at 10,000 members), under the same mocks and collector settings, in a fresh process.
   Whether the cost per member stays flat from 1,000 to 10,000 is the marginal CPU per member of
   the upper half (5,500 to 10,000) against the lower half (1,000 to 5,500), per round: both are
   above a plan that registers the same resources, so the fixed cost, which a whole-process ratio
   spreads over the members, drops out, and each difference is seconds, well above the noise.

``--only SECTION`` runs one section; the last lines give each section's wall-clock time.

Prints a table goal / figure / met and asserts nothing (timings belong here, not in tests).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bench import workloads

REPOSITORY = Path(__file__).resolve().parent.parent
BARE_IMPORTS = [sys.executable, "-c", "import pulumi, pulumi_okta, pulumi_kubernetes"]
#: `make plan` itself, with this Python: make (which byte-compiles our modules first if one of them
#: changed since the last time), then ``python -m infra.plan --stack dev``. ``wait4`` counts make's
#: CPU seconds and those of every process it ran.
MAKE_PLAN = ["make", "--silent", "--no-print-directory", "plan", f"PY={sys.executable}"]
SIZES = (10, 100, 300)
MEMBER_COUNTS = (1_000, 10_000)
GIB = 1024 ** 3


@dataclass
class Paired:
    """Per-pair ratios B/A and the raw seconds of each side."""

    a: list[float]
    b: list[float]

    @property
    def ratios(self) -> list[float]:
        return [b / a for a, b in zip(self.a, self.b)]

    def describe(self) -> str:
        r = self.ratios
        return f"{statistics.median(r):.2f}x (range {min(r):.2f}-{max(r):.2f}, {len(r)} pairs)"


@dataclass
class ProcessRun:
    wall: float
    cpu: float
    max_rss: int
    """Peak resident set size, bytes: ``ru_maxrss`` from ``wait4``, which includes the memory of the
    bench the child was spawned from; the member rows replace it with the child's own peak."""


def run_process(command: list[str]) -> ProcessRun:
    """One fresh process, stdout discarded: its wall-clock and CPU seconds and peak RSS (wait4)."""
    start = time.perf_counter()
    child = subprocess.Popen(command, cwd=REPOSITORY, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited with {child.returncode}")
    return ProcessRun(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024)


def alternate(a: Callable[[], float], b: Callable[[], float], pairs: int, flip: bool = False) -> Paired:
    """``pairs`` pairs of (A, B), B first in every other pair (in the first one with ``flip``)."""
    result = Paired([], [])
    for i in range(pairs):
        if (i % 2 == 1) != flip:
            tb = b()
            ta = a()
        else:
            ta = a()
            tb = b()
        result.a.append(ta)
        result.b.append(tb)
    return result


def registration_seconds(program: Callable[[], None]) -> float:
    """CPU seconds of one run of ``program`` under the mock runtime, set up as ``make plan`` does."""
    from infra import collector
    from infra.mock_runtime import run

    gc.collect()  # the previous run's garbage is not this run's cost
    with collector.registering():
        start = time.process_time()
        run(program)
        return time.process_time() - start


def startup(args: argparse.Namespace, rows: list[tuple[str, str, bool | None]]) -> None:
    print(f"1. startup: `make plan` vs bare SDK imports, {args.pairs} pairs of fresh processes", flush=True)
    # Page cache, byte code and the serialized providers' cache (dynamic_registration) warm for both.
    run_process(BARE_IMPORTS), run_process(MAKE_PLAN)
    paired = alternate(lambda: run_process(BARE_IMPORTS).cpu, lambda: run_process(MAKE_PLAN).cpu, args.pairs)
    print(f"   bare imports {statistics.median(paired.a):.3f} s, plan {statistics.median(paired.b):.3f} s CPU (medians)")
    rows.append(("`make plan` within 1.25x of `import pulumi, pulumi_okta, pulumi_kubernetes`",
                 paired.describe(), statistics.median(paired.ratios) <= 1.25))


def registration(args: argparse.Namespace, rows: list[tuple[str, str, bool | None]]) -> None:
    print(f"2. registration under mocks: component vs the same resources by hand, {args.pairs} pairs per N", flush=True)
    for warm in (workloads.component_program(1), workloads.direct_program(1)):  # imports, first-use costs
        registration_seconds(warm)
    # Sizes interleaved, pair by pair, so that the i-th pairs of N = 10 and N = 300 (compared for
    # growth) are measured minutes apart at most, not a whole section apart.
    by_size: dict[int, Paired] = {n: Paired([], []) for n in SIZES}
    for i in range(args.pairs):
        for n in SIZES:
            pair = alternate(lambda: registration_seconds(workloads.direct_program(n)),
                             lambda: registration_seconds(workloads.component_program(n)), 1, flip=i % 2 == 1)
            by_size[n].a += pair.a
            by_size[n].b += pair.b
    for n in SIZES:
        print(f"   N={n:<3} direct {statistics.median(by_size[n].a):.3f} s, component {statistics.median(by_size[n].b):.3f} s"
              f" CPU (medians); component/direct {by_size[n].describe()}", flush=True)
        target = n in (100, 300)
        rows.append((f"component vs direct at N = {n}" + (" at most 1.0x" if target else " (no target)"),
                     by_size[n].describe(), statistics.median(by_size[n].ratios) <= 1.0 if target else None))
    growth = Paired([t / SIZES[0] for t in by_size[SIZES[0]].b], [t / SIZES[-1] for t in by_size[SIZES[-1]].b])
    rows.append((f"component cost per integration at N = {SIZES[-1]} within 1.15x of N = {SIZES[0]}",
                 growth.describe(), statistics.median(growth.ratios) <= 1.15))
    direct_growth = Paired([t / SIZES[0] for t in by_size[SIZES[0]].a], [t / SIZES[-1] for t in by_size[SIZES[-1]].a])
    rows.append((f"direct cost per integration at N = {SIZES[-1]} vs N = {SIZES[0]} (no target)",
                 direct_growth.describe(), None))


def members(args: argparse.Namespace, rows: list[tuple[str, str, bool | None]]) -> None:
    small, big = args.member_counts
    middle = (small + big) // 2
    print(f"3. members: `make plan` of 5 overlapping roleBindings groups, {args.member_pairs} round(s) of"
          f" {small:,}, {middle:,} and {big:,} members and the SDK floor for as many resources as the largest"
          " (order alternating)", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-members-") as scratch:
        runs: dict[int, list[ProcessRun]] = {count: [] for count in (small, middle, big)}
        floors: list[ProcessRun] = []
        reports: dict[int, dict] = {}
        floor_report: dict = {}

        def plan(count: int) -> None:
            directory = Path(scratch) / str(count)
            if not directory.exists():
                workloads.write_member_stack(directory, count)
            report = directory / "report.json"
            run = run_process([sys.executable, "-m", "bench.plan_members", str(directory), str(report)])
            reports[count] = json.loads(report.read_text())
            run.max_rss = reports[count]["peak_rss"]  # the plan's own peak, not wait4's (workloads.peak_rss)
            runs[count].append(run)

        def floor() -> None:
            # As many resources as one per User and per GlobalRoleBinding (and the integration's
            # other resources) would be: 20,008 at 10,000 members, the floor issue 23 compares with.
            report = Path(scratch) / "floor.json"
            run = run_process([sys.executable, "-m", "bench.sdk_floor", str(floor_resources(big)), str(report)])
            floor_report.update(json.loads(report.read_text()))
            run.max_rss = floor_report["peak_rss"]
            floors.append(run)

        plan(small)  # page cache, byte code and the providers' cache warm for every measured run
        runs[small].clear()
        for i in range(args.member_pairs):
            steps = [lambda: plan(small), lambda: plan(middle), lambda: plan(big), floor]
            for step in (steps if i % 2 == 0 else steps[::-1]):
                step()
        for count in (small, middle, big):
            print(f"   {count:>6} members: {reports[count]['resources']} resources, {statistics.median(x.wall for x in runs[count]):.1f} s wall,"
                  f" {statistics.median(x.cpu for x in runs[count]):.2f} s CPU, peak RSS {max(x.max_rss for x in runs[count]) / 2**20:.0f} MiB,"
                  f" {reports[count]['group_reads']} group reads, {reports[count]['member_reads']} member reads", flush=True)
    floor_cpu = statistics.median(x.cpu for x in floors)
    print(f"   SDK floor: {floor_report['resources']:,} bare resources, {statistics.median(x.wall for x in floors):.1f} s wall,"
          f" {floor_cpu:.1f} s CPU ({floor_report['registration_cpu']:.1f} s of it registering, last run),"
          f" peak RSS {max(x.max_rss for x in floors) / 2**20:.0f} MiB", flush=True)
    wall = max(x.wall for x in runs[big])
    cpu = statistics.median(x.cpu for x in runs[big])
    rss = max(x.max_rss for x in runs[big])
    floor_vs_plan = Paired([x.cpu for x in floors], [x.cpu for x in runs[big]])
    rows.append((f"{big:,} members plan in under 10% of the CPU of the SDK floor for {floor_report['resources']:,} resources"
                 " (one per User and GlobalRoleBinding, bare CustomResources, same mocks and collector, fresh process)",
                 f"plan {cpu:.2f} s CPU (median; {wall:.1f} s wall, slowest), floor {floor_cpu:.1f} s CPU"
                 f" ({max(x.max_rss for x in floors) / 2**20:.0f} MiB); plan/floor {floor_vs_plan.describe()}",
                 statistics.median(floor_vs_plan.ratios) < 0.10))
    rows.append((f"{big:,} members plan with peak RSS under 250 MiB", f"{rss / 2**20:.0f} MiB (highest of"
                 f" {len(runs[big])})", rss < 250 * 2**20))
    reads = reports[big]["group_reads"], reports[big]["member_reads"]
    rows.append((f"{big:,} members: 5 group reads and 5 member reads", f"{reads[0]} and {reads[1]}", reads == (5, 5)))
    marginal = marginal_per_member({count: [x.cpu for x in runs[count]] for count in runs})
    rows.append((f"cost per member flat from {small:,} to {big:,} members within 1.2x: marginal CPU per member from"
                 f" {middle:,} to {big:,} over that from {small:,} to {middle:,}",
                 f"{statistics.median(marginal.b) * 1e3:.3f} vs {statistics.median(marginal.a) * 1e3:.3f} ms per member"
                 f" (medians); {marginal.describe()}",
                 min(marginal.a + marginal.b) > 0 and statistics.median(marginal.ratios) <= 1.2))
    per_member = Paired([x.cpu / small for x in runs[small]], [x.cpu / big for x in runs[big]])
    rows.append((f"CPU per member at {big:,} over {small:,}, whole plan process (no target: the fixed cost flattens it)",
                 per_member.describe(), None))
    growth = Paired([x.cpu for x in runs[small]], [x.cpu for x in runs[big]])
    rows.append((f"CPU of the {big:,}-member plan over the {small:,}-member one (no target; {big // small}x the members)",
                 growth.describe(), None))
    counts = reports[small]["resources"], reports[middle]["resources"], reports[big]["resources"]
    rows.append((f"registered resources independent of the members ({small:,}, {middle:,} and {big:,})",
                 " and ".join(map(str, counts)), len(set(counts)) == 1))
    state = reports[big]["state_bytes"]
    rows.append((f"{big:,} members: registered inputs, serialized, under 5 MB", f"{state / 1e6:.2f} MB", state < 5e6))


def marginal_per_member(cpu: dict[int, list[float]]) -> Paired:
    """Per round, A: CPU per member from the smallest plan to the middle one; B: from the middle one
    to the largest (seconds per member). Differences of plans that register the same resources, so
    a fixed cost does not flatten the growth as it does in whole-process CPU per member."""
    base, small, big = sorted(cpu)
    return Paired([(s - b) / (small - base) for b, s in zip(cpu[base], cpu[small])],
                  [(g - s) / (big - small) for s, g in zip(cpu[small], cpu[big])])


def floor_resources(members: int) -> int:
    """The resources the per-member model registered for ``members`` members: a User and a
    GlobalRoleBinding each, and the integration's eight others (20,008 at 10,000)."""
    return 2 * members + 8


SECTIONS: dict[str, Callable[[argparse.Namespace, list], None]] = {
    "startup": startup, "registration": registration, "members": members}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.overhead", description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=9, help="pairs per comparison (default 9)")
    parser.add_argument("--member-pairs", type=int, default=3,
                        help="rounds of (1,000, 5,500, 10,000 members) plans and an SDK floor (default 3; a round"
                             " costs ~60 s CPU, ~45 of it the floor)")
    parser.add_argument("--member-counts", type=lambda text: tuple(int(c) for c in text.split(",")),
                        default=MEMBER_COUNTS, metavar="SMALL,BIG",
                        help="members of the smallest and the largest member plan (default 1000,10000; a third"
                             " plan holds the number halfway)")
    parser.add_argument("--only", action="append", choices=list(SECTIONS), metavar="SECTION",
                        help=f"run only this section (repeatable): {', '.join(SECTIONS)}")
    args = parser.parse_args(argv)
    rows: list[tuple[str, str, bool | None]] = []
    began = time.perf_counter()
    load_before = os.getloadavg()[0]
    budget: list[str] = []
    for name, section in SECTIONS.items():
        if args.only and name not in args.only:
            continue
        section_began = time.perf_counter()
        section(args, rows)
        budget.append(f"{name} {time.perf_counter() - section_began:.0f} s, load average {os.getloadavg()[0]:.1f} after it")
    print(f"\nmake bench: {time.perf_counter() - began:.0f} s wall, {os.cpu_count()} CPUs, load average"
          f" {load_before:.1f} before it; {'; '.join(budget)}\n")
    print(table(rows))
    return 0


def table(rows: list[tuple[str, str, bool | None]]) -> str:
    lines = ["| goal | figure (median of paired ratios, range) | met |", "|---|---|---|"]
    for goal, figure, met in rows:
        lines.append(f"| {goal} | {figure} | {'-' if met is None else 'yes' if met else 'NO'} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
