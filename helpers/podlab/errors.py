"""Errors that tell the reader what went wrong and what to do next."""

from __future__ import annotations


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


class ProviderUnavailable(PodlabError):
    """A cluster provider cannot work on this machine."""


class ContextRefused(PodlabError):
    """The current kube context is not a lab cluster and was not allowed explicitly."""
