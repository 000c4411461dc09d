"""A lab session: a namespace of its own, created on open and deleted on close, whatever happens.

Each session's namespace is podlab-<lab>-<session>, the session a random five-character id as
Kubernetes' generateName makes them (consonants and digits), so two sessions of one lab (two
browser tabs, a test run beside JupyterLab) never touch each other's objects; nbval masks the
id (tests/nbval-sanitize.cfg). The namespace is labelled with the lab and the session and
annotated with its holder (host, process id and the process's start time). Cleanup runs on
close(), at the end of a `with` block (even when the body raises or the kernel is interrupted),
at interpreter exit, and, when the process is killed outright (nbval kills its kernels), from a
watcher process (see podlab.reaper). Cluster-scoped objects the lab applies (a Namespace, a
ClusterRole, ...) carry the same labels and go with the namespace, as do podlab.dev/ finalizers
that would keep a namespace of the session Terminating (see podlab.ownership). What a gone
session left is removed when the same lab opens next on this machine, or by sweep_labs()
(`podlab clean`), a static pod file it left on a node included (podlab.staticpods); what a
session whose holder still runs owns is never deleted by another session.

Classroom mode (podlab.classmode: the kubeconfig's context is marked by `podlab classroom create`):
a student may not create namespaces, so the session works in the student's namespace. Its anchor,
a ConfigMap podlab-session-<session>, carries the holder annotation; everything the session
applies carries the session's labels, and close() (or the reaper, after a killed kernel) deletes
the objects with that label and nothing else there. An object of the same name that another
session (or the student by hand) made is never taken over: apply refuses it. Exercise verdicts
go to the namespace's progress ConfigMap (podlab.classprogress), and cells tagged needs-cluster
are skipped with one line in JupyterLab.
"""

from __future__ import annotations

import atexit
import functools
import os
import random
import re
import socket
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from . import manifests, pods, waiting
from ._api import ServerReply, api_error, request_json, resource_for, send_request
from .conditions import WaitCondition, deleted, exists, ready
from .checks import ProgressFile, Recorder
from .classmode import Classroom, install_skip
from .connect import connect, connection, server_version
from .errors import PodlabError
from .events import Event, events
from .livestatus import LiveStatus, quiet
from .manifests import AppliedObjects, Manifest
from .namespaces import delete_namespace
from .ownership import (LAB_LABEL, MANAGED_BY, SESSION_LABEL, owned_objects, remove_session, remove_session_in,
                        served_resources, session_labels, session_objects)
from .nodefiles import read_node_file
from .notebook import show_pods_briefly
from .objects import KubeObject, KubeObjects
from .pods import Command, ExecResult
from .staticpods import remove_orphans
from .reaper import Reaper
from .timeouts import DELETION, EXEC, EXEC_UNTIL, POD_START

HOLDER = "podlab.dev/holder"      # annotation: "<host> <pid> <process start time>" of the session's process
NAMESPACE_PREFIX = "podlab-"
SESSION_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # as apimachinery's rand.String: no vowels, no words
SESSION_LENGTH = 5
KEEP_NAMESPACES = "PODLAB_KEEP_NAMESPACES"  # =1: a lab that failed keeps its namespace for inspection
ANCHOR_PREFIX = "podlab-session-"  # classroom mode: the ConfigMap that holds a session's holder annotation

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_POD_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")

# Cluster DNS answers once CoreDNS has a ready replica (a cluster without CoreDNS: nothing to wait for).
CLUSTER_DNS = WaitCondition(
    "available (cluster DNS answers)",
    lambda d: d is None or ((d.get("status") or {}).get("availableReplicas") or 0) >= 1)

_open_labs: dict[str, Lab] = {}  # session id → the open Lab of this process
_registry_lock = threading.Lock()


class Lab:
    """A lab session in namespace podlab-<name>; its methods act in that namespace."""

    def __init__(self, name: str, *, kubeconfig: Path | None = None) -> None:
        longest = 63 - len(NAMESPACE_PREFIX) - 1 - SESSION_LENGTH
        if not _NAME.match(name) or len(name) > longest:
            raise PodlabError(f"{name!r} cannot name a lab.",
                              hint="Use lowercase letters, digits and '-', at most "
                                   f"{longest} characters (e.g. 'downward-api').")
        self.name = name
        self.session = "".join(random.choice(SESSION_ALPHABET) for _ in range(SESSION_LENGTH))
        self.namespace = f"{NAMESPACE_PREFIX}{name}-{self.session}"
        self.connection = connection(kubeconfig)
        self.api = connect(kubeconfig)
        # classroom mode: the student's namespace, never one of the session's own
        self.classroom: Classroom | None = self.connection.classroom
        if self.classroom is not None:
            self.namespace = self.classroom.namespace
        self._kubeconfig = kubeconfig
        self._uid: str | None = None
        self._reaper: Reaper | None = None  # deletes what the session owns if this process dies
        self._namespaces: set[str] = set()  # namespaces this lab applied: they take their content along
        self._deferred: list[Callable[[], object]] = []  # undone at close, last first
        self.server_version = ""
        # exercise verdicts (podlab.Check) of this session, kept for `podlab progress`
        self.progress: Recorder = ProgressFile(kubernetes_version=lambda: self.server_version)
        if self.classroom is not None:  # the instructor's report reads it (`podlab classroom report`)
            from .classprogress import ConfigMapProgress
            self.progress = ConfigMapProgress(self.namespace, self.api, kubernetes_version=lambda: self.server_version)

    def __repr__(self) -> str:
        return f"Lab(namespace={self.namespace!r})"

    # -- lifecycle ---------------------------------------------------------------------------

    def open(self) -> Lab:
        """Create the session's namespace and wait until pods can be created.

        The same lab opened again in this process replaces the earlier session (closed without
        waiting); namespaces of this lab whose session is gone are deleted; a namespace that
        another live session holds is never touched.
        """
        with _registry_lock:
            earlier = [lab for lab in _open_labs.values() if lab.name == self.name and lab is not self]
            _open_labs[self.session] = self
        _register_exit_cleanup()
        show_pods_briefly()
        if self.classroom is not None:
            return self._open_in_classroom(earlier, self.classroom)
        with LiveStatus(f"opening lab {self.name}"):
            for lab in earlier:  # re-running a notebook's first cell: a fresh start, as before
                lab.close(wait=False)
            _remove_gone(self.api, _gone_sessions(_lab_namespaces(self.api, [self.name])), wait=False)
            body = {"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": self.namespace,
                                 "labels": session_labels(self.name, self.session),
                                 "annotations": {HOLDER: _holder()}}}
            try:
                created = request_json(self.api, "POST", "/api/v1/namespaces", body=body)
            except ApiException as e:
                raise api_error(e, f"creating namespace {self.namespace}") from None
            self._uid = created["metadata"]["uid"]
            self._reaper = Reaper(self.namespace, self._uid, self.session, self._kubeconfig)
            # The ServiceAccount admission plugin rejects pods until the namespace's
            # "default" ServiceAccount exists; it is created asynchronously.
            self.wait("default", exists, kind="ServiceAccount")
            # `podlab up`, like `kind create cluster`, returns once pods can run; cluster DNS turns
            # ready a few seconds later (kubeadm's CoreDNS readiness probe runs every 10 s).
            waiting.wait_until("kube-system", "coredns", CLUSTER_DNS, kind="Deployment", api_version="apps/v1",
                               api=self.api)
        self.server_version = server_version(self.api)
        print(f"lab {self.name}: namespace {self.namespace} on context {self.connection.context} "
              f"({self.connection.provider} provider), Kubernetes {self.server_version}")
        return self

    def _open_in_classroom(self, earlier: list[Lab], classroom: Classroom) -> Lab:
        """Open the session in the student's namespace: sweep what gone sessions left there, then
        create the session's anchor (its holder) and its reaper."""
        with LiveStatus(f"opening lab {self.name}"):
            for lab in earlier:
                lab.close(wait=False)
            sweep_namespace(self.api, self.namespace)
            anchor = {"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": ANCHOR_PREFIX + self.session,
                                   "labels": session_labels(self.name, self.session),
                                   "annotations": {HOLDER: _holder()}}}
            try:
                created = request_json(self.api, "POST", f"/api/v1/namespaces/{self.namespace}/configmaps", body=anchor)
            except ApiException as e:
                raise api_error(e, f"creating the session's configmap/{ANCHOR_PREFIX}{self.session}") from None
            self._uid = created["metadata"]["uid"]  # the anchor's: the session is open while it is set
            self._reaper = Reaper(self.namespace, self._uid, self.session, self._kubeconfig, shared_namespace=True)
        self.server_version = server_version(self.api)
        install_skip(classroom)
        print(f"lab {self.name}: namespace {self.namespace} (course {classroom.course}, session {self.session}) "
              f"on context {self.connection.context} ({self.connection.provider} provider), "
              f"Kubernetes {self.server_version}")
        return self

    def defer(self, undo: Callable[[], object]) -> Callable[[], object]:
        """Run undo() when the lab closes (last deferred first), even if the lab failed; return undo.

        For changes the namespace's deletion does not take along, e.g. a node label; they are not
        undone if the process is killed outright. Objects applied with lab.apply need none.
        """
        self._deferred.append(undo)
        return undo

    def close(self, *, wait: bool = True, failed: bool = False) -> None:
        """Run deferred undos, then delete the namespace and the session's cluster-scoped objects
        (all kept if failed and PODLAB_KEEP_NAMESPACES=1); wait=False leaves the waiting to the reaper."""
        with _registry_lock:
            uid, self._uid = self._uid, None
            if _open_labs.get(self.session) is self:
                del _open_labs[self.session]
        if uid is None:
            return
        deferred, self._deferred = self._deferred, []
        keep = failed and os.environ.get(KEEP_NAMESPACES) == "1"
        with LiveStatus(f"closing lab {self.name}"):
            try:
                _run_all(reversed(deferred))
            finally:
                if keep:
                    self._release()  # no session holds it any more: `podlab clean` may delete it
                    self._dismiss_reaper()
                    print(f"podlab: kept namespace {self.namespace} of the failed lab ({KEEP_NAMESPACES}=1); "
                          f"look inside with `podlab kubectl -n {self.namespace} get all,events`, "
                          f"delete it with `podlab clean`", file=sys.stderr)
                elif self.classroom is not None:  # only what the session made: the namespace is the student's
                    remove_session_in(self.api, self.namespace, self.session, wait=wait)
                    if wait:
                        self._dismiss_reaper()
                    else:
                        self._hand_over()
                else:
                    delete_namespace(self.api, self.namespace, uid=uid)
                    if wait:
                        remove_session(self.api, self.session)  # and wait until all is gone
                        self._dismiss_reaper()  # only then: if this fails, the reaper tries again at exit
                    else:
                        self._hand_over()  # the reaper removes the rest while this process goes on

    def _release(self) -> None:
        holder = (f"/api/v1/namespaces/{self.namespace}/configmaps/{ANCHOR_PREFIX}{self.session}"
                  if self.classroom is not None else f"/api/v1/namespaces/{self.namespace}")
        try:
            request_json(self.api, "PATCH", holder,
                         body={"metadata": {"annotations": {HOLDER: None}}},
                         content_type="application/merge-patch+json")
        except ApiException as e:
            raise api_error(e, f"releasing namespace {self.namespace}") from None

    def _dismiss_reaper(self) -> None:
        reaper, self._reaper = self._reaper, None
        if reaper is not None:
            reaper.dismiss()

    def _hand_over(self) -> None:
        reaper, self._reaper = self._reaper, None
        if reaper is not None:
            reaper.hand_over()

    def __enter__(self) -> Lab:
        return self if self._uid else self.open()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close(failed=exc_type is not None)

    # -- objects -----------------------------------------------------------------------------

    def apply(self, manifest: Manifest, *, dry_run: bool = False) -> AppliedObjects:
        """Server-side apply a manifest (a file path, YAML text, dict or list) into the lab
        (dry_run=True: the objects as the server would store them, nothing stored).

        Cluster-scoped objects get the session's labels and are deleted with the lab, even after a
        killed kernel; so are namespaced ones in the lab's namespace or in a Namespace it applied.
        """
        if self.classroom is not None and not dry_run:
            self._refuse_others(manifest)
        applied = manifests.apply(self.namespace, manifest, dry_run=dry_run,
                                  labels=session_labels(self.name, self.session),
                                  label_namespaced=self.classroom is not None, api=self.api)
        for obj in [] if dry_run else applied:
            where = obj["metadata"].get("namespace")
            if (obj["apiVersion"], obj["kind"]) == ("v1", "Namespace"):
                self._namespaces.add(obj["metadata"]["name"])
            elif where and where != self.namespace and where not in self._namespaces:
                # a namespace of someone else's (kube-system, ...) won't take it along
                self.defer(functools.partial(manifests.delete, self.namespace, obj, wait=False, api=self.api))
        return applied

    def _refuse_others(self, manifest: Manifest) -> None:
        """Classroom mode: refuse to apply over an object in the namespace this session did not make
        (another session's of the same student, or one made by hand): its close would delete it."""
        for obj in manifests.load_manifests(manifest):
            owner = self._others(obj)
            if owner is not None:
                ref = manifests.object_ref(obj)
                raise PodlabError(
                    f"{ref} already exists in {self.namespace}, made "
                    + (f"by your lab session {owner} (another notebook or kernel, still open)" if owner
                       else "outside this lab session") + ": this session will not take it over.",
                    hint=f"Close that session first (lab.close() there, or shut its kernel down), or delete {ref}: "
                         f"`kubectl -n {self.namespace} delete {ref}`.")

    def _others(self, obj: Mapping[str, Any]) -> str | None:
        """Classroom mode: the session label ("" if none) of the object of that name in the namespace when
        it exists and is not this session's; None when it is this session's, absent, or elsewhere."""
        resource = resource_for(self.api, obj["apiVersion"], obj["kind"])
        where = obj["metadata"].get("namespace") or self.namespace
        if not resource.namespaced or where != self.namespace:
            return None
        try:
            found = request_json(self.api, "GET", resource.path(where, obj["metadata"]["name"]))
        except ApiException:
            return None  # absent (404), or not ours to read (403): the request says what the server says
        owner = (found["metadata"].get("labels") or {}).get(SESSION_LABEL, "")
        if owner != self.session and found["metadata"].get("deletionTimestamp"):
            # going already (a notebook run again from the top closed its earlier session): wait it out
            uid = found["metadata"]["uid"]
            waiting.wait_until(where, obj["metadata"]["name"],
                               WaitCondition("deleted", lambda o: o is None or o["metadata"].get("uid") != uid),
                               kind=obj["kind"], api_version=obj["apiVersion"], timeout=DELETION, api=self.api)
            return None
        return None if owner == self.session else owner

    def show(self, path: str | os.PathLike[str], *, dry_run: bool = False, post_to: str | None = None) -> None:
        """Print a manifest file and the kubectl command that applies it in this lab (dry_run: as
        apply(dry_run=True) does; post_to: the API path a cell POSTs it to with request, {namespace} the lab's)."""
        where = None if post_to is None else post_to.replace("{namespace}", self.namespace)
        print(manifests.manifest_listing(path, self.namespace, dry_run=dry_run, post_to=where), end="")

    def delete(self, target: str | Manifest, *, kind: str = "Pod", api_version: str = "v1",
               grace_period: int | None = None, wait: bool = True, timeout: float = DELETION) -> list[str]:
        """Delete a pod by name, or what a manifest describes; wait until it is gone unless wait=False."""
        if isinstance(target, str) and _POD_NAME.match(target) and not manifests.is_manifest_path(target):
            target = {"apiVersion": api_version, "kind": kind, "metadata": {"name": target}}
        if self.classroom is not None:  # never an object of another session of the student's
            target = [obj for obj in manifests.load_manifests(target) if self._others(obj) is None]
        return manifests.delete(self.namespace, target, grace_period=grace_period, wait=wait,
                                timeout=timeout, api=self.api)

    def request(self, method: str, path: str, body: str | os.PathLike[str] | Mapping[str, Any] | None = None, *,
                content_type: str = "application/json") -> ServerReply:
        """Send one raw API request; return the status and message ({namespace}: the lab's; a file: its YAML)."""
        if isinstance(body, (str, os.PathLike)):
            body = yaml.safe_load(Path(body).read_text())
        return send_request(self.api, method, path.replace("{namespace}", self.namespace), body=body,
                            content_type=content_type)

    def get(self, kind: str, name: str, *, api_version: str = "v1",
            namespace: str | None = None) -> KubeObject:
        """Any object as the server has it now (namespaced kinds: in the lab's namespace)."""
        resource = resource_for(self.api, api_version, kind)
        where = (namespace or self.namespace) if resource.namespaced else None
        try:
            return KubeObject(request_json(self.api, "GET", resource.path(where, name)))
        except ApiException as e:
            raise api_error(e, f"reading {kind.lower()}/{name}") from None

    def pod(self, name: str) -> KubeObject:
        """The pod as the API server has it now."""
        return self.get("Pod", name)

    def recreate_until(self, manifest: Manifest, pod: str, test: Callable[[KubeObject], bool], *,
                       description: str, attempts: int = 3, timeout: float = POD_START) -> int:
        """Apply manifest and wait until pod is Ready; while test(pod) fails, delete the pod and
        apply again (at most attempts times); return the attempts used.

        For what is fixed when a container starts but may lag the API server: Service variables
        come from the kubelet's own Service watch, so a pod created right after its Service can
        start without them (upstream's conformance test retries the same way).
        """
        for attempt in range(1, attempts + 1):
            self.apply(manifest)
            if test(self.wait(pod, ready, timeout=timeout)):
                return attempt
            if attempt < attempts:
                self.delete(pod)
        raise PodlabError(f"pod/{pod} did not start {description} in {attempts} attempts.",
                          hint="Look at what the container got: lab.env(pod); and at lab.events(pod).")

    # -- waits -------------------------------------------------------------------------------
    # Each returns the state that satisfied it, a KubeObject. In a notebook a pod displays
    # as one stable line, because a trailing `;` does not hide a cell's result under nbval
    # (it runs cells with store_history=False).

    def wait(self, name: str, condition: WaitCondition, *, kind: str = "Pod", api_version: str = "v1",
             timeout: float = POD_START) -> KubeObject | None:
        """Wait until condition (podlab.ready, podlab.in_phase(...), ...) holds for the named object."""
        return waiting.wait_until(self.namespace, name, condition, kind=kind, api_version=api_version,
                                  timeout=timeout, api=self.api)

    def wait_for_objects(self, kind: str, label_selector: str, predicate: waiting.ObjectsPredicate, *,
                         description: str, api_version: str = "v1",
                         timeout: float = POD_START) -> KubeObjects:
        """Wait until predicate(all objects of kind matching label_selector) holds, e.g. EndpointSlices."""
        return waiting.wait_for_objects(self.namespace, kind, label_selector, predicate,
                                        description=description, api_version=api_version,
                                        timeout=timeout, api=self.api)

    # -- looking inside ----------------------------------------------------------------------

    def exec(self, pod: str, command: Command, *, container: str | None = None,
             timeout: float = EXEC) -> ExecResult:
        """Run a command in the pod (a string runs under `sh -c`); .check() insists on exit code 0."""
        return pods.exec_in_pod(self.namespace, pod, command, container=container, timeout=timeout,
                                api=self.api)

    def exec_until(self, pod: str, test: Command, *, container: str | None = None,
                   timeout: float = EXEC_UNTIL) -> float:
        """Run test in the pod until it exits 0 (backing off, bounded); return the seconds waited."""
        return pods.exec_until(self.namespace, pod, test, container=container, timeout=timeout,
                               api=self.api)

    def attach(self, pod: str, send: str, *, until: str, container: str | None = None,
               tty: bool = True, timeout: float = EXEC) -> str:
        """Attach to a container's stdin/stdout (`kubectl attach -i [-t]`), type send, and return
        what the container wrote until `until` appeared in it."""
        return pods.attach(self.namespace, pod, send, until=until, container=container, tty=tty,
                           timeout=timeout, api=self.api)

    def env(self, pod: str, *, container: str | None = None) -> dict[str, str]:
        """The environment a new process in the container starts with."""
        return pods.env(self.namespace, pod, container=container, api=self.api)

    def read_file(self, pod: str, path: str, *, container: str | None = None) -> str:
        """A file's contents as the container sees it."""
        return pods.read_file(self.namespace, pod, path, container=container, api=self.api)

    def logs(self, pod: str, *, container: str | None = None, previous: bool = False,
             tail_lines: int | None = None) -> str:
        """A container's log."""
        return pods.logs(self.namespace, pod, container=container, previous=previous,
                         tail_lines=tail_lines, api=self.api)

    def wait_for_log(self, pod: str, text: str, *, container: str | None = None,
                     timeout: float = POD_START) -> str:
        """Follow a container's log until text appears in it; return the log so far."""
        return pods.wait_for_log(self.namespace, pod, text, container=container, timeout=timeout,
                                 api=self.api)

    def wait_for_event(self, involved_name: str, reason: str, *, timeout: float = POD_START) -> KubeObject:
        """Wait until an event with this reason about involved_name is recorded; return it."""
        return waiting.wait_for_event(self.namespace, involved_name, reason, timeout=timeout, api=self.api)

    def processes(self, pod: str, *, container: str | None = None) -> list[pods.Process]:
        """The processes a container sees (`ps`): (pid, user, args), without the ps itself."""
        return pods.processes(self.namespace, pod, container=container, api=self.api)

    def events(self, involved_name: str | None = None) -> list[Event]:
        """The lab's events (about involved_name if given), oldest first."""
        return events(self.namespace, involved_name, api=self.api)

    def read_node_file(self, path: str, *, node: str | None = None) -> str:
        """A file a pod wrote under NODE_SHARE_DIR on its node."""
        return read_node_file(path, namespace=self.namespace, node=node, api=self.api)

    def timeline(self, pod: str, *, marks: str | None = None, record: bool = True,
                 timeout: float | None = None) -> "Timeline":
        """Record the pod's moments (status, events, its containers' marks) from now on: a podlab.timing.Timeline."""
        from .timeline import RECORDING, Timeline
        return Timeline(self.namespace, pod, marks=marks, record=record, timeout=timeout or RECORDING,
                        api=self.api)


def open_lab(name: str, *, kubeconfig: Path | None = None) -> Lab:
    """Open a lab session in a namespace of its own (podlab-<name>-<session>); usable as a context manager too."""
    return Lab(name, kubeconfig=kubeconfig).open()


def lab_namespaces(names: Iterable[str] | None = None, *, kubeconfig: Path | None = None) -> list[str]:
    """The lab namespaces that exist now (all of them, or only those of the named labs); in classroom
    mode, the student's namespace while objects of those labs' sessions are in it."""
    classroom = connection(kubeconfig).classroom
    if classroom is not None:  # a student may not list namespaces, and a session owns none
        api = connect(kubeconfig)
        held = session_objects(api, classroom.namespace, f"{_selector(names)},{SESSION_LABEL}", served_resources(api))
        return [classroom.namespace] if held else []
    return sorted(_lab_namespaces(connect(kubeconfig), names))


def _selector(names: Iterable[str] | None) -> str:
    selector = f"{MANAGED_BY}=podlab"
    if names is not None:
        selector += f",{LAB_LABEL} in ({','.join(sorted(names))})"
    return selector


def _lab_namespaces(api: client.ApiClient, names: Iterable[str] | None) -> dict[str, dict[str, Any]]:
    """Lab namespace (a session's own, or one it applied) → its metadata."""
    try:
        listing = request_json(api, "GET", "/api/v1/namespaces", query=[("labelSelector", _selector(names))])
    except ApiException as e:
        raise api_error(e, "listing lab namespaces") from None
    return {ns["metadata"]["name"]: ns["metadata"] for ns in listing.get("items") or []}


def _gone_sessions(namespaces: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """Session id → its namespaces, for each session that is gone: none of its namespaces names a
    holder that still runs (here, or on another machine). "" collects namespaces without a session label."""
    sessions: dict[str, list[str]] = {}
    alive: set[str] = set()
    for name, metadata in namespaces.items():
        session = (metadata.get("labels") or {}).get(SESSION_LABEL, "")
        sessions.setdefault(session, []).append(name)
        if session and holder_alive((metadata.get("annotations") or {}).get(HOLDER, "")) is not False:
            alive.add(session)
    return {session: sorted(found) for session, found in sessions.items() if session not in alive}


def sweep_labs(names: Iterable[str] | None = None, *, kubeconfig: Path | None = None) -> list[str]:
    """Delete what the gone sessions (of the named labs, or all) own, cluster-scoped objects included;
    return their namespaces' names.

    A session is gone when none of its namespaces names a holder that still runs, here or on another
    machine; a session that runs keeps everything.
    """
    api = connect(kubeconfig)
    with LiveStatus("deleting what ended lab sessions left"):
        # Objects first: a session creates its namespace before anything else, so an object listed
        # here whose session has no namespace in the later listing belongs to a session that ended.
        owned = owned_objects(api, _selector(names))
        namespaces = _lab_namespaces(api, names)
        gone = _gone_sessions(namespaces)
        live = {(m.get("labels") or {}).get(SESSION_LABEL) for m in namespaces.values()}
        for _, obj in owned:
            session = (obj["metadata"].get("labels") or {}).get(SESSION_LABEL)
            if session and session not in live:
                gone.setdefault(session, [])
        _remove_gone(api, gone, wait=True)
    return sorted(ns for found in gone.values() for ns in found)


def sweep_namespace(api: client.ApiClient, namespace: str) -> list[str]:
    """Classroom mode: in a student's namespace, delete (without waiting) the objects of lab sessions
    that are gone (no anchor, or an anchor whose holder no longer runs); return those sessions.

    Objects are listed before anchors: a session creates its anchor before anything else, so an
    object whose session has no anchor in the later listing belongs to a session that ended.
    """
    owned = session_objects(api, namespace, f"{MANAGED_BY}=podlab,{SESSION_LABEL}",
                            served_resources(api, verbs=("list", "delete")))
    try:
        anchors = request_json(api, "GET", f"/api/v1/namespaces/{namespace}/configmaps",
                               query=[("labelSelector", f"{MANAGED_BY}=podlab,{SESSION_LABEL}")]).get("items") or []
    except ApiException as e:
        raise api_error(e, f"listing the lab sessions in {namespace}") from None
    alive = {(a["metadata"].get("labels") or {}).get(SESSION_LABEL) for a in anchors
             if a["metadata"]["name"].startswith(ANCHOR_PREFIX)
             and holder_alive((a["metadata"].get("annotations") or {}).get(HOLDER, "")) is not False}
    gone = sorted({(obj["metadata"].get("labels") or {}).get(SESSION_LABEL, "") for _, obj in owned} - alive - {""})
    for session in gone:
        remove_session_in(api, namespace, session, wait=False)
    return gone


def _remove_gone(api: client.ApiClient, gone: Mapping[str, Sequence[str]], *, wait: bool) -> None:
    """Remove what the gone sessions own: first their static pod files, while the records and mirror pods in
    their namespaces still show where they are (podlab.staticpods), then their objects and namespaces."""
    try:
        remove_orphans(api, [session for session in gone if session], wait=wait)
    except PodlabError as e:  # the rest goes all the same
        print(f"podlab: could not remove the static pod files of ended sessions: {e}", file=sys.stderr)
    for session, namespaces in sorted(gone.items()):
        _remove(api, session, namespaces, wait=wait)


def _remove(api: client.ApiClient, session: str, namespaces: Sequence[str], *, wait: bool) -> None:
    """Remove what a gone session owns (namespaces without a session label: just those)."""
    if session:
        remove_session(api, session, wait=wait)
    else:
        _delete_namespaces(api, namespaces, wait=wait)


def _holder() -> str:
    """This process, as a namespace's holder annotation names it: host, pid, process start time."""
    return f"{socket.gethostname()} {os.getpid()} {_started(os.getpid())}"


def _started(pid: int) -> str:
    """The process's start time in clock ticks since boot (/proc/PID/stat field 22), or '?' without /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "?"
    return stat.rsplit(")", 1)[1].split()[19]


def holder_alive(holder: str) -> bool | None:
    """Whether the session process a holder annotation names still runs (None: it runs on another host)."""
    parts = holder.split()
    if len(parts) != 3 or not parts[1].isdigit():
        return False  # no holder (a namespace of an older podlab): nobody holds it
    host, pid, started = parts
    if host != socket.gethostname():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, run by another user
    return started == "?" or _started(int(pid)) == started


def _delete_namespaces(api: client.ApiClient, namespaces: Sequence[str], *, wait: bool = True) -> None:
    """Delete namespaces and wait until all are gone."""
    pending = [namespace for namespace in namespaces if delete_namespace(api, namespace)]
    for namespace in pending if wait else []:
        waiting.wait_until(None, namespace, deleted, kind="Namespace", timeout=DELETION, api=api)


def _run_all(undos: Iterable[Callable[[], object]]) -> None:
    """Call each undo; one that fails does not stop the others, and the first failure is raised at the end."""
    failures: list[BaseException] = []
    for undo in undos:
        try:
            undo()
        except Exception as e:
            print(f"podlab: a deferred undo failed: {e}", file=sys.stderr)
            failures.append(e)
    if failures:
        raise failures[0]


def _register_exit_cleanup() -> None:
    """(Re-)register the exit handler so that it runs before any registered earlier.

    Exit handlers run last-registered-first. Loading a kubeconfig with inline certificates
    registers the kubernetes client's own handler that deletes the temporary certificate
    files; closing a lab after that would fail its TLS handshake. A Lab loads its kubeconfig
    before opening, so registering here puts podlab's cleanup ahead of it.
    """
    atexit.unregister(_close_all_at_exit)
    atexit.register(_close_all_at_exit)


def _close_all_at_exit() -> None:
    for lab in list(_open_labs.values()):
        try:
            with quiet():  # the kernel's frontend may already be gone
                lab.close(wait=False)  # deletion goes on server-side; don't hold up the exit
        except Exception as e:  # never turn interpreter exit into a traceback storm
            print(f"podlab: could not delete namespace {lab.namespace}: {e}", file=sys.stderr)
