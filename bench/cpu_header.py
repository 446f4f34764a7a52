"""Bench-only WSGI application: the back office as gunicorn serves it (getresto/wsgi.py), each answer carrying the CPU
its thread spent, in microseconds, in a response header.

Outermost, so that it counts everything the server's Python does for the request: the
live refreshes answered in front of Django (orders.live_front) as well as Django's
middleware and views. Counted up to the moment the answer's headers are sent, when
Django has already built the whole body. gunicorn's gthread workers serve a request on
one thread, so the thread's CPU is the request's own.
"""

import time
from collections.abc import Callable, Iterable
from typing import Any

from getresto.wsgi import application as served

HEADER = "X-Bench-Cpu-Us"


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    started = time.thread_time()

    def timed_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        spent = int((time.thread_time() - started) * 1_000_000)
        return start_response(status, [*headers, (HEADER, str(spent))], exc_info)

    return served(environ, timed_start_response)
