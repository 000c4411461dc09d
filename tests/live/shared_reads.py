"""Reads more than one live test makes (imported by basename: the test folders have no __init__.py)."""

from __future__ import annotations

from kubernetes.client.exceptions import ApiException

from podlab._api import request_json


def present(api, path: str) -> dict | None:
    """The object at path as served, or None if the server says 404."""
    try:
        return request_json(api, "GET", path)
    except ApiException as e:
        if e.status == 404:
            return None
        raise
