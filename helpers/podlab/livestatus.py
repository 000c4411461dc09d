"""A live status line under a running notebook cell that leaves nothing varying in the saved notebook.

The line is a display whose first and last contents are both an empty MIME bundle; only
the updates in between (phase, conditions, elapsed seconds) carry text. A saved notebook
stores the final content (empty), and nbval, which ignores update_display_data, compares
the first (also empty): both are identical on every run. Outside a Jupyter kernel it is silent.
"""

from __future__ import annotations

import contextvars
import sys
import threading
import time
from types import TracebackType
from typing import Any

_EMPTY: dict[str, Any] = {}


def in_kernel() -> bool:
    """True when running inside a Jupyter kernel (where display updates reach a frontend)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython else None  # type: ignore[attr-defined]
    return shell is not None and getattr(shell, "kernel", None) is not None


class LiveStatus:
    """Show `title — detail [Ns]` while a block runs, refreshed on every show() and each second."""

    def __init__(self, title: str, *, interval: float = 1.0, enabled: bool | None = None) -> None:
        self.title = title
        self.detail = ""
        self.interval = interval
        self.enabled = in_kernel() if enabled is None else enabled
        self._started = time.monotonic()
        self._handle: Any = None
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._ticker: threading.Thread | None = None

    def __enter__(self) -> LiveStatus:
        if self.enabled:
            from IPython.display import display
            self._handle = display(_EMPTY, raw=True, display_id=True)
            # Run the ticker in this cell's context so ipykernel routes its output here.
            context = contextvars.copy_context()
            self._ticker = threading.Thread(target=context.run, args=(self._tick,),
                                            name="podlab-live-status", daemon=True)
            self._ticker.start()
        return self

    def show(self, detail: str) -> None:
        """Replace the detail part of the line."""
        self.detail = detail
        self._render()

    def line(self) -> str:
        """The current text of the status line."""
        elapsed = time.monotonic() - self._started
        detail = f" — {self.detail}" if self.detail else ""
        return f"⏳ {self.title}{detail} [{elapsed:.0f}s]"

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._done.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2 * self.interval)
        if self._handle is not None:
            with self._lock:
                self._handle.update(_EMPTY, raw=True)
                self._handle = None

    def _tick(self) -> None:
        while not self._done.wait(self.interval):
            self._render()

    def _render(self) -> None:
        with self._lock:
            if self._handle is not None and not self._done.is_set():
                self._handle.update({"text/plain": self.line()}, raw=True)
