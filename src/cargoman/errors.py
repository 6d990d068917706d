"""Domain errors raised by services; each web layer maps them to its own wire format."""

from __future__ import annotations


class CargomanError(Exception):
    code = "INTERNAL_ERROR"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(CargomanError):
    code = "NOT_FOUND"
    status = 404


class ValidationFailed(CargomanError):
    code = "VALIDATION_ERROR"
    status = 400

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class Conflict(CargomanError):
    code = "CONFLICT"
    status = 409


class Unauthorized(CargomanError):
    code = "UNAUTHORIZED"
    status = 401


class Forbidden(CargomanError):
    code = "FORBIDDEN"
    status = 403


class RateLimited(CargomanError):
    code = "RATE_LIMITED"
    status = 429
