"""README and docs name only what exists: no install instruction for a release tag that is not published."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: A git reference to a version tag of THIS repository, as pip (`…/kubesphere-okta@v0.2.1`) or
#: `pulumi package add` would take it (upstream citations such as kubesphere/kubesphere@v4.1.3 are not).
TAG_REFERENCE = re.compile(r"(?:kubesphere-okta|…|<repository>)@v?(\d+\.\d+(?:\.\d+)?)\b")


def released_versions() -> set[str]:
    """Versions the CHANGELOG marks as released (a heading without "unreleased")."""
    changelog = (ROOT / "CHANGELOG.md").read_text()
    return {m.group(1) for m in re.finditer(r"^## (\d+\.\d+\.\d+)(?!.*unreleased)", changelog, re.M)}


def test_no_document_installs_a_version_that_was_not_released():
    released = released_versions()
    found = [(path.name, m.group(0)) for path in DOCS for m in TAG_REFERENCE.finditer(path.read_text())
             if m.group(1) not in released]
    assert found == []


def test_the_readme_says_how_to_install_from_a_commit():
    readme = (ROOT / "README.md").read_text()
    assert 'pip install "git+https://…/kubesphere-okta@<commit sha>"' in readme
    assert "pulumi package add <repository>@<commit sha>" in readme


def test_the_tag_check_catches_an_unreleased_version():
    assert TAG_REFERENCE.search('pip install "git+https://…@v0.2.1"').group(1) == "0.2.1"
    assert TAG_REFERENCE.search("github.com/OWNER/kubesphere-okta@v0.2.1")
    assert not TAG_REFERENCE.search("kubesphere/kubesphere@v4.1.3:pkg/apis")
    assert "0.2.1" not in released_versions()
