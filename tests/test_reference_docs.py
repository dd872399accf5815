"""The README's reference tables are generated from the code and must not drift from it."""

from infra import reference


def test_readme_reference_tables_are_up_to_date():
    current = reference.README.read_text()
    assert reference.render(current) == current, "README.md reference tables are stale: run `make docs`"


def test_every_config_key_argument_and_output_is_described():
    for table in (reference.config_table(), reference.args_table(), reference.outputs_table()):
        for row in table.splitlines()[2:]:
            description = row.rstrip(" |").rsplit("|", 1)[1].strip()
            assert description, f"undocumented: {row}"
