"""Live: one probe, run in both lab images' shells, pins what the book relies on in each.

The local provider builds busybox and agnhost itself (helpers/podlab/cluster/local/images.py);
kind pulls the published images. The same command in the same pod shape must answer alike.
"""

from __future__ import annotations

import pytest

from podlab._api import request_json
from podlab.conditions import in_phase
from podlab.images import AGNHOST_IMAGE, LAB_IMAGE

pytestmark = pytest.mark.live

PROBE = "id; cat /etc/hostname; env"
IMAGES = {"busybox": (LAB_IMAGE, PROBE), "agnhost": (AGNHOST_IMAGE, PROBE + "; curl --version")}


def probe_pod(name: str, image: str, script: str) -> dict:
    """A pod that runs `script` in the image's `sh` once and exits."""
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
                     "containers": [{"name": "probe", "image": image, "imagePullPolicy": "IfNotPresent",
                                     "command": ["sh", "-c", script]}]}}


@pytest.mark.parametrize("which", sorted(IMAGES))
def test_the_probe_answers_what_the_book_relies_on(lab, live_cluster, which):
    image, script = IMAGES[which]
    name = f"probe-{which}"
    lab.apply(probe_pod(name, image, script))
    lab.wait(name, in_phase("Succeeded"), timeout=90)   # every command of the probe exited 0
    lines = lab.logs(name).splitlines()
    print("\n".join(lines))
    assert lines[0].startswith("uid=0(root) gid=0(root)"), lines[0]
    assert lines[1] == name                                   # /etc/hostname is the pod's name
    env = dict(line.split("=", 1) for line in lines[2:] if "=" in line and not line.startswith(" "))
    assert env.get("HOSTNAME") == name
    service = request_json(live_cluster, "GET", "/api/v1/namespaces/default/services/kubernetes")
    assert env.get("KUBERNETES_SERVICE_HOST") == service["spec"]["clusterIP"]
    assert env.get("PATH", "").split(":")[-1] == "/bin"
    if which == "agnhost":
        curl = [line for line in lines if line.startswith("curl ")]
        assert curl and "libcurl/" in curl[0], "agnhost's image has no working curl"
