"""HubRise's error responses: always a JSON body with an ``error_type``."""

from __future__ import annotations


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        error_type: str,
        message: str,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.errors = errors
        self.headers = headers or {}

    def body(self) -> dict:
        body: dict = {"message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        body["error_type"] = self.error_type
        return body


class ValidationFailed(ApiError):
    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__(422, "unprocessable_entity", "Validation failed", errors=errors)


def unauthorized(message: str = "The access token is invalid or the connection has been revoked") -> ApiError:
    return ApiError(401, "unauthorized", message)


def not_found(message: str = "Not found") -> ApiError:
    return ApiError(404, "not_found", message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, "forbidden", message)


def too_many_requests(retry_after: int, message: str = "Rate limit exceeded") -> ApiError:
    return ApiError(429, "too_many_requests", message, headers={"Retry-After": str(retry_after)})


class Errors:
    """Collects every validation failure of a request, so one 422 lists them all."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, field: str, message: str) -> None:
        self.items.append({"field": field, "message": message})

    def raise_if_any(self) -> None:
        if self.items:
            raise ValidationFailed(self.items)
