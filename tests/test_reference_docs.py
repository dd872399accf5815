"""The reference tables in docs/reference.md are generated from the code and must not drift from it."""

from infra import reference


def test_reference_tables_are_up_to_date():
    current = reference.REFERENCE.read_text()
    assert reference.render(current) == current, "docs/reference.md tables are stale: run `make docs`"


def test_a_stale_table_is_detected():
    current = reference.REFERENCE.read_text()
    stale = current.replace("| `consoleUrl` |", "| `consoleURL` |", 1)
    assert stale != current and reference.render(stale) != stale
