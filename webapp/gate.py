"""How many requests one worker works on at once (``web.concurrency``), the rest waiting in arrival order.

With the SQLite archive a request is CPU in the worker's process from start to end, and one
process runs one thread at a time (the GIL). Left to Starlette's thread pool (40 threads),
every waiting request gets a slice of the same core in turn, so a 20 ms CSV export among
nine searches takes ten times its own time, and the slowest requests set the p95; taken in
arrival order each waits only for the requests ahead of it. Measured with 20 clients on the
100,000-notice archive (the request mix of ``bench/bench_web_load.py``, two workers, no
writer): the p95 fell from 290-420 ms to 135 ms, the p99 from 1.8-2.2 s to 0.19 s, and
the requests answered rose (no switching between threads). With Elasticsearch a request
mostly waits for the index, which takes no CPU here: give ``web.concurrency`` the number
of searches the index should run at once per worker.

The slot is held while the app computes, not while the answer waits for a slow client: a
part that the client has not taken within ``SLOW_CLIENT_S`` (the server's buffer is full:
a large export over a slow line, or a reader stalling on purpose) is waited for without
the slot, which a streamed response takes again, in its turn, before it makes its next
part. The last part, and background tasks after it (the outbox delivered after a
sign-up's answer), go outside the gate. A client that reads at once keeps the slot for
its whole answer, so a streamed export is not sent to the back of the queue between parts.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SLOW_CLIENT_S = 0.05  # a part not taken by then waits for its client without the worker


class ConcurrencyGate:
    """ASGI middleware: at most ``limit`` HTTP requests in the app at once, the others queued in order."""

    def __init__(self, app: ASGIApp, limit: int):
        if limit < 1:
            raise ValueError(f"web.concurrency is {limit}: give at least 1 request at once per worker")
        self.app = app
        self.slots = asyncio.Semaphore(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.slots.acquire()
        held = True

        def give_back() -> None:
            nonlocal held
            if held:
                held = False
                self.slots.release()

        async def sending(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                give_back()  # the answer is made: its last part goes out, and background tasks run, outside
                await send(message)
                return
            sent = asyncio.ensure_future(send(message))
            try:
                await asyncio.wait_for(asyncio.shield(sent), SLOW_CLIENT_S)
            except asyncio.TimeoutError:
                give_back()  # the client's pace is not the worker's
                await sent
                await self.slots.acquire()  # the next part is made in its turn
                held = True

        try:
            await self.app(scope, receive, sending)
        finally:
            give_back()
