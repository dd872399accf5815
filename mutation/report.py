"""What a mutation run means: pure functions over mutmut's results, no subprocess, no mutmut import.

Each mutant of a module falls in exactly one class:

* ``killed``: a test failed (or the mutant ran past its CPU-time limit: ``timeout``, listed apart).
* ``message``: the mutant changes only the wording of an error message or warning, decided
  mechanically by ``is_message_only``; such survivors are counted apart and not shown one by one.
* ``equivalent``: a survivor that matches an entry of ``equivalent.toml`` (a mutant judged to
  change no behaviour, with the reason); entries are matched by module, function and the mutated
  line text, never by mutmut's mutant number, which shifts whenever the code changes.
* ``survived``: everything else that no test noticed, shown with its diff: these need a look.

The score of a module is killed / (mutants - message - equivalent): the share of the mutants that
change behaviour which the tests catch.
"""

from __future__ import annotations

import ast
import builtins
import difflib
import textwrap
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

#: mutmut's exit codes (mutmut.stats.status_by_exit_code), reduced to what the report tells apart.
KILLED_EXIT_CODES = frozenset({1, 3})
TIMEOUT_EXIT_CODES = frozenset({-24, 24, 36, 152, 255})
SURVIVED_EXIT_CODE = 0
NO_TESTS_EXIT_CODES = frozenset({5, 33})

#: Names of the lists that collect problem and warning lines (``problems.append((field, message))``).
MESSAGE_LISTS = frozenset({"problems", "warnings"})
#: Classes appended to those lists as (field, message, fixes...): rules.Problem.
PROBLEM_CLASSES = frozenset({"Problem"})
_PLACEHOLDER = "<message>"


@dataclass(frozen=True)
class MutatedLines:
    """A mutant described so that it survives edits elsewhere: where, and the text it changes."""

    module: str
    function: str
    original: str
    mutant: str


def mutated_lines(module: str, function: str, original_source: str, mutant_source: str) -> MutatedLines:
    """The lines a mutant removes and adds (each stripped, joined by newlines)."""
    removed: list[str] = []
    added: list[str] = []
    for line in difflib.ndiff(original_source.splitlines(), mutant_source.splitlines()):
        if line.startswith("- "):
            removed.append(line[2:].strip())
        elif line.startswith("+ "):
            added.append(line[2:].strip())
    return MutatedLines(module, function, "\n".join(removed), "\n".join(added))


def function_of(mutant_name: str) -> str:
    """``kubesphere_okta.rules.x_check_scopes__mutmut_7`` -> ``check_scopes``;
    ``...xǁOktaMemberǁdescribe__mutmut_1`` -> ``OktaMember.describe``."""
    mangled = mutant_name.rpartition(".")[2].partition("__mutmut_")[0]
    if mangled.startswith("xǁ"):
        _, class_name, method = mangled.split("ǁ")
        return f"{class_name}.{method}"
    return mangled.removeprefix("x_")


def exception_classes(module_source: str) -> frozenset[str]:
    """Names of the classes a module defines that derive (directly or through each other) from an
    exception, plus the built-in exceptions."""
    found = {name for name, value in vars(builtins).items()
             if isinstance(value, type) and issubclass(value, BaseException)}
    classes = [node for node in ast.walk(ast.parse(module_source)) if isinstance(node, ast.ClassDef)]
    grew = True
    while grew:
        grew = False
        for node in classes:
            if node.name not in found and any(isinstance(b, ast.Name) and b.id in found for b in node.bases):
                found.add(node.name)
                grew = True
    return frozenset(found)


class _MessageBlanker(ast.NodeTransformer):
    """Replaces the string constants of every message argument ("slot") with one placeholder; the
    slots numbered in ``dropped`` (a message replaced by None) become the placeholder whole."""

    def __init__(self, exceptions: frozenset[str], in_exception_class: bool, dropped: frozenset[int] = frozenset()):
        self.exceptions = exceptions
        self.in_exception_class = in_exception_class
        self.dropped = dropped
        self.slots: list[ast.AST] = []

    def _message(self, node: ast.expr) -> ast.expr:
        index = len(self.slots)
        self.slots.append(node)
        if index in self.dropped:
            return ast.Constant(_PLACEHOLDER)

        class Blank(ast.NodeTransformer):
            def visit_Constant(self, constant: ast.Constant) -> ast.AST:
                return ast.Constant(_PLACEHOLDER) if isinstance(constant.value, str) else constant

        return Blank().visit(node)

    def _message_call(self, call: ast.Call) -> ast.Call:
        """An exception's positional arguments are its message; a keyword argument is data the
        caller reads (``RuleError(..., suggestion=...)`` becomes a fix), so it is behaviour."""
        call.func = self.visit(call.func)
        call.args = [self._message(argument) for argument in call.args]
        call.keywords = [self.visit(keyword) for keyword in call.keywords]
        return call

    def visit_Raise(self, node: ast.Raise) -> ast.AST:
        if isinstance(node.exc, ast.Call):
            node.exc = self._message_call(node.exc)
            if node.cause is not None:
                node.cause = self.visit(node.cause)
            return node
        return self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        func = node.func
        if isinstance(func, ast.Name) and func.id in self.exceptions:
            return self._message_call(node)
        if (self.in_exception_class and isinstance(func, ast.Attribute) and func.attr == "__init__"
                and isinstance(func.value, ast.Call) and isinstance(func.value.func, ast.Name)
                and func.value.func.id == "super"):
            return self._message_call(node)
        if (isinstance(func, ast.Attribute) and func.attr == "append" and isinstance(func.value, ast.Name)
                and func.value.id in MESSAGE_LISTS and len(node.args) == 1):
            (argument,) = node.args
            if isinstance(argument, ast.Tuple) and argument.elts:
                # (field, message): the field says which setting is wrong, that is behaviour.
                argument.elts[0] = self.visit(argument.elts[0])
                argument.elts[1:] = [self._message(element) for element in argument.elts[1:]]
            elif (isinstance(argument, ast.Call) and isinstance(argument.func, ast.Name)
                  and argument.func.id in PROBLEM_CLASSES and len(argument.args) >= 2):
                # Problem(field, message, fixes): only the message is wording; the field and the
                # fixes (what the program tells the user to change) are behaviour.
                argument.func = self.visit(argument.func)
                argument.args = [self.visit(argument.args[0]), self._message(argument.args[1]),
                                 *(self.visit(extra) for extra in argument.args[2:])]
                argument.keywords = [self.visit(keyword) for keyword in argument.keywords]
            else:
                node.args = [self._message(argument)]
            node.func = self.visit(node.func)
            return node
        return self.generic_visit(node)


def _without_messages(source: str, exceptions: frozenset[str], in_exception_class: bool,
                      dropped: frozenset[int] = frozenset()) -> tuple[str, list[ast.AST]]:
    blanker = _MessageBlanker(exceptions, in_exception_class, dropped)
    tree = blanker.visit(ast.parse(textwrap.dedent(source)))
    return ast.dump(tree), blanker.slots


def is_message_only(original_source: str, mutant_source: str, exceptions: frozenset[str],
                    in_exception_class: bool = False) -> bool:
    """True when the two versions of a function differ only in what their messages say: string
    literals in a message argument, or a whole message argument replaced by None. Message
    arguments are those of an exception class's constructor (also under ``raise`` and, inside an
    exception class, ``super().__init__``) and what is appended to ``problems``/``warnings`` (of
    a ``(field, message)`` pair only the message). A change to an expression a message shows
    (``{value!r}`` -> ``{None!r}``) is behaviour."""
    if ast.dump(ast.parse(textwrap.dedent(original_source))) == ast.dump(ast.parse(textwrap.dedent(mutant_source))):
        return False  # no difference at all: not a message change (and suspicious in itself)
    _, slots = _without_messages(mutant_source, exceptions, in_exception_class)
    dropped = frozenset(i for i, slot in enumerate(slots) if isinstance(slot, ast.Constant) and slot.value is None)
    return (_without_messages(original_source, exceptions, in_exception_class, dropped)[0]
            == _without_messages(mutant_source, exceptions, in_exception_class, dropped)[0])


@dataclass(frozen=True)
class Equivalent:
    """An entry of equivalent.toml: a mutant that changes no behaviour, and why."""

    lines: MutatedLines
    why: str


def load_equivalents(path: Path) -> list[Equivalent]:
    data = tomllib.loads(path.read_text()) if path.exists() else {}
    entries = []
    for raw in data.get("equivalent", []):
        missing = {"module", "function", "original", "mutant", "why"} - set(raw)
        if missing:
            raise ValueError(f"{path}: an [[equivalent]] entry lacks {', '.join(sorted(missing))}: {raw}")
        if not raw["why"].strip():
            raise ValueError(f"{path}: the entry for {raw['module']}.{raw['function']} must say why it is equivalent")
        entries.append(Equivalent(MutatedLines(raw["module"], raw["function"], raw["original"].strip(),
                                               raw["mutant"].strip()), raw["why"].strip()))
    return entries


def _normalised(lines: MutatedLines) -> MutatedLines:
    def squash(text: str) -> str:
        return "\n".join(" ".join(line.split()) for line in text.strip().splitlines())

    return MutatedLines(lines.module, lines.function, squash(lines.original), squash(lines.mutant))


def matching_equivalent(lines: MutatedLines, equivalents: Iterable[Equivalent]) -> Equivalent | None:
    target = _normalised(lines)
    return next((e for e in equivalents if _normalised(e.lines) == target), None)


@dataclass
class Mutant:
    name: str
    exit_code: int | None
    lines: MutatedLines
    message_only: bool
    diff: str = ""
    #: Exit code of the re-check of a survivor in a fresh pytest process (None: not re-checked).
    fresh_exit_code: int | None = None


@dataclass
class ModuleReport:
    module: str
    killed: list[Mutant] = field(default_factory=list)
    timeout: list[Mutant] = field(default_factory=list)
    message: list[Mutant] = field(default_factory=list)
    equivalent: list[tuple[Mutant, Equivalent]] = field(default_factory=list)
    survived: list[Mutant] = field(default_factory=list)
    no_tests: list[Mutant] = field(default_factory=list)
    other: list[Mutant] = field(default_factory=list)
    #: Survivors of the fork-based run that failed a test when re-run in a fresh process.
    killed_on_recheck: list[Mutant] = field(default_factory=list)
    unused_equivalents: list[Equivalent] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(len(group) for group in (self.killed, self.timeout, self.message, self.equivalent,
                                            self.survived, self.no_tests, self.other))

    @property
    def behaviour_mutants(self) -> int:
        """Mutants that change behaviour: all but message-only and listed-equivalent ones."""
        return self.total - len(self.message) - len(self.equivalent)

    @property
    def caught(self) -> int:
        return len(self.killed) + len(self.timeout)

    @property
    def score(self) -> float:
        return 100.0 if not self.behaviour_mutants else 100.0 * self.caught / self.behaviour_mutants

    @property
    def needs_a_look(self) -> list[Mutant]:
        return [*self.survived, *self.no_tests, *self.other]


def build_report(module: str, mutants: Iterable[Mutant], equivalents: Iterable[Equivalent]) -> ModuleReport:
    """Sort a module's mutants into the classes of the module docstring.

    A message-only mutant counts as ``message`` whether or not it was killed, so the score measures
    only mutants that change behaviour; a killed mutant never consumes an equivalent entry.
    """
    equivalents = [e for e in equivalents if e.lines.module == module]
    used: set[int] = set()
    report = ModuleReport(module)
    for mutant in mutants:
        code = mutant.exit_code
        survived = code == SURVIVED_EXIT_CODE and mutant.fresh_exit_code in (None, 0)
        if mutant.message_only:
            report.message.append(mutant)
        elif code in KILLED_EXIT_CODES:
            report.killed.append(mutant)
        elif code == SURVIVED_EXIT_CODE and not survived:
            report.killed.append(mutant)
            report.killed_on_recheck.append(mutant)
        elif code in TIMEOUT_EXIT_CODES:
            report.timeout.append(mutant)
        elif code == SURVIVED_EXIT_CODE or code in NO_TESTS_EXIT_CODES:
            entry = matching_equivalent(mutant.lines, equivalents)
            if entry is not None:
                used.add(equivalents.index(entry))
                report.equivalent.append((mutant, entry))
            elif code == SURVIVED_EXIT_CODE:
                report.survived.append(mutant)
            else:
                report.no_tests.append(mutant)
        else:
            report.other.append(mutant)
    report.unused_equivalents = [e for i, e in enumerate(equivalents) if i not in used]
    return report


def render(report: ModuleReport, minimum_score: float) -> str:
    """The human-readable report of one module."""
    out = [
        f"== {report.module}: {report.score:.1f}% of {report.behaviour_mutants} behaviour-changing mutants "
        f"caught (minimum {minimum_score:g}%)",
        f"   {report.total} mutants: {len(report.killed)} killed, {len(report.timeout)} timed out, "
        f"{len(report.message)} message wording ({sum(m.exit_code == 0 for m in report.message)} of them survived), "
        f"{len(report.equivalent)} listed equivalent, {len(report.survived)} survived, "
        f"{len(report.no_tests)} not run by any test, {len(report.other)} other",
    ]
    if report.killed_on_recheck:
        out.append(f"   {len(report.killed_on_recheck)} survivor(s) of the forked run failed a test in a fresh "
                   "process (counted as killed; a test depends on state left by another):")
        out.extend(f"     {m.name}" for m in report.killed_on_recheck)
    for mutant in report.timeout:
        out.append(f"   timed out (counted as caught, but only a hang catches it): {mutant.name}")
    for entry in report.unused_equivalents:
        out.append(f"   equivalent.toml entry matches no surviving mutant any more, remove it: "
                   f"{entry.lines.function}: {entry.lines.original!r} -> {entry.lines.mutant!r}")
    for mutant in report.needs_a_look:
        label = {SURVIVED_EXIT_CODE: "SURVIVED"}.get(mutant.exit_code, "NOT TESTED" if mutant.exit_code in
                                                      NO_TESTS_EXIT_CODES else f"exit code {mutant.exit_code}")
        out.append(f"-- {label}: {mutant.name} ({mutant.lines.function})")
        out.extend(f"   {line}" for line in mutant.diff.splitlines()[2:] if line)
    return "\n".join(out)


def passes(report: ModuleReport, minimum_score: float) -> bool:
    return report.score >= minimum_score


def exit_codes_by_mutant(meta: Mapping[str, object]) -> dict[str, int | None]:
    """mutmut's .meta file content -> {mutant name: exit code}."""
    return dict(meta.get("exit_code_by_key", {}))  # type: ignore[arg-type]
