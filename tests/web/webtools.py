"""Shared data and helpers of the web tests: our own real-shaped notices, login, CSRF, outbox links."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from fastapi.testclient import TestClient

TODAY = dt.date.today()
PASSWORD = "correct horse battery"
XSS_TITLE = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">Battery "charger" rules'


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


NOTICES = [
    {"symbol": "G/TBT/N/EU/1132", "member": "European Union", "distribution_date": day(-20),
     "comment_deadline": day(40), "title": "Draft regulation on batteries and waste batteries",
     "description": "Lithium-ion batteries placed on the market shall carry a battery passport and a carbon "
                    "footprint declaration.",
     "products": "Rechargeable batteries (HS 8507.60)", "hs_codes": ["8507.60"],
     "objectives": ["Protection of the environment"], "urls": ["https://docs.wto.org/example/EU1132.pdf",
                                                               "javascript:alert(1)"],
     "translations": {"zh": {"title": "电池和废电池法规草案", "description": "投放市场的锂离子电池应附带电池护照。",
                             "products": "可充电电池"}}},
    {"symbol": "G/TBT/N/EU/1132/Add.1", "member": "European Union", "distribution_date": day(-5),
     "title": "Comment period extended for the battery regulation", "description": "The comment period is "
     "extended by 30 days."},
    {"symbol": "G/TBT/N/CHN/1900", "member": "中国", "language": "zh", "distribution_date": day(-10),
     "comment_deadline": day(50), "title": "电动玩具安全技术规范",
     "description": "本标准规定了电动玩具和锂电池供电玩具的安全要求。", "products": "电动玩具 HS 9503",
     "hs_codes": ["9503"], "objectives": ["保护人类健康和安全"]},
    {"symbol": "G/SPS/N/JPN/1200", "member": "Japan", "distribution_date": day(-60),
     "title": "Maximum residue limits for pesticides in foods", "description": "Revision of MRLs for bifenthrin.",
     "products": "Cereals (HS 1001, 1006)", "hs_codes": ["1001", "1006"], "objectives": ["Food safety"]},
    {"symbol": "G/TBT/N/USA/2034", "member": "United States", "distribution_date": day(-3),
     "comment_deadline": day(57), "title": XSS_TITLE,
     "description": "Safety of battery chargers. <b>bold?</b> & ampersands stay text.",
     "products": "=HYPERLINK(\"http://evil.example\") chargers", "hs_codes": ["850440"]},
]
ASSESSMENTS = [
    {"symbol": "G/TBT/N/EU/1132", "hs_given": ["850760"], "hs_inferred": [{"code": "8507", "score": 0.93, "shown": True}],
     "product_lines": [{"id": "batteries", "score": 0.95,
                        "evidence": [{"field": "title", "text": "batteries"}]}],
     "relevant": True, "level": "high", "reasons": ["batteries are a main Shenzhen export line"]},
    {"symbol": "G/TBT/N/CHN/1900", "hs_given": ["9503"], "hs_inferred": [],
     "product_lines": [{"id": "toys", "score": 0.9, "evidence": [{"field": "title", "text": "电动玩具"}]}],
     "relevant": True, "level": "medium", "reasons": ["toys"]},
]


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def login(client: TestClient, name: str = "alice", password: str = PASSWORD):
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"name": name, "password": password, "next": "/review",
                                       "csrf_token": token}, follow_redirects=False)


def outbox_messages(settings) -> list[Path]:
    return sorted((settings.home / "outbox").rglob("*.eml"))


def link_in(message: Path, path: str) -> str:
    """The path-and-query of the first link to ``path`` in an email file (quoted-printable decoded)."""
    import email
    from email import policy

    parsed = email.message_from_bytes(message.read_bytes(), policy=policy.default)
    body = parsed.get_body(preferencelist=("plain",)).get_content()
    match = re.search(re.escape(path) + r"\?token=[\w.\-]+", body)
    assert match, f"no {path} link in {message.name}"
    return match.group(0)
