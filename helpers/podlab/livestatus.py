"""A live status line under a running notebook cell that leaves nothing varying in the saved notebook.

The line is a display whose first and last contents are both an empty MIME bundle; only
the updates in between (phase, conditions, elapsed seconds) carry text. A saved notebook
stores the final content (empty), and nbval, which ignores update_display_data, compares
the first (also empty): both are identical on every run. A status opened inside another
(a wait inside open_lab) reuses the outer line, so one operation leaves one output however
many waits it needed. Outside a Jupyter kernel, or under quiet(), it is silent.
"""

from __future__ import annotations

import contextvars
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

_EMPTY: dict[str, Any] = {}
_current: contextvars.ContextVar[LiveStatus | None] = contextvars.ContextVar("podlab_live_status",
                                                                            default=None)
_quiet = contextvars.ContextVar("podlab_live_status_quiet", default=False)


@contextmanager
def quiet() -> Iterator[None]:
    """Show no live status inside the block (e.g. cleanup at interpreter exit)."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


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
        self.enabled = (not _quiet.get() and in_kernel()) if enabled is None else enabled
        self._outer: LiveStatus | None = None
        self._token: contextvars.Token | None = None
        self._started = time.monotonic()
        self._handle: Any = None
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._ticker: threading.Thread | None = None

    def __enter__(self) -> LiveStatus:
        self._outer = _current.get()
        self._token = _current.set(self)
        if self._outer is not None:
            self.enabled = False  # show() goes to the outer line instead
        elif self.enabled:
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
        if self._outer is not None:
            self._outer.show(f"{self.title}: {detail}")
        else:
            self._render()

    def line(self) -> str:
        """The current text of the status line."""
        elapsed = time.monotonic() - self._started
        detail = f" — {self.detail}" if self.detail else ""
        return f"⏳ {self.title}{detail} [{elapsed:.0f}s]"

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._done.set()
        if self._token is not None:
            _current.reset(self._token)
            self._token = None
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
