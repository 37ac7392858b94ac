"""Downloader middlewares: retries that back off, and no redirects into private networks.

Scrapy's own retry middleware re-sends at once; a source answering 503 under
load needs a pause that grows with each attempt. The redirect guard keeps a live
crawl from being steered (by a hostile or broken redirect) to loopback or
private addresses; the replay host is allowed only when a base URL was given.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response

BACKOFF_KEY = "tbtwatch_backoff"


class BackoffRetryMiddleware(RetryMiddleware):
    """Retry on 5xx and timeouts, waiting RETRY_BACKOFF_BASE * 2**attempt seconds before each retry."""

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


class PrivateRedirectGuard:
    """Refuse a redirect whose target is a private address, unless it is the replay host the crawl was told to use.

    Ordered after (numerically above) RedirectMiddleware so it sees the 3xx first.
    """

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler) -> "PrivateRedirectGuard":
        return cls(crawler)

    def process_response(self, request: Request, response: Response, spider=None) -> Response:
        if response.status not in (301, 302, 303, 307, 308) or b"Location" not in response.headers:
            return response
        target = urlsplit(response.urljoin(response.headers[b"Location"].decode("latin-1")))
        host = target.hostname or ""
        allowed = set(getattr(self.crawler.spider, "replay_hosts", ()))
        if host not in allowed and is_private_host(host):
            self.crawler.stats.inc_value("tbtwatch/refused_redirects")
            raise IgnoreRequest(f"refused redirect from {request.url} to private address {host}")
        return response
