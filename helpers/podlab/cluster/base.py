"""What every cluster provider offers: detect, bring up, tear down, report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Readiness:
    """Whether a provider can work here, and what is missing if not."""

    provider: str
    usable: bool
    missing: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClusterInfo:
    """A running cluster: how to reach it and how to read files on its node."""

    provider: str
    context: str
    kubeconfig: Path | None
    node_root: str = "/"
    node_exec: tuple[str, ...] = field(default=())

    def node_path(self, path: str) -> str:
        """The path where a node file is visible to podlab (e.g. a hostPath directory)."""
        return path


class Provider(Protocol):
    """A way to get a lab cluster."""

    name: str

    def check(self) -> Readiness:
        """Report whether this provider can work on this machine."""
        ...

    def up(self) -> ClusterInfo:
        """Create or reuse the cluster and return how to reach it."""
        ...

    def down(self) -> None:
        """Stop what this provider started and leave nothing behind."""
        ...

    def status(self) -> str:
        """A short human-readable status of this provider's cluster."""
        ...
