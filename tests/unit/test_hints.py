"""One hints table for API refusals, and ApiRejected carrying code, reason and message."""

from __future__ import annotations

import json

import pytest
from kubernetes.client.exceptions import ApiException

from podlab._api import api_error
from podlab.errors import ApiRejected, PodlabError
from podlab.hints import hint_for

QUOTA = 'pods "demo" is forbidden: exceeded quota: no-pods, requested: pods=1, used: pods=0, limited: pods=0'
LIMIT_RANGE = 'pods "demo" is forbidden: [maximum cpu usage per Container is 500m, but limit is 1]'
POD_SECURITY = ('pods "demo" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation '
                '!= false (container "app" must set securityContext.allowPrivilegeEscalation=false)')
RBAC = ('pods is forbidden: User "system:serviceaccount:default:reader" cannot create resource "pods" '
        'in API group "" in the namespace "default"')
INVALID = ('Pod "envinfo-bad" is invalid: spec.containers[0].env[7].valueFrom.fieldRef.fieldPath: '
           'Unsupported value: "metadata.labels": supported values: "metadata.name"')


def refused(code: int, reason: str, message: str, causes: list[dict] | None = None) -> ApiException:
    e = ApiException(status=code, reason=reason)
    status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message,
              "reason": reason, "code": code}
    if causes:
        status["details"] = {"causes": causes}
    e.body = json.dumps(status)
    return e


@pytest.mark.parametrize("message, expected", [
    (QUOTA, "A ResourceQuota in the namespace refused it"),
    (LIMIT_RANGE, "A LimitRange in the namespace refused it"),
    (POD_SECURITY, "Pod Security admission refused the pod"),
    (RBAC, "The kubeconfig's user lacks access (RBAC)"),
    ('pods "x" is forbidden: unable to create new content in namespace podlab-t because it is being terminated',
     "The namespace is being deleted"),
    ('pods "x" is forbidden: error looking up service account podlab-t/default: serviceaccount "default" '
     'not found', "The namespace's default ServiceAccount does not exist"),
    ('pods "x" is forbidden: some webhook said no', "An admission check refused it"),
])
def test_a_403_is_told_apart_by_its_message(message, expected):
    assert hint_for(403, "Forbidden", message).startswith(expected)


def test_only_rbac_says_the_kubeconfig_user_lacks_access():
    for message in (QUOTA, LIMIT_RANGE, POD_SECURITY):
        assert "kubeconfig" not in hint_for(403, "Forbidden", message)


def test_404_409_and_422():
    assert hint_for(404, "NotFound", 'pods "ghost" not found').startswith("It does not exist")
    assert hint_for(404, "NotFound", 'namespaces "podlab-x" not found') == (
        "The namespace podlab-x does not exist (anymore): open the lab again with open_lab().")
    assert "exists already" in hint_for(409, "AlreadyExists", 'pods "demo" already exists')
    assert "read it again" in hint_for(409, "Conflict", 'Operation cannot be fulfilled on pods "demo": '
                                                        'the object has been modified')
    assert hint_for(422, "Invalid", INVALID, context={"fields": "spec.containers[0].image"}).startswith(
        "Fix spec.containers[0].image and apply again")
    assert hint_for(422, "Invalid", INVALID).startswith("Fix the field named in the message")


def test_exec_and_log_refusals():
    assert "busybox" in hint_for(500, None, 'exec: "bash": executable file not found in $PATH')
    assert hint_for(400, "BadRequest", "a container name must be specified for pod two, choose one of: "
                                       "[app sidecar]") == (
        "The pod has several containers: say which one with container= (app sidecar).")
    assert "wait for it first" in hint_for(400, "BadRequest", 'container "app" in pod "x" is waiting to start: '
                                                              'ContainerCreating')
    assert hint_for(418, None, "something else entirely") is None


def test_api_rejected_carries_code_reason_message_and_field_causes():
    causes = [{"reason": "FieldValueNotSupported", "message": "Unsupported value",
               "field": "spec.containers[0].env[7].valueFrom.fieldRef.fieldPath"}]
    error = api_error(refused(422, "Invalid", INVALID, causes), "applying pod/envinfo-bad")
    assert isinstance(error, ApiRejected) and isinstance(error, PodlabError)
    assert (error.code, error.reason, error.message) == (422, "Invalid", INVALID)
    assert error.causes == causes
    assert error.hint.startswith("Fix spec.containers[0].env[7].valueFrom.fieldRef.fieldPath and apply again")
    assert str(error).splitlines()[0] == f"{INVALID} (while applying pod/envinfo-bad)"


def test_a_quota_rejection_as_a_chapter_asserts_it():
    with pytest.raises(ApiRejected) as caught:
        raise api_error(refused(403, "Forbidden", QUOTA), None)
    assert caught.value.code == 403 and caught.value.reason == "Forbidden"
    assert "exceeded quota" in caught.value.message
    assert str(caught.value) == f"{QUOTA}\n  → {caught.value.hint}"


def test_a_server_that_never_answered_is_not_a_rejection():
    error = api_error(ApiException(status=0, reason="Handshake status 502"), "running ['true'] in pod x")
    assert not isinstance(error, ApiRejected)
    assert "unreachable" in error.hint


NOT_FOUND_BODY = ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
                  '"message":"pods \\"refused\\" not found","reason":"NotFound",'
                  '"details":{"name":"refused","kind":"pods"},"code":404}\n')


def test_an_exec_into_a_pod_that_is_not_there_is_a_404_not_an_unreachable_server():
    # kubernetes.stream's ApiException(status=0, reason=str(WebSocketBadStatusException)) as websocket-client
    # 1.9 words it (the body decoded), and as older releases did (b'...'); the server's JSON ends with \n.
    headers = "{'content-type': 'application/json', 'content-length': '186'}"
    for body in (NOT_FOUND_BODY, repr(NOT_FOUND_BODY.encode())):
        reason = f"Handshake status 404 Not Found -+-+- {headers} -+-+- {body}"
        error = api_error(ApiException(status=0, reason=reason), "running ['true'] in pod refused")
        assert isinstance(error, ApiRejected), body
        assert (error.code, error.reason, error.message) == (404, "NotFound", 'pods "refused" not found')
        assert error.hint.startswith("It does not exist")
    error = api_error(ApiException(status=0, reason=f"Handshake status 502 Bad Gateway -+-+- {headers} -+-+- None"),
                      "running ['true'] in pod x")
    assert not isinstance(error, ApiRejected) and "unreachable" in error.hint


def test_fallback_hint_only_when_no_rule_matches():
    assert api_error(refused(418, "Teapot", "short and stout"), "x", fallback_hint="F").hint == "F"
    assert api_error(refused(404, "NotFound", 'pods "x" not found'), "x",
                     fallback_hint="F").hint.startswith("It does not exist")
