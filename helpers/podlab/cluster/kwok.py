"""KWOK, the controller that makes Node objects act as nodes: a cluster add-on, installed once.

The controller runs in the cluster as upstream ships it: the Deployment, RBAC, CRDs and
FlowSchema of the module's `kustomize/kwok`, and the default Stages of `kustomize/stage/fast`
(node initialize, node heartbeat with Lease, pod ready/complete/delete), rendered from the
module's own kustomization files with the image set the way upstream's `hack/manifests.sh`
sets it, then applied server-side. Its image `registry.k8s.io/kwok/kwok:v0.8.0` is built from
the Go module (as upstream's `hack/releases.sh` builds the binary, in the layout of
`images/kwok/Dockerfile`) and imported into the local node's containerd, or loaded into a kind
node with `kind load image-archive` (a kind cluster without the archive pulls it instead).

Why an add-on and not per session: the controller, its CRDs, ClusterRole and Stages are
cluster-wide and shared by every session's fake nodes; a session that installed and removed
them would pull the controller from under another session's nodes. So `ensure()` installs or
updates it (server-side apply: running it again changes nothing), it stays as cluster
infrastructure like CoreDNS, and it goes with the cluster (`podlab down`). The fake nodes are
per session (podlab.fakenodes): they are labelled with the session by `lab.apply` and removed
with the lab.
"""

from __future__ import annotations

import contextlib
import copy
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client

from .. import paths
from ..errors import PodlabError
from ..progress import step

VERSION = "v0.8.0"
MODULE = "sigs.k8s.io/kwok"
IMAGE = f"registry.k8s.io/kwok/kwok:{VERSION}"
NAMESPACE = "kube-system"
DEPLOYMENT = "kwok-controller"
# The kustomizations upstream releases as kwok.yaml and stage-fast.yaml (its Makefile's MANIFESTS).
CONTROLLER_KUSTOMIZATION = "kustomize/kwok"
STAGES_KUSTOMIZATION = "kustomize/stage/fast"
# The annotation that makes upstream's default configuration manage a node.
MANAGED_ANNOTATION = ("kwok.x-k8s.io/node", "fake")
# What the kwok-controller's startup probe allows, and more: a cold pod start on a busy node.
READY_TIMEOUT = 180.0
# The kustomization keys render() understands; anything else is refused rather than ignored.
KNOWN_KEYS = {"apiVersion", "kind", "namespace", "resources", "configMapGenerator", "labels", "images"}
# kustomize's output order (its "legacy" sort): what others depend on first, webhooks last.
KIND_ORDER = ("Namespace", "ResourceQuota", "StorageClass", "CustomResourceDefinition", "ServiceAccount",
              "PodSecurityPolicy", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ConfigMap", "Secret",
              "Endpoints", "Service", "LimitRange", "PriorityClass", "PersistentVolume", "PersistentVolumeClaim",
              "Deployment", "StatefulSet", "CronJob", "PodDisruptionBudget")
LAST_KINDS = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")


# ---------------------------------------------------------------- the module and its manifests

def module_dir() -> Path:
    """The KWOK module's source (downloaded into Go's module cache if missing)."""
    from .local.build import module_source
    return module_source(MODULE, VERSION)


def _load_yaml_file(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _kustomization(directory: Path) -> dict[str, Any]:
    for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        if (directory / name).is_file():
            data = yaml.safe_load((directory / name).read_text()) or {}
            unknown = set(data) - KNOWN_KEYS
            if unknown:
                raise PodlabError(f"{directory}/{name} uses kustomize features podlab does not render: "
                                  f"{', '.join(sorted(unknown))}.",
                                  hint="Render it with a kustomize binary (`kustomize build`) instead.")
            return data
    raise PodlabError(f"{directory} has no kustomization file.", hint="Check the KWOK module version.")


def _namespaced(obj: dict[str, Any]) -> bool:
    """Whether kustomize's namespace transformer sets a namespace (its built-in schema; unknown kinds: yes).

    kustomize v5.5 does not know FlowSchema is cluster-scoped and sets it; the apply (discovery)
    drops it again, as the server does for `kubectl apply`.
    """
    cluster_scoped = {"CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "Namespace", "Node",
                      "PersistentVolume", "StorageClass", "PriorityClass", "APIService"}
    return obj.get("kind") not in cluster_scoped


def _set_labels(obj: dict[str, Any], pairs: dict[str, str], include_selectors: bool) -> None:
    obj.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
    if not include_selectors:
        return
    kind, spec = obj.get("kind"), obj.get("spec")
    if kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet") and isinstance(spec, dict):
        spec.setdefault("selector", {}).setdefault("matchLabels", {}).update(pairs)
        spec.setdefault("template", {}).setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
    elif kind == "Service" and isinstance(spec, dict):
        spec.setdefault("selector", {}).update(pairs)


def _set_images(obj: dict[str, Any], images: list[dict[str, str]]) -> None:
    pod_spec = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    for container in [*(pod_spec.get("initContainers") or []), *(pod_spec.get("containers") or [])]:
        name = container["image"].split("@")[0]
        name = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
        for image in images:
            if image["name"] == name:
                container["image"] = f"{image.get('newName', name)}:{image['newTag']}"


def render(directory: Path, *, images: list[dict[str, str]] | None = None) -> list[dict[str, Any]]:
    """`kustomize build directory` for the features KWOK's release kustomizations use.

    resources (files and directories, recursively), namespace, configMapGenerator (files,
    disableNameSuffixHash), labels (with includeSelectors) and images (as `kustomize edit set
    image` writes them); any other key is refused.
    """
    spec = _kustomization(directory)
    objects: list[dict[str, Any]] = []
    for entry in spec.get("resources") or []:
        path = (directory / entry).resolve()
        objects += render(path) if path.is_dir() else _load_yaml_file(path)
    for generator in spec.get("configMapGenerator") or []:
        options = generator.get("options") or {}
        if not options.get("disableNameSuffixHash"):
            raise PodlabError(f"{directory}: a configMapGenerator with a name hash is not rendered by podlab.",
                              hint="Render it with a kustomize binary (`kustomize build`).")
        data = {Path(f).name: (directory / f).read_text() for f in generator.get("files") or []}
        metadata = {"name": generator["name"]}
        if generator.get("namespace"):
            metadata["namespace"] = generator["namespace"]
        objects.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data})
    namespace = spec.get("namespace")
    for obj in objects:
        if namespace and _namespaced(obj):
            obj.setdefault("metadata", {})["namespace"] = namespace
        for label in spec.get("labels") or []:
            _set_labels(obj, dict(label.get("pairs") or {}), bool(label.get("includeSelectors")))
        _set_images(obj, [*(spec.get("images") or []), *(images or [])])
    return objects


def kustomize_order(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The objects in the order `kustomize build` prints them: by kind as above, then kind, namespace, name."""
    def rank(obj: dict[str, Any]) -> tuple[int, str, str, str]:
        kind = obj["kind"]
        if kind in KIND_ORDER:
            first = KIND_ORDER.index(kind)
        else:
            first = len(KIND_ORDER) + 1 + LAST_KINDS.index(kind) if kind in LAST_KINDS else len(KIND_ORDER)
        metadata = obj.get("metadata") or {}
        return first, f"{obj.get('apiVersion')}/{kind}", metadata.get("namespace") or "", metadata["name"]
    return sorted(objects, key=rank)


def release_images() -> list[dict[str, str]]:
    """The image edit upstream's hack/manifests.sh makes for a release."""
    name = IMAGE.rsplit(":", 1)[0]
    return [{"name": name, "newName": name, "newTag": VERSION}]


def controller_manifests(source: Path | None = None) -> list[dict[str, Any]]:
    """The release manifest kwok.yaml: CRDs, RBAC, FlowSchema, ConfigMap, Service, Deployment."""
    return kustomize_order(render((source or module_dir()) / CONTROLLER_KUSTOMIZATION, images=release_images()))


def stage_manifests(source: Path | None = None) -> list[dict[str, Any]]:
    """The release manifest stage-fast.yaml: the default node and pod lifecycle Stages."""
    return kustomize_order(render((source or module_dir()) / STAGES_KUSTOMIZATION))


# ---------------------------------------------------------------- the image

def recipe():
    """How the kwok binary is built from the module (CGO_ENABLED=0, version stamped as releases do)."""
    from .local.build import GOMOD, GoBuild
    return GoBuild("kwok", VERSION, GOMOD / "kwok", (f"{MODULE}/cmd/kwok",), ("kwok",),
                   ldflags=f"-s -w -X {MODULE}/pkg/consts.Version={VERSION}")


def image_spec(binary: Path):
    """The image as upstream's images/kwok/Dockerfile lays it out (without Alpine's userland)."""
    from .local.images import ETC_GROUP, ETC_PASSWD, ImageSpec, Entry, DEFAULT_PATH
    entries = (Entry("usr/local/bin/kwok", "file", 0o755, binary.read_bytes()), Entry("tmp", "dir", 0o1777),
               Entry("root", "dir", 0o700),
               Entry("etc/passwd", "file", 0o644, ETC_PASSWD.encode()),
               Entry("etc/group", "file", 0o644, ETC_GROUP.encode()))
    return ImageSpec(IMAGE, f"kwok-{VERSION}", entries,
                     {"Entrypoint": ["/usr/local/bin/kwok"], "Env": [f"PATH={DEFAULT_PATH}"]})


def archive_link() -> Path:
    """The stable name of the built archive (images/kwok.tar), for `kind load image-archive`."""
    return paths.cache_dir() / "images" / "kwok.tar"


def build_image() -> Path:
    """Build (or reuse) the kwok binary and its image archive; returns the archive."""
    from .local import build, images
    archive = images.cached_archive(image_spec(build.build(recipe()) / "kwok"))
    images.point_link(archive_link(), archive)
    return archive


def kind_load_command(archive: Path, cluster: str = "podlab") -> list[str]:
    """The command that loads the archive into a kind cluster's node (for podlab.cluster.kind)."""
    return ["kind", "load", "image-archive", str(archive), "--name", cluster]


def _provide_image(provider: str | None) -> str:
    """Make the image available to the node; says how."""
    if provider == "local":
        from .local import build, images
        from .local.provider import LocalProvider
        local = LocalProvider()
        ctr = build.containerd_recipe().target() / "ctr"
        address = str(local.layout.containerd_socket)
        if IMAGE in images.present_images(address=address, ctr=ctr):
            return "present in the node's containerd"
        archive = build_image()
        with step(f"importing {IMAGE} into the node's containerd"):
            images.import_image(archive, address=address, ctr=ctr)
        return "built from the Go module and imported"
    if provider == "kind":
        from .kind import CLUSTER, run
        archive = archive_link()
        if not archive.exists():
            return "pulled by the node (no local build to load)"
        with step(f"loading {archive} into the kind node"):
            run(kind_load_command(archive.resolve(), CLUSTER), hint="Check that the kind cluster runs "
                "(`podlab status`).", timeout=600)
        return "loaded from the local build"
    return "pulled by the node"


# ---------------------------------------------------------------- install

@contextlib.contextmanager
def _status(name: str) -> Iterator[None]:
    """A progress line on a terminal; in a notebook a live status that leaves no output behind."""
    from ..livestatus import LiveStatus, in_kernel

    if not in_kernel():
        with step(name):
            yield
        return
    # The build's own progress lines (timings) would be stored in the notebook: keep them out.
    with LiveStatus(name), contextlib.redirect_stderr(io.StringIO()):
        yield


def _apply(api: client.ApiClient, objects: list[dict[str, Any]]) -> None:
    from .. import manifests
    manifests.apply(NAMESPACE, copy.deepcopy(objects), api=api)


def ensure(api: client.ApiClient | None = None, *, provider: str | None = None,
           timeout: float = READY_TIMEOUT) -> str:
    """Install or update the KWOK controller and its Stages (needs cluster-admin); wait until it is available.

    Returns one line saying what was done. Running it again changes nothing.
    """
    from .. import cluster as clusters
    from ..conditions import WaitCondition, satisfies
    from ..connect import connect
    from ..waiting import wait_until

    api = api or connect()
    provider = provider or clusters.active_provider_name()
    with _status(f"installing KWOK {VERSION} (controller in {NAMESPACE}, CRDs, RBAC, Stages)"):
        source = module_dir()
        how = _provide_image(provider)
        controller = controller_manifests(source)
        crds = [o for o in controller if o["kind"] == "CustomResourceDefinition"]
        _apply(api, crds)
        established = satisfies(lambda crd: any(c.get("type") == "Established" and c.get("status") == "True"
                                                for c in ((crd or {}).get("status") or {}).get("conditions") or []),
                                "Established")
        for crd in crds:
            wait_until(None, crd["metadata"]["name"], established, kind="CustomResourceDefinition",
                       api_version="apiextensions.k8s.io/v1", timeout=60, api=api)
        _apply(api, [o for o in controller if o["kind"] != "CustomResourceDefinition"])
        _apply(api, stage_manifests(source))
        available = WaitCondition("available (kwok-controller ready)",
                                   lambda d: d is not None
                                   and ((d.get("status") or {}).get("availableReplicas") or 0) >= 1
                                   and (d.get("status") or {}).get("observedGeneration", 0)
                                   >= (d.get("metadata") or {}).get("generation", 1)
                                   and ((d.get("status") or {}).get("updatedReplicas") or 0) >= 1)
        wait_until(NAMESPACE, DEPLOYMENT, available, kind="Deployment", api_version="apps/v1",
                   timeout=timeout, api=api)
    return f"KWOK {VERSION}: controller available in {NAMESPACE} (image {IMAGE}: {how})"


def remove(api: client.ApiClient | None = None) -> list[str]:
    """Remove everything ensure() installed (Stages, controller, RBAC, CRDs); returns what was deleted."""
    from .. import manifests
    from ..connect import connect

    api = api or connect()
    source = module_dir()
    removed = manifests.delete(NAMESPACE, stage_manifests(source), api=api)
    controller = controller_manifests(source)
    removed += manifests.delete(NAMESPACE, [o for o in controller if o["kind"] != "CustomResourceDefinition"],
                                api=api)
    removed += manifests.delete(NAMESPACE, [o for o in controller if o["kind"] == "CustomResourceDefinition"],
                                api=api)
    return removed


if __name__ == "__main__":  # python -m podlab.cluster.kwok: install on the current cluster
    print(ensure(), file=sys.stderr)
