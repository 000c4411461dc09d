"""What a session owns outside its namespace: discovery parsing, which finalizers podlab releases
and how, and which sessions count as gone."""

from __future__ import annotations

import os
import socket

import pytest

from podlab._api import Resource
from podlab.ownership import (held_by_podlab, parse_discovery, podlab_finalizers, release_patch,
                              session_labels)
from podlab.session import HOLDER, _gone_sessions, _holder

DISCOVERY = {  # abridged from a 1.37 server's GET /apis (apidiscovery.k8s.io/v2)
    "kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
    "items": [
        {"metadata": {"name": "rbac.authorization.k8s.io"},
         "versions": [{"version": "v1", "resources": [
             {"resource": "clusterroles", "responseKind": {"group": "", "version": "", "kind": "ClusterRole"},
              "scope": "Cluster", "verbs": ["create", "delete", "deletecollection", "get", "list", "patch",
                                            "update", "watch"]},
             {"resource": "roles", "responseKind": {"kind": "Role"}, "scope": "Namespaced",
              "verbs": ["delete", "get", "list", "patch"]}]}]},
        {"metadata": {"name": "authentication.k8s.io"},
         "versions": [{"version": "v1", "resources": [
             {"resource": "tokenreviews", "responseKind": {"kind": "TokenReview"}, "scope": "Cluster",
              "verbs": ["create"]}]}]},
        {"metadata": {"name": "example.dev"},
         "versions": [{"version": "v2", "resources": [
             {"resource": "widgets", "responseKind": {"kind": "Widget"}, "scope": "Cluster",
              "verbs": ["delete", "list"]}]},
                      {"version": "v1", "resources": [
             {"resource": "widgets", "responseKind": {"kind": "Widget"}, "scope": "Cluster",
              "verbs": ["delete", "list"]}]}]},
    ]}
CORE = {"kind": "APIGroupDiscoveryList", "items": [
    {"metadata": {}, "versions": [{"version": "v1", "resources": [
        {"resource": "namespaces", "responseKind": {"kind": "Namespace"}, "scope": "Cluster",
         "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}]}]}]}


def test_discovery_keeps_resources_with_the_verbs_in_their_preferred_version():
    found = parse_discovery(DISCOVERY, verbs=("list", "delete"))
    assert found == [Resource("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", False),
                     Resource("rbac.authorization.k8s.io/v1", "Role", "roles", True),
                     Resource("example.dev/v2", "Widget", "widgets", False)]  # v2 first: preferred
    assert parse_discovery(CORE, verbs=("list", "delete")) == [Resource("v1", "Namespace", "namespaces", False)]
    assert parse_discovery(CORE, verbs=("list", "delete"))[0].path(None, "x") == "/api/v1/namespaces/x"


def test_discovery_refuses_a_document_that_is_not_aggregated():
    with pytest.raises(ValueError, match="APIGroupList"):
        parse_discovery({"kind": "APIGroupList", "groups": []}, verbs=("list",))


def test_only_podlab_dev_finalizers_are_released():
    assert podlab_finalizers(["kubernetes", "podlab.dev/hold", "example.com/podlab.dev", "podlab.dev/x"]) == [
        "podlab.dev/hold", "podlab.dev/x"]
    assert podlab_finalizers(["podlab.devx/hold", "foregroundDeletion"]) == []


def test_the_release_patch_tests_the_whole_list_and_keeps_the_other_finalizers():
    obj = {"metadata": {"name": "held", "finalizers": ["example.com/keep", "podlab.dev/hold"]}}
    assert release_patch(obj) == [
        {"op": "test", "path": "/metadata/finalizers", "value": ["example.com/keep", "podlab.dev/hold"]},
        {"op": "replace", "path": "/metadata/finalizers", "value": ["example.com/keep"]}]
    assert release_patch({"metadata": {"finalizers": ["example.com/keep"]}}) is None
    assert release_patch({"metadata": {}}) is None


def condition(message: str, status: str = "True") -> dict:
    return {"status": {"phase": "Terminating", "conditions": [
        {"type": "NamespaceContentRemaining", "status": "True", "reason": "SomeResourcesRemain",
         "message": "Some resources are remaining: configmaps. has 1 resource instances"},
        {"type": "NamespaceFinalizersRemaining", "status": status, "reason": "SomeFinalizersRemain",
         "message": message}]}}


def test_a_namespace_is_held_by_podlab_only_when_the_controller_names_a_podlab_dev_finalizer():
    # the message as pkg/controller/namespace/deletion/status_condition_utils.go formats it
    assert held_by_podlab(condition("Some content in the namespace has finalizers remaining: "
                                    "example.com/keep in 2 resource instances, podlab.dev/hold in 1 resource instances"))
    assert not held_by_podlab(condition("Some content in the namespace has finalizers remaining: "
                                        "example.com/keep in 2 resource instances"))
    assert not held_by_podlab(condition("All content-preserving finalizers finished", status="False"))
    assert not held_by_podlab({"status": {"phase": "Active"}})
    assert not held_by_podlab(None)


def test_session_labels():
    assert session_labels("downward-api", "b2x9k") == {"app.kubernetes.io/managed-by": "podlab",
                                                       "podlab.dev/lab": "downward-api",
                                                       "podlab.dev/session": "b2x9k"}


def test_a_session_is_gone_only_when_none_of_its_namespaces_has_a_live_holder():
    dead = f"{socket.gethostname()} 999999999 1"  # no such pid
    elsewhere = "another-host 1 1"
    namespaces = {
        "podlab-a-live1": {"labels": {"podlab.dev/session": "live1"}, "annotations": {HOLDER: _holder()}},
        "made-by-live1": {"labels": {"podlab.dev/session": "live1"}},  # a Namespace the lab applied: no holder
        "podlab-a-gone1": {"labels": {"podlab.dev/session": "gone1"}, "annotations": {HOLDER: dead}},
        "made-by-gone1": {"labels": {"podlab.dev/session": "gone1"}},
        "podlab-a-far01": {"labels": {"podlab.dev/session": "far01"}, "annotations": {HOLDER: elsewhere}},
        "podlab-a-old": {"labels": {}},  # an older podlab's namespace: no session, no holder
    }
    assert os.getpid() != 999999999
    assert _gone_sessions(namespaces) == {"gone1": ["made-by-gone1", "podlab-a-gone1"], "": ["podlab-a-old"]}


def test_apply_labels_cluster_scoped_objects_only(monkeypatch):
    from podlab import manifests

    kinds = {"Namespace": Resource("v1", "Namespace", "namespaces", False),
             "ConfigMap": Resource("v1", "ConfigMap", "configmaps", True)}
    sent = []
    monkeypatch.setattr(manifests, "resource_for", lambda api, api_version, kind: kinds[kind])
    monkeypatch.setattr(manifests, "request_json", lambda api, method, path, **kw: sent.append((path, kw["body"])) or kw["body"])
    labels = session_labels("t", "b2x9k")
    manifests.apply("podlab-t-b2x9k", [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "child", "labels": {"team": "a"}}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "held", "labels": {"team": "a"}}},
    ], labels=labels, api=object())
    assert sent[0] == ("/api/v1/namespaces/child",
                       {"apiVersion": "v1", "kind": "Namespace",
                        "metadata": {"name": "child", "labels": {"team": "a", **labels}}})
    assert sent[1][0] == "/api/v1/namespaces/podlab-t-b2x9k/configmaps/held"
    assert sent[1][1]["metadata"]["labels"] == {"team": "a"}  # its namespace takes it along
