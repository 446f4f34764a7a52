"""Bench-only middleware: the CPU the request's thread used, in microseconds, as a response header.

Outermost, so that it counts every other middleware (sessions, auth, compression) and the view.
gunicorn's gthread workers serve a request on one thread, so the thread's CPU is the request's own.
"""

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

HEADER = "X-Bench-Cpu-Us"


class ThreadCpuHeader:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.thread_time()
        response = self.get_response(request)
        response[HEADER] = str(int((time.thread_time() - started) * 1_000_000))
        return response
