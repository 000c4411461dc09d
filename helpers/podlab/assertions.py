"""Claims about live behaviour that print one stable line when they hold.

Each passing check prints `✓ <claim>`, built from the description and the *expected*
value only, so the line is identical on every run (nbval compares it). A bound such
as `restarts >= 1` never prints the varying observed value. A failing check raises
AssertionError that shows what was observed.
"""

from __future__ import annotations

import re
from typing import Any

PASS = "✓"
FAIL = "✗"


def expect_equal(description: str, actual: Any, expected: Any) -> None:
    """Claim actual == expected (strings are compared exactly, trailing newline included)."""
    if actual != expected:
        _fail(f"{description}: expected {expected!r}", actual)
    _passed(f"{description} == {expected!r}")


def expect_same(description: str, actual: Any, expected: Any) -> None:
    """Claim actual == expected for values that differ between runs; prints only the description."""
    if actual != expected:
        _fail(f"{description}: expected {expected!r}", actual)
    _passed(description)


def expect_contains(description: str, text: str, fragment: str) -> None:
    """Claim fragment occurs in text."""
    if fragment not in text:
        _fail(f"{description}: expected it to contain {fragment!r}", text)
    _passed(f"{description} contains {fragment!r}")


def expect_line(description: str, text: str, line: str) -> None:
    """Claim text has line as one whole line (ignoring surrounding whitespace), e.g. zone="us-east"."""
    if line.strip() not in (candidate.strip() for candidate in text.splitlines()):
        _fail(f"{description}: expected a line {line!r}", text)
    _passed(f"{description} has {line}")


def expect_at_least(description: str, actual: float, minimum: float) -> None:
    """Claim actual >= minimum; the printed line shows only the bound."""
    if not actual >= minimum:
        _fail(f"{description}: expected at least {minimum!r}", actual)
    _passed(f"{description} >= {minimum!r}")


def expect_true(description: str, value: Any) -> None:
    """Claim value is truthy; the description is the claim."""
    if not value:
        _fail(f"{description}: expected it to hold", value)
    _passed(description)


def expect_match(description: str, text: str, pattern: str) -> None:
    """Claim the regular expression pattern matches somewhere in text (re.search)."""
    if re.search(pattern, text) is None:
        _fail(f"{description}: expected a match for /{pattern}/", text)
    _passed(f"{description} matches /{pattern}/")


def _passed(claim: str) -> None:
    print(f"{PASS} {claim}")


def _fail(claim: str, observed: Any) -> None:
    if isinstance(observed, str) and "\n" in observed.rstrip("\n"):
        shown = "\n" + "\n".join(f"    | {line}" for line in observed.rstrip("\n").splitlines())
    else:
        shown = f" {observed!r}"
    raise AssertionError(f"{FAIL} {claim}; observed{shown}")
