"""The exit code of an exec comes from the Status sent on the error channel."""

from __future__ import annotations

import json

import pytest

from podlab.errors import PodlabError
from podlab.pods import exit_code_from_status


def test_success_is_exit_code_zero():
    assert exit_code_from_status('{"metadata":{},"status":"Success"}') == 0


def test_non_zero_exit_is_read_from_the_exit_code_cause():
    payload = json.dumps({
        "metadata": {}, "status": "Failure",
        "message": "command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": "3"}]},
    })
    assert exit_code_from_status(payload) == 3


def test_failure_without_exit_code_is_an_error_with_the_server_message():
    payload = json.dumps({"metadata": {}, "status": "Failure", "reason": "InternalError",
                          "message": 'exec: "bash": executable file not found in $PATH'})
    with pytest.raises(PodlabError, match='could not run|Could not run') as caught:
        exit_code_from_status(payload, ["bash"])
    assert 'executable file not found' in str(caught.value)
    assert "busybox" in caught.value.hint


def test_container_not_running_suggests_waiting_for_it():
    payload = json.dumps({"metadata": {}, "status": "Failure", "code": 500,
                          "message": 'Internal error occurred: unable to upgrade connection: container not found ("app")'})
    with pytest.raises(PodlabError, match="container not found") as caught:
        exit_code_from_status(payload, ["touch", "/tmp/ready"])
    assert "wait for it first" in caught.value.hint


def test_missing_status_is_an_error():
    with pytest.raises(PodlabError, match="without reporting an exit status"):
        exit_code_from_status("", ["true"])
