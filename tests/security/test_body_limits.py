"""Request bodies over the configured limit are refused with 413 before they are read, on every route.

Through uvicorn on 127.0.0.1 with raw sockets, so "before reading" is observable: a request that declares
a 256 MB body and sends one byte of it is answered 413 at once (a server that waited for the body would
time out here). A chunked body, which declares no length, is counted as it streams and refused when it
passes the limit; a multipart form is refused before the CSRF check reads it. The limit is a setting
(``web.max_body_bytes``, default 1 MB).
"""

from __future__ import annotations

import json
import socket

import pytest
from conftest import serving
from fastapi.testclient import TestClient

from tbtwatch.settings import get_settings

pytestmark = pytest.mark.timeout(60)

ROUTES = ["/api/subscriptions", "/subscribe", "/login", "/unsubscribe", "/subscriptions/confirm",
          "/subscriptions/manage", "/filters", "/review/G/TBT/N/EU/1", "/api/search", "/no-such-route"]


@pytest.fixture
def server(home):
    from webapp.app import create_app

    with serving(create_app(get_settings())) as address:
        yield address


def exchange(address, head: str, body: bytes = b"", *, wait: float = 5.0) -> str:
    """Send a request head and (part of) a body; the status line and headers of the answer."""
    with socket.create_connection(address, timeout=wait) as conn:
        conn.sendall(head.encode("ascii") + b"\r\n" + body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk
    return answer.decode("latin-1")


@pytest.mark.parametrize("path", ROUTES)
def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(server, path):
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {256 * 1024 * 1024}\r\n")
    answer = exchange(server, head, b"{")  # one byte of the 256 MB: the answer comes without the rest
    assert answer.startswith("HTTP/1.1 413 "), answer[:200]


def test_a_chunked_body_is_counted_as_it_streams(server):
    head = "POST /api/subscriptions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" \
           "Transfer-Encoding: chunked\r\n"
    piece = b"x" * 65536
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(20)) + b"0\r\n\r\n"  # 1.25 MB
    answer = exchange(server, head, chunks)
    assert answer.startswith("HTTP/1.1 413 "), answer[:200]


def test_a_multipart_form_is_refused_before_the_csrf_check_reads_it(home):
    from webapp.app import create_app

    with TestClient(create_app(get_settings()), base_url="http://127.0.0.1") as client:
        big = client.post("/subscribe", files={"email": (None, "a@example.org"), "blob": ("x", b"x" * 1_200_000)})
        small = client.post("/subscribe", files={"email": (None, "a@example.org")})
    assert big.status_code == 413 and "1,048,576" in big.text
    assert small.status_code == 403  # under the limit: read, then refused by the CSRF check as before


def test_the_limit_is_a_setting(home, monkeypatch):
    from webapp.app import create_app

    monkeypatch.setenv("TBTWATCH_WEB_MAX_BODY_BYTES", "2000")
    get_settings.cache_clear()
    with TestClient(create_app(get_settings()), base_url="http://127.0.0.1") as client:
        body = {"email": "buyer@example.org", "hs": ["8507"]}
        assert client.post("/api/subscriptions", json=body).status_code == 202
        refused = client.post("/api/subscriptions", json={**body, "keywords": ["k" * 50] * 60})
    assert refused.status_code == 413 and "2,000 bytes" in refused.json()["detail"]
    assert len(json.dumps({**body, "keywords": ["k" * 50] * 60})) > 2000
