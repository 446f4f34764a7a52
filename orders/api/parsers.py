"""The intake API's JSON parser: DRF's, with a bound on nesting.

Python's json module recurses once per level: a body nested 50,000 deep raises
RecursionError, which DRF does not turn into a 400. No order body needs more
than a few levels (order, items, options; a payment's free ``info``), so
anything deeper than MAX_DEPTH is refused before a serializer walks it.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(self.too_deep()) from None
        if depth_exceeds(data, MAX_DEPTH):
            raise ParseError(self.too_deep())
        return data

    @staticmethod
    def too_deep() -> str:
        return str(_("The JSON body is nested too deeply (more than %(depth)s levels).") % {"depth": MAX_DEPTH})


def depth_exceeds(data: Any, limit: int) -> bool:
    """Whether lists and objects nest deeper than ``limit``; iterative, whatever the depth."""
    waiting = [(data, 1)]
    while waiting:
        value, depth = waiting.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            waiting.extend((child, depth + 1) for child in children)
    return False
