"""Manifests load from YAML text, files, dicts and lists; apply errors keep the server's words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kubernetes.client.exceptions import ApiException

from podlab.errors import PodlabError
from podlab.manifests import manifest_listing, AppliedObjects, apply_error, load_manifests

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "demo"}}
TWO_DOCS = """
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
---
# only a comment
---
apiVersion: v1
kind: Pod
metadata: {name: demo}
"""


def names(objects):
    return [f"{o['kind']}/{o['metadata']['name']}" for o in objects]


def test_multi_document_yaml_skips_empty_documents():
    assert names(load_manifests(TWO_DOCS)) == ["ConfigMap/settings", "Pod/demo"]


def test_file_path(tmp_path: Path):
    file = tmp_path / "objects.yaml"
    file.write_text(TWO_DOCS)
    assert names(load_manifests(file)) == ["ConfigMap/settings", "Pod/demo"]


def test_dict_and_list_are_copied_not_mutated():
    loaded = load_manifests(POD)
    loaded[0]["metadata"]["namespace"] = "elsewhere"
    assert "namespace" not in POD["metadata"]
    assert names(load_manifests([POD, {**POD, "metadata": {"name": "other"}}])) == ["Pod/demo", "Pod/other"]


def test_list_kind_is_unrolled():
    assert names(load_manifests({"apiVersion": "v1", "kind": "List", "items": [POD]})) == ["Pod/demo"]


def test_one_line_string_ending_in_yaml_is_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "objects.yaml").write_text(TWO_DOCS)
    monkeypatch.chdir(tmp_path)
    assert names(load_manifests("objects.yaml")) == ["ConfigMap/settings", "Pod/demo"]
    with pytest.raises(PodlabError, match="No manifest file at missing.yml"):
        load_manifests("missing.yml")


def test_a_bare_word_is_not_taken_for_a_file():
    with pytest.raises(PodlabError) as caught:
        load_manifests("pod")
    assert ".yaml" in caught.value.hint


def test_manifest_listing_shows_the_kubectl_command_then_the_file(tmp_path: Path):
    file = tmp_path / "objects.yaml"
    file.write_text(TWO_DOCS)
    listing = manifest_listing(file, "podlab-ch01")
    assert listing.splitlines()[0] == f"$ kubectl apply --server-side -n podlab-ch01 -f {file.as_posix()}"
    assert listing.endswith(TWO_DOCS.rstrip() + "\n")
    dry = manifest_listing(file, "podlab-ch01", dry_run=True)
    assert dry.splitlines()[0] == f"$ kubectl apply --server-side --dry-run=server -n podlab-ch01 -f {file.as_posix()}"
    with pytest.raises(PodlabError, match="not both"):
        manifest_listing(file, "podlab-ch01", dry_run=True, post_to="/api/v1/namespaces/podlab-ch01/configmaps")


def test_manifest_listing_prints_the_kubectl_command_that_posts_a_file(tmp_path: Path):
    as_json = tmp_path / "service.yaml"
    as_json.write_text('{"kind": "service", "apiVersion": "v1", "metadata": {"name": "MyService"}}\n')
    raw = manifest_listing(as_json, "podlab-ch06", post_to="/api/v1/namespaces/podlab-ch06/services")
    assert raw.splitlines()[0] == f"$ kubectl create --raw /api/v1/namespaces/podlab-ch06/services -f {as_json.as_posix()}"
    assert raw.endswith(as_json.read_text())

    as_yaml = tmp_path / "held.yaml"
    as_yaml.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n")
    created = manifest_listing(as_yaml, "podlab-ch06", post_to="/api/v1/namespaces/podlab-ch06-held/configmaps")
    assert created.splitlines()[0] == f"$ kubectl create -n podlab-ch06-held -f {as_yaml.as_posix()}"

    for elsewhere in ("/api/v1/namespaces/podlab-ch06-held/secrets", "/api/v1/namespaces"):
        with pytest.raises(PodlabError, match="No kubectl command POSTs") as caught:
            manifest_listing(as_yaml, "podlab-ch06", post_to=elsewhere)
        assert "JSON" in caught.value.hint


def test_missing_identity_fields_are_named():
    with pytest.raises(PodlabError, match=r"lacks kind, metadata.name"):
        load_manifests({"apiVersion": "v1"})


def test_invalid_yaml_reports_the_line():
    with pytest.raises(PodlabError, match=r"not valid YAML.*line 3"):
        load_manifests("kind: Pod\nmetadata:\n\tname: demo\n")


def test_missing_file():
    with pytest.raises(PodlabError, match="No manifest file"):
        load_manifests(Path("/nonexistent/pod.yaml"))


def test_applied_objects_show_briefly():
    applied = AppliedObjects([{"kind": "Pod", "metadata": {"name": "demo", "uid": "x"}},
                              {"kind": "ConfigMap", "metadata": {"name": "settings"}}])
    assert repr(applied) == "applied pod/demo, configmap/settings"


def rejected(status: int, message: str) -> ApiException:
    e = ApiException(status=status, reason="Bad Request")
    e.body = json.dumps({"kind": "Status", "status": "Failure", "message": message, "code": status})
    return e


def test_server_side_apply_unknown_field_keeps_the_server_message_and_names_the_field():
    message = ('failed to create typed patch object (lab/demo; /v1, Kind=Pod): '
               '.spec.containers[name="app"].imagee: field not declared in schema')
    error = apply_error(rejected(500, message), POD)
    assert error.message == message
    assert error.hint == ("'imagee' is not a field of spec.containers[name=\"app\"]: fix its spelling or its "
                          "indentation; `kubectl explain pod.spec.containers` lists the valid fields.")


def test_strict_decoding_unknown_field_names_the_field():
    message = 'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.imagee"'
    error = apply_error(rejected(400, message), POD)
    assert error.message == message
    assert error.hint.startswith("'imagee' is not a field of spec:")
    assert "`kubectl explain pod.spec`" in error.hint


def test_duplicate_fields_are_refused_with_their_line():
    text = "apiVersion: v1\nkind: Pod\nmetadata: {name: demo}\nspec:\n  containers: []\n  containers: []\n"
    with pytest.raises(PodlabError, match=r"duplicate field 'containers' \(line 6, column 3\)") as caught:
        load_manifests(text)
    assert "merge the two" in caught.value.hint


def test_immutable_field_error_suggests_deleting_first():
    error = apply_error(rejected(422, 'Pod "demo" is invalid: spec: Forbidden: pod updates may not change fields'), POD)
    assert "lab.delete('demo')" in error.hint
