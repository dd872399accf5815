"""How `make mutation` sorts mutants (mutation/report.py): message wording, listed equivalents, score."""

from __future__ import annotations

from pathlib import Path

import pytest

from mutation.__main__ import EQUIVALENTS, TARGETS
from mutation.report import (
    Equivalent,
    Mutant,
    MutatedLines,
    build_report,
    exception_classes,
    function_of,
    is_message_only,
    load_equivalents,
    matching_equivalent,
    mutated_lines,
    render,
)

MODULE = '''
class Refused(ValueError):
    pass

class Problems(Refused):
    def __init__(self, lines):
        super().__init__(f"{len(lines)} problems: " + "; ".join(lines))
'''
EXCEPTIONS = exception_classes(MODULE)

CHECK = '''def check(value):
    problems = []
    if value < 0:
        raise Refused(f"value must be positive, got {value!r}")
    if value > 9:
        problems.append(("value", f"value {value} is too big"))
    return problems
'''


def mutant_of(original: str, old: str, new: str) -> str:
    assert original.count(old) == 1, old
    return original.replace(old, new)


def test_exception_classes_are_the_builtin_ones_and_the_modules_subclasses():
    assert {"ValueError", "KeyError", "Refused", "Problems"} <= EXCEPTIONS
    assert "check" not in EXCEPTIONS


@pytest.mark.parametrize("old, new", [
    ('"value must be positive, got', '"XXvalue must be positive, gotXX'),
    ('f"value must be positive, got {value!r}"', "None"),
    ('f"value {value} is too big"', 'f"VALUE {value} IS TOO BIG"'),
])
def test_a_mutant_that_changes_only_message_text_is_message_wording(old, new):
    assert is_message_only(CHECK, mutant_of(CHECK, old, new), EXCEPTIONS)


@pytest.mark.parametrize("old, new", [
    ('("value", f"value', '("XXvalueXX", f"value'),     # the field a problem is filed under
    ("{value!r}", "{None!r}"),                          # what the message shows, not its wording
    ("raise Refused(", "raise ValueError("),            # which exception
    ("value < 0", "value <= 0"),
    ("return problems", "return None"),
])
def test_a_mutant_that_changes_anything_else_is_behaviour(old, new):
    assert not is_message_only(CHECK, mutant_of(CHECK, old, new), EXCEPTIONS)


def test_the_message_an_exception_class_builds_for_itself_is_wording():
    init = '''def __init__(self, lines):
        super().__init__(f"{len(lines)} problems: " + "; ".join(lines))
'''
    assert is_message_only(init, mutant_of(init, '"; "', '"XX; XX"'), EXCEPTIONS, in_exception_class=True)
    assert not is_message_only(init, mutant_of(init, '"; "', '"XX; XX"'), EXCEPTIONS, in_exception_class=False)
    assert not is_message_only(init, mutant_of(init, "len(lines)", "len(None)"), EXCEPTIONS, in_exception_class=True)


def test_an_unchanged_function_is_not_a_message_mutant():
    assert not is_message_only(CHECK, CHECK, EXCEPTIONS)


def test_function_of_a_mutant_name():
    assert function_of("kubesphere_okta.rules.x_check_scopes__mutmut_7") == "check_scopes"
    assert function_of("kubesphere_okta.usernames.xǁIdentityPlanǁwarning__mutmut_3") == "IdentityPlan.warning"


def test_mutated_lines_hold_only_what_changed_stripped():
    lines = mutated_lines("m", "check", CHECK, mutant_of(CHECK, "value > 9", "value >= 9"))
    assert lines == MutatedLines("m", "check", "if value > 9:", "if value >= 9:")


def test_an_equivalent_entry_matches_by_text_whatever_the_spacing_and_only_in_its_module():
    entry = Equivalent(MutatedLines("m", "check", "if value > 9:", "if  value >= 9:"), "why")
    assert matching_equivalent(MutatedLines("m", "check", "if value > 9:", "if value >= 9:"), [entry]) is entry
    assert matching_equivalent(MutatedLines("m", "other", "if value > 9:", "if value >= 9:"), [entry]) is None
    assert matching_equivalent(MutatedLines("n", "check", "if value > 9:", "if value >= 9:"), [entry]) is None


def mutant(name: str, exit_code: int | None, *, message: bool = False, new: str = "x", fresh: int | None = None) -> Mutant:
    return Mutant(name, exit_code, MutatedLines("m", "check", "old", new), message, fresh_exit_code=fresh)


def test_score_counts_only_behaviour_changing_mutants_and_lists_what_needs_a_look():
    report = build_report("m", [
        mutant("m.x_check__mutmut_1", 1),
        mutant("m.x_check__mutmut_2", -24),                # timed out: caught
        mutant("m.x_check__mutmut_3", 0, message=True),    # wording
        mutant("m.x_check__mutmut_4", 1, message=True),    # wording, even when killed
        mutant("m.x_check__mutmut_5", 0, new="same"),      # listed equivalent
        mutant("m.x_check__mutmut_6", 0),                  # a real survivor
        mutant("m.x_check__mutmut_7", 33),                 # no test runs the function
        mutant("m.x_check__mutmut_8", 0, fresh=1),         # failed in a fresh process
    ], [Equivalent(MutatedLines("m", "check", "old", "same"), "why"),
        Equivalent(MutatedLines("m", "check", "old", "gone"), "no longer matches")])
    assert [m.name[-1] for m in report.needs_a_look] == ["6", "7"]
    assert (report.total, report.behaviour_mutants, report.caught) == (8, 5, 3)
    assert report.score == pytest.approx(60.0)
    assert [e.why for e in report.unused_equivalents] == ["no longer matches"]
    text = render(report, 90)
    assert "60.0% of 5 behaviour-changing mutants" in text and "SURVIVED: m.x_check__mutmut_6" in text
    assert "NOT TESTED: m.x_check__mutmut_7" in text and "remove it" in text


def test_equivalent_entries_each_say_why_and_name_a_mutated_module():
    for entry in load_equivalents(EQUIVALENTS):
        assert entry.why and entry.lines.module in TARGETS
        assert entry.lines.original != entry.lines.mutant


def test_an_equivalent_entry_without_a_reason_is_refused(tmp_path: Path):
    path = tmp_path / "equivalent.toml"
    path.write_text('[[equivalent]]\nmodule = "m"\nfunction = "f"\noriginal = "a"\nmutant = "b"\nwhy = " "\n')
    with pytest.raises(ValueError, match="must say why"):
        load_equivalents(path)


def test_every_test_file_of_a_mutated_module_runs_against_its_mutants():
    # A new tests/test_<module>_*.py file that the mutation run did not select would kill nothing.
    repository = Path(__file__).resolve().parent.parent
    for module, target in TARGETS.items():
        files = {f"tests/{p.name}" for p in (repository / "tests").glob(f"test_{module}*.py")}
        assert files <= set(target.tests), (module, sorted(files - set(target.tests)))
        assert all((repository / test).is_file() for test in target.tests)


RULE = '''def check(value):
    problems = []
    if value > 9:
        problems.append(Problem("value", f"value {value} is too big", [Fix("value", "set", 9)]))
    if value < 0:
        raise Refused(f"value must be positive, got {value!r}", suggestion="0")
    return problems
'''


@pytest.mark.parametrize("old, new, wording", [
    ('f"value {value} is too big"', 'f"XXvalue {value} is too bigXX"', True),
    ('"value must be positive, got', '"VALUE MUST BE POSITIVE, GOT', True),
    ('Problem("value"', 'Problem("XXvalueXX"', False),              # the field the problem is filed under
    ('Fix("value", "set", 9)', 'Fix("value", "XXsetXX", 9)', False),  # the fix the user is told to apply
    ('Fix("value", "set", 9)', 'Fix(None, "set", 9)', False),
    ('suggestion="0"', 'suggestion="XX0XX"', False),                   # an exception's data, not its message
])
def test_only_the_message_of_a_problem_or_exception_is_wording_not_its_field_fixes_or_data(old, new, wording):
    assert is_message_only(RULE, mutant_of(RULE, old, new), EXCEPTIONS) is wording
