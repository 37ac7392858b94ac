"""tbt_daily: the day's crawl, classification, index, alerts (immediate and daily subscribers) and digest.

Thin wiring only: every task calls a function of ``commands.pipeline`` (unit
tested without Airflow) and passes small JSON (symbols and counts) on. The
sources are listed at run time and crawled as one mapped task each; a source
that fails comes back as a failure record, so the others go on and the digest
names it. Every task is idempotent for its data interval, so retries, re-runs
and backfills (``airflow backfill create --dag-id tbt_daily ...``) do no harm.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import CronTriggerTimetable, dag, get_current_context, task

from commands.orchestration import DEFAULT_ARGS, TAGS, TIMEZONE


@dag(
    dag_id="tbt_daily",
    schedule=CronTriggerTimetable("0 7 * * *", timezone=TIMEZONE, interval=dt.timedelta(days=1)),
    start_date=pendulum.datetime(2025, 1, 1, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "daily"],
    doc_md=__doc__,
)
def tbt_daily():
    @task
    def list_sources() -> list[str]:
        from commands import orchestration, pipeline

        return pipeline.enabled_sources(orchestration.task_settings())

    @task(map_index_template="{{ source }}")
    def crawl(source: str) -> dict:
        from commands import orchestration, pipeline

        settings = orchestration.task_settings()
        _, since, until = orchestration.run_days(get_current_context(), settings.general.today)
        return pipeline.crawl_source(source, since, until, settings.crawl.base_url or None).to_dict()

    @task
    def classify(crawled: list[dict]) -> dict:
        from commands import orchestration, pipeline

        settings = orchestration.task_settings()
        day, _, _ = orchestration.run_days(get_current_context(), settings.general.today)
        return pipeline.classify_pending(settings, day).checked()

    @task
    def index(crawled: list[dict], classified: dict) -> dict:
        from commands import orchestration, pipeline

        settings = orchestration.task_settings()
        _, since, until = orchestration.run_days(get_current_context(), settings.general.today)
        changed = {s for c in crawled for s in c["changed"]} | set(classified["symbols"])
        return pipeline.index_changed(settings, sorted(changed), since, until).checked()

    @task
    def alerts() -> dict:
        from commands import orchestration, pipeline

        settings = orchestration.task_settings()
        day, _, _ = orchestration.run_days(get_current_context(), settings.general.today)
        return pipeline.send_daily_alerts(settings, day).checked()

    @task
    def digest(crawled: list[dict]) -> dict:
        from commands import orchestration, pipeline

        settings = orchestration.task_settings()
        day, _, _ = orchestration.run_days(get_current_context(), settings.general.today)
        failed = [c["source"] for c in crawled if not c["ok"]]
        degraded = pipeline.degraded_sources([pipeline.SourceResult.from_dict(c) for c in crawled])
        return pipeline.make_digest(settings, day, failed, degraded).checked()

    @task
    def sources(crawled: list[dict]) -> None:
        """The run's verdict on its sources, after the digest: failed when none was read, skipped (shown apart
        in the grid, the run stays green) when some failed, done when all were read."""
        from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

        from commands import pipeline

        try:
            partial = pipeline.sources_verdict(crawled)
        except pipeline.NoSourceRead as exc:
            raise AirflowFailException(str(exc)) from exc
        if partial:
            raise AirflowSkipException(partial)

    crawled = crawl.expand(source=list_sources())
    classified = classify(crawled)
    indexed = index(crawled, classified)
    sent = alerts()
    indexed >> sent >> digest(crawled) >> sources(crawled)


tbt_daily()
