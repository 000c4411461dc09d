"""The exit code of an exec comes from the Status sent on the error channel."""

from __future__ import annotations

import json

import pytest

from podlab.errors import PodlabError
from podlab.pods import ExecResult, exit_code_from_status


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


def test_check_returns_the_result_when_the_command_succeeded():
    ok = ExecResult("out\n", "", 0, command="true", where="pod ns/demo")
    assert ok.check() is ok


def test_check_raises_with_command_exit_code_and_stderr():
    failed = ExecResult("", "grep: /etc/podinfo/labels: No such file or directory\n", 2,
                        command="grep -q zone /etc/podinfo/labels", where="pod ns/demo (container app)")
    with pytest.raises(PodlabError) as caught:
        failed.check()
    assert caught.value.message == ("`grep -q zone /etc/podinfo/labels` in pod ns/demo (container app) exited "
                                    "with code 2: grep: /etc/podinfo/labels: No such file or directory")
    assert "stderr" in caught.value.hint
    with pytest.raises(PodlabError, match="busybox"):
        ExecResult("", "sh: curl: not found\n", 127, command="curl x").check()


def test_results_compare_and_show_as_stdout_stderr_exit_code():
    assert ExecResult("a", "", 0, command="echo a") == ExecResult("a", "", 0)
    assert repr(ExecResult("a", "", 0, command="echo a")) == "ExecResult(stdout='a', stderr='', exit_code=0)"
