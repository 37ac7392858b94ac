"""Handing queued messages to the mail server (or to ``.eml`` files when none is configured).

Two kinds of failure, because they call for different people:

- A *session* failure (``SessionError``): the server cannot be reached, the
  TLS handshake fails, EHLO or the login is refused, the sender address is
  refused, or the server says it wants a login (530). No message can go until
  the server or the configuration is fixed, and none of them is at fault, so the
  run stops, the message in hand goes back to the queue untried (its attempt is
  not counted and its schedule is unchanged, so it never "gives up" because of a
  wrong password, and goes on the first run after the fix) and the problem is
  reported once, in the server's words with what to check - never the password.
- A *message* failure (``DeliveryError``): the answer to one message's RCPT or
  DATA. A 4xx is temporary (retry with backoff, counted towards
  ``outbox.MAX_ATTEMPTS``); a 5xx is permanent for that message (recorded with
  the server's answer, not retried). A 421 or a dropped connection mid-message
  is temporary and stops the run.

Credentials come from the settings or the environment
(``TBTWATCH_SMTP_USERNAME``, ``TBTWATCH_SMTP_PASSWORD``), never from code.
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

AUTH_REQUIRED = 530  # RFC 4954: the server accepts mail only after a login, whatever the message


class DeliveryError(Exception):
    """One message was refused or cut off: temporary (retried with backoff) or permanent (recorded)."""

    def __init__(self, message: str, *, temporary: bool, server_down: bool = False):
        super().__init__(message)
        self.temporary = temporary
        self.server_down = server_down  # no point trying the rest of the queue now


class SessionError(Exception):
    """No message can be sent this run; the server or the configuration must be fixed (see the module doc)."""

    def __init__(self, problem: str, reply: str, advice: str):
        super().__init__(f"{problem} ({reply}): {advice}")
        self.problem = problem  # "SMTP login refused by host:port"
        self.reply = reply  # the server's (or the system's) own words, recorded on the message put back
        self.advice = advice  # what to check

    def explain(self, waiting: int) -> str:
        """The one line the operator reads: what failed, the server's words, what to check, what waits."""
        return f"{self}; {waiting} {'message stays' if waiting == 1 else 'messages stay'} queued"


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return f"{code} {text}".strip()


def _refusal(exc: Exception) -> tuple[int, str] | None:
    """(code, the server's words) of a refusal, also when smtplib wraps it per recipient; None otherwise."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
        code, message = next(iter(exc.recipients.values()))
        return code, _reply(code, message)
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code, _reply(exc.smtp_code, exc.smtp_error)
    return None


def classify_smtp_error(exc: Exception) -> DeliveryError:
    """A failure of one message's RCPT or DATA: temporary or permanent, with the server's own words."""
    refused = _refusal(exc)
    if refused is not None:
        code, reply = refused
        return DeliveryError(reply, temporary=400 <= code < 500, server_down=code == 421)
    if isinstance(exc, (smtplib.SMTPServerDisconnected, OSError)):
        return DeliveryError(f"mail server unreachable: {exc}", temporary=True, server_down=True)
    return DeliveryError(f"{type(exc).__name__}: {exc}", temporary=True, server_down=True)


def _temporary_or(code: int, advice: str) -> str:
    return "a temporary refusal: the next delivery run tries again" if 400 <= code < 500 else advice


class SmtpTransport:
    """One SMTP session for a delivery run, opened on the first message."""

    def __init__(self, config: Smtp):
        self.config = config
        self.sender = parseaddr(config.sender)[1] or "tbtwatch@localhost"
        self.where = f"{config.host}:{config.port}"
        self._session: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        """Connect, greet and (per ``smtp.security``) start TLS, or raise ``SessionError`` saying which failed."""
        c, where = self.config, self.where
        tls_advice = "check TBTWATCH_SMTP_SECURITY (none, starttls or ssl) and TBTWATCH_SMTP_PORT"
        session = None
        try:
            if c.security == "ssl":
                session = smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout, context=ssl.create_default_context())
            else:
                session = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
                if c.security == "starttls":
                    session.starttls(context=ssl.create_default_context())
            return session
        except smtplib.SMTPNotSupportedError as exc:
            failure = SessionError(f"SMTP server {where} does not offer STARTTLS", str(exc), tls_advice)
        except ssl.SSLError as exc:
            failure = SessionError(f"TLS handshake with {where} failed", exc.reason or str(exc), tls_advice)
        except smtplib.SMTPResponseException as exc:  # the greeting, EHLO or STARTTLS refused
            reply = _reply(exc.smtp_code, exc.smtp_error)
            failure = SessionError(
                f"SMTP server {where} refused the session",
                reply,
                _temporary_or(exc.smtp_code, "check TBTWATCH_SMTP_HOST and TBTWATCH_SMTP_PORT"),
            )
        except (smtplib.SMTPException, OSError) as exc:  # refused connection, unknown host, timeout, dropped
            failure = SessionError(
                f"mail server {where} unreachable",
                str(exc) or type(exc).__name__,
                "check TBTWATCH_SMTP_HOST and TBTWATCH_SMTP_PORT; otherwise the next run tries again",
            )
        self._quit(session)
        raise failure

    def _login(self, session: smtplib.SMTP) -> None:
        c, where = self.config, self.where
        try:
            session.login(c.username, c.password)
            return
        except smtplib.SMTPResponseException as exc:  # 535 wrong credentials, 534, 454 ...
            failure = SessionError(
                f"SMTP login refused by {where}",
                _reply(exc.smtp_code, exc.smtp_error),
                _temporary_or(exc.smtp_code, "check TBTWATCH_SMTP_USERNAME/PASSWORD"),
            )
        except smtplib.SMTPException as exc:  # no AUTH offered, or no method both sides know
            failure = SessionError(
                f"SMTP server {where} offers no login we can use",
                str(exc),
                "many servers offer AUTH only after STARTTLS: check TBTWATCH_SMTP_SECURITY, or leave "
                "TBTWATCH_SMTP_USERNAME empty for a server without login",
            )
        except OSError as exc:
            failure = SessionError(f"mail server {where} dropped the connection at login", str(exc),
                                   "the next run tries again")
        self._quit(session)
        raise failure

    def _open(self) -> smtplib.SMTP:
        session = self._connect()
        if self.config.username:
            self._login(session)
        return session

    def _session_refusal(self, exc: Exception) -> SessionError | None:
        """A refusal that no message could pass: a login the server wants (530), or our sender address."""
        refused = _refusal(exc)
        if refused is None:
            return None
        code, reply = refused
        if code == AUTH_REQUIRED:
            what = "check" if self.config.username else "set"
            return SessionError(f"SMTP server {self.where} wants a login", reply,
                                f"{what} TBTWATCH_SMTP_USERNAME/PASSWORD")
        if isinstance(exc, smtplib.SMTPSenderRefused):
            return SessionError(
                f"SMTP server {self.where} refused the sender {self.sender}",
                reply,
                _temporary_or(code, "check TBTWATCH_SMTP_SENDER (and that the login may send as it)"),
            )
        return None

    def send(self, row: OutboxRow) -> str:
        if self._session is None:
            self._session = self._open()
        try:
            self._session.sendmail(self.sender, [row.recipient], row.payload)
        except (smtplib.SMTPException, OSError) as exc:
            session_failure = self._session_refusal(exc)
            failure = session_failure or classify_smtp_error(exc)
            if session_failure or failure.server_down:
                self.close()
            raise failure from exc
        return f"smtp {self.where}"

    @staticmethod
    def _quit(session: smtplib.SMTP | None) -> None:
        if session is not None:
            try:
                session.quit()
            except (smtplib.SMTPException, OSError):
                session.close()

    def close(self) -> None:
        self._quit(self._session)
        self._session = None


class EmlTransport:
    """No mail server configured: write each message to ``outbox/<date>/<row id>-<kind>.eml`` (atomically).

    A folder or file that cannot be written stops the run like an unreachable server: no message is at fault.
    """

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
            raise SessionError(
                f"cannot write {target}",
                exc.strerror or str(exc),
                "check that TBTWATCH_HOME is a writable folder (or set TBTWATCH_SMTP_HOST)",
            ) from exc
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
    stopped: str = ""  # why the run stopped early (server down, login refused, ...)
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
            except SessionError as exc:
                outbox.defer(row.id, error=exc.reply)  # untried: no attempt counted, schedule unchanged
                report.stopped = exc.explain(outbox.waiting())
                break
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
