"""Fixtures for issue 9 (filters, feeds, webhooks, cut-off, grouping): a real SQLite archive holding our own
notices in the crawlers' shapes, a real SMTP server and a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.alerts.conftest import (  # noqa: F401 - re-exported: DAY and days for the tests, two fixtures
    DAY, archive_holding, assessment, days, settings, smtp_server,
)

EAC = ["BDI", "KEN", "RWA", "TZA", "UGA"]
POWER_BANK = {
    "title": "DEAS 1201:2026 Portable power banks — Specification",
    "description": "This Draft East African Standard specifies safety and performance requirements, sampling and "
    "test methods for portable power banks with built-in lithium-ion cells used for charging mobile phones "
    "and other portable electronic devices.",
    "products": "Accumulators, lithium-ion (HS code(s): 850760); Batteries and accumulators (ICS code(s): 29.220)",
    "hs_codes": ["850760"],
}
SOLAR_LANTERN = {
    "title": "DEAS 1202:2026 Solar lanterns — Specification",
    "description": "This Draft East African Standard specifies requirements, sampling and test methods for "
    "stand-alone solar lanterns with rechargeable batteries for household lighting.",
    "products": "Portable electric lamps (HS code(s): 851310); Lighting (ICS code(s): 29.140)",
    "hs_codes": ["851310"],
}


def eac_copies(number: int, text: dict, day: str) -> list[dict]:
    """One text notified separately by the five EAC members (each under its own symbol), as ePing lists them."""
    names = {"BDI": "Burundi", "KEN": "Kenya", "RWA": "Rwanda", "TZA": "Tanzania", "UGA": "Uganda"}
    return [
        {
            "symbol": f"G/TBT/N/{code}/{number + i}",
            "member": names[code],
            "distribution_date": day,
            "comment_deadline": days(60),
            "language": "en",
            **text,
        }
        for i, code in enumerate(EAC)
    ]


NOTICES = [
    {
        "symbol": "G/TBT/N/EU/2001",
        "member": "European Union",
        "distribution_date": days(0),
        "comment_deadline": days(60),
        "language": "en",
        "title": "Draft Regulation on rechargeable lithium-ion batteries for light means of transport",
        "description": "Sets labelling, carbon footprint and due-diligence requirements for lithium-ion batteries.",
        "products": "Lithium-ion accumulators (HS 8507.60)",
        "hs_codes": ["850760"],
        "translations": {
            "zh": {
                "title": "关于轻型交通工具用可充电锂离子电池的法规草案",
                "description": "规定锂离子电池的标签、碳足迹和尽职调查要求。",
                "products": "锂离子蓄电池（HS 8507.60）",
            }
        },
        "url": "https://docs.example.org/G/TBT/N/EU/2001.pdf",
    },
    {
        "symbol": "G/TBT/N/EU/2002",
        "member": "European Union",
        "distribution_date": days(0),
        "comment_deadline": days(60),
        "language": "en",
        "title": "Draft Regulation on lead-acid starter batteries for vehicles",
        "description": "Restrictions on lead in lead-acid accumulators used to start piston engines.",
        "products": "Lead-acid accumulators (HS 8507.10)",
        "hs_codes": ["850710"],
    },
    {
        "symbol": "G/TBT/N/SAU/1400",
        "member": "沙特阿拉伯",
        "distribution_date": days(0),
        "comment_deadline": days(60),
        "language": "zh",
        "title": "电子烟及其烟液技术法规草案",
        "description": "规定电子烟设备和烟液的尼古丁含量上限、标签和儿童安全包装要求。",
        "products": "电子烟（HS 854340）",
        "hs_codes": ["854340"],
    },
    *eac_copies(1900, POWER_BANK, days(0)),
    *eac_copies(1910, SOLAR_LANTERN, days(0)),
]

ASSESSMENTS = [
    assessment(
        "G/TBT/N/EU/2001",
        "high",
        [("lithium_batteries", 0.95, "Lithium-ion accumulators")],
        hs_given=["850760"],
    ),
    assessment(
        "G/TBT/N/EU/2002", "medium", [("lithium_batteries", 0.4, "accumulators")], hs_given=["850710"]
    ),
    assessment("G/TBT/N/SAU/1400", "medium", [("e_cigarettes", 0.9, "电子烟")], hs_given=["854340"]),
    *[
        assessment(n["symbol"], "medium", [("power_banks", 0.8, "power banks")], hs_given=["850760"])
        for n in NOTICES[3:8]
    ],
    *[
        assessment(n["symbol"], "low", [("led_lighting", 0.6, "solar lanterns")], hs_given=["851310"])
        for n in NOTICES[8:13]
    ],
]


@pytest.fixture
def store(settings):
    yield from archive_holding(settings, NOTICES, ASSESSMENTS)


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A webhook receiver: answers each POST with the next status in ``answers`` (200 once they run out)."""

    answers: list[int] = field(default_factory=list)
    received: list[Delivery] = field(default_factory=list)  # every request, failed or not
    url: str = ""


@pytest.fixture
def receiver():
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.received.append(Delivery(dict(self.headers.items()), body))
            status = state.answers.pop(0) if state.answers else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/tbt"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def client(settings, store):
    """The web app over the fixture archive, through a real ASGI client with its own cookies."""
    from fastapi.testclient import TestClient

    from webapp.app import create_app

    with TestClient(create_app(settings, store), base_url="http://127.0.0.1") as c:
        yield c
