"""KubeObject, the one type get(), pod() and the waits return: the JSON as served, read by attribute in camelCase."""

from __future__ import annotations

import copy
import json
import pickle

import pytest
from kubernetes import client

from podlab.objects import Fields, KubeObject, as_object, camel_case, parse_time

POD = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": "demo", "uid": "0f3c", "creationTimestamp": "2025-01-01T00:00:00Z",
                    "labels": {"app.kubernetes.io/name": "shop"}, "annotations": {"build": "42"}},
       "spec": {"nodeName": "n1", "containers": [{"name": "app", "image": "busybox", "env": [
           {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}]}]},
       "status": {"phase": "Running", "podIP": "10.244.0.7", "hostIP": "10.200.0.1",
                  "conditions": [{"type": "Ready", "status": "True"}]}}


def test_dict_access_is_the_json_as_served():
    pod = KubeObject(POD)
    assert pod == POD and isinstance(pod, dict)
    assert pod["status"]["podIP"] == "10.244.0.7"
    assert pod["spec"]["containers"][0]["env"][0]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    assert json.loads(json.dumps(pod)) == POD
    assert json.dumps(pod, sort_keys=True) == json.dumps(POD, sort_keys=True)


def test_attributes_read_the_json_in_camel_case():
    pod = KubeObject(POD)
    assert (pod.status.podIP, pod.status.hostIP, pod.spec.nodeName) == ("10.244.0.7", "10.200.0.1", "n1")
    assert pod.metadata.creationTimestamp == "2025-01-01T00:00:00Z"  # the string as served, not parsed
    assert pod.spec.containers[0].name == "app"
    assert pod.spec.containers[0].env[0].valueFrom.fieldRef.fieldPath == "status.podIP"
    assert pod.metadata.annotations == {"build": "42"}


def test_nested_objects_are_wrapped_and_stay_dicts():
    pod = KubeObject(POD)
    for nested in (pod.status, pod["status"], pod.spec.containers[0], pod.status.conditions[0]):
        assert isinstance(nested, Fields) and isinstance(nested, dict)
    assert pod["spec"].containers[0].image == "busybox"  # [] then attributes
    assert pod.status == POD["status"] and pod.status.conditions == POD["status"]["conditions"]
    assert repr(pod.status) == repr(POD["status"])  # nested objects display as the dicts they are


def test_keys_that_are_not_identifiers_read_with_brackets():
    pod = KubeObject(POD)
    assert pod.metadata.labels["app.kubernetes.io/name"] == "shop"
    assert "app.kubernetes.io/name" not in dir(pod.metadata.labels)
    assert {"podIP", "hostIP", "phase"} <= set(dir(pod.status))


def test_a_missing_field_names_itself_and_the_fields_present():
    pod = KubeObject(POD)
    with pytest.raises(AttributeError) as missing:
        pod.status.containerStatuses
    message = str(missing.value)
    assert message.startswith("pod status has no field 'containerStatuses'")
    assert "phase, podIP, hostIP, conditions" in message and ".get('containerStatuses')" in message
    with pytest.raises(AttributeError, match=r"^pod spec\.containers\[0\] has no field 'ports'"):
        pod.spec.containers[0].ports
    assert pod.status.get("containerStatuses") is None


def test_a_snake_case_name_of_an_absent_field_gets_its_camel_case_spelling():
    pod = KubeObject(POD)
    with pytest.raises(AttributeError, match=r"^pod status has no field 'nominated_node_name'; "
                                             r"fields are camelCase: 'nominatedNodeName', which is absent too"):
        pod.status.nominated_node_name
    with pytest.raises(AttributeError, match=r"^pod metadata has no field 'deletion_grace_period_seconds'; "
                                             r"fields are camelCase: 'deletionGracePeriodSeconds'"):
        pod.metadata.deletion_grace_period_seconds
    assert (camel_case("pod_ip"), camel_case("host_i_ps"), camel_case("machine_id")) == ("podIP", "hostIPs", "machineID")


def test_snake_case_names_are_refused_with_the_camel_case_spelling():
    pod = KubeObject(POD)
    with pytest.raises(AttributeError, match="fields are camelCase: 'podIP'"):
        pod.status.pod_ip
    assert pod.status.podIP == "10.244.0.7"


def test_dicts_stored_later_read_by_attribute_too():
    pod = KubeObject(POD)
    pod["spec"]["securityContext"] = {"runAsUser": 1000}
    pod["spec"]["containers"].append({"name": "sidecar"})
    assert pod.spec.securityContext.runAsUser == 1000
    assert pod.spec.containers[1].name == "sidecar"
    assert isinstance(pod["spec"]["securityContext"], Fields)


def test_building_one_leaves_the_served_json_alone():
    raw = copy.deepcopy(POD)
    KubeObject(raw).spec.containers[0]["name"] = "renamed"
    assert raw == POD and type(raw["spec"]["containers"][0]) is dict


def test_dict_method_names_read_with_brackets():
    selector = as_object({"matchExpressions": [{"key": "app", "operator": "In", "values": ["a", "b"]}]})
    requirement = selector.matchExpressions[0]
    assert requirement["values"] == ["a", "b"] and callable(requirement.values)


def test_copies_and_pickles_keep_the_type():
    pod = KubeObject(POD)
    for again in (copy.deepcopy(pod), pickle.loads(pickle.dumps(pod))):
        assert type(again) is KubeObject and again == POD and again.status.podIP == "10.244.0.7"
        with pytest.raises(AttributeError, match="^pod status has no field 'x'"):
            again.status.x


def test_attributes_are_not_writable():
    pod = KubeObject(POD)
    with pytest.raises(AttributeError, match=r"^pod status: attributes only read fields; set one with \[\]"):
        pod.status.phase = "Failed"
    assert pod["status"]["phase"] == "Running"


def test_client_models_and_dicts_read_the_same_way():
    model = client.V1Pod(metadata=client.V1ObjectMeta(name="m"),
                         status=client.V1PodStatus(pod_ip="10.0.0.9", phase="Pending"))
    pod = as_object(model, kind="Pod")
    assert isinstance(pod, KubeObject) and pod.status.podIP == "10.0.0.9" and repr(pod) == "pod/m"
    assert as_object(POD).status.podIP == "10.244.0.7"
    assert as_object(pod) is pod
    with pytest.raises(TypeError, match="expected an API object"):
        as_object("pod/demo")


def test_parse_time_reads_timestamps_as_served():
    created = parse_time(KubeObject(POD).metadata.creationTimestamp)
    assert (created.year, created.utcoffset().total_seconds()) == (2025, 0)
    assert parse_time("2025-01-01T00:00:10.5Z").timestamp() - created.timestamp() == 10.5
    assert parse_time(None) is None


def test_list_items_get_their_kind_and_api_version():
    item = KubeObject({"metadata": {"name": "x"}}, kind="Pod", api_version="v1")
    assert (item["kind"], item["apiVersion"], repr(item)) == ("Pod", "v1", "pod/x")
    with pytest.raises(AttributeError, match="^pod has no field 'spec'"):
        item.spec


def test_a_pod_shows_as_one_stable_line_in_a_notebook():
    class Printer:
        text = staticmethod(lambda s: shown.append(s))
    shown: list[str] = []
    KubeObject(POD)._repr_pretty_(Printer(), False)
    KubeObject({"kind": "Service", "metadata": {"name": "web"}})._repr_pretty_(Printer(), False)
    assert shown == ["pod/demo: Running, Ready=True", "service/web"]
    assert repr(KubeObject(POD)) == "pod/demo"
