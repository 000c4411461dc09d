"""KubeObject, the one type get(), pod() and the waits return: the JSON as served, read like the client's model."""

from __future__ import annotations

import datetime
import json

import pytest
from kubernetes import client

from podlab.objects import KubeObject, model_name

POD = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": "demo", "uid": "0f3c", "creationTimestamp": "2025-01-01T00:00:00Z",
                    "annotations": {"build": "42"}},
       "spec": {"nodeName": "n1", "containers": [{"name": "app", "image": "busybox", "env": [
           {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}]}]},
       "status": {"phase": "Running", "podIP": "10.244.0.7", "hostIP": "10.200.0.1",
                  "conditions": [{"type": "Ready", "status": "True"}]}}


def test_dict_access_is_the_json_as_served():
    pod = KubeObject(POD)
    assert pod == POD and isinstance(pod, dict)
    assert pod["status"]["podIP"] == "10.244.0.7"
    assert json.loads(json.dumps(pod)) == POD


def test_attribute_access_reads_the_client_model():
    pod = KubeObject(POD)
    assert isinstance(pod.model, client.V1Pod)
    assert (pod.status.pod_ip, pod.status.host_ip, pod.spec.node_name) == ("10.244.0.7", "10.200.0.1", "n1")
    assert pod.metadata.annotations == {"build": "42"}
    assert pod.metadata.creation_timestamp == datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
    assert pod.spec.containers[0].env[0].value_from.field_ref.field_path == "status.podIP"
    assert pod.status.container_statuses is None  # absent fields read None, as on the model


def test_kinds_without_a_model_say_to_use_dict_access():
    widget = KubeObject({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})
    assert widget.model is None
    with pytest.raises(AttributeError, match=r"obj\['spec'\]"):
        widget.spec


def test_list_items_get_their_kind_and_api_version():
    item = KubeObject({"metadata": {"name": "x"}}, kind="Pod", api_version="v1")
    assert (item["kind"], item["apiVersion"], repr(item)) == ("Pod", "v1", "pod/x")


@pytest.mark.parametrize("api_version, kind, expected", [
    ("v1", "Pod", "V1Pod"), ("apps/v1", "Deployment", "V1Deployment"),
    ("discovery.k8s.io/v1", "EndpointSlice", "V1EndpointSlice"), ("v1", "Event", "CoreV1Event"),
    ("events.k8s.io/v1", "Event", "EventsV1Event"), ("example.com/v1", "Widget", None), ("", "Pod", None)])
def test_model_names(api_version, kind, expected):
    assert model_name(api_version, kind) == expected


def test_a_pod_shows_as_one_stable_line_in_a_notebook():
    class Printer:
        text = staticmethod(lambda s: shown.append(s))
    shown: list[str] = []
    KubeObject(POD)._repr_pretty_(Printer(), False)
    KubeObject({"kind": "Service", "metadata": {"name": "web"}})._repr_pretty_(Printer(), False)
    assert shown == ["pod/demo: Running, Ready=True", "service/web"]
    assert repr(KubeObject(POD)) == "pod/demo"
