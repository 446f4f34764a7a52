"""A JSON 503 for API clients when the database cannot be reached, instead of Django's HTML 500.

A client (the ordering front, HubRise) reads a 503 as "retry later", and a JSON
body like every other error of the API; an HTML 500 says the request failed for
good, which is false: nothing was committed, and the same request will work once
the database is back. Only connection-level errors qualify; any other database
error is a bug and stays a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

API_PATHS = ("/api/", "/hubrise/callback/")
RETRY_AFTER_SECONDS = 5


class DatabaseUnavailableAsJSON:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError) or not request.path_info.startswith(API_PATHS):
            return None
        logger.error("Database unavailable during %s %s: %s", request.method, request.path_info, type(exception).__name__)
        return JsonResponse(
            {"message": _("The service is temporarily unavailable: please retry in a few seconds.")},
            status=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
