"""The keeper restarts its child when it dies and stops it on SIGTERM (real processes)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from podlab.cluster.local.keeper import KeeperSpec


def start_keeper(tmp_path: Path, argv: list[str]) -> tuple[subprocess.Popen, KeeperSpec]:
    spec = KeeperSpec("demo", argv, str(tmp_path / "demo.log"), str(tmp_path / "keeper.pid"),
                      str(tmp_path / "child.pid"))
    spec.write(tmp_path / "spec.json")
    proc = subprocess.Popen([sys.executable, "-m", "podlab.cluster.local.keeper", str(tmp_path / "spec.json")])
    return proc, spec


def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_keeper_restarts_a_child_that_exits(tmp_path):
    proc, spec = start_keeper(tmp_path, ["sh", "-c", "echo run; exit 3"])
    try:
        log = Path(spec.log)
        assert wait_for(lambda: log.exists() and log.read_text().count("exited with code 3") >= 2)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
    assert "restarting in" in Path(spec.log).read_text()


def test_keeper_stops_its_child_on_sigterm_and_removes_pid_files(tmp_path):
    proc, spec = start_keeper(tmp_path, ["sleep", "300"])
    assert wait_for(lambda: Path(spec.child_pid_file).exists())
    child = int(Path(spec.child_pid_file).read_text())
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0
    assert not Path(f"/proc/{child}").exists() or open(f"/proc/{child}/stat").read().split()[2] == "Z"
    assert not Path(spec.pid_file).exists() and not Path(spec.child_pid_file).exists()
