"""Kubernetes resource quantities ("250m", "64Mi", "2") as exact numbers."""

from __future__ import annotations

from decimal import Decimal

from kubernetes.utils import parse_quantity as _parse_quantity


def parse_quantity(quantity: str | int | float) -> Decimal:
    """A quantity such as "250m" or "64Mi" as an exact Decimal (0.250, 67108864)."""
    return _parse_quantity(quantity)
