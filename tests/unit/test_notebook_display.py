"""Values a notebook cell may end with display as one stable line."""

from __future__ import annotations

from kubernetes import client

from podlab.objects import KubeObject, KubeObjects, pod_line


def test_pod_line_shows_name_phase_and_readiness_only():
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="demo", uid="0f3c", resource_version="812"),
        status=client.V1PodStatus(phase="Running", pod_ip="10.0.0.7", conditions=[
            client.V1PodCondition(type="PodScheduled", status="True"),
            client.V1PodCondition(type="Ready", status="True")]))
    assert pod_line(pod) == "pod/demo: Running, Ready=True"
    assert pod_line(client.V1Pod(metadata=client.V1ObjectMeta(name="new"))) == "pod/new: Unknown, Ready=Unknown"


def test_objects_show_kind_and_name_or_count_but_stay_plain_data():
    web = KubeObject({"kind": "Deployment", "metadata": {"name": "web", "resourceVersion": "9"}})
    assert repr(web) == "deployment/web"
    assert web["metadata"]["resourceVersion"] == "9" and isinstance(web, dict)
    slices = KubeObjects([{"kind": "EndpointSlice", "metadata": {"name": "web-x7k2p"}}], "EndpointSlice")
    assert repr(slices) == "1 endpointslice object"
    assert repr(KubeObjects([], "EndpointSlice")) == "0 endpointslice objects"
    assert slices[0]["metadata"]["name"] == "web-x7k2p"
