"""``python -m infra.plan --membership-only BEFORE``: the membership sync's rule, offline, on the real program."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from infra import plan

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_MEMBERS = ROOT / "examples" / "okta-members.yaml"


def run_plan(capsys, *argv: str) -> tuple[int, str, str]:
    code = plan.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def members_file(tmp_path: Path, name: str, groups: dict[str, range]) -> Path:
    """Okta members as --okta-members takes them: ``groups`` maps a group to its members' numbers."""
    def tag(group: str) -> str:
        return "".join(word[0] for word in group.split()).lower()

    document = {group: [{"id": f"00u{tag(group)}{i:06d}", "login": f"m{i}.{tag(group)}@example.com",
                         "email": f"m{i}.{tag(group)}@example.com"} for i in numbers]
                for group, numbers in groups.items()}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document))
    return path


def baseline_json(capsys, tmp_path: Path, members: Path, *extra: str) -> Path:
    code, out, err = run_plan(capsys, "--stack", "prod", "--okta-members", str(members), "--format", "json", *extra)
    assert code == 0, err
    path = tmp_path / "before.json"
    path.write_text(out)
    return path


def test_a_member_joining_is_membership_only(capsys, tmp_path):
    before = members_file(tmp_path, "before.yaml", {"KubeSphere Admins": range(2), "KubeSphere Developers": range(20)})
    after = members_file(tmp_path, "after.yaml", {"KubeSphere Admins": range(2), "KubeSphere Developers": range(21)})
    code, out, err = run_plan(capsys, "--stack", "prod", "--okta-members", str(after), "--membership-only", str(before))
    assert code == 0, out + err
    assert "membership changes only" in out and "1 join, 0 leave" in out and "m20.kd.example.com" in out


def test_a_config_change_is_named_and_refused(capsys, tmp_path):
    before = baseline_json(capsys, tmp_path, EXAMPLE_MEMBERS)
    code, out, _ = run_plan(capsys, "--stack", "prod", "--okta-members", str(EXAMPLE_MEMBERS),
                            "--membership-only", str(before), "--config", "kubesphere-okta:requireMfa=false")
    assert code == 3
    assert ("First refused step: `update kubesphere-okta-signon-rule "
            "(okta:index/appSignonPolicyRule:AppSignonPolicyRule): an app sign-on policy rule") in out


def test_no_change_is_membership_only(capsys, tmp_path):
    before = baseline_json(capsys, tmp_path, EXAMPLE_MEMBERS)
    code, out, _ = run_plan(capsys, "--stack", "prod", "--okta-members", str(EXAMPLE_MEMBERS),
                            "--membership-only", str(before))
    assert (code, out.splitlines()[0]) == (0, "### Membership sync of stack `prod`: nothing to change")


def test_a_burst_of_leavers_is_held(capsys, tmp_path):
    before = members_file(tmp_path, "before.yaml", {"KubeSphere Admins": range(2), "KubeSphere Developers": range(20)})
    after = members_file(tmp_path, "after.yaml", {"KubeSphere Admins": range(2), "KubeSphere Developers": range(3, 20)})
    argv = ["--stack", "prod", "--okta-members", str(after), "--membership-only", str(before)]
    code, out, _ = run_plan(capsys, *argv)
    assert code == 4 and "3 of 22 members leave at once" in out
    code, _, _ = run_plan(capsys, *argv, "--max-leavers-percent", "15")
    assert code == 0


def test_a_user_deletion_prune_users_does_not_allow_is_refused(capsys, tmp_path):
    # Deployed with pruneUsers (Users deleted on leave), now pruneUsers is off: the Users resource's
    # prune_users input changes, a configuration change the sync never applies on its own.
    before_members = members_file(tmp_path, "before.yaml", {"KubeSphere Admins": range(2), "KubeSphere Developers": range(20)})
    after = members_file(tmp_path, "after.yaml", {"KubeSphere Admins": range(2), "KubeSphere Developers": range(1, 20)})
    before = baseline_json(capsys, tmp_path, before_members, "--config", "kubesphere-okta:pruneUsers=true")
    code, out, _ = run_plan(capsys, "--stack", "prod", "--okta-members", str(after), "--membership-only", str(before))
    assert code == 3 and "changes prune_users, not only its members ('users'): a configuration change" in out
    code, out, _ = run_plan(capsys, "--stack", "prod", "--okta-members", str(after), "--membership-only", str(before),
                            "--config", "kubesphere-okta:pruneUsers=true")
    assert code == 0 and "User deleted (pruneUsers): m0.kd.example.com" in out


@pytest.mark.parametrize("content, message", [
    ({"stack": "dev", "operation": "up", "resources": []}, "is a plan of stack 'dev', not of 'prod'"),
    ({"stack": "prod", "operation": "destroy", "resources": []}, "not a plan of `pulumi up`"),
])
def test_a_baseline_of_another_stack_or_operation_is_a_usage_error(capsys, tmp_path, content, message):
    path = tmp_path / "before.json"
    path.write_text(json.dumps(content))
    with pytest.raises(SystemExit) as exited:
        plan.main(["--stack", "prod", "--okta-members", str(EXAMPLE_MEMBERS), "--membership-only", str(path)])
    assert exited.value.code == 2 and message in capsys.readouterr().err


def test_the_change_lists_each_role_gained_or_lost_per_user_not_every_member(capsys, tmp_path):
    before_members = members_file(tmp_path, "before.yaml", {"KubeSphere Admins": range(2), "KubeSphere Developers": range(40)})
    after = members_file(tmp_path, "after.yaml", {"KubeSphere Admins": range(2), "KubeSphere Developers": range(1, 41)})
    code, out, _ = run_plan(capsys, "--stack", "prod", "--okta-members", str(after), "--membership-only", str(before_members))
    assert code == 0
    changes = out.split("Roles gained (+) and lost (-), per user (2):\n", 1)[1].splitlines()
    assert changes == ["  - m0.kd.example.com: global platform-regular", "  + m40.kd.example.com: global platform-regular"]
