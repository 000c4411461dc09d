"""The test folders have no __init__.py, so pytest imports each test file by its basename: two
files of one name (tests/unit/test_x.py and tests/live/test_x.py) stop the whole run at
collection ("import file mismatch")."""

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_no_two_test_files_share_a_basename():
    names = Counter(p.name for p in TESTS.rglob("test_*.py") if "fixtures" not in p.parts)
    assert [name for name, count in names.items() if count > 1] == []
