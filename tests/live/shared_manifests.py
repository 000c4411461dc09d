"""Manifests more than one live test applies (imported by basename: the test folders have no __init__.py)."""

from __future__ import annotations

from podlab.images import LAB_IMAGE


def sleeper_pod(name: str) -> str:
    """A pod with one container `app` whose PID 1 is `sleep 3600`, with the default 30 s grace period.

    `sleep` as PID 1 ignores SIGTERM: the worst case for a cleanup, which must not wait it out.
    """
    return f"""
apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  containers:
  - {{name: app, image: "{LAB_IMAGE}", imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}}
"""
