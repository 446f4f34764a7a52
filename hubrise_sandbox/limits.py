"""Per-connection rate limits on windows aligned to the round minute, hour and day (UTC).

``minute`` is the length of a minute in seconds: 60, or less in tests that need a window
to close within seconds; an hour and a day are 60 and 1,440 of those minutes.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict

from .config import RateLimits
from .errors import too_many_requests

MINUTES_PER_HOUR, MINUTES_PER_DAY = 60, 1440


class RateLimiter:
    def __init__(self, limits: RateLimits, minute: float = 60.0) -> None:
        self.limits = limits
        self.minute = minute
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str, float], int] = defaultdict(int)

    def reset(self, limits: RateLimits, minute: float | None = None) -> None:
        with self._lock:
            self.limits = limits
            if minute is not None:
                self.minute = minute
            self._counts.clear()

    def check(self, connection_id: str, heavy: str | None, now: float | None = None) -> None:
        """Counts one request, or raises a 429 naming when the exceeded window ends.

        ``heavy`` names the heavy call (``"orders"``, ``"catalog"``): each heavy call has its own
        10-a-minute window on top of the others. A refused request is not counted, as a client
        backing off must get through once the window rolls over.
        """
        now = time.time() if now is None else now
        minute = self.minute
        windows = [
            ("minute", minute, self.limits.per_minute),
            ("hour", minute * MINUTES_PER_HOUR, self.limits.per_hour),
            ("day", minute * MINUTES_PER_DAY, self.limits.per_day),
        ]
        if heavy:
            windows.append((f"heavy minute ({heavy})", minute, self.limits.heavy_per_minute))
        with self._lock:
            keys = []
            for name, length, limit in windows:
                window_start = (now // length) * length
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
        for key in [k for k in self._counts if k[2] + self.minute * MINUTES_PER_DAY < now]:
            del self._counts[key]
