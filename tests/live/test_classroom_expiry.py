"""Live: a student's token is refused once it has expired (issue 23's isolation tests).

TokenRequest gives no token shorter than 10 minutes, and the API server accepts one for a minute
past its expiry, so this test sleeps about 11 minutes on the server's clock. It is marked
`background`: `make test` (scripts/run_tests.py) starts it with PODLAB_SLOW_TESTS=1 in a process
of its own beside the notebooks, where its sleep costs no wall time, and counts its result with
the rest. Run alone, it is skipped unless PODLAB_SLOW_TESTS=1. Its course has one student and a
unique name, and goes at the end whatever happened; the tests that compare the cluster before
and after (test_classroom, test_classroom_load) leave other courses' namespaces out.
"""

from __future__ import annotations

import os
import random
import string
import time
from pathlib import Path

import pytest

from podlab import classroom
from podlab._api import send_request
from podlab.connect import connect

pytestmark = [pytest.mark.live, pytest.mark.background,
              pytest.mark.skipif(os.environ.get("PODLAB_SLOW_TESTS") != "1",
                                 reason="waits for a 10-minute token to expire; set PODLAB_SLOW_TESTS=1")]

LABS = Path(__file__).resolve().parents[2] / "labs"
LEEWAY = 60  # go-jose's jwt.DefaultLeeway: Claims.Validate accepts a token until exp + 1 minute
# (pkg/serviceaccount/claims.go calls public.Validate(jwt.Expected{Time: nowTime}), go-jose.v2 v2.6.3)


@pytest.fixture
def course(live_cluster, tmp_path):
    """A course of one student with the shortest token TokenRequest gives; deleted at the end, whatever happened."""
    name = "t-exp-" + "".join(random.choices(string.ascii_lowercase + string.digits, k=5))
    out = tmp_path / "kubeconfigs"
    try:
        yield classroom.create(live_cluster, name, classroom.roster(name, students=1), out=out, labs=LABS,
                               token_seconds=classroom.MIN_TOKEN_SECONDS, cpu_overcommit=8)
    finally:
        classroom.delete(live_cluster, name, out=out)


def test_an_expired_token_is_refused(course):
    [student] = course
    api = connect(student.kubeconfig)
    token = classroom.yaml.safe_load(student.kubeconfig.read_text())["users"][0]["user"]["token"]
    expires = classroom.token_claims(token)["exp"]
    own_pods = f"/api/v1/namespaces/{student.namespace}/pods"
    answers = []
    for after in (-5, 5, LEEWAY + 2):  # before exp, within the leeway, past it: one deadline each
        time.sleep(max(0.0, expires + after - time.time()))
        reply = send_request(api, "GET", own_pods)
        answers.append(reply.status)
        print(f"{time.time() - expires:+.1f} s from exp: {reply.status} {reply.message[:100]}")
    assert answers == [200, 200, 401]
