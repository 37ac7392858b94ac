"""Alerts fixtures: an archive on a real SQLite file with our own real-shaped notices, and a real SMTP server.

The notices are written for these tests (not copied from the shared data) in the
shapes the crawlers produce; assessments follow the classifier's output shape.
"""

from __future__ import annotations

import datetime as dt
import email
import socket
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from archive import open_store
from tbtwatch.model import notice_from_dict
from tbtwatch.settings import get_settings

DAY = dt.date(2026, 3, 2)
SMTP_USER = "tbtwatch-bot"
SMTP_PASSWORD = "right-pw-Kd73qW"


def days(n: int) -> str:
    return (DAY + dt.timedelta(days=n)).isoformat()


def assessment(
    symbol: str,
    level: str,
    lines: list[tuple[str, float, str]] = (),
    *,
    hs_given=(),
    hs_inferred=(),
    relevant: bool | None = None,
    assessed_on: str | None = None,
    reasons: list[str] | None = None,
    reasons_zh: list[str] | None = None,
) -> dict:
    """An assessment in the classifier's stable output shape."""
    return {
        "symbol": symbol,
        "hs_given": list(hs_given),
        "hs_inferred": [{"code": c, "score": s, "shown": True} for c, s in hs_inferred],
        "product_lines": [
            {"id": i, "score": s, "evidence": [{"field": "products", "text": t}]} for i, s, t in lines
        ],
        "relevant": bool(lines) if relevant is None else relevant,
        "level": level,
        "reasons": reasons or [f"level {level} for the test"],
        **({"reasons_zh": reasons_zh} if reasons_zh else {}),
        "assessed_on": assessed_on or DAY.isoformat(),
        "notice_hash": "0" * 16,
    }


NOTICES = [
    {
        "symbol": "G/TBT/N/EU/1100",
        "member": "European Union",
        "distribution_date": days(0),
        "comment_deadline": days(60),
        "language": "en",
        "title": "Draft Regulation on the safety of lithium-ion batteries for e-bikes",
        "description": "The draft sets due-diligence and labelling requirements for rechargeable lithium-ion batteries.",
        "products": "Lithium-ion accumulators (HS 8507.60)",
        "hs_codes": ["850760"],
        "translations": {
            "zh": {
                "title": "关于电动自行车锂离子电池安全的法规草案",
                "description": "草案规定了可充电锂离子电池的尽职调查和标签要求。",
                "products": "锂离子蓄电池(HS 8507.60)",
            }
        },
        "url": "https://docs.example.org/G/TBT/N/EU/1100.pdf",
    },
    {
        "symbol": "G/TBT/N/USA/2100",
        "member": "美国",
        "distribution_date": days(0),
        "comment_deadline": days(14),
        "language": "zh",
        "title": "LED灯具能效标准",
        "description": "修订一般照明用LED灯的最低能效要求。",
        "products": "LED灯具(HS 9405)",
        "hs_codes": ["9405"],
    },
    {
        "symbol": "G/SPS/N/JPN/900",
        "member": "日本",
        "distribution_date": days(0),
        "comment_deadline": days(60),
        "language": "zh",
        "title": "冷冻鱼类中农药最大残留限量",
        "description": "修订冷冻鱼中若干农药的残留限量。",
        "products": "冷冻鱼(HS 0303)",
        "hs_codes": ["0303"],
    },
    {
        "symbol": "G/TBT/N/KEN/1500",
        "member": "Kenya",
        "distribution_date": days(0),
        "comment_deadline": days(30),
        "language": "en",
        "title": "Mobile phone <script>alert('x')</script> standard\r\nBcc: victim@example.org",
        "description": "Requirements for mobile phone chargers & <b>cables</b>; not leading anything.",
        "products": "Mobile phones (HS 8517.13)",
        "hs_codes": ["851713"],
        "url": "javascript:alert(1)",
    },
    {
        "symbol": "G/TBT/N/EU/1000",
        "member": "欧盟",
        "distribution_date": days(-40),
        "comment_deadline": days(3),
        "language": "zh",
        "title": "玩具安全法规草案",
        "description": "玩具中化学物质的限制。",
        "products": "玩具(HS 9503)",
        "hs_codes": ["9503"],
    },
    {
        "symbol": "G/TBT/N/EU/1000/Add.1",
        "member": "欧盟",
        "distribution_date": days(0),
        "comment_deadline": days(20),
        "language": "zh",
        "title": "玩具安全法规草案:延长评议期",
        "description": "评议期延长。",
        "products": "玩具",
    },
    {
        "symbol": "G/TBT/N/CHN/800",
        "member": "中国",
        "distribution_date": days(-30),
        "language": "zh",
        "title": "电动自行车用锂电池安全要求",
        "description": "旧通报,用于趋势图。",
        "products": "锂电池",
        "hs_codes": ["850760"],
    },
]

ASSESSMENTS = [
    assessment(
        "G/TBT/N/EU/1100",
        "high",
        [("lithium_batteries", 0.95, "Lithium-ion accumulators")],
        hs_given=["850760"],
        reasons=["HS 850760 is in the catalogue", "EU market weight 1.0"],
        reasons_zh=["HS 850760 在目录中", "欧盟市场权重 1.0"],
    ),
    assessment("G/TBT/N/USA/2100", "medium", [("led_lighting", 0.8, "LED灯具")], hs_given=["9405"]),
    assessment("G/SPS/N/JPN/900", "none", relevant=False),
    assessment("G/TBT/N/KEN/1500", "low", [("mobile_phones", 0.7, "Mobile phones")], hs_given=["851713"]),
    assessment("G/TBT/N/EU/1000", "medium", [("toys", 0.9, "玩具")], assessed_on=days(-40)),
    assessment("G/TBT/N/EU/1000/Add.1", "medium", [("toys", 0.9, "玩具")]),
    assessment("G/TBT/N/CHN/800", "medium", [("lithium_batteries", 0.9, "锂电池")], assessed_on=days(-30)),
]


@pytest.fixture
def settings(home):
    return get_settings()


def archive_holding(settings, notices: list[dict], assessments: list[dict]):
    """The archive (a real SqliteStore under tmp_path) holding these notices and assessments, closed after."""
    archive = open_store(settings)
    archive.upsert([notice_from_dict(d) for d in notices])
    archive.put_assessments(assessments)
    yield archive
    archive.close()


@pytest.fixture
def store(settings):
    yield from archive_holding(settings, NOTICES, ASSESSMENTS)


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps what it receives; ``reply`` makes it refuse with that SMTP answer."""

    messages: list[Received] = field(default_factory=list)
    reply: str | None = None

    async def handle_DATA(self, server, session, envelope):
        if self.reply:
            return self.reply
        raw = envelope.original_content or envelope.content
        self.messages.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                email.message_from_bytes(raw, policy=default_policy),
                raw,
            )
        )
        return "250 OK"


class SmtpServer:
    """aiosmtpd on 127.0.0.1 at a fixed port, so it can be stopped (server down) and started again.

    With ``password``, it accepts mail only after a login as ``SMTP_USER`` with that password (plain AUTH
    without TLS, allowed on loopback for the tests); every login is recorded with the client's address, so a
    test can count the sessions.
    """

    def __init__(self, port: int, password: str | None = None):
        self.port = port
        self.password = password
        self.inbox = Inbox()
        self.logins: list[tuple[tuple, bool]] = []  # (client address, accepted)
        self.controller: Controller | None = None

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == SMTP_USER
            and auth_data.password.decode() == self.password
        )
        self.logins.append((session.peer, ok))
        return AuthResult(success=ok, handled=False)  # a refusal answers 535, as real servers do

    def start(self) -> None:
        auth = {}
        if self.password is not None:
            auth = {"authenticator": self.authenticate, "auth_required": True, "auth_require_tls": False}
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **auth)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[Received]:
        return self.inbox.messages


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(monkeypatch, server: SmtpServer) -> None:
    server.start()
    monkeypatch.setenv("TBTWATCH_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("TBTWATCH_SMTP_PORT", str(server.port))
    monkeypatch.setenv("TBTWATCH_SMTP_SECURITY", "none")
    monkeypatch.setenv("TBTWATCH_SMTP_TIMEOUT", "5")
    get_settings.cache_clear()


@pytest.fixture
def smtp_server(home, monkeypatch):
    server = SmtpServer(_free_port())
    _serve(monkeypatch, server)
    yield server
    server.stop()


@pytest.fixture
def smtp_auth_server(home, monkeypatch):
    """A server that wants a login (``SMTP_USER`` / ``SMTP_PASSWORD``); the settings carry no credentials yet."""
    server = SmtpServer(_free_port(), password=SMTP_PASSWORD)
    _serve(monkeypatch, server)
    yield server
    server.stop()
