"""The errors the emulated API answers with, as exceptions carrying their HTTP status.

The pure layers (rules, store) raise these; the HTTP layer turns each into the
API's error shape, ``{"error": message}`` with the status, in one place.
"""

from __future__ import annotations

__all__ = ["BadRequest", "Conflict", "NotFound", "Problem", "Unauthorized", "Unavailable"]


class Problem(Exception):
    """An error answer: ``status`` and the ``message`` put in the JSON body."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(Problem):
    """A field rule is broken or the body is not a JSON object."""

    status = 400


class NotFound(Problem):
    """A project, deployment, pipeline, version, webhook or test does not exist."""

    status = 404


class Conflict(Problem):
    """A webhook with this name already exists in the project."""

    status = 409


class Unavailable(Problem):
    """The emulator's own bounds are reached (too many tests still pending)."""

    status = 503


class Unauthorized(Problem):
    """The token is missing or not the one the emulator was started with."""

    status = 401
