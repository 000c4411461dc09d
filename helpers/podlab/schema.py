"""The API's own description of a type's fields, as `kubectl explain` shows it (OpenAPI v3)."""

from __future__ import annotations

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ._api import api_error, request_json
from .connect import connect
from .errors import PodlabError


def api_fields(type_name: str, *, group_version: str = "v1",
               api: client.ApiClient | None = None) -> dict[str, str]:
    """Field name → description of an API type served by the cluster (e.g. "PodSpec", "Container")."""
    api = api or connect()
    path = "/openapi/v3/api/v1" if group_version == "v1" else f"/openapi/v3/apis/{group_version}"
    try:
        document = request_json(api, "GET", path)
    except ApiException as e:
        raise api_error(e, f"reading the OpenAPI schema of {group_version}") from None
    schemas = document.get("components", {}).get("schemas", {})
    matches = [key for key in schemas if key.rsplit(".", 1)[-1] == type_name]
    if len(matches) != 1:
        known = ", ".join(sorted(key.rsplit(".", 1)[-1] for key in schemas)[:12])
        raise PodlabError(f"{group_version} serves {len(matches)} types named {type_name!r}.",
                          hint=f"Use the type's Go name as `kubectl explain` shows it (e.g. {known}…).")
    properties = schemas[matches[0]].get("properties", {})
    return {name: prop.get("description", "") for name, prop in properties.items()}
