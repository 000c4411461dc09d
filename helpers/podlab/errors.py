"""Errors that tell the reader what went wrong and what to do next."""

from __future__ import annotations

from collections.abc import Sequence


class PodlabError(Exception):
    """A failure with a plain explanation and the next step to take."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  → {self.hint}"
        return self.message


class ApiRejected(PodlabError):
    """The API server refused a request: its HTTP code, Status reason and message, as sent.

    Chapters assert rejections with it, e.g. a ResourceQuota's:
    `except podlab.ApiRejected as e: assert e.code == 403 and "exceeded quota" in e.message`.
    """

    def __init__(self, code: int, reason: str, message: str, *, doing: str | None = None,
                 hint: str | None = None, causes: Sequence[dict] = ()) -> None:
        super().__init__(message, hint=hint)
        self.code = code
        self.reason = reason
        self.doing = doing
        self.causes = list(causes)  # Status.details.causes: {reason, message, field} per field error

    def __str__(self) -> str:
        doing = f" (while {self.doing})" if self.doing else ""
        return f"{self.message}{doing}" + (f"\n  → {self.hint}" if self.hint else "")


class ClusterUnreachable(PodlabError):
    """The API server did not answer: the cluster (or the connection to it), not the request, failed."""


def is_environment_error(error: BaseException) -> bool:
    """Whether an error comes from the cluster or the session rather than from what was sent.

    An unreachable API server, rejected credentials, missing RBAC access, a lab namespace that is
    gone or being deleted, and a server that is busy or failing: none of these is a reader's wrong
    answer, so an exercise check raises them instead of calling the answer unsolved.
    """
    if isinstance(error, ClusterUnreachable):
        return True
    if not isinstance(error, ApiRejected):
        return False
    message = error.message
    return (error.code == 401 or error.code >= 500
            or (error.code == 403 and ('User "' in message and " cannot " in message
                                       or "because it is being terminated" in message))
            or (error.code == 404 and 'namespaces "' in message and '" not found' in message))


class WaitFailed(PodlabError):
    """The awaited state can no longer be reached (e.g. the pod finished)."""


class WaitTimeout(WaitFailed):
    """The awaited state was not reached before the deadline."""


class ProviderUnavailable(PodlabError):
    """A cluster provider cannot work on this machine."""


class ContextRefused(PodlabError):
    """The current kube context is not a lab cluster and was not allowed explicitly."""
