"""Which nodes read_node_file can read from: simulated (KWOK) nodes of another session never count."""

from kubernetes import client

from podlab.nodefiles import _simulated


def node(name: str, *, annotations: dict | None = None, taints: list | None = None) -> client.V1Node:
    return client.V1Node(metadata=client.V1ObjectMeta(name=name, annotations=annotations),
                         spec=client.V1NodeSpec(taints=taints))


def test_a_kwok_node_is_simulated_by_its_annotation_or_podlabs_taint():
    assert _simulated(node("kwok-small-x", annotations={"kwok.x-k8s.io/node": "fake"}))
    assert _simulated(node("kwok-small-y", taints=[client.V1Taint(key="podlab.dev/fake-node", value="y",
                                                                   effect="NoSchedule")]))


def test_a_real_node_is_not_simulated_even_when_tainted():
    assert not _simulated(node("podlab-control-plane"))
    assert not _simulated(node("cp", taints=[client.V1Taint(key="node-role.kubernetes.io/control-plane",
                                                            effect="NoSchedule")]))
