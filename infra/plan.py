"""``python -m infra.plan --stack NAME``: what a stack will do, offline, without credentials.

Reads Pulumi.yaml and Pulumi.<stack>.yaml directly (``secure:`` values are never decrypted),
runs the real program (``infra.program.main``) under Pulumi's mock runtime, and prints the
resource tree, the KubeSphere object as it will be written, and the diff of that object.

Exit status: 0 planned; 1 invalid stack configuration (the program's own message); 2 a wrong
command line: an unknown option or stack, an option that does not apply to the stack, or a file
given with an option that is missing or is not what the option takes.
"""

from __future__ import annotations

import gc

if __name__ == "__main__":  # `make plan`: a process of its own; enabled again below (infra/collector.py)
    gc.disable()

import argparse  # noqa: E402
import asyncio  # noqa: E402
import atexit  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable, NoReturn, Sequence  # noqa: E402

import yaml  # noqa: E402

from kubesphere_okta.identity_provider import V4_SECRET_TYPE  # noqa: E402
from kubesphere_okta import rules  # noqa: E402
from kubesphere_okta.integration import TYPE_TOKEN  # noqa: E402
from infra import collector, membership_sync, plan_document, pulumi_yaml, stack_files  # noqa: E402
from infra.mock_runtime import OktaAndKubernetesMocks, Recording, run  # noqa: E402

REPOSITORY = Path(__file__).resolve().parent.parent
#: The ks-installer ClusterConfiguration as KubeSphere v3.4.1 ships it: the 3.x "live" object by default.
EXAMPLE_CLUSTER_CONFIGURATION = REPOSITORY / "examples" / "kubesphere-v3.4.1" / "cluster-configuration.yaml"

SECRET_TYPE = "kubernetes:core/v1:Secret"
DYNAMIC_TYPE = "pulumi-python:dynamic:Resource"
GET_GROUP = "okta:group/getGroup:getGroup"
GET_USERS = "okta:user/getUsers:getUsers"
#: What the mocked Okta answers as a new app's client secret; the plan must never print it.
PLACEHOLDER_CLIENT_SECRET = "plan-placeholder-client-secret-not-real"


class PlanMocks(OktaAndKubernetesMocks):
    """Mocked providers whose answers are obviously placeholders: nothing is invented.

    ``members`` (from ``--okta-members``) maps an Okta group, by name or id, to the members the
    user says it has; groups not listed are empty, and their lookups are reported as pending.
    """

    def __init__(self, members: dict[str, list[dict[str, Any]]] | None = None):
        members = members or {}
        # getUsers is asked with the id getGroup answered: the pending id for a name, or the id itself.
        super().__init__(group_members={**members, **{pending_group(k): v for k, v in members.items()}})
        self.listed_groups = set(self.group_members)

    def resource_id(self, args) -> str:
        return f"<id of {args.name}>"

    def app_credentials(self, args) -> dict[str, str]:
        return {"clientId": f"<client id of {args.name}, assigned by Okta>", "clientSecret": PLACEHOLDER_CLIENT_SECRET}

    def group_lookup(self, asked: str) -> dict[str, Any]:
        # Offline, a name cannot be resolved: answer with a recognisable pending lookup.
        return {"id": pending_group(asked), "name": asked, "description": "", "type": "OKTA_GROUP", "users": []}


def pending_group(name: str) -> str:
    return f"<lookup: group {name!r}>"


def pending_lookups(recording: Recording, listed_groups: frozenset[str] = frozenset(), *,
                    destroy: bool = False, prune_users: bool = False) -> list[str]:
    """What only Okta can answer, in the order the program asked: group ids, and group members
    (a group not given with --okta-members is empty offline: no User or role binding for it).
    Under ``--destroy`` a member line says what `pulumi destroy` does to those members' objects."""
    if not destroy:
        members_become = "each member becomes a KubeSphere User with its role bindings"
    elif prune_users:
        members_become = "`pulumi destroy` deletes each member's KubeSphere User and role bindings (pruneUsers)"
    else:
        members_become = ("`pulumi destroy` KEEPS each member's KubeSphere User (retain_on_delete; set pruneUsers "
                          "to delete them) and deletes their role bindings")
    pending: list[str] = []
    names: dict[str, str] = {}
    for token, args in recording.invokes:
        if token == GET_GROUP:
            names[pending_group(args.get("name"))] = args.get("name")
            pending.append(pending_group(args.get("name")))
        elif token == GET_USERS:
            group = args.get("groupId")
            if group in listed_groups:
                continue
            pending.append(f"<lookup: members of group {names.get(group, group)!r}> ({members_become}; "
                           "give --okta-members to see them)")
    return list(dict.fromkeys(pending))


class InvalidInput(Exception):
    """Bad configuration or input file: exit status 1 with this message."""


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(), Loader=plan_document.SafeLoader)
    except yaml.YAMLError as error:
        raise InvalidInput(f"{path.name} is not valid YAML: {error}") from None


def read_cluster_configuration(path: Path) -> dict[str, Any]:
    """``--cluster-configuration``: the ks-installer object, alone or in a ``kind: List``."""
    try:
        documents = list(yaml.load_all(path.read_text(), Loader=plan_document.SafeLoader))
    except yaml.YAMLError as error:
        raise InvalidInput(f"{path} is not valid YAML: {error}") from None
    try:
        return plan_document.live_cluster_configuration(documents)
    except ValueError as error:
        raise InvalidInput(f"{path} {error}") from None


def inapplicable_options(args: argparse.Namespace, config: stack_files.StackConfig) -> list[str]:
    """Options given that the stack would ignore: each is a usage error, never silently dropped."""
    version = config.config.get(f"{config.project}:kubesphereVersion", "")
    #: Any map from Okta groups to KubeSphere roles makes members into Users (rules.MEMBER_MAPS).
    member_maps = ("roleBindings", "workspaceRoleBindings", "projectRoleBindings", "clusterRoleBindings")
    has_member_maps = any(
        config.config.get(f"{config.project}:{key}", "").strip() not in ("", "{}", "null") for key in member_maps
    )
    problems = []
    if args.cluster_configuration and version.startswith("4"):
        problems.append(
            f"--cluster-configuration applies to KubeSphere 3.x only; stack {config.stack!r} is KubeSphere "
            f"{version}, which keeps the identity provider in a Secret: drop the option"
        )
    if args.okta_members and not has_member_maps:
        problems.append(
            f"--okta-members applies to stacks with {config.project}:roleBindings (or workspaceRoleBindings, "
            f"projectRoleBindings, clusterRoleBindings); stack {config.stack!r} has none, "
            "so no Okta group members become KubeSphere Users: drop the option or set roleBindings"
        )
    return problems


def _load_pulumi_file(path: Path) -> Any:
    """A project or stack file read as the Pulumi CLI reads it (infra/pulumi_yaml.py)."""
    try:
        return pulumi_yaml.load_bytes(path.read_bytes(), path.name)
    except pulumi_yaml.PulumiYamlError as error:
        raise InvalidInput(str(error)) from None


#: The config keys that map Okta groups to KubeSphere roles (rules.MEMBER_MAPS).
MEMBER_MAP_KEYS = ("roleBindings", "workspaceRoleBindings", "projectRoleBindings", "clusterRoleBindings")


def mapped_groups(config: stack_files.StackConfig) -> dict[str, list[str]]:
    """Each Okta group (name or id) the stack's role maps name, with the maps that name it."""
    groups: dict[str, list[str]] = {}
    for key in MEMBER_MAP_KEYS:
        try:
            value = json.loads(config.config.get(f"{config.project}:{key}", "") or "{}")
        except json.JSONDecodeError:
            continue  # the program reports the malformed map
        if isinstance(value, dict):
            for group in value:
                groups.setdefault(group, []).append(key)
    return groups


def members_file_problems(listed: set[str], mapped: dict[str, list[str]], file: str,
                          config: stack_files.StackConfig) -> list[str]:
    """Warnings for an --okta-members file that does not describe exactly the stack's mapped groups: a group
    the stack does not map is ignored, a mapped group missing from it is planned without members."""
    problems = []
    unused = sorted(listed - set(mapped))
    if unused:
        problems.append(
            f"--okta-members: {file} lists {', '.join(map(repr, unused))}, which stack {config.stack!r} maps to no "
            f"KubeSphere role ({', '.join(MEMBER_MAP_KEYS)}), so those members are ignored: remove "
            f"{'them' if len(unused) > 1 else 'it'} from the file, or map the group"
        )
    missing = sorted(set(mapped) - listed)
    if missing:
        problems.append(
            f"--okta-members: {file} does not list {', '.join(f'{g!r} (in {chr(44).join(mapped[g])})' for g in missing)}, "
            "so the plan shows no member of it: add it to the file (`[]` for a group without members)"
        )
    return problems


def read_stack(project_dir: Path, stack: str) -> stack_files.StackConfig:
    project_doc = _load_pulumi_file(project_dir / "Pulumi.yaml")
    config_dir = project_dir / ((project_doc if isinstance(project_doc, dict) else {}).get("stackConfigDir") or ".")
    stack_doc = _load_pulumi_file(config_dir / f"Pulumi.{stack}.yaml")
    try:
        return stack_files.stack_config(project_doc, stack_doc, stack)
    except stack_files.StackFileError as error:
        raise InvalidInput(str(error)) from None


def available_stacks(project_dir: Path) -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))


def read_state(path: Path) -> list[dict[str, Any]]:
    """``--state``: the output of `pulumi stack export` (JSON)."""
    try:
        document = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInput(f"{path.name} is not JSON ({error}); give the output of `pulumi stack export`") from None
    try:
        return plan_document.state_resources(document)
    except ValueError as error:
        raise InvalidInput(f"{path.name} {error}") from None


def read_members(path: Path) -> dict[str, list[dict[str, Any]]]:
    """``--okta-members``: {group name or id: [{id, login, email}, ...]}, as Okta would list them.

    YAML, or JSON (which is YAML): a file that parses as JSON is read by the JSON parser, ~20x faster
    than the YAML one (0.35 s for 10,000 members in five groups)."""
    try:
        document = json.loads(path.read_bytes())
    except ValueError:  # not JSON (UnicodeDecodeError is one): YAML, which reports its own errors
        document = _load_yaml(path)
    if not isinstance(document, dict) or not all(
        isinstance(members, list) and all(isinstance(m, dict) and {"id", "login"} <= set(m) for m in members)
        for members in document.values()
    ):
        raise InvalidInput(
            f"{path.name}: expected a mapping of Okta group (name or id) to a list of members, each with "
            "at least id and login, e.g. {'KubeSphere Admins': [{id: 00u1..., login: jane@acme.com, email: jane@acme.com}]}"
        )
    return {str(group): [{"email": None, "status": "ACTIVE", **m} for m in members] for group, members in document.items()}


def run_program(config: stack_files.StackConfig, program: Callable[[], Any] | None = None,
                mocks: PlanMocks | None = None) -> Recording:
    """Run the program under ``PlanMocks``; invalid configuration raises ``InvalidInput``."""
    import pulumi

    from kubesphere_okta import IntegrationArgsError
    from infra.config import ConfigError

    if program is None:
        from infra.program import main as program
    from infra.config import CHECK_KUBECONFIG, VALUE_SOURCES

    sources = VALUE_SOURCES.set(dict(config.sources))  # warnings name where a value came from
    checked = CHECK_KUBECONFIG.set(True)  # offline, no guard resolves the kubeconfig: the program does
    try:
        return run(program, project=config.project, stack=config.stack, config=config.config,
                   secret_keys=list(config.secret_keys), mocks=mocks or PlanMocks())
    except (ConfigError, IntegrationArgsError, pulumi.RunError) as error:
        raise InvalidInput(str(error)) from None
    finally:
        VALUE_SOURCES.reset(sources)
        CHECK_KUBECONFIG.reset(checked)


def engine_urns(recording: Recording, stack: str, project: str) -> dict[str, str]:
    """The mocks' URN of each registered resource -> the URN the engine assigns it: the mocks keep only
    the parent's last type and prefix the root Stack's (plan_document.engine_urn)."""
    urns: dict[str, str] = {}
    for r in recording.resources:  # in registration order: a parent before its children
        parent = urns.get(r.parent_urn, r.parent_urn)
        urns[r.urn] = plan_document.engine_urn(stack, project, parent, r.type, r.name)
    return urns


def planned_resources(recording: Recording, stack: str = "", project: str = "kubesphere-okta") -> list[plan_document.PlannedResource]:
    urns = engine_urns(recording, stack, project) if stack else {}
    return [
        plan_document.PlannedResource(
            type=r.type,
            name=r.name,
            parent=None if "::pulumi:pulumi:Stack::" in r.parent_urn else r.parent_name,
            inputs=plan_document.hide_credentials(
                plan_document.registered_inputs(r.shown_inputs), [PLACEHOLDER_CLIENT_SECRET]
            ),
            protect=r.protect,
            retain_on_delete=r.retain_on_delete,
            urn=urns.get(r.urn, r.urn),
        )
        for r in recording.resources
    ]


def kubesphere_change(recording: Recording, live: dict[str, Any], destroy: bool) -> plan_document.KubeSphereChange:
    hidden = [PLACEHOLDER_CLIENT_SECRET]
    secrets = [r for r in recording.of_type(SECRET_TYPE) if r.inputs.get("type") == V4_SECRET_TYPE]
    if secrets:
        secret = plan_document.v4_secret_object(secrets[0].inputs)
        if "stringData" in secret:
            secret["stringData"] = plan_document.hide_credentials_in_documents(secret["stringData"], hidden)
        return plan_document.v4_change(plan_document.hide_credentials(secret, hidden), destroy)
    # Other dynamic resources may exist; ours is the one that carries the entry.
    entries = [r for r in recording.of_type(DYNAMIC_TYPE) if "entry" in r.inputs and "provider_name" in r.inputs]
    if not entries:
        raise InvalidInput("the program registered no KubeSphere identity provider (no Secret, no ClusterConfiguration entry)")
    # Sorted keys: the API server returns custom objects with their keys sorted, so that is how it will read.
    entry, oauth_options = v3_entry(plan_document.registered_inputs(entries[0].inputs))
    try:
        change = plan_document.v3_change(live, entry, oauth_options, destroy)
    except ValueError as error:
        raise InvalidInput(f"the ClusterConfiguration cannot take our entry: {error}") from None
    return plan_document.KubeSphereChange(
        change.kind, plan_document.hide_credentials(change.before, hidden), plan_document.hide_credentials(change.after, hidden)
    )


def skipped_members(recording: Recording) -> list[dict[str, str]]:
    """Members of roleBindings groups who get no User: the component's ``skipped_members`` output,
    which the program exports as ``skippedMembers`` (the mock runtime registers no stack outputs)."""
    skipped: list[dict[str, str]] = []
    for urn, outputs in recording.registered_outputs.items():
        if f"{TYPE_TOKEN}::" in urn:
            skipped += outputs.get("skipped_members") or []
    return skipped


def component_output(recording: Recording, key: str, default: Any) -> Any:
    """One registered output of the component (the mock runtime registers no stack outputs)."""
    for urn, outputs in recording.registered_outputs.items():
        if f"{TYPE_TOKEN}::" in urn and key in outputs:
            return outputs[key]
    return default


def v3_entry(inputs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Our entry and oauthOptions from the inputs of ``kubesphere_v3.ClusterConfigurationIdentityProvider``."""
    return inputs["entry"], inputs.get("oauth_options") or {}


def read_baseline(path: Path, stack: str) -> list[dict[str, Any]] | dict[str, list[dict[str, Any]]]:
    """``--membership-only BEFORE``: the resources of an earlier ``--format json`` plan of ``stack``,
    or (any other file) the members Okta had before, as ``--okta-members`` takes them."""
    text = path.read_text()
    if not text.lstrip().startswith("{"):
        return read_members(path)
    try:
        document = json.loads(text)
    except ValueError as error:
        raise InvalidInput(f"{path} is not valid JSON: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("resources"), list) \
            or document.get("operation") != "up":
        raise InvalidInput(f"{path} is not a plan of `pulumi up` written by `python -m infra.plan --format json`")
    if document.get("stack") != stack:
        raise InvalidInput(f"{path} is a plan of stack {document.get('stack')!r}, not of {stack!r}: "
                           f"plan this stack with --format json first")
    return document["resources"]


def membership_only(args: argparse.Namespace, config: stack_files.StackConfig, before: list[dict[str, Any]],
                    after: list[dict[str, Any]]) -> int:
    """The membership sync's decision on the change from ``before`` to ``after``, offline."""
    prune_users = rules.parse_bool(config.config.get("kubesphere-okta:pruneUsers", "false"), field="pruneUsers")
    verdict = membership_sync.classify(
        membership_sync.preview_from_offline_plans(before, after, args.stack), None, prune_users=prune_users,
        threshold=membership_sync.BurstThreshold(args.max_leavers_percent), check_cluster=False)
    print(verdict.summary(args.stack), end="")
    changes = plan_document.membership_changes(_planned(before), _planned(after))
    if changes:
        print(f"\nRoles gained (+) and lost (-), per user ({len(changes)}):", *changes, sep="\n")
    return {"refused": 3, "held": 4}.get(verdict.outcome, 0)


def _planned(entries: list[dict[str, Any]]) -> list[plan_document.PlannedResource]:
    """The ``resources`` of a JSON plan as ``PlannedResource``s (what ``role_lines`` reads)."""
    return [plan_document.PlannedResource(e["type"], e["name"], e.get("parent"), e.get("inputs") or {}) for e in entries]


def parse_args(argv: Sequence[str] | None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = argparse.ArgumentParser(
        prog="python -m infra.plan",
        description="Show what a stack will do, offline: no Pulumi CLI, no credentials, no network.",
    )
    parser.add_argument("--stack", required=True, help="stack name: plans Pulumi.<stack>.yaml")
    parser.add_argument(
        "--cluster-configuration", type=Path, metavar="FILE",
        help="KubeSphere 3.x: the live ks-installer object "
             "(kubectl -n kubesphere-system get cc ks-installer -o yaml); "
             f"default: {EXAMPLE_CLUSTER_CONFIGURATION.relative_to(REPOSITORY)}",
    )
    parser.add_argument(
        "--okta-members", type=Path, metavar="FILE",
        help="YAML or JSON {group name or id: [{id, login, email}]}: plan the KubeSphere Users and "
             "global, workspace, project and cluster role bindings of the mapped groups' members "
             "(offline, Okta cannot be asked)",
    )
    parser.add_argument(
        "--config", "-c", action="append", default=[], metavar="KEY=VALUE",
        help="override one config value of the stack file, as `pulumi preview --config` does (repeatable)",
    )
    parser.add_argument(
        "--state", type=Path, metavar="FILE",
        help="the stack's state as `pulumi stack export` writes it: warn about what it shows "
             "(a cluster guard missing while KubeSphere objects remain)",
    )
    parser.add_argument("--destroy", action="store_true", help="show what `pulumi destroy` leaves instead")
    parser.add_argument(
        "--membership-only", type=Path, metavar="BEFORE",
        help="instead of the plan, say whether the change from BEFORE is membership-only, as the membership "
             "sync decides (exit 0 yes, 3 no, 4 held: too many leavers); BEFORE is an earlier "
             "`--format json` plan of this stack, or the YAML members file Okta had before",
    )
    parser.add_argument("--max-leavers-percent", type=float, default=membership_sync.BurstThreshold().percent,
                        metavar="PERCENT", help="with --membership-only: the leaver threshold per mapping (default 10)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--project-dir", type=Path, default=REPOSITORY, help=argparse.SUPPRESS)
    return parser, parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, program: Callable[[], Any] | None = None) -> int:
    parser, args = parse_args(argv)
    stacks = available_stacks(args.project_dir)
    if args.stack not in stacks:
        parser.error(f"no stack file Pulumi.{args.stack}.yaml; stacks: {', '.join(stacks) or 'none'}")
    try:
        config = stack_files.with_overrides(read_stack(args.project_dir, args.stack), args.config)
    except stack_files.StackFileError as error:
        parser.error(str(error))
    except InvalidInput as error:
        print(error, file=sys.stderr)
        return 1
    usage = inapplicable_options(args, config)
    if args.membership_only and args.destroy:
        usage.append("--membership-only compares two plans of `pulumi up`: drop --destroy")
    if not 0 <= args.max_leavers_percent <= 100:
        usage.append(f"--max-leavers-percent must be within 0..100, got {args.max_leavers_percent:g}")
    for option, path in (("--cluster-configuration", args.cluster_configuration), ("--okta-members", args.okta_members),
                         ("--membership-only", args.membership_only), ("--state", args.state)):
        if path and not path.is_file():
            usage.append(f"{option}: no such file {path}")
    live, members, baseline, state = None, None, None, []
    members_warnings: list[str] = []
    if not usage:  # the files' contents are part of the command line: a wrong one is a usage error too
        try:
            live = read_cluster_configuration(args.cluster_configuration or EXAMPLE_CLUSTER_CONFIGURATION)
        except InvalidInput as error:
            usage.append(f"--cluster-configuration: {error}")
        try:
            # A members file of 10,000 people is ~100,000 parse nodes: without this, full collections
            # rescan the imported modules while it is read (infra/collector.py, ``importing``).
            with collector.importing():
                members = read_members(args.okta_members) if args.okta_members else None
        except InvalidInput as error:
            usage.append(f"--okta-members: {error}")
        if members is not None:
            members_warnings = members_file_problems(set(members), mapped_groups(config), args.okta_members.name, config)
        try:
            state = read_state(args.state) if args.state else []
        except InvalidInput as error:
            usage.append(f"--state: {error}")
        try:
            baseline = read_baseline(args.membership_only, args.stack) if args.membership_only else None
        except InvalidInput as error:
            usage.append(f"--membership-only: {error}")
    if usage:
        parser.error("\n  ".join(usage))
    if program is None:
        from infra.program import main as program  # imported before the collector freezes what exists
    # Everything below builds objects that live until the plan is printed: keep the collector
    # from rescanning the imported modules while it does (see infra/collector.py).
    with collector.registering():
        try:
            mocks = PlanMocks(members)
            recording = run_program(config, program, mocks)
            kubesphere = kubesphere_change(recording, live, args.destroy)
        except InvalidInput as error:
            print(error, file=sys.stderr)
            return 1
        from infra.program import UNPROTECT_HINTS

        resources = planned_resources(recording, config.stack, config.project)
        warnings = list(dict.fromkeys([*config.warnings, *members_warnings, *recording.warnings]))
        warnings += plan_document.missing_guard_warnings(state)
        if args.destroy:
            warnings += plan_document.destroy_warnings(resources, args.stack, UNPROTECT_HINTS)
        plan = plan_document.document(args.stack, resources, kubesphere, skipped_members(recording),
                                      destroy=args.destroy, warnings=warnings,
                                      skipped_objects=component_output(recording, "skipped_objects", []),
                                      logout=component_output(recording, "logout", ""),
                                      with_objects=args.format == "json" and not args.membership_only)
        if args.membership_only:
            try:
                before = baseline if isinstance(baseline, list) else plan_document.resource_entries(
                    planned_resources(run_program(config, program, PlanMocks(baseline)), config.stack, config.project))
            except InvalidInput as error:
                print(f"--membership-only {args.membership_only}: {error}", file=sys.stderr)
                return 1
            return membership_only(args, config, before, plan["resources"])
        if args.format == "json":
            print(json.dumps(plan, indent=2, ensure_ascii=False))
        else:
            prune_users = rules.parse_bool(config.config.get("kubesphere-okta:pruneUsers", "false"), field="pruneUsers")
            pending = pending_lookups(recording, frozenset(mocks.listed_groups), destroy=args.destroy,
                                      prune_users=prune_users)
            print(plan_document.text(plan, args.destroy, pending), end="")
    return 0


def close_event_loop() -> None:
    """Close the loop the Pulumi runtime left open; else, now and then, its finaliser runs after
    the selector is gone at interpreter exit and prints an ignored ``Invalid file descriptor``."""
    asyncio.get_event_loop_policy().get_event_loop().close()


def exit_now(status: int) -> NoReturn:
    """End the process as ``sys.exit`` does (output flushed, exit handlers run) but without the
    interpreter's teardown, which frees the heap object by object: after a 10,000-member plan that
    took 0.4 s CPU, for memory the operating system takes back at once."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # the reader left (`| head`): as Python's own exit, no traceback
        pass
    atexit._run_exitfuncs()  # logging's shutdown, weakref finalizers marked atexit, Pulumi's tracing
    os._exit(status)


if __name__ == "__main__":
    import infra.program  # noqa: F401  the config model (pydantic) too, before collections resume
    # What the imports made lives until the process ends: no collection need ever scan it again
    # (docs/performance.md, "The collector at exit").
    gc.freeze()
    gc.enable()
    status = main()
    close_event_loop()
    exit_now(status)
