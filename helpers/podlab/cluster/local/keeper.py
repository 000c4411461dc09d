"""Keep one cluster process running: restart it when it dies, stop it on SIGTERM.

Run as `python -m podlab.cluster.local.keeper SPEC.json` in its own session; the spec
names the command line, the log file and the pid files. `podlab down` signals the keeper,
which stops its child (SIGTERM, then SIGKILL after a grace period) and exits.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

GRACE_SECONDS = 15.0
MAX_BACKOFF_SECONDS = 30.0


@dataclass(frozen=True)
class KeeperSpec:
    """What a keeper runs and where it reports."""

    name: str
    argv: list[str]
    log: str
    pid_file: str
    child_pid_file: str
    env: dict[str, str] = field(default_factory=dict)
    wait_for: str | None = None
    env_file: str | None = None
    env_file_vars: list[str] = field(default_factory=list)

    def command(self) -> list[str]:
        """argv plus the words of env_file's variables, read anew at each start (as systemd does)."""
        if not self.env_file:
            return list(self.argv)
        from .components import env_file_words
        try:
            text = Path(self.env_file).read_text()
        except OSError:
            text = ""
        return list(self.argv) + env_file_words(text, tuple(self.env_file_vars))

    def write(self, path: Path) -> None:
        """Save the spec for the keeper process to read."""
        path.write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def read(cls, path: Path) -> "KeeperSpec":
        """Load a spec written by write()."""
        return cls(**json.loads(path.read_text()))


def _say(log, message: str) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    log.write(f"[podlab keeper {stamp}] {message}\n")
    log.flush()


def run(spec: KeeperSpec) -> int:
    """Run the child until asked to stop, restarting it with backoff when it exits."""
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    Path(spec.pid_file).write_text(str(os.getpid()))
    backoff = 1.0
    with open(spec.log, "a", buffering=1) as log:
        if spec.wait_for and not Path(spec.wait_for).exists():
            _say(log, f"waiting for {spec.wait_for}")
            while not Path(spec.wait_for).exists() and not stopping.wait(0.1):
                pass
        while not stopping.is_set():
            started = time.monotonic()
            argv = spec.command()
            _say(log, f"starting: {' '.join(argv)}")
            child = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env={**os.environ, **spec.env})
            Path(spec.child_pid_file).write_text(str(child.pid))
            while child.poll() is None and not stopping.wait(0.5):
                pass
            if stopping.is_set():
                _stop(child, log)
                break
            _say(log, f"{spec.name} exited with code {child.returncode}")
            backoff = 1.0 if time.monotonic() - started > 60 else min(backoff * 2, MAX_BACKOFF_SECONDS)
            _say(log, f"restarting in {backoff:.0f}s")
            stopping.wait(backoff)
        _say(log, "keeper stopped")
    for pid_file in (spec.child_pid_file, spec.pid_file):
        Path(pid_file).unlink(missing_ok=True)
    return 0


def _stop(child: subprocess.Popen, log) -> None:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            _say(log, f"no exit {GRACE_SECONDS:.0f}s after SIGTERM; sending SIGKILL")
            child.kill()
            child.wait()
    _say(log, f"child exited with code {child.returncode}")


if __name__ == "__main__":
    sys.exit(run(KeeperSpec.read(Path(sys.argv[1]))))
