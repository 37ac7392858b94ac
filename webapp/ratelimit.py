"""Rate limits on the forms that guess or cost something: login (password guessing) and sign-up (each one
sends a confirmation mail, so an unlimited form is a way to mail-bomb any address).

The counts are in memory, per client address and per bucket, over a sliding window: enough for one web
process. Several processes each count separately, and behind a reverse proxy every client has the
proxy's address unless uvicorn is told to trust ``X-Forwarded-For`` (``--proxy-headers``); a shared
limit (Redis, the proxy's own) is the next step if that matters.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from fastapi import Request

PER_MINUTE = 10
WINDOW_SECONDS = 60.0
MAX_CLIENTS = 10_000  # beyond this many tracked addresses, idle ones are forgotten


class RateLimited(Exception):
    """Too many attempts from one address; ``retry_after`` is in whole seconds."""

    def __init__(self, action: str, limit: int, window: float, retry_after: int):
        self.retry_after = retry_after
        super().__init__(
            f"too many {action} attempts from your address ({limit} per {window:.0f} seconds): "
            f"wait {retry_after} seconds and try again"
        )


class RateLimiter:
    """At most ``limit`` events per ``window`` seconds for each key."""

    def __init__(
        self,
        action: str,
        limit: int = PER_MINUTE,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.action, self.limit, self.window, self.clock = action, limit, window, clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Count one event for ``key``; raise ``RateLimited`` (without counting it) when over the limit."""
        now = self.clock()
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                raise RateLimited(
                    self.action, self.limit, self.window, max(1, math.ceil(events[0] + self.window - now))
                )
            events.append(now)
            if len(self._events) > MAX_CLIENTS:
                self._forget_idle(now)

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._events.items() if not v or v[-1] <= now - self.window]:
            del self._events[key]


def default_limiters() -> dict[str, RateLimiter]:
    return {"login": RateLimiter("login"), "subscribe": RateLimiter("sign-up")}


def rate_limited(bucket: str) -> Callable[[Request], None]:
    """A route dependency counting the request against ``bucket`` of the app's limiters (``app.state``)."""

    def dependency(request: Request) -> None:
        client = request.client.host if request.client else "unknown"
        request.app.state.rate_limits[bucket].check(client)

    return dependency
