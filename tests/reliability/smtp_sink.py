"""A real SMTP server (aiosmtpd on 127.0.0.1) that counts what arrives by Message-ID and can misbehave on cue.

``stall_at`` holds the reply to the Nth message back (at ``RCPT``: before the
message reached the server; at ``DATA``: after it arrived) until the test
releases it, so a sender can be killed at a known point without sleeping;
``down_after`` makes the server accept that many messages and answer the rest
``421`` (a server going down for maintenance says so). The port is fixed per sink so it can be stopped and started
again (the server down, then back).
"""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from collections import Counter
from email.policy import default as default_policy

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[bytes] = []
        self.stall_at: tuple[str, int] | None = None  # ("RCPT" | "DATA", Nth message, 1-based)
        self.down_after: int | None = None
        self.stalled = threading.Event()
        self._release: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._controller: Controller | None = None

    # -- aiosmtpd hooks ---------------------------------------------------------------------
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        await self._maybe_stall("RCPT")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.down_after is not None and len(self.received) >= self.down_after:
            return "421 4.3.2 shutting down for maintenance"
        self.received.append(envelope.original_content or envelope.content)
        await self._maybe_stall("DATA")
        return "250 OK"

    async def _maybe_stall(self, stage: str) -> None:
        """Hold this reply if it is the chosen message at the chosen stage; ``stalled`` tells the test."""
        if self.stall_at != (stage, len(self.received) + (stage == "RCPT")):
            return
        self.stall_at = None
        self._loop, self._release = asyncio.get_running_loop(), asyncio.Event()
        self.stalled.set()
        await self._release.wait()

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> SmtpSink:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._release is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._release.set)
            self._release = None
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    # -- what arrived -----------------------------------------------------------------------
    def message_ids(self) -> Counter[str]:
        """How many times each Message-ID arrived (a duplicate shows as a count above 1)."""
        return Counter(email.message_from_bytes(raw, policy=default_policy)["Message-ID"] for raw in self.received)

    def env(self) -> dict[str, str]:
        """The settings that point tbtwatch's delivery at this server."""
        return {"TBTWATCH_SMTP_HOST": "127.0.0.1", "TBTWATCH_SMTP_PORT": str(self.port),
                "TBTWATCH_SMTP_SECURITY": "none", "TBTWATCH_SMTP_TIMEOUT": "10"}
