"""A test-side interpreter of exactly the Okta Expression Language subset usernames.py emits.

Grammar: ternary ``c ? a : b``, ``a > b``, ``a + b``, parentheses, string literals in either quote
style, integers, the attribute ``user.login`` and calls of ``String.<function>``. Functions follow
Okta's Expression Language reference and Java where the reference is silent: ``String.substring``
throws past the end (Java's ``String.substring``), ``String.len`` counts UTF-16 code units.

``String.replace`` is evaluated either as literal text (``regex=False``, what Okta documents:
"replaces all instances of a specified string") or as a Java regular expression (``regex=True``,
``String.replaceAll``); the expression must give the same result under both.
"""

from __future__ import annotations

import re
from typing import Any, Callable

_TOKEN = re.compile(r"""\s*(?:(?P<string>"[^"]*"|'[^']*')|(?P<number>\d+)|(?P<name>[A-Za-z_][A-Za-z_0-9.]*)|(?P<op>[()?:,+>]))""")


class ExpressionError(Exception):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text.rstrip()):
        match = _TOKEN.match(text, position)
        if not match:
            raise ExpressionError(f"cannot read {text[position:position + 20]!r}")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _java_substring(text: str, start: int, end: int) -> str:
    if not 0 <= start <= end <= len(text):
        raise ExpressionError(f"StringIndexOutOfBoundsException: begin {start}, end {end}, length {len(text)}")
    return text[start:end]


class _Evaluator:
    def __init__(self, text: str, variables: dict[str, Any], regex: bool):
        self.tokens, self.i, self.variables = _tokens(text), 0, variables
        replace = (lambda s, m, r: re.sub(m, lambda _: r, s)) if regex else (lambda s, m, r: s.replace(m, r))
        self.functions = {
            "String.len": lambda s: len(s.encode("utf-16-le")) // 2,
            "String.substring": _java_substring,
            "String.stringContains": lambda s, part: part in s,
            "String.toLowerCase": str.lower,
            "String.replace": replace,
        }

    def peek(self) -> str | None:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.i >= len(self.tokens) or (expected is not None and self.tokens[self.i][1] != expected):
            raise ExpressionError(f"expected {expected!r} at token {self.i}")
        self.i += 1
        return self.tokens[self.i - 1]

    # Each rule returns a thunk, so that a ternary evaluates only the branch it takes (as SpEL does).
    def ternary(self) -> Callable[[], Any]:
        condition = self.comparison()
        if self.peek() != "?":
            return condition
        self.take("?")
        when_true = self.ternary()
        self.take(":")
        when_false = self.ternary()
        return lambda: when_true() if condition() else when_false()

    def comparison(self) -> Callable[[], Any]:
        left = self.additive()
        if self.peek() == ">":
            self.take(">")
            right = self.additive()
            return lambda: left() > right()
        return left

    def additive(self) -> Callable[[], Any]:
        terms = [self.primary()]
        while self.peek() == "+":
            self.take("+")
            terms.append(self.primary())
        if len(terms) == 1:
            return terms[0]
        return lambda: _concatenate([term() for term in terms])

    def primary(self) -> Callable[[], Any]:
        kind, text = self.take()
        if text == "(":
            inner = self.ternary()
            self.take(")")
            return inner
        if kind == "string":
            return lambda: text[1:-1]
        if kind == "number":
            return lambda: int(text)
        if kind == "name" and self.peek() == "(":
            self.take("(")
            arguments = [self.ternary()]
            while self.peek() == ",":
                self.take(",")
                arguments.append(self.ternary())
            self.take(")")
            if text not in self.functions:
                raise ExpressionError(f"{text} is outside the subset this project emits")
            function = self.functions[text]
            return lambda: function(*[argument() for argument in arguments])
        if kind == "name" and text in self.variables:
            return lambda: self.variables[text]
        raise ExpressionError(f"unexpected {text!r}")


def _concatenate(values: list[Any]) -> Any:
    total = values[0]
    for value in values[1:]:
        total = total + value
    return total


def evaluate(expression: str, login: str, *, regex: bool = False) -> Any:
    evaluator = _Evaluator(expression, {"user.login": login}, regex)
    program = evaluator.ternary()
    if evaluator.i != len(evaluator.tokens):
        raise ExpressionError(f"trailing tokens from {evaluator.tokens[evaluator.i]}")
    return program()
