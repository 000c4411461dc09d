"""A Docker engine of podlab's own, for our VMs (CI and development): no systemd, root without
CAP_SYS_RESOURCE, and a local cluster already running on the same host.

A reader's Docker (Docker Desktop, a distribution's docker service) needs none of this and
never goes through this module: `podlab up --provider kind` only talks to whatever `docker`
answers. Here, `python -m podlab.cluster.dockerd start` starts Debian's dockerd on a socket
of its own, and prints the environment (DOCKER_HOST, DOCKER_API_VERSION) that points the
docker CLI, and so kind, at it; `stop` stops it and puts back what the node changed on the host.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from ...errors import PodlabError
from ... import paths

# Everything of this engine lives apart from a system Docker (/var/lib/docker, /run/docker.sock)
# and from the local provider (/var/lib/podlab, /run/podlab).
DATA_ROOT = Path("/var/lib/podlab-docker")
RUN_DIR = Path("/run/podlab-docker")
EXEC_ROOT = RUN_DIR / "exec"
SOCKET = RUN_DIR / "docker.sock"
PIDFILE = RUN_DIR / "dockerd.pid"
HOST_RECORD = RUN_DIR / "host-before.json"
RUNTIME = "podlab-runc"
WRAPPER = Path(__file__).with_name("runc-wrapper")
DOCKERD = Path("/usr/sbin/dockerd")
REAL_RUNC = Path("/usr/sbin/runc")            # Debian's runc, the one its containerd 1.6 is tested with
# dockerd finds containerd, containerd-shim-runc-v2 and docker-proxy on PATH: Debian's, in /usr/bin.
# The local provider's containerd 2.3.7 lives in podlab's cache and is never on this PATH.
DOCKERD_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
# Host-wide (not namespaced) sysctls a kind node's systemd may write through its privileged
# container. Measured here with a trixie node: PID 1 raised fs.nr_open (1048576 -> 1073741816)
# and fs.file-max (to 2^63-1). The fs.protected_* values come from systemd's 50-default.conf,
# which a bookworm root has (trixie's minimal install does not); kernel.core_pattern and
# kernel.pid_max are named by the node's /usr/lib/sysctl.d. Recorded before a node starts,
# written back after.
HOST_SYSCTLS = ("fs.protected_regular", "fs.protected_fifos", "fs.protected_hardlinks",
                "fs.protected_symlinks", "fs.nr_open", "fs.file-max", "kernel.core_pattern", "kernel.pid_max")
LIB_MODULES = Path("/lib/modules")           # kind bind-mounts it; Docker would create it on a host without it


def dockerd_args() -> list[str]:
    """dockerd's command line: only what this VM needs, each flag with its reason."""
    return [
        str(DOCKERD),
        # Its own socket, data and state: a system Docker, if any, is left alone, and nothing
        # here is mixed with the local provider's containerd (/run/podlab/containerd.sock).
        f"--host=unix://{SOCKET}",
        f"--data-root={DATA_ROOT}",
        # The exec root also holds the containerd dockerd starts for itself (its socket is
        # EXEC_ROOT/containerd/containerd.sock), so dockerd never talks to another containerd.
        f"--exec-root={EXEC_ROOT}",
        f"--pidfile={PIDFILE}",
        # Never touch the host's firewall or forwarding: the local cluster's PODLAB-* and KUBE-*
        # chains are there, and `podlab down` of the local provider removes what it finds.
        "--iptables=false", "--ip6tables=false", "--ip-forward=false", "--ip-masq=false",
        # No docker0 on the host: kind puts its node on a network of its own ("kind").
        "--bridge=none",
        # The host file system supports overlayfs; say so rather than let dockerd guess.
        "--storage-driver=overlay2",
        # Root on our VMs lacks CAP_SYS_RESOURCE, which Docker gives every --privileged
        # container (a kind node is one): runc through a wrapper that drops it.
        f"--add-runtime={RUNTIME}={WRAPPER}", f"--default-runtime={RUNTIME}",
    ]


def log_path() -> Path:
    """dockerd's log (stdout and stderr)."""
    return paths.cache_dir() / "logs" / "podlab-dockerd.log"


def docker_host() -> str:
    """The DOCKER_HOST value of this engine."""
    return f"unix://{SOCKET}"


def _api(path: str, timeout: float = 5.0) -> dict:
    """GET `path` from the engine's API on its socket (no docker CLI involved)."""
    class Connection(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(str(SOCKET))

    connection = Connection("localhost", timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return json.loads(response.read() or b"{}")
    finally:
        connection.close()


def server_version() -> dict | None:
    """The engine's /version answer, or None when nothing answers on the socket."""
    try:
        return _api("/version")
    except (OSError, ValueError, http.client.HTTPException):
        return None


def client_api_version(docker: str = "docker") -> str | None:
    """The newest API version the docker CLI on PATH speaks (28.2 speaks 1.50)."""
    try:
        out = subprocess.run([docker, "version", "--format", "{{.Client.APIVersion}}"], capture_output=True,
                             text=True, timeout=30, env={**os.environ, "DOCKER_HOST": "unix:///nonexistent"})
    except (OSError, subprocess.TimeoutExpired):
        return None
    words = out.stdout.split()
    return words[0] if words else None


def newer(a: str, b: str) -> bool:
    """Whether API version a (e.g. "1.50") is newer than b ("1.41")."""
    return tuple(int(n) for n in a.split(".")) > tuple(int(n) for n in b.split("."))


def client_env(server_api: str | None = None, client_api: str | None = None) -> dict[str, str]:
    """DOCKER_HOST, and DOCKER_API_VERSION pinned to the engine's when the client is newer."""
    env = {"DOCKER_HOST": docker_host()}
    server_api = server_api or (server_version() or {}).get("ApiVersion")
    client_api = client_api or client_api_version()
    if server_api and client_api and newer(client_api, server_api):
        env["DOCKER_API_VERSION"] = server_api
    return env


# ---------------------------------------------------------------- host state

def read_sysctl(name: str) -> str:
    return Path("/proc/sys", *name.split(".")).read_text().strip()


def write_sysctl(name: str, value: str) -> None:
    Path("/proc/sys", *name.split(".")).write_text(value + "\n")


def record_host() -> dict:
    """Record the host sysctls a node changes, and whether /lib/modules exists (once per start)."""
    if HOST_RECORD.exists():
        return json.loads(HOST_RECORD.read_text())
    record = {"sysctls": {name: read_sysctl(name) for name in HOST_SYSCTLS},
              "lib_modules_existed": LIB_MODULES.exists()}
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    HOST_RECORD.write_text(json.dumps(record, indent=2))
    return record


def restore_host() -> dict[str, tuple[str, str]]:
    """Write back every recorded sysctl a node changed; returns {name: (found, restored)}."""
    if not HOST_RECORD.exists():
        return {}
    record = json.loads(HOST_RECORD.read_text())
    changed = {}
    for name, value in record["sysctls"].items():
        found = read_sysctl(name)
        if found != value:
            write_sysctl(name, value)
            changed[name] = (found, value)
    return changed


def forget_host() -> None:
    """After the engine is gone: remove a /lib/modules Docker created (empty), drop the record."""
    if not HOST_RECORD.exists():
        return
    record = json.loads(HOST_RECORD.read_text())
    if not record.get("lib_modules_existed") and LIB_MODULES.is_dir() and not any(LIB_MODULES.iterdir()):
        LIB_MODULES.rmdir()
    HOST_RECORD.unlink()


# ---------------------------------------------------------------- install, start, stop

def install() -> None:
    """Debian's docker.io (dockerd 20.10 with its own containerd 1.6 and runc 1.1), if missing."""
    if DOCKERD.exists() and REAL_RUNC.exists():
        return
    if not shutil.which("apt-get"):
        raise PodlabError("podlab's Docker engine is installed from Debian's docker.io package; "
                          "this machine has no apt-get.", hint="Install Docker Engine yourself.")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-q"],
                    ["apt-get", "install", "-y", "-q", "--no-install-recommends", "docker.io"]):
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise PodlabError(f"`{' '.join(command)}` failed:\n{done.stdout[-800:]}{done.stderr[-800:]}",
                              hint="Check the network and apt's sources, then retry.")


def running(number: int) -> bool:
    """Whether process `number` runs (a zombie does not; ours is reaped here)."""
    try:
        if os.waitpid(number, os.WNOHANG)[0] == number:
            return False                     # our own child (start() in this process), now reaped
    except ChildProcessError:
        pass                                 # not our child
    try:
        state = Path(f"/proc/{number}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def pid() -> int | None:
    """dockerd's pid if it runs."""
    try:
        number = int(PIDFILE.read_text().strip())
    except (OSError, ValueError):
        return None
    return number if running(number) else None


def start(timeout: float = 60.0) -> dict[str, str]:
    """Start the engine (or find it running); returns the client environment for it."""
    if pid() and server_version():
        return client_env()
    install()
    if not WRAPPER.exists() or not os.access(WRAPPER, os.X_OK):
        raise PodlabError(f"{WRAPPER} is missing or not executable.", hint="Restore it from the podlab repository.")
    record_host()
    EXEC_ROOT.mkdir(parents=True, exist_ok=True)
    log = log_path()
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {"PATH": DOCKERD_PATH, "PODLAB_REAL_RUNC": str(REAL_RUNC), "HOME": "/root"}
    with log.open("a") as out:
        subprocess.Popen(dockerd_args(), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         env=env, start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:          # dockerd answers within about 1.5 s here
        if server_version():
            return client_env()
        time.sleep(0.1)
    raise PodlabError(f"dockerd did not answer on {SOCKET} within {timeout:.0f} s.", hint=f"Read {log}.")


def containers() -> list[str]:
    """Names of the engine's containers (running or not)."""
    try:
        return [c["Names"][0].lstrip("/") for c in _api("/containers/json?all=1")]
    except (OSError, ValueError, KeyError, IndexError, http.client.HTTPException):
        return []


def stop(timeout: float = 60.0) -> dict[str, tuple[str, str]]:
    """Stop dockerd (and the containerd it started), then restore the host; returns what was restored."""
    number = pid()
    if number:
        os.kill(number, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not running(number):
                break
            time.sleep(0.1)
        else:
            raise PodlabError(f"dockerd (pid {number}) did not stop within {timeout:.0f} s.",
                              hint=f"Read {log_path()}.")
    restored = restore_host()
    forget_host()
    return restored
