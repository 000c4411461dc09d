"""`python -m podlab.cluster.dockerd start|stop|env|restore-host|status` (our VMs only)."""

from __future__ import annotations

import argparse
import sys

from ...errors import PodlabError
from . import client_env, containers, pid, restore_host, server_version, start, stop


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m podlab.cluster.dockerd", description=__doc__)
    p.add_argument("command", choices=("start", "stop", "env", "restore-host", "status"))
    args = p.parse_args(argv)
    try:
        if args.command == "start":
            for key, value in start().items():
                print(f"export {key}={value}")
        elif args.command == "env":
            for key, value in client_env().items():
                print(f"export {key}={value}")
        elif args.command == "restore-host":
            for name, (found, value) in restore_host().items():
                print(f"restored {name}: {found} -> {value}", file=sys.stderr)
        elif args.command == "stop":
            left = containers()
            if left:
                print(f"podlab-dockerd: containers left behind: {', '.join(left)}", file=sys.stderr)
            for name, (found, value) in stop().items():
                print(f"restored {name}: {found} -> {value}", file=sys.stderr)
        else:
            version = server_version()
            print(f"dockerd pid {pid()}, engine {version['Version']} (API {version['ApiVersion']})"
                  if version else "podlab's dockerd is not running")
    except PodlabError as error:
        print(f"podlab-dockerd: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
