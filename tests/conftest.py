"""Test-session set-up shared by every test module."""

# Import hypothesis's pytest reporting now: importing (and so compiling) it lazily after a test
# that ran the Pulumi runtime can hit a CPython 3.11 AST recursion-depth bug and abort the session.
import hypothesis.internal.observability  # noqa: F401
