"""The `podlab` command: bring a lab cluster up or down, check the machine, sweep leftovers."""

from __future__ import annotations

import argparse
import os
import sys

from . import cluster, paths
from .errors import PodlabError
from .images import NODE_SHARE_DIR


def refuse_students(action: str) -> None:
    """Raise PodlabError if KUBECONFIG (else ~/.kube/config) is a student's classroom kubeconfig: it
    reaches one namespace, and on a shared machine the cluster is the instructor's to start, stop and sweep."""
    from .classmode import current_classroom, kubeconfig_files

    room = current_classroom(kubeconfig_files(None))
    if room is not None:
        raise PodlabError(
            f"Your kubeconfig is a student's of course {room.course}: it lets you work in your namespace "
            f"{room.namespace} (pods, services, configmaps, deployments, their logs and exec) and nothing else, "
            f"so `podlab {action}` is not yours to run here.",
            hint="Open the labs: open_lab works in your namespace. Starting, stopping and cleaning the cluster "
                 "is your instructor's (`podlab classroom` for them).")


def cmd_up(args: argparse.Namespace) -> int:
    """Bring up (or reuse) a lab cluster."""
    refuse_students("up")
    info = cluster.up(args.provider, allow_context=args.allow_context, kubernetes_version=args.kubernetes_version)
    print(f"✓ lab cluster ready ({info.provider}, context {info.context})")
    if info.kubeconfig:
        print(f"  kubeconfig: {info.kubeconfig}   (export KUBECONFIG={info.kubeconfig})")
    if info.share_host_dir:
        print(f"  files pods write under {NODE_SHARE_DIR} on the node appear in {info.share_host_dir}")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    """Stop the lab cluster podlab started."""
    refuse_students("down")
    stopped = cluster.down(args.provider)
    print(f"✓ {stopped} cluster stopped and cleaned up" if stopped else "no podlab cluster is running")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """Report the active cluster's state."""
    name = cluster.active_provider_name()
    if name is None:
        print("no podlab cluster recorded; run `podlab up`")
        return 1
    print(cluster.get_provider(name).status())
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """Say which providers can work here and what the others miss."""
    usable = False
    for report in cluster.check_all(allow_context=args.allow_context):
        mark = "✓" if report.usable else "✗"
        print(f"{mark} {report.provider}")
        for item in report.missing:
            print(f"    missing: {item}")
        for note in report.notes:
            print(f"    note: {note}")
        usable = usable or report.usable
    return 0 if usable else 1


def cmd_clean(args: argparse.Namespace) -> int:
    """Delete every lab namespace podlab created (leftovers of interrupted labs)."""
    from .session import sweep_labs
    refuse_students("clean")
    deleted = sweep_labs()
    print(f"✓ deleted {len(deleted)} lab namespaces" + (f": {', '.join(deleted)}" if deleted else ""))
    return 0


def cmd_progress(args: argparse.Namespace) -> int:
    """Show which lab exercises you solved, tried or have not tried yet."""
    from pathlib import Path

    from .checks import progress_path, progress_table, read_progress
    from .exercises import EXERCISE_FILE, load_exercises
    labs = Path(args.labs) if args.labs else Path(__file__).resolve().parents[2] / "labs"
    files = sorted(labs.glob(f"*/{EXERCISE_FILE}"))
    if not files:
        raise PodlabError(f"No lab exercises under {labs}.", hint="Pass the book's labs folder: --labs PATH.")
    exercises = {file.parent.name: [e.id for e in load_exercises(file)] for file in files}
    try:
        attempts = read_progress()
    except ValueError as e:
        raise PodlabError(str(e)) from None
    print(f"progress in {progress_path()}")
    print(progress_table(attempts, exercises))
    return 0


def run_kubectl(argv: list[str]) -> int:
    """Run the kubectl built with the local cluster (else the one on PATH) against the lab cluster."""
    from .cluster.local.provider import LocalProvider
    built = LocalProvider().kubectl_path()
    kubectl = str(built) if built.exists() else "kubectl"
    os.execvp(kubectl, [kubectl, f"--kubeconfig={paths.kubeconfig_path()}", *argv])
    return 1


def parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    p = argparse.ArgumentParser(prog="podlab", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help=cmd_up.__doc__)
    up.add_argument("--provider", choices=cluster.ORDER, help="skip detection and use this provider")
    up.add_argument("--allow-context", metavar="NAME", help="allow this kube context even if it is not a lab cluster")
    up.add_argument("--kubernetes-version", metavar="X.Y.Z",
                    help="the Kubernetes release the local provider builds and runs (default: the book's, "
                         "v1.37.2; 1.35 or newer)")
    up.set_defaults(func=cmd_up)
    down = sub.add_parser("down", help=cmd_down.__doc__)
    down.add_argument("--provider", choices=cluster.ORDER, help="stop this provider's cluster")
    down.set_defaults(func=cmd_down)
    sub.add_parser("status", help=cmd_status.__doc__).set_defaults(func=cmd_status)
    doctor = sub.add_parser("doctor", help=cmd_doctor.__doc__)
    doctor.add_argument("--allow-context", metavar="NAME")
    doctor.set_defaults(func=cmd_doctor)
    sub.add_parser("clean", help=cmd_clean.__doc__).set_defaults(func=cmd_clean)
    progress = sub.add_parser("progress", help=cmd_progress.__doc__)
    progress.add_argument("--labs", metavar="PATH", help="the labs folder (default: the book's labs/)")
    progress.set_defaults(func=cmd_progress)
    from .classroom import add_parser as add_classroom
    add_classroom(sub)
    sub.add_parser("kubectl", help=run_kubectl.__doc__, add_help=False)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `podlab` console script."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["kubectl"]:
        return run_kubectl(argv[1:])
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except PodlabError as error:
        print(f"podlab: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("podlab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
