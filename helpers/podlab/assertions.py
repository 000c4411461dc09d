"""Claims about live behaviour: each makes a podlab.Check and hands it to the recorders in force.

A passing claim prints `✓ <claim>` (the default recorder), built from the description and the
*expected* value only, so the line is identical on every run (nbval compares it). A bound such
as `restarts >= 1` never prints the varying observed value. A failing claim is recorded as a
failed Check and raises AssertionError that shows what was observed.
"""

from __future__ import annotations

import re
from typing import Any

from .checks import FAILED, PASSED, SYMBOLS, Check, record

PASS = SYMBOLS[PASSED]
FAIL = SYMBOLS[FAILED]


def expect_equal(description: str, actual: Any, expected: Any) -> None:
    """Claim actual == expected (strings are compared exactly, trailing newline included)."""
    if actual != expected:
        _fail("expect_equal", f"{description}: expected {expected!r}", actual)
    _passed("expect_equal", f"{description} == {expected!r}")


def expect_same(description: str, actual: Any, expected: Any) -> None:
    """Claim actual == expected for values that differ between runs; prints only the description."""
    if actual != expected:
        _fail("expect_same", f"{description}: expected {expected!r}", actual)
    _passed("expect_same", description)


def expect_contains(description: str, text: str, fragment: str) -> None:
    """Claim fragment occurs in text."""
    if fragment not in text:
        _fail("expect_contains", f"{description}: expected it to contain {fragment!r}", text)
    _passed("expect_contains", f"{description} contains {fragment!r}")


def expect_line(description: str, text: str, line: str) -> None:
    """Claim text has line as one whole line (ignoring surrounding whitespace), e.g. zone="us-east"."""
    if line.strip() not in (candidate.strip() for candidate in text.splitlines()):
        _fail("expect_line", f"{description}: expected a line {line!r}", text)
    _passed("expect_line", f"{description} has {line}")


def expect_at_least(description: str, actual: float, minimum: float) -> None:
    """Claim actual >= minimum; the printed line shows only the bound."""
    if not actual >= minimum:
        _fail("expect_at_least", f"{description}: expected at least {minimum!r}", actual)
    _passed("expect_at_least", f"{description} >= {minimum!r}")


def expect_true(description: str, value: Any) -> None:
    """Claim value is truthy; the description is the claim."""
    if not value:
        _fail("expect_true", f"{description}: expected it to hold", value)
    _passed("expect_true", description)


def expect_match(description: str, text: str, pattern: str) -> None:
    """Claim the regular expression pattern matches somewhere in text (re.search)."""
    if re.search(pattern, text) is None:
        _fail("expect_match", f"{description}: expected a match for /{pattern}/", text)
    _passed("expect_match", f"{description} matches /{pattern}/")


def _passed(source: str, claim: str) -> None:
    record(Check(claim, PASSED, source=source))


def _fail(source: str, claim: str, observed: Any) -> None:
    if isinstance(observed, str) and "\n" in observed.rstrip("\n"):
        shown = "\n" + "\n".join(f"    | {line}" for line in observed.rstrip("\n").splitlines())
    else:
        shown = f" {observed!r}"
    record(Check(claim, FAILED, observed=shown.strip(), source=source))
    raise AssertionError(f"{FAIL} {claim}; observed{shown}")
