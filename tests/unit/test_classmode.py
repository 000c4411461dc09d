"""Classroom mode, the student's side: the kubeconfig marker and the skip of needs-cluster cells (pure logic)."""

from __future__ import annotations

import pytest
import yaml

from podlab.classmode import (MARKER, SKIP_TAG, Classroom, current_classroom, marker_extension, parse_context,
                              request_tags, skip_line, skipped_source)
from podlab.classroom import Student, kubeconfig_text
from podlab.connect import choose_kubeconfig
from podlab.errors import PodlabError

ROOM = Classroom("k8s101", "Ada", "k8s101-ada", "podlab-classroom-k8s101-ada")


def student_kubeconfig(tmp_path, name="ada.kubeconfig"):
    path = tmp_path / name
    path.write_text(kubeconfig_text("k8s101", Student("Ada", "ada", "k8s101-ada"), server="https://10.0.0.1:6443",
                                    ca_pem="PEM", token="t0ken"))
    return path


def test_the_students_kubeconfig_carries_the_marker_and_is_read_back(tmp_path):
    path = student_kubeconfig(tmp_path)
    context = yaml.safe_load(path.read_text())["contexts"][0]["context"]
    assert context["extensions"] == [{"name": MARKER, "extension": {"course": "k8s101", "student": "Ada"}}]
    assert current_classroom([path]) == ROOM


def test_a_context_without_the_marker_is_not_a_classroom():
    assert parse_context("podlab", {"cluster": "podlab", "user": "admin", "namespace": "default"}) is None
    assert parse_context("minikube", {"extensions": [{"name": "context_info", "extension": {"provider": "x"}}]}) is None


@pytest.mark.parametrize("context, missing", [
    ({"extensions": [marker_extension("k8s101", "Ada")]}, "names no namespace"),
    ({"namespace": "k8s101-ada", "extensions": [{"name": MARKER, "extension": {"student": "Ada"}}]}, "names no course"),
])
def test_an_incomplete_marker_is_refused_with_what_to_do(context, missing):
    with pytest.raises(PodlabError, match=missing) as refused:
        parse_context("c", context)
    assert "Ask your instructor for a new kubeconfig" in refused.value.hint


def test_merged_kubeconfigs_use_the_first_current_context_and_the_first_definition(tmp_path):
    student = student_kubeconfig(tmp_path)
    admin = tmp_path / "admin"
    admin.write_text(yaml.safe_dump({"current-context": "podlab", "contexts": [
        {"name": "podlab", "context": {"cluster": "podlab", "user": "admin"}},
        {"name": ROOM.context, "context": {"cluster": "x", "user": "y"}}]}))
    assert current_classroom([admin, student]) is None       # admin's current context wins
    assert current_classroom([student, admin]) == ROOM       # the student's context, defined first, wins
    assert current_classroom([tmp_path / "absent", student]) == ROOM


def test_a_classroom_kubeconfig_is_accepted_under_KUBECONFIG_whatever_its_context_is_called(tmp_path, monkeypatch):
    path = student_kubeconfig(tmp_path)
    monkeypatch.setenv("KUBECONFIG", str(path))
    monkeypatch.delenv("PODLAB_ALLOW_CONTEXT", raising=False)
    chosen = choose_kubeconfig()
    assert (chosen.context, chosen.classroom, chosen.rule) == (ROOM.context, ROOM, "KUBECONFIG, course k8s101")
    assert choose_kubeconfig(path).classroom == ROOM  # passed explicitly


def test_only_cells_tagged_needs_cluster_are_replaced_by_their_line():
    line = skip_line(ROOM)
    assert line.startswith("⤼ skipped in classroom mode: this cell needs more than your namespace k8s101-ada")
    replaced = skipped_source(["hide-input", SKIP_TAG], line)
    printed = {}
    exec("".join(replaced), {"print": lambda text: printed.setdefault("line", text)})
    assert printed == {"line": line}
    assert skipped_source(["solution"], line) is None
    assert skipped_source(None, line) is None
    assert skipped_source("needs-cluster", line) is None  # tags are a list, never a string


def test_tags_are_read_from_an_execute_request_only():
    request = {"header": {"msg_type": "execute_request"}, "metadata": {"tags": [SKIP_TAG], "cellId": "c1"}}
    assert request_tags(request) == [SKIP_TAG]
    assert request_tags({**request, "header": {"msg_type": "complete_request"}}) is None
    assert request_tags({"header": {"msg_type": "execute_request"}, "metadata": {}}) is None
    assert request_tags({}) is None and request_tags(None) is None


@pytest.mark.parametrize("action", ["up", "down", "clean"])
def test_a_student_running_up_down_or_clean_is_told_what_their_rights_allow(tmp_path, monkeypatch, capsys, action):
    from podlab import cli

    monkeypatch.setenv("KUBECONFIG", str(student_kubeconfig(tmp_path)))
    touched = []
    monkeypatch.setattr(cli.cluster, "up", lambda *a, **k: touched.append("up"))
    monkeypatch.setattr(cli.cluster, "down", lambda *a, **k: touched.append("down"))
    assert cli.main([action]) == 2 and touched == []
    said = capsys.readouterr().err
    assert f"Your kubeconfig is a student's of course k8s101: it lets you work in your namespace k8s101-ada" in said
    assert f"`podlab {action}` is not yours to run here" in said


def test_an_instructors_kubeconfig_is_not_refused(tmp_path, monkeypatch):
    from podlab import cli

    admin = tmp_path / "admin"
    admin.write_text(yaml.safe_dump({"current-context": "podlab", "contexts": [
        {"name": "podlab", "context": {"cluster": "podlab", "user": "admin"}}]}))
    monkeypatch.setenv("KUBECONFIG", str(admin))
    cli.refuse_students("down")  # no error
