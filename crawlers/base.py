"""Base spiders: fetching, paging, date windows and error handling shared by every source.

A source's spider file subclasses one of these and says only where its fields
are. What each base needs from a subclass is listed in its docstring; a missing
piece raises ``NotImplementedError`` naming it.

Every response goes through ``NoticeSpider.handle``: the subclass's handler runs
to completion, and if it raises, the page is yielded raw with the error (counted
as a parse failure) and the crawl goes on (a spider with ``relay_results``, the
bulk workbook's, passes results on as they come and keeps those before an error). A request that fails for good (an
HTTP error, a timeout, a reset, a body cut off, a refused redirect) goes through
``NoticeSpider.on_error``: counted as an error of its source and kept raw with
the error and whatever body arrived.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

import scrapy
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError

from crawlers.items import NoticeItem, PageItem
from crawlers.middlewares import RedirectRefused, is_loopback_host
from crawlers.sources import Source, SourceConfigError, load_sources, rebase, resolve_base_url
from crawlers.workbook import DEFAULT_READER, READERS, read_rows
from tbtwatch.dates import parse_date
from tbtwatch.settings import get_settings

REPLAY_HOST_HEADER = "X-Forwarded-Host"  # the real host, for the replay server when a base URL is overridden
# Reading the replay server on this machine there is no one to be polite to: no delays, more at once.
# robots.txt, retries and their backoff stay as shipped.
LOCAL_REPLAY_SETTINGS = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "CONCURRENT_REQUESTS_PER_DOMAIN": 8}


def _date_arg(value: Any, name: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise SourceConfigError(f"-a {name}={value!r}: use a date as YYYY-MM-DD") from None


class NoticeSpider(scrapy.Spider):
    """Base of every source spider.

    Subclasses set ``name`` (the source's entry in config/sources.yaml) and
    implement ``parse_start(response)``, a generator of ``NoticeItem``s and
    further requests made with ``self.follow(...)``.
    Arguments: ``since`` / ``until`` (YYYY-MM-DD, the distribution-date window)
    and ``base_url`` (read the source from elsewhere, e.g. the replay server).
    """

    kind: ClassVar[str] = ""
    # True for a handler whose output is too large to hold at once (a 100,000-row workbook): its results
    # go on as they are yielded instead of after the whole page is parsed.
    relay_results: ClassVar[bool] = False

    def __init__(self, since: Any = None, until: Any = None, base_url: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        sources = load_sources()
        if self.name not in sources:
            raise SourceConfigError(f"spider {self.name!r} has no entry in config/sources.yaml; add one")
        self.source: Source = sources[self.name]
        if self.kind and self.source.kind != self.kind:
            raise SourceConfigError(f"source {self.name!r} is kind {self.source.kind!r} in sources.yaml but its "
                                    f"spider reads {self.kind!r}")
        self.since = _date_arg(since, "since")
        self.until = _date_arg(until, "until")
        self.base_url = resolve_base_url(self.source, base_url)
        base_host = urlsplit(self.base_url).hostname or ""
        self.replay_hosts: tuple[str, ...] = () if base_host == self.source.host else (base_host,)
        self.allowed_domains = [self.source.host, *self.replay_hosts]

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NoticeSpider:
        """The spider, with politeness delays dropped when it reads a replay server on loopback.

        (Settings are still open to change here in a crawl; a spider made for an already configured
        crawler, as in unit tests, keeps them as they are.)"""
        spider = super().from_crawler(crawler, *args, **kwargs)
        if spider.replays_locally and not crawler.settings.frozen:
            crawler.settings.setdict(LOCAL_REPLAY_SETTINGS, priority="spider")
        return spider

    @property
    def replays_locally(self) -> bool:
        """True when the base URL was moved to this machine (the replay server), never for a live source."""
        return bool(self.replay_hosts) and all(is_loopback_host(host) for host in self.replay_hosts)

    # -- requests -------------------------------------------------------------------------
    def follow(self, url_or_path: str, handler: str, params: dict[str, Any] | None = None,
               headers: dict[str, str] | None = None, **handler_kwargs: Any) -> scrapy.Request:
        """A request for a URL of the real site (or a path on it), sent to the base URL in use."""
        real = url_or_path if "://" in url_or_path else self.source.base_url + "/" + url_or_path.lstrip("/")
        if params:
            real += ("&" if "?" in real else "?") + urlencode(params)
        url, headers = real, dict(headers or {})
        if self.replay_hosts:
            url = rebase(real, self.base_url)
            headers[REPLAY_HOST_HEADER] = urlsplit(real).hostname or ""
        return scrapy.Request(url, callback=self.handle, errback=self.on_error, headers=headers,
                              meta={"handler": handler, "handler_kwargs": handler_kwargs, "real_url": real},
                              dont_filter=False)

    async def start(self):
        for request in self.start_requests_for_source():
            yield request

    def start_requests_for_source(self) -> Iterable[scrapy.Request]:
        """The first request(s); sources with a key or a query override this."""
        yield self.follow(self.source.start, "parse_start")

    def parse_start(self, response: Response) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement parse_start(response)")

    # -- the guarded callback ---------------------------------------------------------------
    def handle(self, response: Response) -> Iterator[Any]:
        if "dataloss" in response.flags:  # still cut off after the retries (DOWNLOAD_FAIL_ON_DATALOSS is off)
            declared = response.headers.get(b"Content-Length", b"?").decode("latin-1")
            yield self.failed_request(response.request, f"ResponseDataLossError: body cut off mid-transfer, "
                                                         f"{len(response.body)} of {declared} bytes arrived", response)
            return
        self.count("pages")
        handler = getattr(self, response.meta["handler"])
        page = self.page_item(response)
        results = handler(response, **response.meta.get("handler_kwargs", {}))
        yield from (self._relay if self.relay_results else self._collect)(results, page)

    def _collect(self, results: Iterable[Any], page: PageItem) -> Iterator[Any]:
        """The handler run to completion first, so a page that fails yields only itself, raw with the error."""
        try:
            results = list(results)
        except Exception as exc:  # noqa: BLE001 - any parser error is recorded with its page, never fatal
            yield self._parse_failure(page, exc)
            return
        for result in results:
            self._attach(result, page)
        if self._keeps_raw_pages:
            yield page
        yield from results

    def _relay(self, results: Iterable[Any], page: PageItem) -> Iterator[Any]:
        """Each result passed on as the handler yields it (``relay_results``); an error ends the page, which
        is then yielded raw with the error, after the results that came before it."""
        try:
            for result in results:
                self._attach(result, page)
                yield result
        except Exception as exc:  # noqa: BLE001 - as in _collect
            yield self._parse_failure(page, exc)
            return
        if self._keeps_raw_pages:
            yield page

    @staticmethod
    def _attach(result: Any, page: PageItem) -> None:
        """A notice keeps the page it came from (unless it has its own), and the page lists its symbols."""
        if isinstance(result, NoticeItem):
            result.page = result.page or page
            if result.fields.get("symbol"):
                page.symbols.append(str(result.fields["symbol"]))

    @property
    def _keeps_raw_pages(self) -> bool:
        return self.source.options.get("keep_raw", "all") == "all"

    def _parse_failure(self, page: PageItem, exc: Exception) -> PageItem:
        page.error = f"{type(exc).__name__}: {exc}"
        self.count("parse_failures")
        self.logger.warning("source %s: could not parse %s: %s", self.name, page.url, page.error)
        return page

    def page_item(self, response: Response, request: Request | None = None) -> PageItem:
        """The response as a raw page under the real site's URL (``request``: when the response has none yet)."""
        request = request or response.request
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1") or None
        return PageItem(self.name, request.meta.get("real_url", request.url), response.body,
                        status=response.status, content_type=content_type)

    def on_error(self, failure) -> Iterator[PageItem]:
        """A request that failed for good (after retries); see ``failed_request``."""
        yield self.failed_request(failure.request, failure_text(failure), getattr(failure.value, "response", None))

    def failed_request(self, request: Request, error: str, response: Response | None = None) -> PageItem:
        """Counted and reported by source, kept raw with the error and whatever arrived; the crawl goes on."""
        self.count("errors")
        url = request.meta.get("real_url", request.url)
        self.logger.warning("source %s: %s failed: %s", self.name, url, error)
        page = self.page_item(response, request) if response is not None else PageItem(self.name, url, b"")
        page.error = error
        return page

    # -- helpers for subclasses -------------------------------------------------------------
    def notice(self, response: Response, fields: dict[str, Any], leftovers: dict[str, Any] | None = None,
               *, sparse: bool = False, page: PageItem | None = None) -> NoticeItem | None:
        """A notice item, or None (counted) when its distribution date is outside the run's window."""
        if not self.in_window(fields.get("distribution_date")):
            self.count("outside_window")
            return None
        fields = {"source": self.name, **fields}
        leftovers = dict(leftovers or {})
        leftovers.update(fields.pop("leftovers", None) or {})
        url = response.meta.get("real_url", response.url)
        return NoticeItem(self.name, url, fields, leftovers, sparse=sparse, page=page)

    def in_window(self, value: Any) -> bool:
        if self.since is None and self.until is None:
            return True
        if isinstance(value, dt.datetime):
            value = value.date()
        day = value if isinstance(value, dt.date) else parse_date(str(value or ""))
        if day is None:
            return False
        return (self.since is None or day >= self.since) and (self.until is None or day <= self.until)

    def count(self, key: str, n: int = 1) -> None:
        self.crawler.stats.inc_value(f"tbtwatch/{key}", n)


class PagedApiSpider(NoticeSpider):
    """A paged search API (JSON or XML).

    Subclasses implement ``page_params(page)`` (query parameters of one page,
    1-based), ``decode(response)``, ``records(data)``, ``total(data)`` (or None)
    and ``record_fields(record)`` -> (fields, leftovers). ``page_size`` comes
    from the source's ``page_size`` option.
    """

    def start_requests_for_source(self) -> Iterable[scrapy.Request]:
        yield self.page_request(1)

    def __init__(self, *args: Any, page_size: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._page_size = int(page_size) if page_size else None

    @property
    def page_size(self) -> int:
        """The source's ``page_size`` option; ``-a page_size=N`` overrides it (tests exercise paging)."""
        return self._page_size or int(self.source.options.get("page_size", 50))

    def page_request(self, page: int) -> scrapy.Request:
        return self.follow(self.source.start, "parse_start", params=self.page_params(page),
                           headers=self.api_headers(), page=page)

    def api_headers(self) -> dict[str, str]:
        return {}

    def parse_start(self, response: Response, page: int = 1) -> Iterator[Any]:
        data = self.decode(response)
        records = self.records(data)
        for record in records:
            fields, leftovers = self.record_fields(record)
            item = self.notice(response, fields, leftovers)
            if item:
                yield item
                yield from self.record_requests(record, item)
        total = self.total(data)
        more = len(records) >= self.page_size if total is None else page * self.page_size < total
        if records and more:
            yield self.page_request(page + 1)

    def page_params(self, page: int) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement page_params(page)")

    def decode(self, response: Response) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement decode(response)")

    def records(self, data: Any) -> list[Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement records(data)")

    def total(self, data: Any) -> int | None:
        return None

    def record_fields(self, record: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        raise NotImplementedError(f"{type(self).__name__} must implement record_fields(record)")

    def record_requests(self, record: Any, item: NoticeItem) -> Iterator[scrapy.Request]:
        """Further requests for one record (a catalogue entry's document); none by default."""
        return iter(())


class JsonApiSpider(PagedApiSpider):
    """A paged JSON API; see ``PagedApiSpider`` for what a subclass implements."""

    kind = "json_api"

    def decode(self, response: Response) -> Any:
        return response.json()


class SpreadsheetSpider(NoticeSpider):
    """One large .xlsx (read by ``crawlers.workbook``), columns mapped by header name.

    Subclasses set ``columns``: notice field -> header names that may carry it
    (matched case- and space-insensitively, so the WTO may reorder or respell
    within the list), ``required`` (fields whose column must exist), and
    implement ``row_fields(values)`` -> (fields, leftovers) from a
    {field: cell} dict; unmapped columns arrive in ``values["_unmapped"]``.
    A row that fails is kept raw (as JSON) with its error; the rest go on.
    """

    kind = "spreadsheet"
    relay_results = True  # each row stands alone (a bad row is kept raw by itself); 100,000 rows are not held
    columns: ClassVar[dict[str, tuple[str, ...]]] = {}
    required: ClassVar[tuple[str, ...]] = ()
    custom_settings = {"DOWNLOAD_WARNSIZE": 256 * 1024 * 1024}

    def __init__(self, *args: Any, reader: str = DEFAULT_READER, **kwargs: Any):
        """``-a reader=openpyxl``: read with the reference library instead of calamine (``crawlers.workbook``)."""
        super().__init__(*args, **kwargs)
        if reader not in READERS:
            raise SourceConfigError(f"-a reader={reader!r}: use one of {', '.join(READERS)}")
        self.reader = reader

    def parse_start(self, response: Response) -> Iterator[Any]:
        import json

        rows = read_rows(response.body, self.reader)
        try:
            header = next(rows, None)
            if header is None:
                raise ValueError("the workbook's first sheet is empty (no header row)")
            mapping = self.map_header(header)
            url = response.meta.get("real_url", response.url)
            for number, row in enumerate(rows, start=2):
                if row is None or all(cell in (None, "") for cell in row):
                    continue
                values: dict[str, Any] = {"_unmapped": {}}
                for index, cell in enumerate(row):
                    target = mapping.get(index)
                    if target is None:
                        continue
                    if target.startswith("?"):
                        if cell not in (None, ""):
                            values["_unmapped"][target[1:]] = cell
                    else:
                        values[target] = cell
                page = PageItem(self.name, f"{url}#row={number}",
                                json.dumps(values, default=str, ensure_ascii=False).encode(), status=response.status,
                                content_type="application/json")
                try:
                    fields, leftovers = self.row_fields(values)
                except Exception as exc:  # noqa: BLE001 - one bad row must not stop the file
                    page.error = f"row {number}: {type(exc).__name__}: {exc}"
                    self.count("parse_failures")
                    yield page
                    continue
                item = self.notice(response, fields, leftovers, page=page)
                if item:
                    yield item
        finally:
            rows.close()

    def map_header(self, header: tuple[Any, ...]) -> dict[int, str]:
        """Column index -> field (or "?header" for a column no field claims)."""
        def key(text: Any) -> str:
            return re.sub(r"\s+", " ", str(text or "")).strip().lower()

        wanted = {key(name): field for field, names in self.columns.items() for name in names}
        mapping: dict[int, str] = {}
        for index, title in enumerate(header):
            if title in (None, ""):
                continue
            mapping[index] = wanted.get(key(title), "?" + str(title).strip())
        missing = [f for f in self.required if f not in mapping.values()]
        if missing:
            raise ValueError(f"header row lacks the column(s) for {', '.join(missing)} (looked for: "
                             + "; ".join(" / ".join(self.columns[f]) for f in missing)
                             + f"); the header was: {', '.join(str(h) for h in header if h)}")
        return mapping

    def row_fields(self, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        raise NotImplementedError(f"{type(self).__name__} must implement row_fields(values)")


class HtmlPageSpider(NoticeSpider):
    """A portal with list pages linking to one page per notification.

    Subclasses set ``detail_links`` (CSS selector of the links to notification
    pages), ``next_page`` (CSS selector of the next list page's link) and
    ``content`` (CSS selector of the element holding the notification text), and
    may override ``detail_fields(response, text)``; by default the text goes
    through the form parser. List pages are followed up to the ``max_pages`` option.
    """

    kind = "html"
    detail_links: ClassVar[str] = ""
    next_page: ClassVar[str] = ""
    content: ClassVar[str] = "body"

    def parse_start(self, response: Response, list_page: int = 1) -> Iterator[Any]:
        if not self.detail_links:
            raise NotImplementedError(f"{type(self).__name__} must set detail_links (a CSS selector)")
        links = response.css(self.detail_links).xpath("@href").getall()
        if not links:
            raise ValueError(f"no notification links ({self.detail_links}) on the list page")
        real = response.meta.get("real_url", response.url)
        for href in links:
            yield self.follow(self._absolute(real, href), "parse_detail")
        following = response.css(self.next_page).xpath("@href").get() if self.next_page else None
        if following and list_page < int(self.source.options.get("max_pages", 10)):
            yield self.follow(self._absolute(real, following), "parse_start", list_page=list_page + 1)

    @staticmethod
    def _absolute(base: str, href: str) -> str:
        from urllib.parse import urljoin

        return urljoin(base, href)

    def page_text(self, response: Response) -> str:
        """The visible text of the content element, one line per block; GB18030 when the declared charset lied."""
        selector = response
        if "\ufffd" in response.text:
            try:
                fixed = response.body.decode("gb18030")
            except UnicodeDecodeError:
                fixed = None
            if fixed is not None:
                self.count("recoded_pages")
                selector = response.replace(body=fixed.encode("utf-8"), encoding="utf-8")
        nodes = selector.css(self.content)
        if not nodes:
            raise ValueError(f"the page has no {self.content!r} element; the portal's layout may have changed")
        lines = nodes.xpath(".//text()[not(ancestor::script) and not(ancestor::style)]").getall()
        return "\n".join(line.strip() for line in lines if line.strip())

    def parse_detail(self, response: Response) -> Iterator[Any]:
        from crawlers.forms import parse_notification_form

        fields = parse_notification_form(self.page_text(response), language=self.source.language)
        item = self.notice(response, fields)
        if item:
            yield item


class FeedSpider(NoticeSpider):
    """An RSS/Atom feed read with feedparser, configured purely in sources.yaml.

    Options: ``notices.require_symbol`` (default true: only entries citing a
    notification symbol count as notices). Feed entries are thin, so they never
    overwrite a stored notice (``sparse``); they add notices not yet known.
    """

    kind = "feed"

    def parse_start(self, response: Response) -> Iterator[Any]:
        import feedparser

        from tbtwatch.symbols import find_symbols

        parsed = feedparser.parse(response.body)
        if parsed.bozo and not parsed.entries:
            raise ValueError(f"not a readable RSS/Atom feed: {parsed.get('bozo_exception')}")
        require_symbol = (self.source.options.get("notices") or {}).get("require_symbol", True)
        for entry in parsed.entries:
            title = entry.get("title", "")
            summary = _strip_html(entry.get("summary", ""))
            symbols = find_symbols(f"{title}\n{summary}")
            if not symbols:
                self.count("entries_skipped")
                if require_symbol:
                    continue
                raise ValueError(f"feed entry {title!r} names no notification symbol")
            published = entry.get("published_parsed") or entry.get("updated_parsed")
            fields = {
                "symbol": str(symbols[0]), "title": title, "description": summary,
                "distribution_date": dt.date(*published[:3]) if published else None,
                "language": self.source.language, "url": entry.get("link", ""),
            }
            item = self.notice(response, fields, sparse=True)
            if item:
                yield item


def failure_text(failure) -> str:
    """What went wrong with a request, for people: ``HTTP 404``, ``TimeoutError: ...``, the refusal's reason."""
    value = failure.value
    if isinstance(value, HttpError):
        return f"HTTP {value.response.status}"
    if isinstance(value, RedirectRefused):
        return str(value)
    # twisted's ResponseFailed (which Scrapy re-raises as DownloadFailedError) holds the failures that caused it
    reasons = getattr(value, "reasons", None) or getattr(value.__cause__, "reasons", None)
    if reasons:
        return f"{failure.type.__name__}: " + "; ".join(f"{r.type.__name__}: {r.getErrorMessage()}" for r in reasons)
    return f"{failure.type.__name__}: {failure.getErrorMessage()}"


def _strip_html(text: str) -> str:
    from w3lib.html import remove_tags, replace_entities

    return " ".join(replace_entities(remove_tags(text or "")).split())


def settings_key(name: str) -> str:
    """The value of a ``crawl`` setting (used for API keys), empty when unset."""
    return str(getattr(get_settings().crawl, name, "") or "")
