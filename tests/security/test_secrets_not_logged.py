"""Secrets never appear in what tbtwatch prints, logs or writes.

The whole offline day (crawl with the ePing API key, classify, alerts and the digest sent through an SMTP
server that requires AUTH) runs as the command line does, with every secret set to a distinctive value;
then stdout, stderr, every file under TBTWATCH_HOME (the archive, its WAL, raw pages, the digest, ...)
except ``secret.key``, and every message the server received are searched for each value. A refused
login is also checked: its error, as shown and as stored in the outbox, does not echo the password; and
a signing secret generated into ``secret.key`` (none configured) appears nowhere else.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

REPO = Path(__file__).resolve().parents[2]
SECRETS = {
    "TBTWATCH_SMTP_PASSWORD": "smtp-pw-Zq81xK",
    "TBTWATCH_SECRET": "signing-secret-Vb27nM",
    "TBTWATCH_EPING_API_KEY": "eping-key-Hs64tR",
    "TBTWATCH_ARCHIVE_ES_PASSWORD": "es-pw-Ld39wQ",
    "TBTWATCH_ARCHIVE_ES_API_KEY": "es-api-key-Pe52yU",
}
SMTP_USER = "tbtwatch-bot"
# AUTH without TLS is what this test server must allow (loopback only); aiosmtpd warns about it.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@dataclass
class AuthInbox:
    """An SMTP server that accepts mail only after a login with ``password``, and keeps what it receives."""

    password: str
    logins: list[tuple[str, bool]] = field(default_factory=list)
    received: list[bytes] = field(default_factory=list)

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == SMTP_USER \
            and auth_data.password.decode() == self.password
        self.logins.append((mechanism, ok))
        return AuthResult(success=ok, handled=False)  # a refusal answers 535, as real servers do

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope.original_content or envelope.content)
        return "250 OK"


@pytest.fixture
def smtp_auth(monkeypatch):
    """aiosmtpd on 127.0.0.1 requiring AUTH (plain text allowed on loopback only for the test)."""
    inbox = AuthInbox(SECRETS["TBTWATCH_SMTP_PASSWORD"])
    with socket.socket() as probe:  # aiosmtpd's Controller needs a known port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=inbox.authenticate,
                            auth_required=True, auth_require_tls=False)
    controller.start()
    yield inbox, controller.port
    controller.stop()


def cli_env(home: Path, port: int, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TBTWATCH_")}
    return {**env, **SECRETS, "PYTHONPATH": str(REPO), "TBTWATCH_HOME": str(home),
            "TBTWATCH_SMTP_HOST": "127.0.0.1", "TBTWATCH_SMTP_PORT": str(port), "TBTWATCH_SMTP_SECURITY": "none",
            "TBTWATCH_SMTP_USERNAME": SMTP_USER, "TBTWATCH_SMTP_TIMEOUT": "10",
            "TBTWATCH_ALERTS_WORKING_GROUP": "tbt-working-group@example.org", **overrides}


def tbtwatch(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from commands.cli import app; app()", *args], check=False, cwd=REPO,
                          env=env,
                          capture_output=True, text=True, timeout=180)


def leaks(texts: dict[str, bytes], secrets: dict[str, str]) -> list[str]:
    """``where: NAME`` for every secret value found in any of ``texts`` (as UTF-8 bytes)."""
    return [f"{where}: {name}" for where, blob in texts.items() for name, value in secrets.items()
            if value.encode() in blob]


def streams(runs: dict[str, subprocess.CompletedProcess]) -> dict[str, bytes]:
    """``{"<command> stdout": bytes, "<command> stderr": bytes}`` for every command run."""
    return {f"{name} {stream}": getattr(result, stream).encode() for name, result in runs.items()
            for stream in ("stdout", "stderr")}


def written_files(home: Path) -> dict[str, bytes]:
    return {str(p.relative_to(home)): p.read_bytes() for p in sorted(home.rglob("*"))
            if p.is_file() and p.name != "secret.key"}


@pytest.mark.timeout(240)
def test_a_full_offline_day_with_smtp_auth_leaks_no_secret(tmp_path, smtp_auth):
    inbox, port = smtp_auth
    home = tmp_path / "home"
    env = cli_env(home, port)
    runs = {"subscriptions import": tbtwatch(env, "subscriptions", "import", "config/demo/subscribers.csv"),
            "daily --offline": tbtwatch(env, "daily", "--offline"),
            "alerts status": tbtwatch(env, "alerts", "status"),
            "subscriptions list": tbtwatch(env, "subscriptions", "list")}
    assert runs["daily --offline"].returncode == 0, runs["daily --offline"].stdout + runs["daily --offline"].stderr
    assert inbox.received and all(ok for _, ok in inbox.logins)  # the mail really went through an AUTH login
    assert "ok     eping_api" in runs["daily --offline"].stdout  # the API key was used, not skipped

    output = streams(runs)
    files = written_files(home)
    assert "archive.sqlite3" in files and any(name.startswith("digests/") for name in files)
    mail = {f"message {i}": raw for i, raw in enumerate(inbox.received)}
    assert leaks({**output, **files, **mail}, SECRETS) == []


@pytest.mark.timeout(120)
def test_a_refused_smtp_login_does_not_echo_the_password(tmp_path, smtp_auth):
    inbox, port = smtp_auth
    home = tmp_path / "home"
    wrong = "wrong-pw-Tg48sJ"
    env = cli_env(home, port, TBTWATCH_SMTP_PASSWORD=wrong)
    runs = {"subscribe": tbtwatch(env, "subscribe", "new@example.org", "--hs", "8507"),
            "alerts deliver": tbtwatch(env, "alerts", "deliver"),
            "alerts status": tbtwatch(env, "alerts", "status")}
    assert inbox.logins and not any(ok for _, ok in inbox.logins) and inbox.received == []
    with sqlite3.connect(home / "archive.sqlite3") as conn:
        [(error,)] = conn.execute("SELECT last_error FROM alert_outbox").fetchall()
    assert error.startswith("535 ")  # the server's refusal is recorded in its own words, and nothing more
    output = streams(runs)
    assert leaks({**output, **written_files(home)}, {**SECRETS, "the wrong password": wrong}) == []


@pytest.mark.timeout(120)
def test_a_generated_signing_secret_stays_in_its_key_file(tmp_path, smtp_auth):
    inbox, port = smtp_auth
    home = tmp_path / "home"
    env = cli_env(home, port)
    del env["TBTWATCH_SECRET"]  # no secret configured: the first token generates secret.key
    runs = {"subscribe": tbtwatch(env, "subscribe", "new@example.org", "--hs", "8507"),
            "alerts deliver": tbtwatch(env, "alerts", "deliver")}
    assert runs["alerts deliver"].returncode == 0 and len(inbox.received) == 1  # the confirm link, signed
    generated = (home / "secret.key").read_text().strip()
    assert len(generated) >= 32
    output = streams(runs)
    assert leaks({**output, **written_files(home), "the confirm message": inbox.received[0]},
                 {"the generated secret": generated}) == []
