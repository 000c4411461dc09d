"""Every time limit podlab uses, in one place, named after what it bounds (seconds).

Lab images are never pulled (they are on the node already), so a pod starts in seconds;
the limits are generous so that a slow, loaded laptop still passes, and each wait that
runs out explains what it saw instead of just failing.
"""

from __future__ import annotations

API_CONNECT = 10.0   # establishing a connection to the API server
API_REQUEST = 60.0   # the reply to one ordinary (non-watch) API request
POD_START = 120.0    # a pod becoming ready, reaching a phase, restarting, ... (the default wait)
DELETION = 120.0     # an object going away, a lab's namespace included
EXEC = 60.0          # one command run in a container
EXEC_UNTIL = 60.0    # a test command in a container starting to succeed (Lab.exec_until)
NODE_FILE = 60.0     # the throwaway pod that reads a file on a node

# The checks of the labs' exercises (labs/*/exercises.py).
ANSWER_READY = 60.0  # a pod of the reader's answer getting ready: it starts in a second or two (the
                     # image is on the node), plus what its app needs; the rest is room for a loaded machine
EVENT_RECORDED = 30.0  # an event appearing: the kubelet records it asynchronously, after the change it reports

# Grace periods (whole seconds) for pods deleted by podlab itself: lab containers often run
# `sleep` as PID 1, which ignores SIGTERM, so the default 30 s would make each deletion take 30 s.
CLOSE_GRACE = 1      # pods of a lab namespace being deleted
RESET_GRACE = 1      # pods of an exercise's previous attempt
