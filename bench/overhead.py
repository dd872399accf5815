"""``make bench``: what the program and the component cost on top of the Pulumi SDKs.

(a) ``python -m infra.plan --stack dev`` (the program run of ``make plan``) against a process that
    only imports pulumi, pulumi_okta and pulumi_kubernetes. Subprocesses, best of several, run in
    turns so that machine load hits both alike. Target: the program adds at most 20%.
(b) N = 1, 10, 100 integrations built under mocks against the same Okta and Kubernetes resources
    registered directly with the SDKs, in one warmed-up process, best of several. Targets: at
    N = 100 the component costs at most 1.2x the direct registrations; the cost per integration at
    N = 100 is within 1.5x of N = 10.

Times are CPU seconds (user + system), not wall-clock: what the code costs, unaffected by other
processes sharing the machine. Prints each figure and ratio from this one run; asserts nothing
(timings belong here, not in tests).
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

REPOSITORY = Path(__file__).resolve().parent.parent
BARE_IMPORTS = [sys.executable, "-c", "import pulumi, pulumi_okta, pulumi_kubernetes"]
PLAN = [sys.executable, "-m", "infra.plan", "--stack", "dev"]
GROUP_ID = "00g1abcdefghijklmnop"
ARGS = {"console_url": "https://console.example.com", "issuer": "https://example.okta.com",
        "kubesphere_version": "4.1", "group_ids": [GROUP_ID]}


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_seconds(commands: dict[str, list[str]], repeats: int) -> dict[str, list[float]]:
    """CPU seconds (user + system) of each command, run in turns ``repeats`` times."""
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, command in commands.items():
            start = _children_cpu_seconds()
            subprocess.run(command, cwd=REPOSITORY, check=True, stdout=subprocess.DEVNULL)
            samples[name].append(_children_cpu_seconds() - start)
    return samples


def component_program(n: int) -> Callable[[], None]:
    from kubesphere_okta import KubeSphereOktaIntegration

    def program() -> None:
        for i in range(n):
            KubeSphereOktaIntegration(f"ks{i}", dict(ARGS))

    return program


def direct_program(n: int) -> Callable[[], None]:
    """The resources the component registers for ARGS, registered directly with the SDKs."""
    import pulumi
    import pulumi_kubernetes as k8s
    import pulumi_okta as okta

    from kubesphere_okta.identity_provider import (
        IdentityProviderSettings,
        dump_v4_configuration,
        okta_app_settings,
        render_v4_configuration,
    )

    settings = IdentityProviderSettings(console_url=ARGS["console_url"], issuer=ARGS["issuer"], kubesphere_version="4.1")

    def program() -> None:
        for i in range(n):
            label = f"KubeSphere (ks{i})"
            policy = okta.AppSignonPolicy(f"ks{i}-signon-policy", name=f"{label} sign-on", description="bench", catch_all=False)
            okta.AppSignonPolicyRule(f"ks{i}-signon-rule", policy_id=policy.id, name="Allowed groups", access="ALLOW",
                                     groups_included=[GROUP_ID], factor_mode="2FA")
            app = okta.app.OAuth(f"ks{i}-app", label=label, authentication_policy=policy.id, **okta_app_settings(settings))
            okta.AppGroupAssignments(f"ks{i}-groups", app_id=app.id,
                                     groups=[okta.AppGroupAssignmentsGroupArgs(id=GROUP_ID, profile="{}", priority=0)])
            configuration = pulumi.Output.secret(pulumi.Output.all(app.client_id, app.client_secret).apply(
                lambda pair: dump_v4_configuration(render_v4_configuration(settings, pair[0], pair[1]))))
            k8s.core.v1.Secret(f"ks{i}-identity-provider",
                               metadata=k8s.meta.v1.ObjectMetaArgs(name="identity-provider-okta", namespace="kubesphere-system",
                                                                   labels={"config.kubesphere.io/type": "identityprovider"}),
                               type="config.kubesphere.io/identityprovider", string_data={"configuration.yaml": configuration})

    return program


class CollectorClock:
    """CPU seconds spent in CPython's cyclic garbage collector, from ``gc.callbacks``."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

    def __call__(self, phase: str, _info: dict) -> None:
        if phase == "start":
            self._started = time.process_time()
        else:
            self.seconds += time.process_time() - self._started


def best_run_seconds(program: Callable[[], None], repeats: int) -> tuple[float, float, int]:
    """Best CPU seconds of running ``program`` under the mocks, that run's seconds in the garbage
    collector, and how many resources it registered."""
    from infra.mock_runtime import run

    best, in_gc, registered = float("inf"), 0.0, 0
    for _ in range(repeats):
        clock = CollectorClock()
        gc.callbacks.append(clock)
        try:
            start = time.process_time()
            recording = run(program)
            seconds = time.process_time() - start
        finally:
            gc.callbacks.remove(clock)
        if seconds < best:
            best, in_gc, registered = seconds, clock.seconds, len(recording.resources)
    return best, in_gc, registered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.overhead", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per measurement; the best counts (default 5)")
    args = parser.parse_args(argv)

    print(f"(a) program run of `make plan` vs bare SDK imports, best of {args.repeats} processes")
    samples = process_seconds({"bare": BARE_IMPORTS, "plan": PLAN}, args.repeats)
    bare, plan = min(samples["bare"]), min(samples["plan"])
    added = plan / bare - 1
    # Each plan run next to the bare run just before it: a check on the best-of figure when the
    # machine's load changes during the bench.
    paired = statistics.median(p / b for p, b in zip(samples["plan"], samples["bare"]))
    print(f"    import pulumi, pulumi_okta, pulumi_kubernetes  {bare:.3f} s CPU")
    print(f"    python -m infra.plan --stack dev               {plan:.3f} s CPU")
    print(f"    ratio {plan / bare:.2f}: the program adds {added:.0%} (target <= 20%) {'ok' if added <= 0.20 else 'MISSED'};"
          f" median of paired runs {paired:.2f}")

    print(f"(b) N integrations under mocks: component vs the same resources registered directly, best of {args.repeats}")
    for warm in (component_program(1), direct_program(1)):  # imports and first-use costs out of the way
        best_run_seconds(warm, 1)
    per_integration: dict[int, float] = {}
    direct_per_integration: dict[int, float] = {}
    for n in (1, 10, 100):
        component, component_gc, registered = best_run_seconds(component_program(n), args.repeats)
        direct, direct_gc, direct_registered = best_run_seconds(direct_program(n), args.repeats)
        per_integration[n], direct_per_integration[n] = component / n, direct / n
        print(f"    N={n:<3}  component {component:.3f} s CPU ({registered} resources, {component_gc:.3f} s in gc)"
              f"  direct {direct:.3f} s ({direct_registered} resources, {direct_gc:.3f} s in gc)"
              f"  ratio {component / direct:.2f}"
              + (f" (target <= 1.2) {'ok' if component / direct <= 1.2 else 'MISSED'}" if n == 100 else ""))
    growth = per_integration[100] / per_integration[10]
    print(f"    per integration: N=10 {per_integration[10] * 1000:.1f} ms, N=100 {per_integration[100] * 1000:.1f} ms,"
          f" ratio {growth:.2f} (target <= 1.5) {'ok' if growth <= 1.5 else 'MISSED'};"
          f" direct registrations: ratio {direct_per_integration[100] / direct_per_integration[10]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
