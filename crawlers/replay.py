"""Replay server: recorded real-shaped pages and files for every source, at the real sites' paths, on 127.0.0.1.

Fixtures live in ``tests/fixtures/replay/<host>/<path>``. Requests with a query
string are matched through ``routes.yaml`` (a route names the host, the path,
the query parameters that must be present, and the file). The crawlers send
the real host in ``X-Forwarded-Host`` when they read from an overridden base
URL; without it the server serves the only host that has the path.

A route may require a header (the API key): without it the answer is 401, with
its ``refused_value`` (a revoked key) 403, as the API gateway answers.

Tests inject faults (``fault(...)``): HTTP 500 or 404, a slow answer, a reset
connection, a truncated body or a redirect elsewhere, for a number of requests or
until cleared.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

from tbtwatch.settings import PROJECT_ROOT

FIXTURE_ROOT = PROJECT_ROOT / "tests" / "fixtures" / "replay"
# The day the replay stands for: its newest notices were distributed then. An offline run acts
# as that day, so comment periods are open and alerts and reminders fire as they did then.
RECORDED_DAY = dt.date(2025, 7, 22)
FAULTS = ("500", "404", "slow", "reset", "truncate", "redirect")
HOST_HEADER = "X-Forwarded-Host"


@dataclass
class Fault:
    match: str  # substring of the request path (and query)
    kind: str
    times: int | None  # None: until cleared
    delay: float = 3.0
    location: str = ""  # where a "redirect" fault sends the request


@dataclass(frozen=True)
class Route:
    host: str
    path: str
    params: dict[str, str]
    file: str
    content_type: str | None = None
    require_header: str | None = None
    refused_value: str | None = None  # a value of require_header the gateway refuses (a revoked key): 403


class ReplayServer:
    """A threaded stdlib HTTP server; ``start()`` binds 127.0.0.1 on a free port (or ``port``)."""

    def __init__(self, root: Path = FIXTURE_ROOT, port: int = 0, host: str = "127.0.0.1"):
        self.root = Path(root)
        self.routes = self._load_routes()
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # http.server's naming
                server._serve(self)

            def log_message(self, format: str, *args) -> None:  # quiet: tests read server.requests
                return

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ReplayServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="replay-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- faults ----------------------------------------------------------------------------
    def fault(self, match: str, kind: str, times: int | None = None, delay: float = 3.0, location: str = "") -> None:
        """Answer requests whose path contains ``match`` with a fault (``FAULTS``), ``times`` times or until cleared.

        ``delay``: seconds a "slow" answer waits; ``location``: the URL a "redirect" (302) points to."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; use one of {', '.join(FAULTS)}")
        if (kind == "redirect") != bool(location):
            raise ValueError("a redirect fault needs a location, and only a redirect fault takes one")
        with self._lock:
            self._faults.append(Fault(match, kind, times, delay, location))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, target: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.match in target:
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    # -- serving ---------------------------------------------------------------------------
    def _load_routes(self) -> list[Route]:
        path = self.root / "routes.yaml"
        if not path.exists():
            return []
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return [Route(r["host"], r["path"], {k: str(v) for k, v in (r.get("params") or {}).items()}, r["file"],
                      r.get("content_type"), r.get("require_header"), r.get("refused_value"))
                for r in data.get("routes", [])]

    def resolve(self, host: str | None, path: str, query: str) -> tuple[Path, Route | None] | None:
        """The fixture file for a request, or None (404)."""
        params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        for route in self.routes:
            if route.path == path and (host in (None, route.host)) and all(
                    params.get(k) == v for k, v in route.params.items()):
                return self.root / route.file, route
        relative = unquote(path).lstrip("/")
        if ".." in Path(relative).parts:
            return None
        hosts = [host] if host else sorted(p.name for p in self.root.iterdir() if p.is_dir())
        for name in hosts:
            candidate = self.root / name / relative
            if candidate.is_file():
                return candidate, None
        return None

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        target = parts.path + ("?" + parts.query if parts.query else "")
        self.requests.append(target)
        fault = self._take_fault(target)
        if fault and fault.kind == "reset":
            handler.close_connection = True
            handler.connection.close()
            return
        if fault and fault.kind in ("500", "404"):
            self._send(handler, int(fault.kind), f"replay fault {fault.kind}".encode(), "text/plain")
            return
        if fault and fault.kind == "redirect":
            self._send(handler, 302, b"", "text/plain", headers={"Location": fault.location})
            return
        if fault and fault.kind == "slow":
            time.sleep(fault.delay)
        found = self.resolve(handler.headers.get(HOST_HEADER), parts.path, parts.query)
        if found is None:
            self._send(handler, 404, b"not recorded", "text/plain")
            return
        file, route = found
        if route and route.require_header and not handler.headers.get(route.require_header):
            self._send(handler, 401, b'{"statusCode": 401, "message": "Access denied due to missing subscription '
                                     b'key."}', "application/json")
            return
        if route and route.refused_value and handler.headers.get(route.require_header) == route.refused_value:
            self._send(handler, 403, b'{"statusCode": 403, "message": "Access denied: the subscription key is not '
                                     b'valid for this API."}', "application/json")
            return
        body = file.read_bytes()
        content_type = (route and route.content_type) or mimetypes.guess_type(file.name)[0] or "text/html"
        if fault and fault.kind == "truncate":
            self._send(handler, 200, body[: len(body) // 2], content_type, declared_length=len(body))
            handler.close_connection = True
            handler.connection.close()
            return
        self._send(handler, 200, body, content_type)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str,
              declared_length: int | None = None, headers: dict[str, str] | None = None) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            for name, value in (headers or {}).items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(declared_length if declared_length is not None else len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass


def serve_forever(port: int = 8765, root: Path = FIXTURE_ROOT) -> None:
    """``tbtwatch replay serve``: run in the foreground until interrupted."""
    server = ReplayServer(root=root, port=port)
    print(f"replaying {root} at {server.url} (Ctrl-C stops)", flush=True)
    print(f"crawl it with: tbtwatch crawl --base-url {server.url}", flush=True)
    try:
        server._httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._httpd.server_close()
