"""V1Pod objects in the states the unit tests read (built here: no cluster)."""

from __future__ import annotations

from kubernetes import client


def container(name: str = "app", *, running: bool = False, waiting: str | None = None,
              terminated: tuple[int, str] | None = None, last: tuple[int, str] | None = None,
              restarts: int = 0, ready: bool = False) -> client.V1ContainerStatus:
    def ended(t: tuple[int, str]) -> client.V1ContainerStateTerminated:
        return client.V1ContainerStateTerminated(exit_code=t[0], reason=t[1])
    state = client.V1ContainerState(
        running=client.V1ContainerStateRunning() if running else None,
        waiting=client.V1ContainerStateWaiting(reason=waiting) if waiting else None,
        terminated=ended(terminated) if terminated else None)
    return client.V1ContainerStatus(
        name=name, ready=ready, restart_count=restarts, image="busybox", image_id="", state=state,
        last_state=client.V1ContainerState(terminated=ended(last)) if last else None)


def pod(phase: str | None = "Pending", *, conditions: dict[str, str] | None = None,
        scheduled: tuple[str, str | None, str | None] | None = None, node: str | None = None,
        containers: list[client.V1ContainerStatus] | None = None,
        init: list[client.V1ContainerStatus] | None = None, name: str = "demo") -> client.V1Pod:
    """A pod; conditions maps type → status, scheduled gives PodScheduled's (status, reason, message)."""
    found = [client.V1PodCondition(type=t, status=s) for t, s in (conditions or {}).items()]
    if scheduled:
        found.insert(0, client.V1PodCondition(type="PodScheduled", status=scheduled[0], reason=scheduled[1],
                                              message=scheduled[2]))
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PodSpec(node_name=node, containers=[client.V1Container(name="app")]),
        status=client.V1PodStatus(phase=phase, conditions=found or None, container_statuses=containers,
                                  init_container_statuses=init))
