"""The intake API's content negotiation: DRF's, with its answer for the Accept headers clients send kept per process.

DRF parses the Accept header and matches it against each renderer on every request
(about 3% of an order's instructions). What it selects depends only on the header, the
renderers' classes and the format asked for, so for the few headers clients send (none,
``*/*``, ``application/json``) its answer is computed by DRF once and reused.
"""

from rest_framework.negotiation import DefaultContentNegotiation

# The headers whose answer is kept: a bounded set, any other header is negotiated each time.
COMMON_ACCEPT = frozenset({None, "*/*", "application/json"})


class KeptNegotiation(DefaultContentNegotiation):
    # (Accept header, renderer classes) → (index of the renderer, media type), as DRF selected them.
    _kept: dict = {}

    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT")
        if format_suffix or accept not in COMMON_ACCEPT or self.settings.URL_FORMAT_OVERRIDE in request.query_params:
            return super().select_renderer(request, renderers, format_suffix)
        key = (accept, tuple(type(renderer) for renderer in renderers))
        kept = self._kept.get(key)
        if kept is None:
            renderer, media_type = super().select_renderer(request, renderers, format_suffix)
            kept = self._kept[key] = (renderers.index(renderer), media_type)
        index, media_type = kept
        return renderers[index], media_type
