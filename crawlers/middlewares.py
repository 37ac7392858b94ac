"""Downloader middlewares: retries that back off, and redirects that may not leave the source's boundaries.

Scrapy's own retry middleware re-sends at once; a source answering 503 under
load needs a pause that grows with each attempt, and a body cut off on the wire
(which arrives flagged ``dataloss``, see DOWNLOAD_FAIL_ON_DATALOSS) is tried
again the same way.

The redirect guard keeps a crawl on its source's allowed domains and away from
loopback or private addresses (the replay host is allowed only when a base URL
was given). Scrapy's offsite filter would drop an off-domain redirect too, but
silently, at scheduling, without calling the request's errback: the source
would report "ok, nothing found". Refusing in the guard sends the refusal
through the errback, where it is counted for the source and kept raw.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.extensions.httpcache import DummyPolicy
from scrapy.http import Request, Response
from w3lib.url import safe_url_string

BACKOFF_KEY = "tbtwatch_backoff"
REDIRECT_STATUSES = (301, 302, 303, 307, 308)


class BackoffRetryMiddleware(RetryMiddleware):
    """Retry on 5xx, timeouts and cut bodies, waiting RETRY_BACKOFF_BASE * 2**attempt seconds before each retry."""

    def _retry(self, request: Request, reason) -> Request | None:
        retry = super()._retry(request, reason)
        if retry is not None:
            base = self.crawler.settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
            attempt = retry.meta.get("retry_times", 1)
            retry.meta[BACKOFF_KEY] = min(base * 2 ** (attempt - 1), 60.0)
            self.crawler.stats.inc_value("tbtwatch/retries")
        return retry

    async def process_request(self, request: Request, spider=None) -> None:
        delay = request.meta.pop(BACKOFF_KEY, 0)
        if delay:
            await asyncio.sleep(delay)

    def process_response(self, request: Request, response: Response, spider=None) -> Request | Response:
        if "dataloss" in response.flags and not request.meta.get("dont_retry", False):
            return self._retry(request, "body cut off mid-transfer") or response
        return super().process_response(request, response)


class CompleteResponsesPolicy(DummyPolicy):
    """The development HTTP cache's policy: never keep a body cut off on the wire, or every retry would replay it."""

    def should_cache_response(self, response: Response, request: Request) -> bool:
        return "dataloss" not in response.flags and super().should_cache_response(response, request)


def is_private_host(host: str) -> bool:
    """True when ``host`` is, or resolves to, a loopback, private, link-local or reserved address."""
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, None)
        except OSError:
            return False  # unresolvable: the download itself will fail and be reported
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    return any(a.is_private or a.is_loopback or a.is_link_local or a.is_reserved for a in addresses)


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` or a loopback address literal (no name lookup: a live host never counts)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def on_domains(host: str, domains: Iterable[str]) -> bool:
    """True when ``host`` is one of ``domains`` or a subdomain of one (Scrapy's offsite rule, ports ignored)."""
    host = host.lower()
    return any(host == d or host.endswith("." + d) for d in (d.lower() for d in domains if d))


class RedirectRefused(IgnoreRequest):
    """A redirect the crawl will not follow; carries the 3xx response so the refusal is kept raw with its reason."""

    def __init__(self, message: str, response: Response):
        super().__init__(message)
        self.response = response


class RedirectGuard:
    """Refuse a redirect off the spider's ``allowed_domains``, or to a private address other than the replay host.

    Ordered after (numerically above) RedirectMiddleware so it sees the 3xx first.
    Both refusals are counted (``tbtwatch/refused_redirects``) and raise
    ``RedirectRefused``, which the spider's errback counts and keeps raw.
    """

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler) -> RedirectGuard:
        return cls(crawler)

    def process_response(self, request: Request, response: Response, spider=None) -> Response:
        if response.status not in REDIRECT_STATUSES or b"Location" not in response.headers:
            return response
        # percent-encoded as Scrapy's redirect does, so the reason kept and logged carries no control characters
        target = safe_url_string(response.urljoin(response.headers[b"Location"].decode("latin-1")))
        host = urlsplit(target).hostname or ""
        origin = request.meta.get("real_url", request.url)
        spider = self.crawler.spider
        if not on_domains(host, getattr(spider, "allowed_domains", None) or ()):
            self._refuse(f"offsite redirect refused: {origin} -> {target}", response)
        if host not in set(getattr(spider, "replay_hosts", ())) and is_private_host(host):
            self._refuse(f"private-address redirect refused: {origin} -> {target} ({host})", response)
        return response

    def _refuse(self, message: str, response: Response) -> None:
        self.crawler.stats.inc_value("tbtwatch/refused_redirects")
        raise RedirectRefused(message, response)
