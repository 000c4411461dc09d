from decimal import Decimal

from podlab.quantities import parse_quantity


def test_quantities_are_exact():
    assert parse_quantity("250m") == Decimal("0.25")
    assert parse_quantity("64Mi") == 64 * 2**20
    assert parse_quantity("2") == 2
