"""What every cluster provider offers: detect, bring up, tear down, report."""

from __future__ import annotations

from dataclasses import dataclass
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
    """A running cluster and how to reach it."""

    provider: str
    context: str
    kubeconfig: Path | None
    # Where the node's NODE_SHARE_DIR is visible on this machine, when it is not at the
    # same path (kind: a host directory bind-mounted into the node container).
    share_host_dir: Path | None = None


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
