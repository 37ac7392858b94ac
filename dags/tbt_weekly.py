"""tbt_weekly: the week's alerts for weekly subscribers and the working group's weekly summary.

Runs on Monday morning (Asia/Shanghai) for the week before; both go through
the outbox, so a re-run of a week sends nothing twice.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import CronTriggerTimetable, dag, get_current_context, task

from commands.orchestration import DEFAULT_ARGS, TAGS, TIMEZONE


@dag(
    dag_id="tbt_weekly",
    schedule=CronTriggerTimetable("0 8 * * 1", timezone=TIMEZONE, interval=dt.timedelta(days=7)),
    start_date=pendulum.datetime(2025, 1, 6, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "weekly"],
    doc_md=__doc__,
)
def tbt_weekly():
    @task
    def weekly_alerts() -> dict:
        from commands import orchestration, pipeline

        settings = orchestration.task_settings()
        day, _, _ = orchestration.run_days(get_current_context(), settings.general.today)
        return pipeline.send_weekly_alerts(settings, day).checked()

    @task
    def weekly_summary() -> dict:
        from commands import orchestration, pipeline

        settings = orchestration.task_settings()
        day, _, _ = orchestration.run_days(get_current_context(), settings.general.today)
        return pipeline.send_weekly_summary(settings, day).checked()

    weekly_alerts() >> weekly_summary()


tbt_weekly()
