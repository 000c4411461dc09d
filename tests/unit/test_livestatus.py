"""The live status shows progress in a real Jupyter kernel, yet leaves a constant saved output."""

from __future__ import annotations

import nbformat
import pytest
from jupyter_client.manager import start_new_kernel
from nbclient import NotebookClient

from podlab.livestatus import LiveStatus

CELL = """
import time
from podlab.livestatus import LiveStatus
with LiveStatus("waiting for pod/demo to be ready", interval=0.05) as status:
    for phase in ("Pending", "Running"):
        status.show(phase)
        time.sleep(0.2)
print("done")
"""


def test_silent_outside_a_kernel(capsys):
    with LiveStatus("waiting") as status:
        status.show("Pending")
    assert not status.enabled
    assert capsys.readouterr() == ("", "")


def test_line_shows_title_detail_and_elapsed_seconds():
    status = LiveStatus("waiting for pod/demo to be ready", enabled=False)
    status.show("Running · Ready=False")
    assert status.line() == "⏳ waiting for pod/demo to be ready — Running · Ready=False [0s]"


@pytest.fixture(scope="module")
def kernel():
    manager, kernel_client = start_new_kernel(kernel_name="python3")
    yield kernel_client
    kernel_client.stop_channels()
    manager.shutdown_kernel(now=True)


def displays_of(kernel, code: str) -> list[dict]:
    """Run code in the kernel; the display messages it sent (display_data, update_display_data), in order."""
    msg_id = kernel.execute(code)
    displays = []
    while True:
        msg = kernel.get_iopub_msg(timeout=30)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return displays
        if msg["msg_type"] in ("display_data", "update_display_data"):
            displays.append(msg)


def test_kernel_sees_progress_updates_that_end_blank(kernel):
    displays = displays_of(kernel, CELL)
    assert displays[0]["msg_type"] == "display_data" and displays[0]["content"]["data"] == {}
    texts = [m["content"]["data"].get("text/plain", "") for m in displays[1:-1]]
    assert any(t.startswith("⏳ waiting for pod/demo to be ready — Running") for t in texts)
    assert displays[-1]["msg_type"] == "update_display_data" and displays[-1]["content"]["data"] == {}


NESTED = """
from podlab.livestatus import LiveStatus
with LiveStatus("opening lab demo") as outer:
    for step in ("deleting the leftover", "creating"):
        with LiveStatus(step, interval=0.05) as inner:
            inner.show("in progress")
"""


def test_nested_statuses_share_one_display(kernel):
    displays = displays_of(kernel, NESTED)
    assert [m["msg_type"] for m in displays].count("display_data") == 1
    texts = [m["content"]["data"].get("text/plain", "") for m in displays]
    assert any(t.startswith("⏳ opening lab demo — creating: in progress") for t in texts)
    assert displays[-1]["content"]["data"] == {}


def test_quiet_silences_even_in_a_kernel():
    from podlab.livestatus import quiet
    with quiet():
        assert not LiveStatus("cleanup").enabled


def test_saved_notebook_output_is_the_same_on_every_run():
    saved = []
    for _ in range(2):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CELL)])
        NotebookClient(nb, kernel_name="python3", timeout=60).execute()
        nbformat.validate(nb)
        saved.append(nb.cells[0].outputs)
    assert saved[0] == saved[1]
    assert [o["output_type"] for o in saved[0]] == ["display_data", "stream"]
    assert saved[0][0]["data"] == {} and saved[0][1]["text"] == "done\n"
