"""A ceiling on request bodies, so one anonymous POST cannot fill the server's memory.

Pure ASGI middleware in front of every route. A request whose ``Content-Length``
is over the limit is answered 413 before a byte of its body is read (and the
connection is closed, so the server does not read it either). A body without a
declared length (chunked) is counted as it streams: past the limit, the next
read raises a 413 ``HTTPException``, which FastAPI passes through its body
parsing to the app's error handler. Forms are refused the same way before the
CSRF check reads them. A reverse proxy should set the same limit
(docs/running.md).
"""

from __future__ import annotations

import json

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def too_large(limit: int) -> str:
    return f"the request body is larger than {limit:,} bytes, the most this server accepts (web.max_body_bytes)"


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(scope, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise HTTPException(413, too_large(self.limit))
            return message

        await self.app(scope, counted, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        """413 without reading the body: JSON for the API, plain text for people."""
        detail = too_large(self.limit)
        if scope["path"].startswith("/api/"):
            body, kind = json.dumps({"detail": detail}).encode(), b"application/json"
        else:
            body, kind = detail.encode(), b"text/plain; charset=utf-8"
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", kind), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
