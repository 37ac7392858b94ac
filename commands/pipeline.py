"""The daily pipeline as one small function per stage, shared by every runner.

``tbtwatch daily`` / ``tbtwatch backfill`` (no Airflow) and the Airflow DAGs in
``dags/`` call exactly these functions, so the DAG files stay thin and the
logic is tested without a scheduler. Each stage is idempotent for its day, like
a database transaction: the crawl upserts, classification works only on
notices whose assessment is missing or stale (which also recovers after a
crash), indexing re-copies the day's notices, and every message goes through
the outbox, which delivers each (recipient, notice, kind) at most once. So a
retry or a re-run of any day does no harm.

Each stage imports the part it runs inside its function (plain imports, so
the import graph shows them), which keeps ``tbtwatch --help`` and each
Airflow task from loading parts they do not use. Results are small,
JSON-able ``StageResult``s (symbols and counts) because Airflow passes them
between tasks as XComs.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tbtwatch.model import Notice
from tbtwatch.settings import Settings, get_settings

DONE, NOTHING, FAILED, SKIPPED = "done", "nothing to do", "failed", "skipped"
CLASSIFY_BATCH = 500


class StageFailed(RuntimeError):
    """A stage that failed; raised in a scheduler's task so that the scheduler retries it."""


SKIPPED_NOTE = "skipped: "  # a source not tried (no API key, disabled): neither read nor failed


class NoSourceRead(RuntimeError):
    """Every source failed: the run found nothing, and must not look like a quiet day."""


def sources_verdict(crawled: list[dict[str, Any]]) -> str:
    """'' when every source was read, else a sentence naming those that failed and why; ``NoSourceRead``
    when none was (the digest has already said so; the run must not be green). A source skipped (no API key)
    or with nothing to fetch today neither read nor failed."""
    tried = [c for c in crawled if not str(c.get("note", "")).startswith(SKIPPED_NOTE)
             and (not c.get("ok") or (c.get("counts") or {}).get("pages"))]  # ran, and read pages or failed
    failed = [c for c in tried if not c.get("ok")]
    if not failed:
        return ""
    named = "; ".join(f"{c['source']}: {c.get('error') or 'failed'}" for c in failed)
    if len(failed) == len(tried):
        raise NoSourceRead(f"every source failed ({named})")
    return f"{len(failed)} of {len(tried)} sources failed ({named})"


@dataclass
class StageResult:
    """What one stage did, small enough for an XCom: a status, a line for people, counts and symbols."""

    stage: str
    status: str
    summary: str
    counts: dict[str, int] = field(default_factory=dict)
    symbols: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def checked(self) -> dict[str, Any]:
        """The result as an XCom, or ``StageFailed`` when the stage failed (so the task is retried)."""
        if self.status == FAILED:
            raise StageFailed(f"{self.stage}: {self.summary}")
        return self.to_dict()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "StageResult":
        return cls(**data)


@dataclass
class SourceResult:
    """One source's crawl: counts, the symbols it added or changed, and the error if it failed."""

    source: str
    ok: bool
    counts: dict[str, int] = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)
    error: str = ""
    note: str = ""
    seconds: float = 0.0
    degraded: str = ""  # why the source looks degraded against its earlier runs (crawlers.health)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SourceResult":
        return cls(**data)


@dataclass
class DailyReport:
    day: dt.date
    since: dt.date | None
    until: dt.date | None
    offline: bool
    sources: list[SourceResult] = field(default_factory=list)
    stages: list[StageResult] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def failed_sources(self) -> list[str]:
        return [s.source for s in self.sources if not s.ok]

    @property
    def degraded_sources(self) -> list[str]:
        """"source: why" for each source that ran but looks degraded (items fell to 0, too many invalid)."""
        return degraded_sources(self.sources)

    @property
    def ok(self) -> bool:
        """No stage failed (a failed source is reported in the digest, not a failed run)."""
        return all(s.status != FAILED for s in self.stages)


# -- helpers -------------------------------------------------------------------------------------
def record_store(settings: Settings):
    """The SQLite archive: the system of record every stage reads and writes."""
    from archive.sqlite_store import SqliteStore

    return SqliteStore(settings.archive_db)


def run_stage(stage: str, body: Callable[[], StageResult]) -> StageResult:
    """Run one stage and time it; errors propagate (``run_daily`` reports them as a failed stage)."""
    started = time.monotonic()
    result = body()
    result.seconds = round(time.monotonic() - started, 2)
    return result


def crawl_interval(day: dt.date) -> tuple[dt.date, dt.date]:
    """The distribution dates a daily run for ``day`` looks at: the day before and the day itself."""
    return day - dt.timedelta(days=1), day


# -- crawl ---------------------------------------------------------------------------------------
def enabled_sources(settings: Settings | None = None) -> list[str]:
    """Names of the sources enabled in ``config/sources.yaml``, read now (at run time, not DAG parse time)."""
    from crawlers.sources import load_sources

    settings = settings or get_settings()
    return [name for name, source in load_sources(settings.paths.sources).items() if source.enabled]


def crawl_source(source: str, since: dt.date | None, until: dt.date | None,
                 base_url: str | None = None) -> SourceResult:
    """Crawl one source into the archive (one mapped DAG task); a failure is returned, not raised.

    One failing source must not stop the others, and the digest names it, so
    the failure travels as data. The runner runs Scrapy in a subprocess, so
    this is safe inside an Airflow task.
    """
    return crawl_sources([source], since, until, base_url)[0]


def crawl_sources(sources: list[str], since: dt.date | None, until: dt.date | None,
                  base_url: str | None = None,
                  on_progress: Callable[[dict[str, Any]], None] | None = None) -> list[SourceResult]:
    """Crawl the sources side by side in one Scrapy process; one result per source, failures included.

    ``on_progress`` gets the runner's progress lines (source, pages, items,
    failures, done) every few seconds.
    """
    if not sources:
        return []
    from crawlers.runner import run_crawl

    started = time.monotonic()
    try:
        report = run_crawl(sources=sources, since=since, until=until, base_url=base_url or None,
                           progress=on_progress)
    except Exception as exc:  # noqa: BLE001 - a crawl that cannot run is every source's failure, reported
        seconds = round(time.monotonic() - started, 2)
        return [SourceResult(name, ok=False, error=f"{type(exc).__name__}: {exc}", seconds=seconds)
                for name in sources]
    return [_source_result(report, name, time.monotonic() - started) for name in sources]


def _source_result(report: Any, source: str, seconds: float) -> SourceResult:
    """One source's line out of the crawl runner's ``CrawlReport``."""
    line = report.sources.get(source)
    if line is None:  # the source never reported: the runner's own errors say why
        return SourceResult(source, ok=False, error="; ".join(report.errors) or "the source did not report",
                            seconds=round(seconds, 2))
    from crawlers.report import COUNTS

    counts = {k: getattr(line, k) for k in COUNTS if getattr(line, k)}
    error = ""
    if line.failed:
        error = "; ".join(line.warnings) or f"finished with {line.finish_reason or 'no items'}"
    changed = sorted(set(getattr(line, "changed", None) or []))
    return SourceResult(source, ok=not line.failed, counts=counts, changed=changed, error=error,
                        note=f"{SKIPPED_NOTE}{line.skipped}" if line.skipped else "", seconds=round(seconds, 2),
                        degraded=line.degraded)


def degraded_sources(results: list[SourceResult]) -> list[str]:
    """"source: why" for the sources that ran and look degraded (a failed source is named as failed instead)."""
    return [f"{r.source}: {r.degraded}" for r in results if r.ok and r.degraded]


def crawl_summary(results: list[SourceResult]) -> StageResult:
    """The crawl stage's line: changed symbols across sources and which sources failed."""
    changed = sorted({s for r in results for s in r.changed})
    failed = [r.source for r in results if not r.ok]
    counts: dict[str, int] = {"sources": len(results), "failed_sources": len(failed), "changed": len(changed)}
    for r in results:
        for key, value in r.counts.items():
            counts[key] = counts.get(key, 0) + value
    text = (f"{len(results)} sources, {counts.get('inserted', 0)} new and {counts.get('updated', 0)} changed "
            f"notices in the archive")
    if failed:
        text += f"; failed: {', '.join(failed)}"
    if not results:
        return StageResult("crawl", NOTHING, "no source is enabled in the sources file", counts)
    # Failed sources are data for the digest, not a failed stage: the other stages still run.
    return StageResult("crawl", DONE, text, counts, changed)


# -- classify, index -----------------------------------------------------------------------------
def refresh_labelled(store: Any, settings: Settings) -> int:
    """Write the archive's notices that give HS codes where the classifier learns from them
    (``nlp.training.ARCHIVE_LABELS``); the heading model is retrained on its next load. Returns how many."""
    from nlp.training import ARCHIVE_LABELS, write_labelled

    return write_labelled(store.iter_notices(), settings.path(*ARCHIVE_LABELS))


def classify_pending(settings: Settings, today: dt.date) -> StageResult:
    """Assess every notice whose assessment is missing or older than the notice (new, changed, or left by a crash).

    A notice that cannot be assessed is reported by symbol with its error and left stale (so the next run
    tries it again); the others are assessed and the day goes on.
    """
    def body() -> StageResult:
        from nlp import Classifier, load_catalogue

        store = record_store(settings)
        pending = store.stale_assessments()
        if not pending:
            return StageResult("classify", NOTHING, "every notice already has a current assessment")
        if any(n and n.hs_codes for n in map(store.get, pending)):  # new labelled examples to learn from
            refresh_labelled(store, settings)
        classifier = Classifier(load_catalogue()).settle()  # the alerts render after it in this process
        levels: dict[str, int] = {}
        failures: dict[str, str] = {}
        for start in range(0, len(pending), CLASSIFY_BATCH):
            records, failed = _assess_isolated(classifier, store, pending[start:start + CLASSIFY_BATCH], today)
            store.put_assessments(records)
            failures.update(failed)
            for record in records:
                levels[str(record.get("level"))] = levels.get(str(record.get("level")), 0) + 1
        assessed = [s for s in pending if s not in failures]
        summary = f"{len(assessed)} notices assessed (" + ", ".join(f"{k} {v}" for k, v in sorted(levels.items())) + ")"
        if failures:
            summary += f"; {len(failures)} could not be assessed: " + "; ".join(
                f"{symbol} ({error})" for symbol, error in failures.items())
        return StageResult("classify", DONE, summary,
                           {"assessed": len(assessed), **levels, **({"failed": len(failures)} if failures else {})},
                           assessed)
    return run_stage("classify", body)


THIN_TEXT_CHARS = 120  # a notice whose title and products say less than this is classified with its documents
DOCUMENT_CHARS = 6000  # of the notified documents' first pages, read as part of the description


def _documents(store: Any) -> Any:
    """The notified documents beside a SQLite archive (None for other backends: they keep none)."""
    from archive.documents import NotifiedDocuments

    path = getattr(store, "db_path", None)
    return NotifiedDocuments(path) if path else None


def read_for_classify(notice: Notice, documents: Any) -> Notice:
    """The notice as the classifier reads it: when it gives no HS code and its own title and products are thin
    ("Draft technical regulation", a bare symbol), the first pages of its notified documents follow its
    description, so the products they name count (at the description's weight). The stored notice is unchanged."""
    if documents is None or notice.hs_codes or len(notice.title) + len(notice.products) >= THIN_TEXT_CHARS:
        return notice
    pages = documents.first_pages(notice.symbol)
    if not pages:
        return notice
    text = "\n\n".join(p for p in (notice.description, pages[:DOCUMENT_CHARS]) if p)
    return notice.model_copy(update={"description": text})


def _assess_isolated(classifier: Any, store: Any, symbols: list[str],
                     today: dt.date) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Assess a batch together; if that fails, each notice alone, so one notice's failure is its own.

    Returns the assessment records and symbol -> error (its type and first 300 characters) of each failure.
    """
    def assess(batch: list[str]) -> list[dict[str, Any]]:
        notices = [n for n in (store.get(s) for s in batch) if n]
        hashes = [n.content_hash() for n in notices]  # of the stored notice, whatever the classifier reads
        return [a.to_dict() for a in classifier.assess_many([read_for_classify(n, documents) for n in notices],
                                                            today=today, hashes=hashes)]

    documents = _documents(store)

    try:
        return assess(symbols), {}
    except Exception:  # noqa: BLE001 - retried one by one below, where the failure gets its symbol
        records: list[dict[str, Any]] = []
        failures: dict[str, str] = {}
        for symbol in symbols:
            try:
                records += assess([symbol])
            except Exception as exc:  # noqa: BLE001 - reported by symbol; the other notices go on
                failures[symbol] = f"{type(exc).__name__}: {str(exc)[:300]}"
        return records, failures


def index_changed(settings: Settings, symbols: Iterable[str], since: dt.date | None,
                  until: dt.date | None) -> StageResult:
    """Copy the changed notices, and all of the interval's, with their assessments into Elasticsearch.

    Re-copying the whole interval makes a re-run repair an index that missed a
    day. With the SQLite backend the archive is its own index: nothing to do.
    """
    def body() -> StageResult:
        if settings.archive.backend != "elasticsearch":
            return StageResult("index", SKIPPED, "archive.backend is sqlite: the SQLite archive is the search "
                                                 "index, nothing to copy")
        from archive.backends import open_store

        index = open_store(settings)
        record = record_store(settings)
        wanted = set(symbols)
        if since or until:
            wanted |= {n.symbol for n in record.iter_notices(since, until)}
        notices = [n for n in (record.get(s) for s in sorted(wanted)) if n]
        try:
            result = index.upsert(notices)
            assessments = record.get_assessments(n.symbol for n in notices)
            index.put_assessments(assessments.values())
        finally:
            index.close()
        return StageResult("index", DONE, f"{len(notices)} notices copied to Elasticsearch index "
                           f"{settings.archive.es_index} ({len(result.changed)} changed there)",
                           {"copied": len(notices), "changed": len(result.changed),
                            "assessments": len(assessments)}, sorted(result.changed))
    return run_stage("index", body)


# -- alerts, digest, reminders -------------------------------------------------------------------
def _queue_and_deliver(stage: str, settings: Settings, queue: Callable[[], int | None]) -> StageResult:
    """Queue a stage's messages in the outbox (``queue`` returns how many, if it knows), then deliver what is due:
    webhooks, then e-mail, both reported.

    Delivery covers earlier messages that are due for a retry too; the outbox
    sends each message at most once, so a re-run queues and sends nothing new.
    E-mail that failed fails the stage (the mail set-up needs the operator); a
    webhook that failed does not, since the endpoint is the subscriber's (its
    owner is told when it gets disabled), but it is counted and named here.
    """
    def body() -> StageResult:
        from alerts.run import deliver_all

        queued = queue()
        delivery, hooks = deliver_all(settings)
        counts = {"sent": len(delivery.sent), "retrying": len(delivery.retrying),
                  "failed": len(delivery.failed), "uncertain": len(delivery.uncertain),
                  "webhooks_sent": len(hooks.sent), "webhooks_retrying": len(hooks.retrying),
                  "webhooks_failed": len(hooks.failed), "webhooks_uncertain": len(hooks.uncertain)}
        summary = f"e-mail: {delivery.summary()}"
        if queued is not None:
            counts["queued"] = queued
            summary = f"{queued} messages queued; {summary}"
        if delivery.where:
            summary += f" ({delivery.where})"
        summary += f"; webhooks: {hooks.summary()}"
        if delivery.failed or delivery.stopped:
            return StageResult(stage, FAILED, summary, counts)
        return StageResult(stage, DONE if queued or delivery.sent or hooks.sent else NOTHING, summary, counts)
    return run_stage(stage, body)


def send_daily_alerts(settings: Settings, day: dt.date) -> StageResult:
    """The day's alerts: one message per notice for subscribers who asked to hear at once, and the day's one
    batch for daily subscribers (the default frequency of an imported subscription). The batch's outbox key
    is the day, so a re-run sends it once."""
    from alerts.run import send_alerts

    def queue() -> int:
        return sum(len(send_alerts(settings, day, frequency=frequency, deliver_now=False).queued)
                   for frequency in ("immediate", "daily"))
    return _queue_and_deliver("alerts", settings, queue)


def send_weekly_alerts(settings: Settings, day: dt.date) -> StageResult:
    """The week's alerts for weekly subscribers."""
    from alerts.run import send_alerts

    return _queue_and_deliver("weekly alerts", settings, lambda: len(
        send_alerts(settings, day, frequency="weekly", deliver_now=False).queued))


def send_reminders(settings: Settings, day: dt.date) -> StageResult:
    """Reminders of comment deadlines coming up (``alerts.reminder_days`` before each)."""
    from alerts.run import send_reminders

    return _queue_and_deliver("reminders", settings, lambda: len(
        send_reminders(settings, day, deliver_now=False).queued))


def _report_file(stage: str, build: Callable[..., Path], settings: Settings, day: dt.date,
                 **kwargs: Any) -> StageResult:
    """Write a report file for the working group (digest, weekly summary) with ``build``, then deliver its email."""
    written: list[Path] = []

    def queue() -> None:
        written.append(Path(build(settings, day, deliver_now=False, **kwargs)))

    result = _queue_and_deliver(stage, settings, queue)
    if written:
        result.outputs[stage] = str(written[0])
        result.summary = f"{written[0]}; {result.summary}"
        if result.status == NOTHING:
            result.status = DONE
    return result


def source_titles(settings: Settings, names: list[str]) -> list[str]:
    """Sources as readers know them (their sources.yaml titles), not by the internal names; a name that is not
    configured (a source since removed) stays as it is."""
    if not names:
        return []
    from crawlers.sources import load_sources

    sources = load_sources(settings.paths.sources)
    return [sources[name].title if name in sources and sources[name].title else name for name in names]


def make_digest(settings: Settings, day: dt.date, failed_sources: list[str],
                degraded: list[str] | None = None) -> StageResult:
    """Write the day's digest (naming the sources that failed by title, and in its operator section those that
    look degraded, "source: why") and email it once to the working group."""
    from alerts.run import build_digest

    result = _report_file("digest", build_digest, settings, day,
                          failed_sources=source_titles(settings, failed_sources), degraded_sources=degraded or [])
    if failed_sources:
        result.summary += f"; names the failed sources: {', '.join(failed_sources)}"
    if degraded:
        result.summary += f"; names the degraded sources: {', '.join(d.split(':')[0] for d in degraded)}"
    return result


def send_weekly_summary(settings: Settings, day: dt.date) -> StageResult:
    """The working group's summary of the week ending on ``day``."""
    from alerts.run import build_weekly_summary

    return _report_file("weekly summary", build_weekly_summary, settings, day)


# -- where things went ---------------------------------------------------------------------------
def outputs(settings: Settings) -> dict[str, str]:
    """Where the pipeline's outputs are, for people: archive, raw pages, outbox or SMTP server."""
    from archive.raw_pages import RawPages

    found = {"archive": f"{settings.archive_db} ({record_store(settings).count()} notices)",
             "raw pages": f"{RawPages(settings.archive_db).count()} pages kept in {settings.archive_db.name}"}
    if settings.smtp.host:
        found["mail"] = f"sent through SMTP {settings.smtp.host}:{settings.smtp.port}"
    else:
        outbox = settings.home / "outbox"
        count = len(list(outbox.rglob("*.eml"))) if outbox.is_dir() else 0
        found["mail"] = f"{count} .eml files in {outbox} (no SMTP host configured)"
    if settings.archive.backend == "elasticsearch":
        found["index"] = f"Elasticsearch {settings.archive.es_url} index {settings.archive.es_index}"
    found["web"] = f"run `tbtwatch serve`, then open {settings.alerts.base_url}"
    return found


# -- the whole day -------------------------------------------------------------------------------
def run_daily(day: dt.date, offline: bool = False, *, settings: Settings | None = None,
              window: tuple[dt.date | None, dt.date | None] | None = None,
              sources: list[str] | None = None,
              on_progress: Callable[[dict[str, Any]], None] | None = None,
              on_stage: Callable[[StageResult, "DailyReport"], None] | None = None) -> DailyReport:
    """Run the day's stages in order, the same ones as the ``tbt_daily`` DAG, each idempotent for ``day``.

    ``window`` is the distribution dates to crawl (default ``crawl_interval(day)``;
    ``(None, None)`` reads everything the sources offer). ``offline`` serves the
    recorded pages from the replay server on 127.0.0.1 and crawls those instead
    of the live sources. A stage that fails stops the stages after it (they
    are reported as skipped), as in Airflow.
    """
    settings = settings or get_settings()
    since, until = window if window is not None else crawl_interval(day)
    report = DailyReport(day, since, until, offline)

    def record(result: StageResult) -> None:
        report.stages.append(result)
        if on_stage:
            on_stage(result, report)

    def crawl() -> StageResult:
        names = sources if sources is not None else enabled_sources(settings)
        if offline:
            from crawlers.replay import ReplayServer

            with ReplayServer() as server:
                report.sources = crawl_sources(names, since, until, server.url, on_progress)
        else:
            report.sources = crawl_sources(names, since, until, settings.crawl.base_url or None, on_progress)
        return crawl_summary(report.sources)

    steps: list[tuple[str, Callable[[], StageResult]]] = [
        ("crawl", lambda: run_stage("crawl", crawl)),
        ("classify", lambda: classify_pending(settings, day)),
        ("index", lambda: index_changed(settings, _changed(report), since, until)),
        ("alerts", lambda: send_daily_alerts(settings, day)),
        ("digest", lambda: make_digest(settings, day, report.failed_sources, report.degraded_sources)),
    ]
    failed: str | None = None
    for name, step in steps:
        if failed:
            record(StageResult(name, SKIPPED, f"not run because the {failed} stage failed"))
            continue
        try:
            result = step()
        except Exception as exc:  # noqa: BLE001 - reported, and the later stages are skipped
            result = StageResult(name, FAILED, f"{type(exc).__name__}: {exc}")
        if result.status == FAILED:
            failed = name
        record(result)
    report.outputs = outputs(settings)
    for stage in report.stages:
        report.outputs.update({k: v for k, v in stage.outputs.items()})
    return report


def _changed(report: DailyReport) -> list[str]:
    found: set[str] = set()
    for stage in report.stages:
        if stage.stage in {"crawl", "classify"}:
            found.update(stage.symbols)
    return sorted(found)


def days_between(since: dt.date, until: dt.date) -> list[dt.date]:
    """Every day from ``since`` to ``until`` inclusive, oldest first (a backfill's runs)."""
    if until < since:
        raise ValueError(f"--until {until} is before --since {since}; give the earlier day first")
    return [since + dt.timedelta(days=i) for i in range((until - since).days + 1)]
