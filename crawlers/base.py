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
from crawlers.joint import joint_fields
from crawlers.middlewares import RedirectRefused, is_loopback_host
from crawlers.sources import Source, SourceConfigError, load_sources, rebase, resolve_base_url
from crawlers.workbook import DEFAULT_READER, READERS, read_rows
from tbtwatch.dates import parse_date
from tbtwatch.settings import get_settings

REPLAY_HOST_HEADER = "X-Forwarded-Host"  # the real host, for the replay server when a base URL is overridden
# Reading the replay server on this machine there is no one to be polite to: no delays, more at once.
# robots.txt, retries and their backoff stay as shipped.
CHECK_RECORDS = 3  # records (rows, items, detail pages, documents) a shape check samples from a source
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
    Arguments: ``since`` / ``until`` (YYYY-MM-DD, the distribution-date window),
    ``base_url`` (read the source from elsewhere, e.g. the replay server) and
    ``check`` (``1``: a shape check, ``tbtwatch sources check``: only a small
    sample is read, ``CHECK_RECORDS`` records of its first page, and nothing is stored).
    """

    kind: ClassVar[str] = ""
    # True for a handler whose output is too large to hold at once (a 100,000-row workbook): its results
    # go on as they are yielded instead of after the whole page is parsed.
    relay_results: ClassVar[bool] = False

    def __init__(self, since: Any = None, until: Any = None, base_url: str | None = None, check: Any = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.check = str(check or "").lower() in {"1", "true", "yes"}
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
    def notices(self, response: Response, fields: dict[str, Any], leftovers: dict[str, Any] | None = None,
                *, sparse: bool = False, page: PageItem | None = None) -> list[NoticeItem]:
        """The notice items of one record: one per symbol of a joint record (``crawlers.joint``), none
        (counted) when its distribution date is outside the run's window."""
        if not self.in_window(fields.get("distribution_date")):
            self.count("outside_window")
            return []
        leftovers = dict(leftovers or {})
        leftovers.update(fields.pop("leftovers", None) or {})
        url = response.meta.get("real_url", response.url)
        return [NoticeItem(self.name, url, {"source": self.name, **one}, dict(leftovers), sparse=sparse, page=page)
                for one in joint_fields(fields)]

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
        for record in records[:CHECK_RECORDS] if self.check else records:
            fields, leftovers = self.record_fields(record)
            items = self.notices(response, fields, leftovers)
            yield from items
            if items:
                yield from self.record_requests(record, items[0])
        total = self.total(data)
        more = len(records) >= self.page_size if total is None else page * self.page_size < total
        if records and more and not self.check:
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
                if self.check and number > CHECK_RECORDS + 1:
                    break
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
                yield from self.notices(response, fields, leftovers, page=page)
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

    Pages are found by their URLs, not by markup nobody has seen: subclasses set
    ``detail_pattern`` (a regular expression matched against the path and query
    of every link on a list page: the notification pages) and ``list_pattern``
    (the same for further list pages, followed up to the ``max_pages`` option).
    ``content`` (a CSS selector, default the whole body) holds the notification's
    text, which the form parser reads by its numbered labels. A list page with
    no notification link, and a notification page that yields no symbol or no
    field, fail loudly (kept raw with the error, counted), so a portal's change
    is seen the day it happens.
    """

    kind = "html"
    detail_pattern: ClassVar[str] = ""
    list_pattern: ClassVar[str] = ""
    content: ClassVar[str] = "body"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not self.detail_pattern:
            raise NotImplementedError(f"{type(self).__name__} must set detail_pattern (a regular expression)")
        self.list_pages = 1

    def parse_start(self, response: Response) -> Iterator[Any]:
        real = response.meta.get("real_url", response.url)
        details = self.links(response, self.detail_pattern)
        if not details:
            raise ValueError(f"no notification links (URLs matching {self.detail_pattern}) on the list page")
        for url in details[:CHECK_RECORDS] if self.check else details:
            yield self.follow(url, "parse_detail")
        for url in self.links(response, self.list_pattern) if self.list_pattern and not self.check else []:
            if url != real and self.list_pages < int(self.source.options.get("max_pages", 10)):
                self.list_pages += 1
                yield self.follow(url, "parse_start")

    def links(self, response: Response, pattern: str) -> list[str]:
        """The page's links on the source's host whose path and query match ``pattern``, absolute, in order."""
        from urllib.parse import urljoin

        real = response.meta.get("real_url", response.url)
        found = []
        for href in response.xpath("//a/@href").getall():
            url = urljoin(real, href.strip())
            parts = urlsplit(url)
            target = parts.path + ("?" + parts.query if parts.query else "")
            if parts.hostname == self.source.host and re.search(pattern, target):
                found.append(url.split("#")[0])
        return list(dict.fromkeys(found))

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
        if not any(fields.get(name) for name in ("title", "description", "products")):
            raise ValueError(f"the page names {fields['symbol']} but no title, products or description was read "
                             "from its labels; the portal's layout may have changed")
        yield from self.notices(response, fields)


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
            yield from self.notices(response, fields, sparse=True)


class DocumentSpider(NoticeSpider):
    """The documents the stored notices link to, fetched once each, their text read (PDF) and kept.

    Reads the notices of the run's window (every notice without one) from the
    archive, after the notice sources (``crawlers.runner`` crawls document sources
    last). Options: ``url_pattern`` (a regular expression a link must match, on
    the source's own host: the domain allow-list), ``max_bytes`` (larger files are
    not downloaded), ``max_pages`` (pages of text read from one file) and
    ``per_run`` (files fetched in one run at most). A file that cannot be read is
    kept raw with its error and recorded, so it is not fetched again; one that
    got no answer at all is tried again next run.
    """

    kind = "documents"

    def start_requests_for_source(self) -> Iterable[scrapy.Request]:
        from archive.documents import NotifiedDocuments
        from archive.sqlite_store import SqliteStore

        settings = get_settings()
        links: dict[str, list[str]] = {}
        for notice in SqliteStore(settings.archive_db).iter_notices(self.since, self.until):
            for url in notice.urls:
                if self.wanted(url):
                    links.setdefault(url, []).append(notice.symbol)
        done = set() if self.check else NotifiedDocuments(settings.archive_db).done(list(links))
        limit = CHECK_RECORDS if self.check else int(self.source.options.get("per_run", 200))
        pending = [url for url in links if url not in done][:limit]
        if self.check and not pending:
            self.crawler.stats.set_value("tbtwatch/skipped", "no stored notice links a document yet: nothing to "
                                                             "sample (crawl the notice sources first)")
        self.count("documents_known", len(done))
        for url in pending:
            request = self.follow(url, "parse_document", symbols=links[url])
            request.meta["download_maxsize"] = self.max_bytes
            yield request

    @property
    def max_bytes(self) -> int:
        return int(self.source.options.get("max_bytes", 20_000_000))

    def wanted(self, url: str) -> bool:
        """A link on the source's host matching its ``url_pattern`` (nothing else is ever fetched)."""
        pattern = self.source.options.get("url_pattern")
        if not pattern:
            raise SourceConfigError(f"source {self.name!r} needs a url_pattern option (which links to fetch)")
        return urlsplit(url).hostname == self.source.host and re.search(pattern, url) is not None

    def parse_document(self, response: Response, symbols: list[str]) -> Iterator[Any]:
        from crawlers.items import DocumentItem
        from crawlers.pdftext import PdfTextError, pdf_pages

        url = response.meta.get("real_url", response.url)
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1") or None
        document = DocumentItem(url, symbols, response.status, content_type, len(response.body))
        try:
            if not response.body.startswith(b"%PDF"):
                raise PdfTextError(f"not a PDF (Content-Type {content_type or 'none'})")
            document.pages = pdf_pages(response.body, int(self.source.options.get("max_pages", 50)))
            if not any(page.strip() for page in document.pages):
                raise PdfTextError("the PDF has no text layer (a scanned image?)")
        except PdfTextError as exc:
            document.pages, document.error = [], str(exc)
            page = self.page_item(response)
            page.error = document.error
            self.count("documents_unreadable")
            yield page  # kept raw with the error, whatever keep_raw says
        yield document

    def on_error(self, failure) -> Iterator[Any]:
        """Recorded as the document's answer too: final when the server answered or the file is too large."""
        from scrapy.exceptions import DownloadCancelledError

        from crawlers.items import DocumentItem

        for page in super().on_error(failure):
            too_large = failure.check(DownloadCancelledError) is not None
            if too_large:
                page.error = f"larger than the {self.max_bytes}-byte cap (max_bytes): not downloaded"
            yield page
            kwargs = failure.request.meta.get("handler_kwargs", {})
            yield DocumentItem(page.url, kwargs.get("symbols", []), page.status, page.content_type,
                               len(page.body), error=page.error, final=too_large or page.status is not None)


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
