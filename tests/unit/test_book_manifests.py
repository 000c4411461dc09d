"""Every manifest file beside a chapter or lab is one a reader can `kubectl apply -f` as it is.

Its containers run the lab image with imagePullPolicy IfNotPresent, which every node has, so
nothing is pulled. A file that must differ to make its point (an image policy left to its
default, a missing image) says so in a comment line `# podlab: image exception: <why>`.
The lab image is podlab.LAB_IMAGE; podlab.AGNHOST_IMAGE (upstream's e2e test image) serves
what busybox cannot, such as a gRPC health endpoint.

A file that reproduces a source's broken YAML or manifest (to show what a reader gets from it)
says so in a comment line `# podlab: not valid YAML: <why>` or `# podlab: not a valid manifest:
<why>`, and must then really fail to load.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from podlab.images import AGNHOST_IMAGE, LAB_IMAGE
from podlab.errors import PodlabError
from podlab.exercises import DECLARATIONS
from podlab.manifests import load_manifests

ROOT = Path(__file__).resolve().parents[2]
# A lab's exercises.yaml declares its exercises (podlab.exercises): not a manifest.
FILES = sorted(p for p in [*ROOT.glob("book/*/*.yaml"), *ROOT.glob("labs/*/*.yaml")] if p.name != DECLARATIONS)
IMAGE_EXCEPTION = "# podlab: image exception: "
INVALID = {"# podlab: not valid YAML: ": "is not valid YAML", "# podlab: not a valid manifest: ": "lacks apiVersion"}


def declared_invalid(path: Path) -> str | None:
    """The load error a file declares, with a reason, that it makes on purpose (None: it must load)."""
    for line in path.read_text().splitlines():
        for marker, error in INVALID.items():
            if line.startswith(marker) and line[len(marker):].strip():
                return error
    return None


def containers(obj: dict) -> list[dict]:
    spec = obj.get("spec") or {}
    return [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]


def test_there_are_manifest_files():
    assert FILES, "no manifest files found under book/ or labs/"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_manifest_loads_and_uses_the_lab_image(path: Path):
    error = declared_invalid(path)
    if error:
        with pytest.raises(PodlabError, match=error):
            load_manifests(path)
        return
    objects = load_manifests(path)
    assert objects, f"{path} holds no object"
    for obj in objects:
        assert "namespace" not in obj["metadata"], f"{path}: the lab chooses the namespace"
        if any(line.startswith(IMAGE_EXCEPTION) and line[len(IMAGE_EXCEPTION):].strip()
               for line in path.read_text().splitlines()):
            continue
        for container in containers(obj):
            assert container["image"] in (LAB_IMAGE, AGNHOST_IMAGE), \
                f"{path}: {container['name']} uses {container['image']}"
            assert container.get("imagePullPolicy") == "IfNotPresent", f"{path}: {container['name']}"


def test_image_exceptions_name_their_reason():
    for path in FILES:
        for line in path.read_text().splitlines():
            if line.startswith("# podlab: image exception"):
                assert line.startswith(IMAGE_EXCEPTION) and line[len(IMAGE_EXCEPTION):].strip(), \
                    f"{path}: say why after '{IMAGE_EXCEPTION}'"
