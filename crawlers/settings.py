"""Scrapy settings for tbtwatch: polite by default (robots.txt, AutoThrottle, a named User-Agent, backoff).

``SCRAPY_SETTINGS_MODULE=crawlers.settings`` (set by scrapy.cfg and the runner).
The User-Agent comes from tbtwatch's own settings so operators change it in one place.
A crawl of the replay server on loopback drops the delays (``NoticeSpider.from_crawler``); robots.txt,
retries and their backoff stay.
"""

import os

from tbtwatch.settings import get_settings

BOT_NAME = "tbtwatch"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

USER_AGENT = get_settings().crawl.user_agent
ROBOTSTXT_OBEY = True

AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_TIMEOUT = 60
# A body cut off on the wire arrives flagged "dataloss" instead of as an exception, so the bytes that did
# arrive are kept raw with the failure; BackoffRetryMiddleware retries it like a timeout.
DOWNLOAD_FAIL_ON_DATALOSS = False

RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
RETRY_BACKOFF_BASE = 2.0  # seconds; doubled on each retry (crawlers.middlewares.BackoffRetryMiddleware)

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawlers.middlewares.BackoffRetryMiddleware": 550,
    "crawlers.middlewares.RedirectGuard": 650,
}
ITEM_PIPELINES = {
    "crawlers.pipelines.raw_page.StoreRawPage": 100,
    "crawlers.pipelines.normalise.NormaliseNotice": 200,
    "crawlers.pipelines.validate.ValidateNotice": 300,
    "crawlers.pipelines.dedupe.DeduplicateNotice": 400,
    "crawlers.pipelines.store.UpsertNotice": 500,
    "crawlers.pipelines.documents.StoreDocument": 600,
}
# `tbtwatch sources check` (crawlers.runner --check): read, validate and judge a sample; store nothing.
CHECK_PIPELINES = {
    "crawlers.pipelines.raw_page.StoreRawPage": 100,
    "crawlers.pipelines.normalise.NormaliseNotice": 200,
    "crawlers.pipelines.validate.ValidateNotice": 300,
    "crawlers.pipelines.shape.CheckShape": 700,
}
EXTENSIONS = {"crawlers.report.CrawlReportExtension": 500}

# Development: `TBTWATCH_HTTPCACHE=1` keeps responses under .scrapy/httpcache so parser work does not refetch.
HTTPCACHE_ENABLED = os.environ.get("TBTWATCH_HTTPCACHE") == "1"
HTTPCACHE_EXPIRATION_SECS = 24 * 3600
HTTPCACHE_IGNORE_HTTP_CODES = [500, 502, 503, 504, 404, 408, 429]
HTTPCACHE_POLICY = "crawlers.middlewares.CompleteResponsesPolicy"

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
