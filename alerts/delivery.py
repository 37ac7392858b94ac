"""Handing queued messages to the mail server (or to ``.eml`` files when none is configured).

Failures are sorted the way SMTP defines them: a 4xx reply, a refused or
dropped connection or a timeout is temporary (retry with backoff); a 5xx reply
is permanent (recorded with the server's answer, not retried). Credentials come
from the settings or the environment (``TBTWATCH_SMTP_USERNAME``,
``TBTWATCH_SMTP_PASSWORD``), never from code.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path

from alerts.outbox import Outbox, OutboxRow
from tbtwatch.settings import Settings, Smtp


class DeliveryError(Exception):
    def __init__(self, message: str, *, temporary: bool, server_down: bool = False):
        super().__init__(message)
        self.temporary = temporary
        self.server_down = server_down  # no point trying the rest of the queue now


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return f"{code} {text}".strip()


def classify_smtp_error(exc: Exception) -> DeliveryError:
    """Temporary or permanent, with the server's own words."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, message = next(iter(exc.recipients.values()))
        return DeliveryError(_reply(code, message), temporary=400 <= code < 500)
    if isinstance(exc, smtplib.SMTPResponseException):
        return DeliveryError(
            _reply(exc.smtp_code, exc.smtp_error),
            temporary=400 <= exc.smtp_code < 500,
            server_down=exc.smtp_code == 421,
        )
    if isinstance(exc, (smtplib.SMTPServerDisconnected, OSError)):
        return DeliveryError(f"mail server unreachable: {exc}", temporary=True, server_down=True)
    return DeliveryError(f"{type(exc).__name__}: {exc}", temporary=True, server_down=True)


class SmtpTransport:
    """One SMTP session for a delivery run, opened on the first message."""

    def __init__(self, config: Smtp):
        self.config = config
        self.sender = parseaddr(config.sender)[1] or "tbtwatch@localhost"
        self._session: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        c = self.config
        if c.security == "ssl":
            session: smtplib.SMTP = smtplib.SMTP_SSL(
                c.host, c.port, timeout=c.timeout, context=ssl.create_default_context()
            )
        else:
            session = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
            if c.security == "starttls":
                session.starttls(context=ssl.create_default_context())
        if c.username:
            session.login(c.username, c.password)
        return session

    def send(self, row: OutboxRow) -> str:
        try:
            if self._session is None:
                self._session = self._open()
            self._session.sendmail(self.sender, [row.recipient], row.payload)
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise classify_smtp_error(exc) from exc
        return f"smtp {self.config.host}:{self.config.port}"

    def close(self) -> None:
        if self._session is not None:
            try:
                self._session.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._session = None


class EmlTransport:
    """No mail server configured: write each message to ``outbox/<date>/<row id>-<kind>.eml`` (atomically)."""

    def __init__(self, directory: Path):
        self.directory = directory

    def send(self, row: OutboxRow) -> str:
        folder = self.directory / dt.date.today().isoformat()
        target = folder / f"{row.id:06d}-{row.kind}.eml"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".part")
            partial.write_bytes(row.payload)
            partial.replace(target)
        except OSError as exc:
            raise DeliveryError(f"cannot write {target}: {exc}", temporary=True, server_down=True) from exc
        return str(target)

    def close(self) -> None:
        """Nothing to release."""


def transport_for(settings: Settings) -> SmtpTransport | EmlTransport:
    if settings.smtp.host:
        return SmtpTransport(settings.smtp)
    return EmlTransport(settings.home / "outbox")


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    uncertain: list[int] = field(default_factory=list)
    stopped: str = ""  # why the run stopped early (server down)
    where: str = ""

    def summary(self) -> str:
        text = (
            f"{len(self.sent)} sent, {len(self.retrying)} to retry, {len(self.failed)} failed, "
            f"{len(self.uncertain)} uncertain"
        )
        return text + (f"; stopped early: {self.stopped}" if self.stopped else "")


def deliver(settings: Settings, now: dt.datetime | None = None, limit: int = 10_000) -> DeliveryReport:
    """Send every due queued message once; safe to run again at any time (also concurrently)."""
    outbox = Outbox(settings)
    report = DeliveryReport(uncertain=outbox.recover_stale(now))
    transport = transport_for(settings)
    try:
        for _ in range(limit):
            row = outbox.claim_next(now)
            if row is None:
                break
            try:
                report.where = transport.send(row)
            except DeliveryError as exc:
                if not exc.temporary:
                    outbox.mark_failed(row.id, str(exc))
                    report.failed.append((row.id, str(exc)))
                    continue
                failure = outbox.mark_retry(row, str(exc), now)
                if failure is None:
                    report.retrying.append(row.id)
                else:
                    report.failed.append((row.id, failure))
                if exc.server_down:
                    report.stopped = str(exc)
                    break
                continue
            outbox.mark_sent(row.id)
            report.sent.append(row.id)
    finally:
        transport.close()
    return report
