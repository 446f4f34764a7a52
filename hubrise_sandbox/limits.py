"""Per-connection rate limits on windows aligned to the round minute, hour and day (UTC)."""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict

from .config import RateLimits
from .errors import too_many_requests

MINUTE, HOUR, DAY = 60, 3600, 86400


class RateLimiter:
    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str, int], int] = defaultdict(int)

    def reset(self, limits: RateLimits) -> None:
        with self._lock:
            self.limits = limits
            self._counts.clear()

    def check(self, connection_id: str, heavy: bool, now: float | None = None) -> None:
        """Counts one request, or raises a 429 naming when the exceeded window ends.

        A refused request is not counted, as a client backing off must get through
        once the window rolls over.
        """
        now = time.time() if now is None else now
        windows = [
            ("minute", MINUTE, self.limits.per_minute),
            ("hour", HOUR, self.limits.per_hour),
            ("day", DAY, self.limits.per_day),
        ]
        if heavy:
            windows.append(("heavy_minute", MINUTE, self.limits.heavy_per_minute))
        with self._lock:
            keys = []
            for name, length, limit in windows:
                window_start = int(now // length) * length
                key = (connection_id, name, window_start)
                if self._counts[key] >= limit:
                    retry_after = max(1, math.ceil(window_start + length - now))
                    raise too_many_requests(retry_after, f"Rate limit exceeded ({limit} requests per {name})")
                keys.append(key)
            for key in keys:
                self._counts[key] += 1
            self._forget_old_windows(now)

    def _forget_old_windows(self, now: float) -> None:
        if len(self._counts) < 10000:
            return
        for key in [k for k in self._counts if k[2] + DAY < now]:
            del self._counts[key]
